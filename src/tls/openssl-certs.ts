/**
 * Making a cluster's certificates with the openssl command: a CA (kept in
 * the directory, so that later runs sign new members with it), then a key
 * and a CA-signed certificate per member. openssl rather than a JavaScript
 * library: Node can verify certificates but not issue them, openssl is on
 * every machine that runs a server and is what operators already trust,
 * and no new dependency enters the project for it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CertRole } from './identity.js';
import { TlsError, TlsErrorCode } from './tls-error.js';

const run = promisify(execFile);

export interface CertSubject {
  readonly id: string;
  readonly role: CertRole;
  /** Host names and addresses it serves on (its subjectAltName); none for a client. */
  readonly hosts: readonly string[];
}

export interface CertPlan {
  readonly clusterId: string;
  readonly outDir: string;
  readonly members: readonly CertSubject[];
  /** Member certificates' lifetime. Default 825 days (what browsers still accept; rotation is a SIGHUP). */
  readonly days?: number;
  readonly openssl?: string;
}

export interface CertReport {
  /** false: an existing ca.crt/ca.key signed the new certificates. */
  readonly caCreated: boolean;
  readonly files: readonly string[];
}

const CA_DAYS = 3650;
const DEFAULT_DAYS = 825;

async function openssl(bin: string, args: readonly string[]): Promise<string> {
  try {
    return (await run(bin, [...args], { timeout: 30_000 })).stdout;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    const why = err.code === 'ENOENT' ? `${bin} not found: install openssl` : (err.stderr ?? err.message).trim().split('\n').slice(-3).join(' ');
    throw new TlsError(TlsErrorCode.Openssl, `openssl ${args[0]} failed: ${why}`, { cause: e });
  }
}

function altNames(hosts: readonly string[]): string {
  const names = [...new Set(hosts.map((h) => h.replace(/^\[(.*)\]$/, '$1')))];
  return names.map((h) => (isIP(h) === 0 ? `DNS:${h}` : `IP:${h}`)).join(',');
}

/** Makes (or reuses) the CA and a certificate per member; keys are written 0600, the directory 0700. */
export async function createClusterCerts(plan: CertPlan): Promise<CertReport> {
  const bin = plan.openssl ?? 'openssl';
  const dir = plan.outDir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caCrt = path.join(dir, 'ca.crt');
  const caKey = path.join(dir, 'ca.key');
  const files: string[] = [];
  const caCreated = !(existsSync(caCrt) && existsSync(caKey));
  if (caCreated) {
    await newKey(bin, caKey);
    await openssl(bin, [
      'req', '-x509', '-new', '-key', caKey, '-sha256', '-days', String(CA_DAYS), '-out', caCrt,
      '-subj', `/O=${plan.clusterId}/OU=ca/CN=${plan.clusterId} cluster CA`,
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    files.push(caCrt, caKey);
  }
  const days = String(plan.days ?? DEFAULT_DAYS);
  for (const m of plan.members) {
    const key = path.join(dir, `${m.id}.key`);
    const crt = path.join(dir, `${m.id}.crt`);
    const csr = path.join(dir, `${m.id}.csr`);
    const ext = path.join(dir, `${m.id}.ext`);
    await newKey(bin, key);
    await openssl(bin, ['req', '-new', '-key', key, '-subj', `/O=${plan.clusterId}/OU=${m.role}/CN=${m.id}`, '-out', csr]);
    const lines = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth'];
    if (m.hosts.length > 0) lines.push(`subjectAltName=${altNames(m.hosts)}`);
    await writeFile(ext, `${lines.join('\n')}\n`);
    try {
      await openssl(bin, ['x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-set_serial', `0x${randomSerial()}`, '-sha256', '-days', days, '-extfile', ext, '-out', crt]);
    } finally {
      await rm(csr, { force: true });
      await rm(ext, { force: true });
    }
    files.push(crt, key);
  }
  return { caCreated, files };
}

/** A P-256 key, written by us so that the file is 0600 from its first byte (openssl would create it with the umask's mode). */
async function newKey(bin: string, file: string): Promise<void> {
  const pem = await openssl(bin, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  await rm(file, { force: true });
  await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
}

/** 128 random bits with the top bit clear: a positive serial no two certificates of the CA share. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}
