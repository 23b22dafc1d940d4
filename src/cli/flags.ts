/** Every flag of every `torua` command, for node:util's parseArgs (its errors name the flag: "Unknown option '--bogus'"). */
import { parseArgs } from 'node:util';

export const FLAG_OPTIONS = {
  config: { type: 'string' },
  id: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  coordinators: { type: 'string' },
  token: { type: 'string' },
  name: { type: 'string' },
  role: { type: 'string' },
  out: { type: 'string' },
  capacity: { type: 'string' },
  'data-dir': { type: 'string' },
  'log-level': { type: 'string' },
  join: { type: 'boolean' },
  json: { type: 'boolean' },
  to: { type: 'string' },
  'api-port': { type: 'string' },
  'peer-port': { type: 'string' },
  since: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  ttl: { type: 'string' },
  reason: { type: 'string' },
  cancel: { type: 'boolean' },
  restart: { type: 'string' },
  resume: { type: 'boolean' },
  fail: { type: 'string', multiple: true },
  drain: { type: 'string', multiple: true },
  maintenance: { type: 'string', multiple: true },
  'new-node': { type: 'string', multiple: true },
  version: { type: 'boolean', short: 'V' },
  help: { type: 'boolean', short: 'h' },
  insecure: { type: 'boolean' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
} as const;

export function parseFlags(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: FLAG_OPTIONS, allowPositionals: true, strict: true });
}

export type ParsedFlags = ReturnType<typeof parseFlags>['values'];
