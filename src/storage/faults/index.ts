/**
 * Disk-fault injection for chaos runs and tests. Production never sets it.
 *
 *   TORUA_FAULTS='{"syncFailRate":0.05,"syncDelayMs":[0,200],"crashBetweenPersistAndSendRate":0.01,"seed":7,"onlyWhenLeader":true}'
 *
 * read by `torua coordinator` at start (a bad value: it refuses to start,
 * naming the field; unset or empty: nothing here is installed, and the only
 * cost is one `undefined` check per synced write and per persisted Ready).
 * When set, the replica logs "DISK FAULT INJECTION IS ON …" with the seed.
 * Every key is optional:
 *
 * - `syncFailRate` (0–1, default 0): a synced write of the Raft log store
 *   fails BEFORE anything is written. The store then refuses every later
 *   write, the replica stops without sending or applying that Ready (so it
 *   never acknowledges what it did not persist), logs "replica stopped: its
 *   log store failed" and the process exits with code 1 for its supervisor
 *   to restart it; on restart it reloads what it had persisted.
 * - `syncDelayRate` (0–1, default 1) and `syncDelayMs` ([min, max], default
 *   [0, 0], at most 30000): that fraction of synced writes completes a
 *   uniform [min, max] ms after the disk finished it. A leader whose write
 *   stalls past the core's `persistStallTicks` (three election timeouts)
 *   steps down.
 * - `crashBetweenPersistAndSendRate` (0–1, default 0): after a synced Ready
 *   with messages is durable and before they are sent, the process exits at
 *   once with code 86 (FAULT_CRASH_EXIT_CODE), as a power cut there would.
 * - `seed` (0–2^32-1): decides every fault (syncs and crashes in separate
 *   streams: the n-th synced write meets the same fault in every run with
 *   that seed); drawn and logged when absent.
 * - `onlyWhenLeader` (default false): faults only while this replica leads.
 */
export { DiskFaults, FAULT_CRASH_EXIT_CODE, type DiskFaultsModules, type InjectedCounts, type PersistedBatch, type SyncFault } from './disk-faults.js';
export { FAULTS_ENV, faultSettingsSchema, parseFaultSwitch, type FaultSettings } from './fault-settings.js';
