import { IConstruct } from 'constructs';
import { configError } from '../_errors';
import { compact } from '../_render';
import { ConnectionPool, renderConnectionPool } from './connection-pool';
import { LoadBalancer } from './load-balancer';
import { OutlierDetection, renderOutlierDetection } from './outlier-detection';
import { UpstreamTls } from './upstream-tls';

/**
 * How the client proxy connects to a destination (a host or one subset of it).
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#TrafficPolicy
 */
export interface TrafficPolicy {
  /**
   * Connection and request limits.
   * @default - Envoy's defaults
   */
  readonly connectionPool?: ConnectionPool;
  /**
   * Ejection of failing endpoints (circuit breaking).
   * @default - no outlier detection
   */
  readonly outlierDetection?: OutlierDetection;
  /**
   * The load-balancing algorithm.
   * @default - least request
   */
  readonly loadBalancer?: LoadBalancer;
  /**
   * TLS towards the destination.
   * @default - Istio mutual TLS when the destination has a sidecar (auto mTLS)
   */
  readonly tls?: UpstreamTls;
}

/** @internal The fields of a TrafficPolicy, for merging contributions field by field. */
export const TRAFFIC_POLICY_FIELDS: (keyof TrafficPolicy)[] = ['connectionPool', 'outlierDetection', 'loadBalancer', 'tls'];

/**
 * @internal Renders a DestinationRule `trafficPolicy`; `inherited` is the host's policy, whose fields a subset's takes
 * where it sets none (Istio merges them field by field).
 *
 * Istio replaces a whole field: a subset's connection pool that sets one limit would drop the host's other limits
 * (Envoy's defaults are unbounded). The subset's pool and outlier detection are rendered over the host's instead, so
 * a subset states only what differs.
 */
export function renderTrafficPolicy(scope: IConstruct, prop: string, policy: TrafficPolicy, host: string, inherited?: TrafficPolicy): any {
  if (policy.loadBalancer?.hasLocalityFailover && !policy.outlierDetection && !inherited?.outlierDetection) {
    throw configError(scope, `${prop}.outlierDetection`, undefined, 'locality failover needs outlier detection to mark endpoints unhealthy: set outlierDetection');
  }
  const connectionPool = policy.connectionPool && over(inherited?.connectionPool, policy.connectionPool);
  const outlierDetection = policy.outlierDetection && over(inherited?.outlierDetection, policy.outlierDetection);
  return compact({
    connectionPool: connectionPool && renderConnectionPool(scope, `${prop}.connectionPool`, connectionPool),
    outlierDetection: outlierDetection && renderOutlierDetection(scope, `${prop}.outlierDetection`, outlierDetection),
    loadBalancer: policy.loadBalancer?._render(scope, `${prop}.loadBalancer`),
    tls: policy.tls?._render(scope, `${prop}.tls`, host),
  });
}

/** `values` over `base`: the fields `values` sets (not undefined), else `base`'s. */
function over<T extends object>(base: T | undefined, values: T): T {
  return { ...base, ...compact(values) };
}
