import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { istioDuration } from '../_duration';
import { configError } from '../_errors';
import { requirePercent } from '../_validate';

/** Properties of a {@link FaultInjection}. */
export interface FaultInjectionProps {
  /**
   * Delay requests by this long.
   * @default - no delay
   */
  readonly delay?: Duration;
  /**
   * Percentage of requests delayed.
   * @default 100
   */
  readonly delayPercentage?: number;
  /**
   * Abort requests with this HTTP status.
   * @default - no abort
   */
  readonly abortHttpStatus?: number;
  /**
   * Percentage of requests aborted.
   * @default 100
   */
  readonly abortPercentage?: number;
}

/**
 * Delays and aborts injected by the client proxy, for resilience tests. A route with a fault does not retry.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPFaultInjection
 */
export class FaultInjection {
  /** A delay of `fixedDelay` on `percentage` of requests. */
  public static delay(fixedDelay: Duration, percentage: number = 100): FaultInjection {
    return new FaultInjection({ delay: fixedDelay, delayPercentage: percentage });
  }
  /** An abort with `httpStatus` on `percentage` of requests. */
  public static abort(httpStatus: number, percentage: number = 100): FaultInjection {
    return new FaultInjection({ abortHttpStatus: httpStatus, abortPercentage: percentage });
  }
  /** Delays and aborts together. */
  public static of(props: FaultInjectionProps): FaultInjection {
    return new FaultInjection(props);
  }

  private constructor(private readonly props: FaultInjectionProps) {}

  /** Whether every request is faulted (100% delay or abort). */
  public get affectsAllRequests(): boolean {
    const p = this.props;
    return (p.delay !== undefined && (p.delayPercentage ?? 100) >= 100) || (p.abortHttpStatus !== undefined && (p.abortPercentage ?? 100) >= 100);
  }

  /** @internal */
  public _render(scope: IConstruct, prop: string): any {
    const p = this.props;
    if (p.delay === undefined && p.abortHttpStatus === undefined) {
      throw configError(scope, prop, {}, 'give a delay, an abort, or both');
    }
    const fault: any = {};
    if (p.delay !== undefined) {
      fault.delay = {
        fixedDelay: istioDuration(scope, `${prop}.delay`, p.delay),
        percentage: { value: requirePercent(scope, `${prop}.delayPercentage`, p.delayPercentage ?? 100) },
      };
    }
    if (p.abortHttpStatus !== undefined) {
      if (!Number.isInteger(p.abortHttpStatus) || p.abortHttpStatus < 200 || p.abortHttpStatus > 599) {
        throw configError(scope, `${prop}.abortHttpStatus`, p.abortHttpStatus, 'use an HTTP status from 200 to 599');
      }
      fault.abort = {
        httpStatus: p.abortHttpStatus,
        percentage: { value: requirePercent(scope, `${prop}.abortPercentage`, p.abortPercentage ?? 100) },
      };
    }
    return fault;
  }
}
