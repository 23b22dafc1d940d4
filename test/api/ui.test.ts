/**
 * `/ui/`: the dashboard's files from the built folder (only those, with a
 * CSP), and `/ui/api/overview`, which a follower takes from the leader and
 * answers itself when the leader does not.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeCoordinatorService } from './fake-service.js';
import { rawRequest, startServer } from './helpers.js';

const assets = fs.mkdtempSync(path.join(os.tmpdir(), 'torua-ui-'));
fs.mkdirSync(path.join(assets, 'vendor'));
fs.writeFileSync(path.join(assets, 'index.html'), '<!doctype html><title>t</title>');
fs.writeFileSync(path.join(assets, 'vendor', 'lib.mjs'), 'export const x = 1;');
fs.writeFileSync(path.join(assets, 'notes.bin'), 'not a page file');
afterAll(() => fs.rmSync(assets, { recursive: true, force: true }));

async function get(url: string): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('the dashboard route', () => {
  it('serves the built files with their types and a CSP, redirects /ui, and serves nothing else', async () => {
    const s = await startServer(new FakeCoordinatorService(), { uiAssetsDir: assets });
    const index = await get(`${s.url}/ui/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(index.text).toContain('<title>t</title>');
    const lib = await get(`${s.url}/ui/vendor/lib.mjs`);
    expect(lib.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await get(`${s.url}/ui`)).headers.get('location')).toBe('/ui/');
    for (const p of ['/ui/notes.bin', '/ui/../package.json', '/ui/%2e%2e/%2e%2e/etc/passwd', '/ui/nope.js']) {
      const a = await get(`${s.url}${p}`);
      expect(a.status, p).toBe(404);
      expect(JSON.parse(a.text).error.code).toBe('NOT_FOUND');
    }
    const post = await rawRequest(`${s.url}/ui/`, 'POST', {});
    expect(post.status).toBe(405);
  });

  it('says the dashboard is not built when its folder is missing', async () => {
    const s = await startServer(new FakeCoordinatorService(), { uiAssetsDir: path.join(assets, 'missing') });
    const a = await get(`${s.url}/ui/`);
    expect(a.status).toBe(503);
    expect(a.text).toContain('npm run build');
  });

  it('answers the overview on the leader; a follower forwards to the leader and falls back to its own view', async () => {
    const leader = await startServer(new FakeCoordinatorService({ id: 'c1' }), { uiAssetsDir: assets });
    const own = await rawRequest(`${leader.url}/ui/api/overview`, 'GET');
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ served_by: 'c1', view_of: 'c1', view_note: null, info: { cluster_id: 'torua-test' }, nodes: [], shards: expect.any(Array), members: expect.any(Array), node_leases: {} });

    const follower = await startServer(new FakeCoordinatorService({ id: 'c2' }).followerOf('c1', leader.address), { uiAssetsDir: assets });
    const forwarded = await rawRequest(`${follower.url}/ui/api/overview`, 'GET');
    expect(forwarded.body).toMatchObject({ served_by: 'c2', view_of: 'c1', view_note: null });

    await leader.close();
    const alone = await rawRequest(`${follower.url}/ui/api/overview`, 'GET');
    expect(alone.body).toMatchObject({ served_by: 'c2', view_of: 'c2' });
    expect(alone.body.view_note).toMatch(/the leader c1 \(127\.0\.0\.1:\d+\) did not give its view/);

    const leaderless = await startServer(new FakeCoordinatorService({ id: 'c3' }).leaderless(), { uiAssetsDir: assets });
    expect((await rawRequest(`${leaderless.url}/ui/api/overview`, 'GET')).body.view_note).toMatch(/no leader known/);
  });
});
