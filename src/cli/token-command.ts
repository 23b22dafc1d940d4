/**
 * `torua token create --name N --role R`: a new API token, printed once as
 * one JSON line `{name, role, token, hash}`; the cluster file's
 * `auth.tokens` keeps `{name, role, hash}`, the holder keeps `token`.
 * `torua token internal --out FILE`: the cluster's internal token, written
 * to FILE with mode 0600 (never over an existing file).
 */
import { createToken, idSchema, roleSchema, ROLES, writeInternalToken } from '../config/index.js';
import type { CliIo } from './run.js';

export interface TokenFlags {
  readonly name?: string | undefined;
  readonly role?: string | undefined;
  readonly out?: string | undefined;
}

export async function runToken(sub: string | undefined, flags: TokenFlags, io: CliIo): Promise<number> {
  if (sub === 'create') {
    const name = idSchema.safeParse(flags.name);
    const role = roleSchema.safeParse(flags.role);
    if (!name.success || !role.success) {
      io.err(`torua token create: ${!name.success ? `--name: ${flags.name === undefined ? 'required' : 'expected an id of letters, digits, "-" and "_"'}` : `--role: expected one of ${ROLES.join(', ')}`}\n`);
      return 2;
    }
    const { token, hash } = await createToken(name.data);
    io.out(`${JSON.stringify({ name: name.data, role: role.data, token, hash })}\n`);
    return 0;
  }
  if (sub === 'internal') {
    if (flags.out === undefined || flags.out === '') {
      io.err('torua token internal: --out FILE is required\n');
      return 2;
    }
    try {
      await writeInternalToken(flags.out);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      io.err(`torua token internal: cannot write ${flags.out}: ${code === 'EEXIST' ? 'it exists (an internal token is never overwritten)' : (e as Error).message}\n`);
      return 1;
    }
    io.out(`${JSON.stringify({ file: flags.out })}\n`);
    return 0;
  }
  io.err(`torua token: ${sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`} (create --name N --role R, or internal --out FILE)\n`);
  return 2;
}
