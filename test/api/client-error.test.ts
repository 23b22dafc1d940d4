import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { answerUnparsableRequests } from '../../src/api/http/client-error.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(options: http.ServerOptions): Promise<number> {
  const server = http.createServer(options, (_req, res) => res.end('ok'));
  answerUnparsableRequests(server);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** Writes `text` (and nothing more) and collects everything until the server closes. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (c: Buffer) => (got += c.toString()));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
}

const body = (raw: string): any => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));

describe('requests node:http cannot take', () => {
  it('headers over the limit: 431 with a JSON error', async () => {
    const port = await serve({ maxHeaderSize: 1024 });
    const raw = await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
    expect(raw).toMatch(/^HTTP\/1.1 431 /);
    expect(body(raw).error).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'request headers over the size limit' });
  });

  it('headers not complete in time: 408 with a JSON error', async () => {
    const port = await serve({ headersTimeout: 200, requestTimeout: 300, connectionsCheckingInterval: 50 });
    const raw = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n');
    expect(raw).toMatch(/^HTTP\/1.1 408 /);
    expect(body(raw).error.code).toBe('TIMEOUT');
  });

  it('a request line that is not HTTP: 400, and the server goes on serving', async () => {
    const port = await serve({});
    const raw = await exchange(port, 'BLAH / HTTP/1.1\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1.1 400 /);
    expect(body(raw).error.code).toBe('INVALID_INPUT');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
  });
});
