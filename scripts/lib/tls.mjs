// A throwaway CA and a leaf certificate for Pebble's HTTPS listeners, made with openssl.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './proc.mjs';

const LEAF_EXTENSIONS = `subjectAltName=DNS:localhost,IP:127.0.0.1
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
`;

/** CA and leaf for localhost/127.0.0.1 in `dir` ({caCert, cert, key} paths); reused when present. */
export async function ensureTls(dir) {
  const files = { caCert: 'ca.pem', cert: 'cert.pem', key: 'key.pem' };
  for (const [k, f] of Object.entries(files)) files[k] = path.join(dir, f);
  const complete = () => Object.values(files).every((f) => existsSync(f));
  if (complete()) return files;

  console.log(`» creating a local CA and a localhost certificate in ${dir}`);
  // Built in a sibling directory and renamed, so a concurrent run never sees half a set.
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  writeFileSync(path.join(tmp, 'leaf.ext'), LEAF_EXTENSIONS);
  // No argument contains a space, so each command line is written as one string.
  const openssl = (args) => run('openssl', args.split(' '), { cwd: tmp, quiet: true });
  const newKey = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  await openssl(`req -x509 ${newKey} -keyout ca.key -out ca.pem -days 3650 -subj /CN=accounts-certs-dev-CA`);
  await openssl(`req ${newKey} -keyout key.pem -out leaf.csr -subj /CN=localhost`);
  const serial = `0x${randomBytes(8).toString('hex')}`;
  await openssl(
    `x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial ${serial} -days 3650 -extfile leaf.ext -out cert.pem`,
  );
  // NODE_EXTRA_CA_CERTS makes our Node processes trust this CA: nothing else may ever be signed by it.
  for (const f of ['ca.key', 'leaf.csr', 'leaf.ext']) rmSync(path.join(tmp, f));

  if (existsSync(dir) && !complete()) rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another run won the race
  }
  return files;
}
