import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { istioDuration } from '../_duration';
import { configError } from '../_errors';
import { compact } from '../_render';
import { requireInteger, requireWholePercent } from '../_validate';

/**
 * Circuit breaking by ejecting unhealthy hosts from the load-balancing pool.
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#OutlierDetection
 */
export interface OutlierDetection {
  /**
   * Consecutive 5xx responses (and connection failures) before a host is ejected; 0 switches this detector off, to
   * eject on gateway errors only.
   * @default 5
   */
  readonly consecutive5xxErrors?: number;
  /**
   * Consecutive 502, 503 and 504 responses before a host is ejected. Gateway errors are 5xx responses too, so this
   * must be below `consecutive5xxErrors` (5 unless set) to have any effect.
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
  const count = (v: number | undefined, field: string) => v === undefined ? undefined : requireInteger(scope, `${prop}.${field}`, v, 0);
  // Envoy's 5xx detector stays on (at 5) unless switched off, and gateway errors count towards it too.
  const fiveXx = od.consecutive5xxErrors ?? 5;
  const gateway = od.consecutiveGatewayErrors ?? 0;
  if (gateway > 0 && fiveXx > 0 && gateway >= fiveXx) {
    throw configError(scope, `${prop}.consecutiveGatewayErrors`, gateway,
      `the 5xx detector (consecutive5xxErrors, ${fiveXx}) ejects on those errors first, so this has no effect: set consecutive5xxErrors: 0 to eject on gateway errors only, or use fewer than ${fiveXx}`);
  }
  if (fiveXx === 0 && gateway === 0) {
    throw configError(scope, `${prop}.consecutive5xxErrors`, 0, 'with no gateway-error detector either, no host would ever be ejected: set consecutiveGatewayErrors, or drop outlier detection');
  }
  const duration = (v: Duration | undefined, field: string) => v === undefined ? undefined : istioDuration(scope, `${prop}.${field}`, v);
  const percent = (v: number | undefined, field: string) => v === undefined ? undefined : requireWholePercent(scope, `${prop}.${field}`, v);
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
