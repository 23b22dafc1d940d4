/**
 * One leader under many data nodes, with real processes: the fleet
 * bench (scripts/bench/fleet.ts) started as a process, its report read from
 * its last line of JSON. Three coordinators and one fleet process that
 * impersonates TORUA_FLEET_NODES nodes (default 300; registering, renewing
 * their leases with the real node's code, through the followers, which relay
 * them to the leader in batches, answering /health); for 15 s with a writer
 * proposing through the leader, no leader change, no failure decision, and
 * Raft on time (no event loop stall on the leader near an election
 * timeout); then one node hangs and is detected.
 * Needs `npm run build` first; about a minute and a half.
 *
 * Why 300 by default: 1,000 (TORUA_FLEET_NODES=1000, the size the goal
 * names) was not sustained on the shared 2-core test machine with its load
 * from other work: the fleet process and the followers together need more
 * than the machine had (README, "The leader's load").
 */
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterEach, describe, expect, test } from 'vitest';
import type { FleetReport } from '../../scripts/bench/fleet.js';
import { REPO } from '../support/coordinator-processes.js';

const BENCH_JS = path.join(REPO, 'dist/scripts/bench.js');
const NODES = Number(process.env['TORUA_FLEET_NODES'] ?? 300);
const WINDOW_SECONDS = 10;
let bench: ResultPromise | undefined;

afterEach(async () => {
  if (bench === undefined) return;
  // SIGTERM: the bench kills its own children by PID and removes its directory; SIGKILL only if it hangs.
  bench.kill('SIGTERM');
  const timer = setTimeout(() => bench?.kill('SIGKILL'), 15_000);
  await bench.catch(() => undefined);
  clearTimeout(timer);
  bench = undefined;
});

describe(`a leader with ${NODES} nodes`, () => {
  test(
    'keeps its leadership and decides nothing false, with Raft on time; a hung node is still detected',
    async () => {
      bench = execa(process.execPath, [BENCH_JS, 'fleet', '--nodes', String(NODES), '--seconds', String(WINDOW_SECONDS), '--json'], { reject: false, all: true, timeout: 170_000 });
      const result = await bench;
      const output = String(result.all ?? '');
      const last = output.trim().split('\n').at(-1) ?? '';
      let report: FleetReport;
      try {
        report = JSON.parse(last) as FleetReport;
      } catch {
        throw new Error(`the fleet bench gave no report (exit ${result.exitCode}):\n${output.slice(-4_000)}`);
      }
      const shown = JSON.stringify(report);
      expect(report.nodes, shown).toBe(NODES);
      expect(report.seconds, shown).toBeGreaterThanOrEqual(WINDOW_SECONDS - 1);
      expect(report.leaderChanges, shown).toBe(0);
      expect(report.falseDecisions, shown).toBe(0);
      // Raft on time: the leader's own event loop never stalled for an election timeout (600 ms at most). A
      // follower may still miss a heartbeat or two for 300 ms on a machine this loaded (the OS, not the
      // leader: measured 884 ms once with the leader's loop at 210 ms), which PreVote rides out.
      expect(report.leaderLoopDelayMaxMs, shown).toBeLessThan(600);
      expect(report.followerGapsOver['300ms'], shown).toBeLessThanOrEqual(5);
      // The writer got through the leader all along.
      expect(report.writes, shown).toBeGreaterThan(WINDOW_SECONDS);
      // interval × threshold + timeout + lease (1.95 s) and generous room for a loaded machine.
      expect(report.detectMs, shown).not.toBeNull();
      expect(report.detectMs!, shown).toBeLessThan(10_000);
      expect(report.decisionsAfterHang, shown).toBe(1);
    },
    180_000,
  );
});
