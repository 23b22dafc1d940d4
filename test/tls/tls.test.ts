/**
 * The certificate material and the identity it gives, with certificates
 * made by openssl (createClusterCerts) in a temporary directory: key files
 * 0600 and refused when open to others, a certificate of another CA or a
 * key of another certificate refused by name, a failed reload keeping the
 * old material, and an HTTPS server and agent of createWebServer /
 * createClientAgent that talk only to the roles they expect.
 */
import { chmodSync, copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerCertificate, ON_BEHALF_OF_HEADER, requireCertificate } from '../../src/api/http/caller-certificate.js';
import { RecoveryOpeners } from '../../src/api/datanode/recovery-openers.js';
import { checkPlaintextAllowed, isLoopbackHost } from '../../src/cli/process-security.js';
import { tlsFlags } from '../../src/cli/tls-flags.js';
import { streamingAgentFetch } from '../../src/client/node-fetch.js';
import { certIdentity, peerCertificate, peerIdentity } from '../../src/tls/identity.js';
import { createClusterCerts } from '../../src/tls/openssl-certs.js';
import { installProcessTls } from '../../src/tls/process-tls.js';
import { TlsSource } from '../../src/tls/tls-source.js';
import { createClientAgent, createWebServer } from '../../src/tls/web.js';

let dir = '';
const paths = (id: string, d = dir) => ({ ca: path.join(d, 'ca.crt'), cert: path.join(d, `${id}.crt`), key: path.join(d, `${id}.key`) });

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'torua-tls-unit-'));
  await createClusterCerts({
    clusterId: 'demo',
    outDir: dir,
    members: [
      { id: 'c1', role: 'coordinator', hosts: ['127.0.0.1'] },
      { id: 'n1', role: 'node', hosts: ['127.0.0.1', 'localhost'] },
      { id: 'client', role: 'client', hosts: [] },
    ],
  });
  await createClusterCerts({ clusterId: 'demo', outDir: path.join(dir, 'foreign'), members: [{ id: 'n1', role: 'node', hosts: ['127.0.0.1'] }] });
}, 60_000);

