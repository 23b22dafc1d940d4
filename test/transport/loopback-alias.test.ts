// DESIGN.md §1: every replica dials from its own host, so a packet filter on loopback aliases can cut one link.
import { afterEach, describe, expect, test } from 'vitest';
import { Harness, heartbeat, waitFor } from './helpers.js';
import { canBind } from '../support/can-bind.js';


const aliases = ['127.0.0.11', '127.0.0.12'] as const;
const usable = (await canBind(aliases[0])) && (await canBind(aliases[1]));
if (!usable) console.warn(`loopback-alias.test.ts: skipped, cannot bind ${aliases.join(' and ')} on this machine`);

const h = new Harness();
afterEach(() => h.cleanup());

describe.skipIf(!usable)('loopback aliases', () => {
  test('a dial to a peer comes from the sender\'s own host', async () => {
    const a = await h.node('a', { host: aliases[0] });
    const b = await h.node('b', { host: aliases[1] });
    a.t.setPeers(new Map([['b', b.addr]]));
    b.t.setPeers(new Map([['a', a.addr]]));
    a.t.send([heartbeat('a', 'b', 1)]);
    b.t.send([heartbeat('b', 'a', 1)]);
    await waitFor('both delivered', () => a.received.length === 1 && b.received.length === 1);
    const acceptedAt = (logs: typeof a.logs, peer: string) =>
      logs.find((l) => l.msg.startsWith('accepted connection') && l.fields.peer === peer)?.fields.remoteAddress;
    expect(acceptedAt(b.logs, 'a')).toBe(aliases[0]);
    expect(acceptedAt(a.logs, 'b')).toBe(aliases[1]);
    // Nobody complained about an unexpected source address.
    expect([...a.logs, ...b.logs].filter((l) => l.level === 'warn')).toEqual([]);
  });
});
