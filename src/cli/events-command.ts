/**
 * `torua events [--since N] [--follow] [--json]`: the latest events of the
 * routing table (the ring keeps the last few hundred), and with `--follow`
 * each new one as it is applied, over SSE; the stream resumes on another
 * replica when its replica goes away. Ctrl-C ends it (exit 0).
 */
import type { EventInfo } from '../client/index.js';
import { usage } from './cli-error.js';
import { runClientCommand, type OutputFlags } from './admin-call.js';
import { exitCodeOf, EXIT_OK } from './exit-codes.js';
import { jsonFailure, jsonSuccess } from './json-output.js';
import type { CliIo } from './run.js';
import { describeClientError, type ClusterClient } from '../client/index.js';

export interface EventsFlags extends OutputFlags {
  readonly since?: string | undefined;
  readonly follow?: boolean | undefined;
}

export function renderEvent(e: EventInfo): string {
  return `${String(e.seq).padStart(6)}  ${e.time}  ${e.kind.padEnd(18)}  ${e.message}${e.reason ? `  (${e.reason})` : ''}`;
}

function parseSince(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text)) throw usage(`events: --since: expected an event seq (a whole number ≥ 0), got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Resolves on SIGINT/SIGTERM (the way to end --follow), detaching its handlers. */
function untilInterrupted(): { done: Promise<void>; stop(): void } {
  let stop = (): void => undefined;
  const done = new Promise<void>((resolve) => {
    const onSignal = (): void => stop();
    stop = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return { done, stop };
}

export async function runEvents(flags: EventsFlags, io: CliIo): Promise<number> {
  let followed: Promise<number> | undefined;
  const code = await runClientCommand('events', flags, io, async ({ client, context }) => {
    const since = parseSince(flags.since);
    const page = await client.events.list.query(since === undefined ? undefined : { since }, { context });
    if (flags.follow) {
      // Printed here, as they come, so that the stream's events follow in order.
      for (const e of page.events) io.out(flags.json ? jsonSuccess('events', e) : `${renderEvent(e)}\n`);
      followed = follow(client, page.last_seq, flags, io);
      return { data: null, text: '', printed: true };
    }
    const text = page.events.length === 0 ? `no events after seq ${since ?? 0} (the newest is ${page.last_seq})` : page.events.map(renderEvent).join('\n');
    return { data: page, text };
  });
  return followed === undefined ? code : followed;
}

function follow(client: ClusterClient, from: number, flags: EventsFlags, io: CliIo): Promise<number> {
  const interrupted = untilInterrupted();
  return new Promise<number>((resolve) => {
    const sub = client.events.subscribe.subscribe(
      { since: from },
      {
        onData: ({ data }) => io.out(flags.json ? jsonSuccess('events', data) : `${renderEvent(data)}\n`),
        onError: (err) => {
          interrupted.stop();
          const code = exitCodeOf(err);
          if (flags.json) io.out(jsonFailure('events', code, err));
          else io.err(`torua events: the stream ended: ${describeClientError(err)}\n`);
          resolve(code);
        },
      },
    );
    void interrupted.done.then(() => {
      sub.unsubscribe();
      resolve(EXIT_OK);
    });
  });
}
