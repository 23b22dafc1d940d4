/** The cluster-wide settings as `GET`/`PUT /cluster/config` show them. */
import { configAcks, type RoutingState } from '../../../coordinator/routing/index.js';
import type { ClusterSettings } from '../../../config/index.js';

export interface ConfigInfo {
  /** The compare-and-set token: a change must name it as `expectedVersion`. */
  readonly version: number;
  readonly settings: ClusterSettings;
  /** Per node (that has not left), the settings version it said it runs with its lease renewals; null until it has. */
  readonly nodes: Readonly<Record<string, number | null>>;
}

export function configInfo(state: RoutingState): ConfigInfo {
  return { version: state.config.version, settings: state.config.settings, nodes: configAcks(state).nodes };
}
