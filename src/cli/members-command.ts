/**
 * `torua members add --id ID --host H --api-port P --peer-port Q` and
 * `torua members remove --id ID`: membership changes through the API (the
 * leader adds the replica as a learner and promotes it once it caught up;
 * a follower forwards the call to the leader).
 */
import { runAdminCall } from './admin-call.js';
import type { TargetFlags } from './cluster-target.js';
import type { CliIo } from './run.js';

export interface MembersFlags extends TargetFlags {
  readonly id?: string | undefined;
  readonly host?: string | undefined;
  readonly 'api-port'?: string | undefined;
  readonly 'peer-port'?: string | undefined;
  readonly json?: boolean | undefined;
}

function port(flag: string, text: string | undefined): number | string {
  if (text === undefined) return `${flag} P is required`;
  const n = Number(text);
  return /^\d+$/.test(text) && n >= 1 && n <= 65_535 ? n : `${flag}: expected a port (1-65535), got ${JSON.stringify(text)}`;
}

export function runMembersAdd(flags: MembersFlags, io: CliIo): Promise<number> {
  const apiPort = port('--api-port', flags['api-port']);
  const peerPort = port('--peer-port', flags['peer-port']);
  const problems = [
    ...(flags.id ? [] : ['--id ID is required']),
    ...(flags.host ? [] : ['--host H is required']),
    ...(typeof apiPort === 'string' ? [apiPort] : []),
    ...(typeof peerPort === 'string' ? [peerPort] : []),
  ];
  const { id, host } = flags;
  if (problems.length > 0 || id === undefined || host === undefined || typeof apiPort === 'string' || typeof peerPort === 'string') {
    io.err(`torua members add: ${problems.join('; ')}\n`);
    return Promise.resolve(2);
  }
  return runAdminCall('members add', flags, io, async (client, context) => {
    const answer = await client.members.add.mutate({ id, host, apiPort, peerPort }, { context });
    const { member } = answer;
    return { data: answer, text: `added ${member.id} (API ${host}:${member.api_port}, peer ${host}:${member.peer_port}): it caught up as a learner and votes now` };
  });
}

export function runMembersRemove(flags: MembersFlags, io: CliIo): Promise<number> {
  const id = flags.id;
  if (!id) {
    io.err('torua members remove: --id ID is required\n');
    return Promise.resolve(2);
  }
  return runAdminCall('members remove', flags, io, async (client, context) => {
    const answer = await client.members.remove.mutate({ id }, { context });
    return { data: answer, text: `removed ${answer.removed}` };
  });
}
