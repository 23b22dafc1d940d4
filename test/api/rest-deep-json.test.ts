import { describe, expect, it } from 'vitest';
import { FakeCoordinatorService } from './fake-service.js';
import { startServer } from './helpers.js';

async function post(url: string, body: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: await res.json() };
}

describe('REST bodies nested deeper than any call stack', () => {
  // Under the 1 MiB body limit: 400,000 levels of nesting.
  const depth = 400_000;

  it('a deeply nested invalid body answers 400 with where it goes wrong, and nothing is registered', async () => {
    const service = new FakeCoordinatorService({ shards: 4 });
    const server = await startServer(service);
    try {
      const invalid = await post(`${server.url}/register`, '['.repeat(depth) + '1,' + ']'.repeat(depth));
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe('INVALID_INPUT');
      expect(invalid.body.error.message).toMatch(new RegExp(`^body: not valid JSON at line 1, column ${depth + 3}: expected a value`));
      const valid = await post(`${server.url}/register`, '{"id":"n1","address":"127.0.0.1:1","labels":' + '['.repeat(depth) + ']'.repeat(depth) + '}');
      expect(valid.status).toBe(400);
      expect(valid.body.error.message).toMatch(/^labels: /);
      expect((await fetch(`${server.url}/nodes?stale=true`).then((r) => r.json() as Promise<{ nodes: unknown[] }>)).nodes).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
