/** The leader-only health monitor and failure confirmation (DESIGN.md §5). */
export {
  afterProbe,
  decidable,
  explained,
  failing,
  newNodeHealth,
  nextProbeDelayMs,
  suspicionReason,
  withTableStatus,
  type LocalStatus,
  type NodeHealth,
  type ProbePath,
  type ProbeResult,
} from './detector.js';
export { stormGuardRefusal } from './storm-guard.js';
export { tallyVotes, type Tally, type Verdict, type Vote } from './tally.js';
export { probeNode, type ProbeModules, type ProbeTarget } from './probe.js';
export { confirmationRound, votersOf } from './confirmation-round.js';
export { ConfirmProber, type ConfirmProberModules, type ConfirmProberOptions } from './confirm-prober.js';
export { HealthMonitor, type HealthMonitorModules, type HealthMonitorOptions, type NodeHealthView } from './monitor.js';
export type { ConfirmAnswer, ConfirmRequest, ReplicaLink } from './replica-link.js';