afterAll(() => {
  installProcessTls(undefined);
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('certificates made by createClusterCerts', () => {
  it('writes keys 0600 and names id, role and cluster in the subject', () => {
    for (const f of ['ca.key', 'c1.key', 'n1.key', 'client.key']) expect(statSync(path.join(dir, f)).mode & 0o777, f).toBe(0o600);
    const source = new TlsSource(paths('n1'));
    expect(source.clusterId).toBe('demo');
    expect(source.current.subject).toBe('O=demo, OU=node, CN=n1');
    expect(source.current.notAfterMs).toBeGreaterThan(Date.now() + 800 * 86_400_000);
  });

  it('refuses a key open to others, a certificate of another CA, a key of another certificate, and another cluster id', () => {
    const copy = path.join(dir, 'open.key');
    copyFileSync(path.join(dir, 'n1.key'), copy);
    chmodSync(copy, 0o644);
    expect(() => new TlsSource({ ...paths('n1'), key: copy })).toThrow(/open to others than its owner \(mode 644\).*chmod 600/);
    expect(() => new TlsSource({ ...paths('n1'), cert: path.join(dir, 'foreign', 'n1.crt'), key: path.join(dir, 'foreign', 'n1.key') })).toThrow(/not signed by the CA/);
    expect(() => new TlsSource({ ...paths('n1'), key: path.join(dir, 'c1.key') })).toThrow(/does not belong to the certificate/);
    expect(() => new TlsSource(paths('n1'), 'other')).toThrow(/is for cluster "demo", this process is in "other"/);
    expect(() => new TlsSource({ ...paths('n1'), cert: path.join(dir, 'missing.crt') })).toThrow(/cannot read it \(ENOENT\)/);
  });

  it('keeps the old material when a reload fails, and takes the new one when it succeeds', async () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'torua-tls-reload-'));
    try {
      for (const f of ['ca.crt', 'ca.key']) copyFileSync(path.join(dir, f), path.join(d, f));
      await createClusterCerts({ clusterId: 'demo', outDir: d, members: [{ id: 'n1', role: 'node', hosts: ['127.0.0.1'] }] });
      const source = new TlsSource(paths('n1', d));
      const before = source.current.cert;
      const seen: Buffer[] = [];
      source.onChange((m) => seen.push(m.cert));
      writeFileSync(path.join(d, 'n1.crt'), 'not a certificate');
      expect(() => source.reload()).toThrow(/not a PEM certificate/);
      expect(source.current.cert).toEqual(before);
      await createClusterCerts({ clusterId: 'demo', outDir: d, members: [{ id: 'n1', role: 'node', hosts: ['127.0.0.1'] }] });
      const contextBefore = source.clientOptions().secureContext;
      // One client context per material: a connection does not parse the key and CA again.
      expect(source.clientOptions(['node']).secureContext).toBe(contextBefore);
      source.reload();
      expect(source.current.cert).not.toEqual(before);
      expect(seen).toHaveLength(1);
      expect(source.clientOptions().secureContext).not.toBe(contextBefore);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('identity from a certificate', () => {
  it("reads a socket's peer certificate once, however many requests ask", () => {
    let reads = 0;
    const socket = { encrypted: true, authorized: true, getPeerCertificate: () => (reads++, { subject: { CN: 'n1', OU: 'node', O: 'demo' } }) };
    for (let i = 0; i < 5; i++) expect(peerIdentity(socket)?.id).toBe('n1');
    expect(peerCertificate(socket as never).subject).toMatchObject({ CN: 'n1' });
    expect(reads).toBe(1);
    expect(peerIdentity({ ...socket, authorized: false })).toBeUndefined();
  });

  it('reads CN, OU and O, and nothing from a subject that is not ours', () => {
    expect(certIdentity({ subject: { CN: 'n1', OU: 'node', O: 'demo' } as never })).toEqual({ id: 'n1', role: 'node', clusterId: 'demo', subject: 'O=demo, OU=node, CN=n1' });
    expect(certIdentity({ subject: { CN: 'n1', OU: 'admin', O: 'demo' } as never })).toBeUndefined();
    expect(certIdentity({ subject: { CN: ['a', 'b'], OU: 'node', O: 'demo' } as never })).toBeUndefined();
    expect(certIdentity(undefined)).toBeUndefined();
  });

  it('refuses by certificate only while TLS is on, naming what was needed', () => {
    const n2 = { id: 'n2', role: 'node' as const, clusterId: 'demo', subject: 'O=demo, OU=node, CN=n2' };
    installProcessTls(undefined);
    expect(() => requireCertificate(undefined, { roles: ['coordinator'] }, 'handoff')).not.toThrow();
    installProcessTls(new TlsSource(paths('c1')));
    try {
      expect(() => requireCertificate(n2, { roles: ['coordinator'] }, 'handoff')).toThrow('handoff needs a coordinator certificate; the caller\'s is a node certificate of n2');
      expect(() => requireCertificate(n2, { roles: ['node'], id: 'n1' }, 'nodes.register of n1')).toThrow("the caller's names n2");
      expect(() => requireCertificate(undefined, { roles: ['node'] }, 'x')).toThrow('presented none');
      expect(() => requireCertificate(n2, { roles: ['node'], id: 'n2' }, 'x')).not.toThrow();
    } finally {
      installProcessTls(undefined);
    }
  });

  it('remembers a bounded number of recovery openers, oldest forgotten first', () => {
    const openers = new RecoveryOpeners(2);
    openers.opened('a', 'n1');
    openers.opened('b', 'n2');
    openers.opened('c', 'n3');
    expect([openers.openerOf('a'), openers.openerOf('b'), openers.openerOf('c')]).toEqual([undefined, 'n2', 'n3']);
  });
});

describe('servers and agents from a TlsSource', () => {
  async function serve(source: TlsSource): Promise<{ server: http.Server; port: number }> {
    const server = createWebServer({}, (req, res) => {
      const who = callerCertificate(req);
      res.end(JSON.stringify(who ?? null));
    }, source);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, port: (server.address() as AddressInfo).port };
  }

  function ask(agent: http.Agent, port: number, headers: http.OutgoingHttpHeaders = {}): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const secure = (agent as { protocol?: string }).protocol === 'https:';
      const req = http.request(`${secure ? 'https' : 'http'}://127.0.0.1:${port}/`, { agent, headers }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text)));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it("shows the verified caller, believes a forwarded caller only from a coordinator, and an agent refuses a server of the wrong role", async () => {
    const node = new TlsSource(paths('n1'));
    const { server, port } = await serve(node);
    try {
      const asClient = createClientAgent({ keepAlive: false }, new TlsSource(paths('client')));
      expect(await ask(asClient, port)).toMatchObject({ id: 'client', role: 'client' });
      // The header is ignored from a client, believed from a coordinator.
      expect(await ask(asClient, port, { [ON_BEHALF_OF_HEADER]: 'node/n9' })).toMatchObject({ id: 'client', role: 'client' });
      const asCoordinator = createClientAgent({ keepAlive: false }, new TlsSource(paths('c1')));
      expect(await ask(asCoordinator, port, { [ON_BEHALF_OF_HEADER]: 'node/n9' })).toMatchObject({ id: 'n9', role: 'node' });
      // A client that only talks to coordinators refuses this node's certificate.
      const onlyCoordinators = createClientAgent({ keepAlive: false, expect: ['coordinator'] }, new TlsSource(paths('client')));
      await expect(ask(onlyCoordinators, port)).rejects.toThrow(/node certificate \(n1\); expected coordinator/);
      // A plain client gets no answer.
      await expect(ask(new http.Agent(), port)).rejects.toThrow();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('a streaming fetch over an agent of ours (event streams with a client certificate)', () => {
  it('hands back the first chunk of a stream before the stream ends', async () => {
    let finish: () => void = () => undefined;
    const server = createWebServer({}, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      finish = () => res.end('data: two\n\n');
    }, new TlsSource(paths('c1')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const fetch = streamingAgentFetch(createClientAgent({ keepAlive: false, expect: ['coordinator'] }, new TlsSource(paths('client'))));
      const res = await fetch(`https://127.0.0.1:${(server.address() as AddressInfo).port}/events`, { headers: { accept: 'text/event-stream' } });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: one\n\n');
      finish();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: two\n\n');
      expect((await reader.read()).done).toBe(true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('plaintext only on loopback', () => {
  it('tells loopback from other hosts', () => {
    for (const h of ['127.0.0.1', '127.0.0.12', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '10.0.0.5', 'db1.example.com', '::']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('refuses plaintext beyond loopback unless --insecure, and says how to fix it', () => {
    expect(() => checkPlaintextAllowed('torua node', ['10.0.0.5'], { tls: undefined, insecure: false })).toThrow(/refusing to listen on 10\.0\.0\.5 without TLS.*torua certs create.*--insecure/);
    expect(() => checkPlaintextAllowed('torua node', ['10.0.0.5'], { tls: undefined, insecure: true })).not.toThrow();
    expect(() => checkPlaintextAllowed('torua node', ['127.0.0.1'], { tls: undefined, insecure: false })).not.toThrow();
    expect(() => checkPlaintextAllowed('torua node', ['10.0.0.5'], { tls: paths('n1'), insecure: false })).not.toThrow();
  });

  it('takes --ca, --cert and --key together or not at all', () => {
    expect(tlsFlags('torua status', {})).toBeUndefined();
    expect(tlsFlags('torua status', { ca: 'a', cert: 'b', key: 'c' })).toEqual({ ca: 'a', cert: 'b', key: 'c' });
    expect(() => tlsFlags('torua status', { ca: 'a' })).toThrow('torua status: --ca, --cert and --key go together (missing --cert, --key)');
  });
});
