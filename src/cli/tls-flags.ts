/** `--ca FILE --cert FILE --key FILE`: certificate files named on the command line (all three, or none). */
import type { TlsPaths } from '../tls/material.js';
import { usage } from './cli-error.js';

export interface TlsFlagValues {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

export function tlsFlags(command: string, flags: TlsFlagValues): TlsPaths | undefined {
  const { ca, cert, key } = flags;
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  if (ca === undefined || cert === undefined || key === undefined) {
    const missing = (['ca', 'cert', 'key'] as const).filter((f) => flags[f] === undefined).map((f) => `--${f}`);
    throw usage(`${command}: --ca, --cert and --key go together (missing ${missing.join(', ')})`);
  }
  return { ca, cert, key };
}
