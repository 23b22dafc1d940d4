/**
 * What a rolling-upgrade test needs: a second copy of the build whose
 * package.json says another version, and the operator's restart command,
 * carried out by the test's own cluster harness.
 */
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { REPO_ROOT, type Cluster } from './cluster-harness.js';

/** `0.1.0` → `0.1.1`: the same release line (versions may mix within one `major.minor`). */
export function nextPatch(version: string): string {
  const [major, minor, patch] = version.split(/[.+-]/);
  return `${major}.${minor}.${Number(patch) + 1}`;
}

/** A copy of the build under `dir` whose package.json says `version`; returns its main.js. */
export async function copyOfBuild(dir: string, version: string): Promise<string> {
  await fsp.cp(path.join(REPO_ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  const pkg = JSON.parse(await fsp.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  await fsp.writeFile(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, version }, null, 2));
  await fsp.symlink(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return path.join(dir, 'dist/src/cli/main.js');
}

/**
 * The operator's restart, done by this test: `restart.mjs ID` asks this
 * server, which stops the process (SIGINT: at once, no drain) and starts it
 * from the copy that `target()` names (null: it does not start it again).
 */
export async function restartServer(h: Cluster, target: () => string | null): Promise<{ command: string; restarted: string[]; close: () => Promise<void> }> {
  const restarted: string[] = [];
  const server = http.createServer((req, res) => {
    const id = /^\/restart\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1];
    void (async () => {
      if (id === undefined) throw new Error(`bad request ${req.url}`);
      if (h.stateOf(id) !== 'down') await h.kill(id, 'SIGINT');
      const main = target();
      if (main === null) throw new Error(`${id} was stopped and is not started again`);
      await h.start(id, { main });
      restarted.push(id);
    })().then(
      () => res.writeHead(200).end('restarted\n'),
      (e: unknown) => res.writeHead(500).end(`${e instanceof Error ? e.message : String(e)}\n`),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const script = path.join(h.dir, `restart-${port}.mjs`);
  await fsp.writeFile(
    script,
    `const r = await fetch('http://127.0.0.1:${port}/restart/' + process.argv[2]);\nprocess.stdout.write(await r.text());\nprocess.exit(r.ok ? 0 : 1);\n`,
  );
  return { command: `${process.execPath} ${script} {id}`, restarted, close: () => new Promise((r) => server.close(() => r())) };
}

