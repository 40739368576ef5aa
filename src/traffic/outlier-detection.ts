import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { istioDuration } from '../_duration';
import { compact } from '../_render';
import { requireInteger, requirePercent } from '../_validate';

/**
 * Circuit breaking by ejecting unhealthy hosts from the load-balancing pool.
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#OutlierDetection
 */
export interface OutlierDetection {
  /**
   * Consecutive 5xx responses (and connection failures) before a host is ejected.
   * @default 5
   */
  readonly consecutive5xxErrors?: number;
  /**
   * Consecutive 502, 503 and 504 responses before a host is ejected.
   * @default - not used
   */
  readonly consecutiveGatewayErrors?: number;
  /**
   * Time between ejection sweeps.
   * @default 10s
   */
  readonly interval?: Duration;
  /**
   * Minimum ejection time; a host ejected again stays out longer.
   * @default 30s
   */
  readonly baseEjectionTime?: Duration;
  /**
   * Maximum percentage of hosts ejected at once.
   * @default 10
   */
  readonly maxEjectionPercent?: number;
  /**
   * Below this percentage of healthy hosts, outlier detection stops ejecting (panic mode).
   * @default 0
   */
  readonly minHealthPercent?: number;
  /**
   * Count locally originated failures (connect timeouts, resets) separately from upstream responses.
   * @default false
   */
  readonly splitExternalLocalOriginErrors?: boolean;
}

/** @internal Renders `outlierDetection`; never the deprecated `consecutiveErrors`. */
export function renderOutlierDetection(scope: IConstruct, prop: string, od: OutlierDetection): any {
  const count = (v: number | undefined, field: string) => v === undefined ? undefined : requireInteger(scope, `${prop}.${field}`, v, 1);
  const duration = (v: Duration | undefined, field: string) => v === undefined ? undefined : istioDuration(scope, `${prop}.${field}`, v);
  const percent = (v: number | undefined, field: string) => v === undefined ? undefined : requirePercent(scope, `${prop}.${field}`, v);
  return compact({
    consecutive5xxErrors: count(od.consecutive5xxErrors, 'consecutive5xxErrors'),
    consecutiveGatewayErrors: count(od.consecutiveGatewayErrors, 'consecutiveGatewayErrors'),
    splitExternalLocalOriginErrors: od.splitExternalLocalOriginErrors,
    interval: duration(od.interval, 'interval'),
    baseEjectionTime: duration(od.baseEjectionTime, 'baseEjectionTime'),
    maxEjectionPercent: percent(od.maxEjectionPercent, 'maxEjectionPercent'),
    minHealthPercent: percent(od.minHealthPercent, 'minHealthPercent'),
  }) ?? {};
}
