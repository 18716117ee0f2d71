// The MongoDB-compatible server, in order of preference: mongod, FerretDB (SQLite), and
// mongo-java-server on the JVM (the only one obtainable from our package sources).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, run, spawnService, tcpOpen, waitUntil, which } from './proc.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const toolDir = path.join(root, 'tools/mongo-java-server');
const cacheDir = path.join(root, 'var/mongo-java-server');

/** Starts the server with its data in `dir`; persistent only matters for mongo-java-server. */
export async function startMongo({ dir, persistent = false }) {
  const port = await freePort();
  let kind, svc;
  if (which('mongod')) {
    kind = 'mongod';
    svc = spawnService(kind, 'mongod', ['--dbpath', dir, '--bind_ip', '127.0.0.1', '--port', String(port)]);
  } else if (which('ferretdb')) {
    kind = 'ferretdb';
    const args = ['--handler=sqlite', `--sqlite-url=file:${dir}/`, `--listen-addr=127.0.0.1:${port}`];
    svc = spawnService(kind, 'ferretdb', [...args, '--telemetry=disable', '--debug-addr=-']);
  } else {
    kind = 'mongo-java-server';
    const classpath = await prepareMongoJavaServer();
    // Without a file the H2 backend is not used at all: tests get the faster memory backend.
    const file = persistent ? [path.join(dir, 'mongo-java-server.mv')] : [];
    svc = spawnService(kind, 'java', ['-cp', classpath, 'Launcher', String(port), ...file]);
  }
  await waitUntil(svc, `a listener on port ${port}`, () => tcpOpen(port), 60_000);
  return { url: `mongodb://127.0.0.1:${port}`, kind, stop: svc.stop };
}

/**
 * Resolves the jars with Maven and compiles the launcher once; cached under var/ and redone only
 * when pom.xml or Launcher.java change. Returns the java classpath.
 */
async function prepareMongoJavaServer() {
  const pom = path.join(toolDir, 'pom.xml');
  const source = path.join(toolDir, 'Launcher.java');
  const stamp = createHash('sha256').update(readFileSync(pom)).update(readFileSync(source)).digest('hex');
  const [cpFile, classes, stampFile] = ['classpath.txt', 'classes', 'stamp'].map((f) =>
    path.join(cacheDir, f),
  );
  const fresh = existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(cpFile);
  if (!fresh) {
    mkdirSync(classes, { recursive: true });
    console.log('» resolving mongo-java-server with Maven (first run downloads from Maven Central)');
    await run('mvn', ['-B', '-f', pom, 'dependency:build-classpath', `-Dmdep.outputFile=${cpFile}`]);
    const deps = readFileSync(cpFile, 'utf8').trim();
    await run('javac', ['-cp', deps, '-d', classes, source]);
    writeFileSync(stampFile, stamp);
  }
  return `${classes}${path.delimiter}${readFileSync(cpFile, 'utf8').trim()}`;
}
