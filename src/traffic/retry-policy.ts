import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { istioDuration } from '../_duration';
import { configError } from '../_errors';
import { requireInteger } from '../_validate';
import { requireIstio } from '../mesh/mesh';

/** The status codes Go's net/http names, the only ones istiod accepts in `retryOn`. */
const KNOWN_STATUS_CODES = new Set([
  100, 101, 102, 103,
  200, 201, 202, 203, 204, 205, 206, 207, 208, 226,
  300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418,
  421, 422, 423, 424, 425, 426, 428, 429, 431, 451,
  500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/**
 * A condition under which Envoy retries a request (`retryOn`).
 * @see https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on
 */
export class RetryOn {
  /** Any 5xx response, or no response at all: also retries requests the upstream may have processed. */
  public static readonly SERVER_ERROR = new RetryOn('5xx', false);
  /** 502, 503 or 504 responses. */
  public static readonly GATEWAY_ERROR = new RetryOn('gateway-error', false);
  /** The upstream reset the connection, disconnected or did not respond (it may have processed the request). */
  public static readonly RESET = new RetryOn('reset', false);
  /** The connection was reset before the request was sent: safe for any method. */
  public static readonly RESET_BEFORE_REQUEST = new RetryOn('reset-before-request', true);
  /** The connection could not be established: the request never reached the upstream. */
  public static readonly CONNECT_FAILURE = new RetryOn('connect-failure', true);
  /** The upstream refused the HTTP/2 stream (REFUSED_STREAM): the request was not processed. */
  public static readonly REFUSED_STREAM = new RetryOn('refused-stream', true);
  /** 409 Conflict responses. */
  public static readonly RETRIABLE_4XX = new RetryOn('retriable-4xx', false);
  /** gRPC status UNAVAILABLE. */
  public static readonly UNAVAILABLE = new RetryOn('unavailable', false);
  /** gRPC status CANCELLED. */
  public static readonly CANCELLED = new RetryOn('cancelled', false);
  /** gRPC status DEADLINE_EXCEEDED. */
  public static readonly DEADLINE_EXCEEDED = new RetryOn('deadline-exceeded', false);
  /** gRPC status RESOURCE_EXHAUSTED. */
  public static readonly RESOURCE_EXHAUSTED = new RetryOn('resource-exhausted', false);

  /** Responses with one of these HTTP status codes (`retriable-status-codes`). */
  public static statusCodes(...codes: number[]): RetryOn {
    return new RetryOn('retriable-status-codes', false, codes);
  }

  private constructor(
    /** The Envoy condition name. */
    public readonly value: string,
    /** Whether a retry under this condition can never re-send a request the upstream processed. */
    public readonly safeForNonIdempotent: boolean,
    /** Status codes, for `retriable-status-codes`. */
    public readonly codes: number[] = [],
  ) {}
}

/** Properties of {@link RetryPolicy.of}. */
export interface RetryPolicyProps {
  /** How many retries after the first attempt. */
  readonly attempts: number;
  /** Timeout of each attempt, including the first; always set so one slow attempt cannot use the whole budget. */
  readonly perTryTimeout: Duration;
  /**
   * The conditions to retry on.
   * @default [RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM, RetryOn.UNAVAILABLE, RetryOn.GATEWAY_ERROR]
   */
  readonly retryOn?: RetryOn[];
  /**
   * Retry the non-idempotent methods POST and PATCH on conditions that may re-send a processed request
   * (5xx, gateway-error, reset, ...). Without it those methods get their own route that retries only when the
   * request cannot have reached the upstream (istio#13851).
   * @default false
   */
  readonly retryNonIdempotent?: boolean;
}

/**
 * How a route retries failed requests. Istio retries twice by default when a route says nothing, so a route that
 * must not retry needs {@link RetryPolicy.none}.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry
 */
export class RetryPolicy {
  /** No retries: `attempts: 0`, overriding Istio's default of two. */
  public static none(): RetryPolicy {
    return new RetryPolicy(0, undefined, [], false);
  }

  /**
   * No retry policy on the route, leaving Istio's default (2 attempts on connection failures, refused streams,
   * gRPC UNAVAILABLE and CANCELLED, and 503). For the Gateway API's Standard channel, which has no retry field.
   */
  public static meshDefault(): RetryPolicy {
    return new RetryPolicy(-1, undefined, [], false);
  }

  /** Bounded retries. */
  public static of(props: RetryPolicyProps): RetryPolicy {
    const retryOn = props.retryOn ?? [RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM, RetryOn.UNAVAILABLE, RetryOn.GATEWAY_ERROR];
    return new RetryPolicy(props.attempts, props.perTryTimeout, retryOn, props.retryNonIdempotent ?? false);
  }

  private constructor(
    /** Retries after the first attempt. */
    public readonly attempts: number,
    /** Timeout of each attempt. */
    public readonly perTryTimeout: Duration | undefined,
    /** The conditions retried on. */
    public readonly retryOn: RetryOn[],
    /** Whether POST and PATCH may be retried on unsafe conditions. */
    public readonly retryNonIdempotent: boolean,
  ) {}

  /**
   * Whether the route states no policy and inherits the mesh default.
   * @internal
   */
  public get _isMeshDefault(): boolean {
    return this.attempts < 0;
  }

  /**
   * Whether POST and PATCH need a route of their own with {@link safeSubset}.
   * @internal
   */
  public get _needsNonIdempotentRoute(): boolean {
    return this.attempts > 0 && !this.retryNonIdempotent && this.retryOn.some(r => !r.safeForNonIdempotent);
  }

  /**
   * The same policy limited to conditions under which the request never reached the upstream.
   * @internal
   */
  public _safeSubset(): RetryPolicy {
    const safe = this.retryOn.filter(r => r.safeForNonIdempotent);
    return safe.length === 0 ? RetryPolicy.none() : new RetryPolicy(this.attempts, this.perTryTimeout, safe, false);
  }

  /**
   * Throws on an unbounded or inconsistent policy; `timeout` is the route's overall timeout.
   * @internal
   */
  public _validate(scope: IConstruct, prop: string, timeout?: Duration): void {
    if (this._isMeshDefault) return;
    if (this.retryOn.includes(RetryOn.RESET_BEFORE_REQUEST)) requireIstio(scope, `${prop}.retryOn`, 23, 'retrying on reset-before-request');
    requireInteger(scope, `${prop}.attempts`, this.attempts, 0);
    if (this.attempts > 10) throw configError(scope, `${prop}.attempts`, this.attempts, 'use at most 10 retries; more multiplies load on an upstream that is already failing');
    if (this.attempts === 0) return;
    if (!this.perTryTimeout) throw configError(scope, `${prop}.perTryTimeout`, undefined, 'set a per-try timeout for every retry policy');
    istioDuration(scope, `${prop}.perTryTimeout`, this.perTryTimeout);
    if (this.retryOn.length === 0) throw configError(scope, `${prop}.retryOn`, [], 'give at least one retry condition, or use RetryPolicy.none()');
    for (const r of this.retryOn) {
      for (const code of r.codes) {
        if (!KNOWN_STATUS_CODES.has(code)) {
          throw configError(scope, `${prop}.retryOn`, code, 'use a status code HTTP defines: istiod refuses others (such as 499 or 520) as retry conditions');
        }
      }
      if (r.value === 'retriable-status-codes' && r.codes.length === 0) {
        throw configError(scope, `${prop}.retryOn`, r.value, 'give at least one status code to RetryOn.statusCodes()');
      }
    }
    if (timeout && !this._fitsTimeout(timeout)) {
      throw configError(scope, `${prop}.perTryTimeout`, `${this.attempts + 1} x ${this.perTryTimeout.toMilliseconds()}ms`,
        `(attempts + 1) x perTryTimeout must fit the overall timeout of ${timeout.toMilliseconds()}ms: lower the attempts or per-try timeout, or raise the timeout`);
    }
  }

  /**
   * Whether every attempt fits an overall timeout: (attempts + 1) x perTryTimeout.
   * @internal
   */
  public _fitsTimeout(timeout: Duration): boolean {
    if (this.attempts <= 0 || !this.perTryTimeout) return true;
    return (this.attempts + 1) * this.perTryTimeout.toMilliseconds({ integral: false }) <= timeout.toMilliseconds({ integral: false });
  }

  /**
   * The `retries` field of an HTTP route.
   * @internal
   */
  public _render(scope: IConstruct, prop: string): any {
    if (this.attempts === 0) return { attempts: 0 };
    const conditions = [...new Set(this.retryOn.flatMap(r => [r.value, ...r.codes.map(String)]))];
    return {
      attempts: this.attempts,
      perTryTimeout: istioDuration(scope, `${prop}.perTryTimeout`, this.perTryTimeout!),
      retryOn: conditions.join(','),
    };
  }
}
