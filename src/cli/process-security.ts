/**
 * How a coordinator or node process secures its ports, decided once at
 * start: with certificates, mutual TLS 1.3 everywhere (installed for the
 * whole process, re-read on SIGHUP, their expiry a metric); without, plain
 * HTTP and TCP, which is allowed on loopback (one warning line) and
 * elsewhere only with --insecure.
 */
import type { Logger, Metrics } from '../observability/index.js';
import { installProcessTls } from '../tls/process-tls.js';
import type { TlsPaths } from '../tls/material.js';
import { TlsSource } from '../tls/tls-source.js';
import { usage } from './cli-error.js';

export interface SecurityChoice {
  /** The process's certificate files; undefined: plaintext. */
  readonly tls: TlsPaths | undefined;
  /** --insecure: plaintext on a non-loopback host, knowingly. */
  readonly insecure: boolean;
}

/** 127.0.0.0/8, ::1 and `localhost`: only this machine can reach them. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/**
 * Throws a usage error (exit 2) when a plaintext process would listen
 * beyond loopback without --insecure: anyone who reaches the port could
 * forge Raft messages, re-register nodes or read shards.
 */
export function checkPlaintextAllowed(command: string, hosts: readonly string[], choice: SecurityChoice): void {
  if (choice.tls !== undefined || choice.insecure) return;
  const open = hosts.find((h) => !isLoopbackHost(h));
  if (open === undefined) return;
  throw usage(
    `${command}: refusing to listen on ${open} without TLS: anyone who reaches it could act as a coordinator or node. ` +
      'Add "tls": {"dir": …} to the cluster file (torua certs create --config F --out DIR makes the certificates), or pass --insecure to run in plaintext anyway',
  );
}

/**
 * Installs the certificates for every server and client of this process
 * (or none), logs the plaintext warning, and reloads on SIGHUP. Returns the
 * source (undefined without TLS) and a dispose that removes the handler.
 */
export function setUpProcessSecurity(choice: SecurityChoice, clusterId: string | undefined, logger: Logger, metrics: Metrics): { source: TlsSource | undefined; dispose(): void } {
  if (choice.tls === undefined) {
    installProcessTls(undefined);
    logger.warn(choice.insecure ? 'plaintext (--insecure): every port is open to whoever reaches it' : 'plaintext on loopback: no "tls" in the cluster file, fine for a local cluster only');
    return { source: undefined, dispose: () => undefined };
  }
  const source = new TlsSource(choice.tls, clusterId);
  installProcessTls(source);
  const record = () => {
    metrics.tls.certificateExpiry.set({ certificate: 'own' }, Math.floor(source.current.notAfterMs / 1000));
    metrics.tls.certificateExpiry.set({ certificate: 'ca' }, Math.floor(source.current.caNotAfterMs / 1000));
  };
  record();
  logger.info('mutual TLS on every port', { certificate: source.current.subject, expires: new Date(source.current.notAfterMs).toISOString() });
  const onHup = () => {
    try {
      source.reload();
      record();
      metrics.tls.reloads.inc({ result: 'ok' });
      logger.info('SIGHUP: certificates reloaded; new connections use them', { certificate: source.current.subject, expires: new Date(source.current.notAfterMs).toISOString() });
    } catch (e) {
      metrics.tls.reloads.inc({ result: 'failed' });
      logger.error('SIGHUP: certificates not reloaded, the old ones stay in use', { error: (e as Error).message });
    }
  };
  process.on('SIGHUP', onHup);
  return {
    source,
    dispose() {
      process.off('SIGHUP', onHup);
      installProcessTls(undefined);
    },
  };
}
