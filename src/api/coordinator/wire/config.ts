/** The cluster-wide settings as `GET`/`PUT /cluster/config` show them. */
import type { ClusterConfig } from '../../../coordinator/routing/index.js';
import type { ClusterSettings } from '../../../config/index.js';

export interface ConfigInfo {
  /** The compare-and-set token: a change must name it as `expectedVersion`. */
  readonly version: number;
  readonly settings: ClusterSettings;
}

export function configInfo(c: ClusterConfig): ConfigInfo {
  return { version: c.version, settings: c.settings };
}
