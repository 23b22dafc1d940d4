/**
 * `--tls` for the benches: certificates for a bench cluster (made with
 * `torua certs create`'s code into `<dir>/certs`, plus node certificates
 * for ids the bench registers by hand), and switching this process's
 * clients — the bench's own requests and the torua client — to them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createClusterCerts, type CertSubject } from '../../src/tls/openssl-certs.js';
import { installProcessTls } from '../../src/tls/process-tls.js';
import { TlsSource } from '../../src/tls/tls-source.js';
import { setBenchTls, type BenchCredentials } from './http.js';

interface FileMembers {
  readonly clusterId: string;
  readonly coordinators: readonly { readonly id: string; readonly host: string }[];
  readonly nodes: readonly { readonly id: string; readonly host: string }[];
}

export const CERTS_DIR = 'certs';

/** Makes `<dir>/certs` for the file's members, `client`, and node certificates for `extraNodes`. */
export async function makeBenchCerts(dir: string, file: FileMembers, extraNodes: readonly string[] = []): Promise<void> {
  const outDir = path.join(dir, CERTS_DIR);
  const members: CertSubject[] = [
    ...file.coordinators.map((c) => ({ id: c.id, role: 'coordinator' as const, hosts: [c.host] })),
    ...file.nodes.map((n) => ({ id: n.id, role: 'node' as const, hosts: [n.host] })),
    { id: 'client', role: 'client', hosts: [] },
  ];
  await createClusterCerts({ clusterId: file.clusterId, outDir, members });
  // The CA exists now: the rest can be signed side by side.
  const batches = Array.from({ length: 4 }, (_, b) => extraNodes.filter((_, i) => i % 4 === b));
  await Promise.all(batches.map((ids) => createClusterCerts({ clusterId: file.clusterId, outDir, members: ids.map((id) => ({ id, role: 'node' as const, hosts: [] })) })));
}

export function benchCredentials(dir: string, id: string): BenchCredentials {
  const at = (f: string) => readFileSync(path.join(dir, CERTS_DIR, f));
  return { ca: at('ca.crt'), cert: at(`${id}.crt`), key: at(`${id}.key`) };
}

/** The bench's requests and torua clients made from now on present `client` of `dir` (undefined: plain again). */
export function useBenchTls(dir: string | undefined): void {
  if (dir === undefined) {
    setBenchTls(undefined);
    installProcessTls(undefined);
    return;
  }
  setBenchTls(benchCredentials(dir, 'client'));
  const at = (f: string) => path.join(dir, CERTS_DIR, f);
  installProcessTls(new TlsSource({ ca: at('ca.crt'), cert: at('client.crt'), key: at('client.key') }));
}
