/**
 * The certificate material of this process, set once by its composition
 * root (a coordinator or node with the cluster file's `tls`, the CLI with
 * --ca/--cert/--key). Every server, agent and peer connection made
 * afterwards uses it; without it everything stays plain.
 */
import type { TlsSource } from './tls-source.js';

let installed: TlsSource | undefined;

export function installProcessTls(source: TlsSource | undefined): void {
  installed = source;
}

export function processTls(): TlsSource | undefined {
  return installed;
}
