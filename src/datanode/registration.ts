import { sleepOn, type Timers } from '../common/clock.js';
import { withDeadline } from '../common/deadline-signal.js';
import { ClusterError, ClusterErrorCode, isClusterError } from '../errors/index.js';
import type { Logger } from '../observability/index.js';
import type { CoordinatorLink, RegisterRequest } from './contract.js';
import { describe, stopping } from './errors.js';
import { retryDelayMs, type NodeSettings } from './options.js';

/**
 * Registers until the cluster has committed it, retrying with capped
 * backoff while the coordinators are unreachable; a CONFLICT (the id is
 * claimed by another identity) is final. Ends with `signal` (stop()).
 */
export async function registerUntilDone(
  coordinators: CoordinatorLink,
  req: RegisterRequest,
  dataDir: string,
  settings: NodeSettings,
  logger: Logger,
  timers: Timers,
  random: () => number,
  signal: AbortSignal,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw stopping(req.id);
    try {
      await withDeadline(settings.coordinatorCallTimeoutMs, [signal], timers, (bounded) => coordinators.register(req, bounded));
      logger.info('registered', { address: req.address, attempts: attempt });
      return;
    } catch (e) {
      if (isClusterError(e, ClusterErrorCode.Conflict)) {
        throw new ClusterError(
          { code: ClusterErrorCode.Conflict, reason: 'identity' },
          `node ${req.id} is registered by another process (another identity than the one in ${dataDir}): stop that process, or remove node ${req.id} from the cluster first (${e.message})`,
          { cause: e },
        );
      }
      if (signal.aborted) throw stopping(req.id);
      if (attempt === 1) logger.warn('registration failed; retrying until the coordinators answer', { reason: describe(e) });
      await sleepOn(timers, retryDelayMs(settings, attempt, random), signal);
    }
  }
}
