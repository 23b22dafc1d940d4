import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { request, startNodeServer } from './helpers.js';

function open(address: string): Promise<net.Socket> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves true when the server closes `socket` within `ms`, false when it stays open. */
function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('error', () => undefined);
  });
}

describe("a data node's connection bound", () => {
  it('closes a connection beyond the bound at once, and serves again once one is gone', async () => {
    const { server, url } = await startNodeServer({ maxConnections: 2 });
    const held = [await open(server.address), await open(server.address)];
    const extra = await open(server.address);
    expect(await closedWithin(extra, 5_000)).toBe(true);
    // The held ones were not touched.
    expect(held.every((s) => !s.destroyed)).toBe(true);
    held[0]!.destroy();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = await request(url, 'GET', '/health').then((a) => a.status, () => 0);
      if (status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(200);
    held[1]!.destroy();
  });
});
