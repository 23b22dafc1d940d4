/** What every procedure of the data node API sees. */
import type { DataNodeService } from '../../datanode/contract.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { CertIdentity } from '../../tls/identity.js';
import type { RecoveryOpeners } from './recovery-openers.js';

export interface NodeApiContext {
  readonly service: DataNodeService;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The cluster's current value limit (it comes with each lease grant, so it is read per call). */
  readonly maxValueBytes: () => number;
  /** The /trpc body limit, named in the 413 answer of a body over it. */
  readonly maxTrpcBodyBytes: number;
  /** The caller's certificate as the TLS handshake verified it; undefined without TLS. */
  readonly peerCertificate?: CertIdentity | undefined;
  /** Who began each recovery session: only that member reads its pages. */
  readonly recoveryOpeners: RecoveryOpeners;
}
