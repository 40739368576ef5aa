import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { istioDuration } from '../_duration';
import { compact } from '../_render';
import { requireInteger } from '../_validate';

/**
 * Whether HTTP/1.1 connections to the upstream are upgraded to HTTP/2.
 */
export enum H2UpgradePolicy {
  /** Follow the mesh-wide setting. */
  DEFAULT = 'DEFAULT',
  /** Never upgrade. */
  DO_NOT_UPGRADE = 'DO_NOT_UPGRADE',
  /** Upgrade to HTTP/2. */
  UPGRADE = 'UPGRADE',
}

/**
 * Limits on connections and requests from each calling proxy to the upstream service: the bulkhead that keeps one
 * slow upstream from exhausting the caller. Envoy counts them per upstream cluster, so over all the service's pods
 * (per subset when a subset sets them), not per pod. Every field is optional; unset fields keep Envoy's defaults.
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#ConnectionPoolSettings
 */
export interface ConnectionPool {
  /**
   * Maximum TCP connections to the service (all its pods), per calling proxy.
   * @default - Envoy's default (2^32-1)
   */
  readonly maxConnections?: number;
  /**
   * TCP connect timeout.
   * @default 10s
   */
  readonly connectTimeout?: Duration;
  /**
   * Idle time before TCP keepalive probes start.
   * @default - the operating system's setting
   */
  readonly tcpKeepaliveTime?: Duration;
  /**
   * Interval between TCP keepalive probes.
   * @default - the operating system's setting
   */
  readonly tcpKeepaliveInterval?: Duration;
  /**
   * Maximum requests queued while waiting for a connection.
   * @default - Envoy's default (2^32-1)
   */
  readonly maxPendingRequests?: number;
  /**
   * Maximum concurrent requests to the service (all its pods), per calling proxy; HTTP/1.1 too.
   * @default - Envoy's default (2^32-1)
   */
  readonly maxRequests?: number;
  /**
   * Maximum requests per connection; 1 disables keep-alive.
   * @default - unlimited
   */
  readonly maxRequestsPerConnection?: number;
  /**
   * Maximum concurrent retries to all hosts of the service.
   * @default - Envoy's default (2^32-1)
   */
  readonly maxRetries?: number;
  /**
   * Idle timeout of upstream connections.
   * @default 1h
   */
  readonly idleTimeout?: Duration;
  /**
   * HTTP/2 upgrade of HTTP/1.1 connections.
   * @default H2UpgradePolicy.DEFAULT
   */
  readonly h2UpgradePolicy?: H2UpgradePolicy;
}

/** @internal Renders `connectionPool`. */
export function renderConnectionPool(scope: IConstruct, prop: string, pool: ConnectionPool): any {
  const count = (field: keyof ConnectionPool) => {
    const v = pool[field] as number | undefined;
    return v === undefined ? undefined : requireInteger(scope, `${prop}.${field}`, v, 1);
  };
  const duration = (field: keyof ConnectionPool) => {
    const v = pool[field] as Duration | undefined;
    return v === undefined ? undefined : istioDuration(scope, `${prop}.${field}`, v);
  };
  const keepalive = pool.tcpKeepaliveTime || pool.tcpKeepaliveInterval
    ? compact({ time: duration('tcpKeepaliveTime'), interval: duration('tcpKeepaliveInterval') })
    : undefined;
  return compact({
    tcp: compact({ maxConnections: count('maxConnections'), connectTimeout: duration('connectTimeout'), tcpKeepalive: keepalive }),
    http: compact({
      http1MaxPendingRequests: count('maxPendingRequests'),
      http2MaxRequests: count('maxRequests'),
      maxRequestsPerConnection: count('maxRequestsPerConnection'),
      maxRetries: count('maxRetries'),
      idleTimeout: duration('idleTimeout'),
      h2UpgradePolicy: pool.h2UpgradePolicy,
    }),
  });
}
