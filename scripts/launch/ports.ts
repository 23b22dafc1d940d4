/**
 * Free ports on loopback aliases. Linux routes all of 127/8 on `lo`, so each
 * process of a cluster gets its own address (127.0.0.11, .12, …) with no
 * setup, and a packet filter can cut one off alone.
 */
import net from 'node:net';

/** 127.0.0.`n`. */
export const loopbackAlias = (n: number): string => `127.0.0.${n}`;

/** Where coordinator i (c1 is 0) listens unless a harness says otherwise. */
export const COORDINATOR_ALIAS_BASE = 11;

function listenOnce(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Whether every one of `hosts` can be bound. */
export async function canBindAll(hosts: readonly string[]): Promise<boolean> {
  for (const h of hosts) if (!(await listenOnce(h, 0))) return false;
  return true;
}

const usedPorts = new Set<number>();

/**
 * A port that `host` (and the wildcard address) can listen on, outside the
 * ephemeral range so no outgoing socket takes it meanwhile, and never handed
 * out twice by this process.
 */
export async function freePort(host: string): Promise<number> {
  // Test files run in parallel processes (vitest projects): each draws from its own band of
  // 1,000 ports first, so two harnesses rarely pick the same port between check and bind.
  const band = 20_000 + (process.pid % 12) * 1_000;
  for (let i = 0; i < 500; i++) {
    const port = i < 200 ? band + Math.floor(Math.random() * 1_000) : 20_000 + Math.floor(Math.random() * 12_000);
    if (usedPorts.has(port)) continue;
    if ((await listenOnce(host, port)) && (await listenOnce('0.0.0.0', port))) {
      usedPorts.add(port);
      return port;
    }
  }
  throw new Error(`no free port found on ${host}`);
}

/** `count` distinct free ports on `host`. */
export async function freePorts(count: number, host: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(await freePort(host));
  return out;
}
