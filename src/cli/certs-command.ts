/**
 * `torua certs create --config FILE --out DIR`: the certificates of the
 * cluster file's `tls` layout — ca.crt/ca.key, `<id>.crt`/`<id>.key` for
 * every coordinator and node (its host in the SAN) and client.crt/client.key
 * for the CLI — made with openssl. An existing CA in DIR is reused, so a run
 * after adding a node signs its certificate with the same CA.
 */
import path from 'node:path';
import { loadClusterFile } from '../config/index.js';
import { createClusterCerts, type CertSubject } from '../tls/openssl-certs.js';
import { usage } from './cli-error.js';
import type { CliIo } from './run.js';

export interface CertsFlags {
  readonly config?: string | undefined;
  readonly out?: string | undefined;
}

const COMMAND = 'torua certs create';

export async function runCertsCreate(flags: CertsFlags, io: CliIo): Promise<number> {
  if (flags.config === undefined || flags.out === undefined) throw usage(`${COMMAND}: --config FILE and --out DIR are required`);
  let file;
  try {
    file = await loadClusterFile(flags.config);
  } catch (e) {
    throw usage(`${COMMAND}: ${(e as Error).message}`);
  }
  const members: CertSubject[] = [
    ...file.coordinators.map((c) => ({ id: c.id, role: 'coordinator' as const, hosts: [c.host] })),
    ...file.nodes.map((n) => ({ id: n.id, role: 'node' as const, hosts: [n.host] })),
    { id: 'client', role: 'client' as const, hosts: [] },
  ];
  const outDir = path.resolve(flags.out);
  try {
    const report = await createClusterCerts({ clusterId: file.clusterId, outDir, members });
    io.out(`${report.caCreated ? 'created a CA and' : 'reused the CA in'} ${outDir}: ${members.length} certificates (${members.map((m) => m.id).join(', ')})\n`);
    const relative = path.relative(path.dirname(path.resolve(flags.config)), outDir) || '.';
    if (file.tls === undefined) io.out(`add to ${flags.config}: "tls": {"dir": ${JSON.stringify(relative)}}\n`);
    io.out(`the CLI: --ca ${path.join(outDir, 'ca.crt')} --cert ${path.join(outDir, 'client.crt')} --key ${path.join(outDir, 'client.key')}\n`);
    return 0;
  } catch (e) {
    io.err(`${COMMAND}: ${(e as Error).message}\n`);
    return 1;
  }
}
