import { execFileSync } from 'node:child_process';

/**
 * A free loopback port, found synchronously. The env modules must set every variable before they await
 * anything: while a module with top-level await is suspended, its sibling imports (src/config.ts among
 * them) are already evaluated.
 */
export function freePortSync(): number {
  const script =
    "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => {" +
    ' process.stdout.write(String(s.address().port)); s.close(); });';
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}
