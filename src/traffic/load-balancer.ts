import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { istioDuration } from '../_duration';
import { configError } from '../_errors';
import { requirePercent, requireWholePercent } from '../_validate';
import { requireIstio } from '../mesh/mesh';

/** Traffic from one locality spread over others by weight. */
export interface LocalityDistribution {
  /** The originating locality, `region/zone/subzone`, with `*` wildcards. */
  readonly from: string;
  /** Destination localities and their weights, summing to 100. */
  readonly to: { [locality: string]: number };
}

/** Where traffic goes when every endpoint of a locality is unhealthy. */
export interface LocalityFailover {
  /** The originating region. */
  readonly from: string;
  /** The region to fail over to. */
  readonly to: string;
}

/** Options shared by every load-balancing algorithm. */
export interface LoadBalancerOptions {
  /**
   * Weighted distribution across localities.
   * @default - locality-prioritised
   */
  readonly localityDistribute?: LocalityDistribution[];
  /**
   * Explicit region failover. It takes effect only with outlier detection, which marks endpoints unhealthy.
   * @default - failover to the nearest locality
   */
  readonly localityFailover?: LocalityFailover[];
  /**
   * Slow start: new endpoints get a growing share of traffic over this period (round robin and least request only).
   * @default - no warmup
   */
  readonly warmup?: Duration;
  /**
   * With `warmup`, the share of traffic a new endpoint starts at.
   * @default 10
   */
  readonly warmupMinimumPercent?: number;
}

/** Options of cookie-based consistent hashing. */
export interface CookieHashOptions {
  /**
   * Lifetime of the cookie Envoy sets when the request has none; without it, a request lacking the cookie is not sticky.
   * @default - the cookie is not generated
   */
  readonly ttl?: Duration;
  /**
   * Path of the generated cookie.
   * @default - no path attribute
   */
  readonly path?: string;
}

/**
 * How requests are spread over a service's endpoints.
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#LoadBalancerSettings
 */
export class LoadBalancer {
  /** Round robin. */
  public static roundRobin(options: LoadBalancerOptions = {}): LoadBalancer {
    return new LoadBalancer({ simple: 'ROUND_ROBIN' }, options, true);
  }
  /** Least request: two random choices, the one with fewer active requests (Envoy's default). */
  public static leastRequest(options: LoadBalancerOptions = {}): LoadBalancer {
    return new LoadBalancer({ simple: 'LEAST_REQUEST' }, options, true);
  }
  /** A random endpoint. */
  public static random(options: LoadBalancerOptions = {}): LoadBalancer {
    return new LoadBalancer({ simple: 'RANDOM' }, options, false);
  }
  /** The address the caller asked for, without load balancing. */
  public static passthrough(): LoadBalancer {
    return new LoadBalancer({ simple: 'PASSTHROUGH' }, {}, false);
  }
  /** Sticky by request header: requests with the same value reach the same endpoint. */
  public static consistentHashByHeader(headerName: string, options: LoadBalancerOptions = {}): LoadBalancer {
    return new LoadBalancer({ consistentHash: { httpHeaderName: headerName.toLowerCase() } }, options, false);
  }
  /** Sticky by cookie. */
  public static consistentHashByCookie(cookieName: string, cookie: CookieHashOptions = {}, options: LoadBalancerOptions = {}): LoadBalancer {
    const httpCookie = { name: cookieName, ...(cookie.path ? { path: cookie.path } : {}) };
    return new LoadBalancer({ consistentHash: { httpCookie } }, options, false, cookie.ttl);
  }
  /** Sticky by the caller's IP address. */
  public static consistentHashBySourceIp(options: LoadBalancerOptions = {}): LoadBalancer {
    return new LoadBalancer({ consistentHash: { useSourceIp: true } }, options, false);
  }
  /** Sticky by query parameter. */
  public static consistentHashByQueryParameter(name: string, options: LoadBalancerOptions = {}): LoadBalancer {
    return new LoadBalancer({ consistentHash: { httpQueryParameterName: name } }, options, false);
  }

  private constructor(
    private readonly algorithm: any,
    private readonly options: LoadBalancerOptions,
    private readonly supportsWarmup: boolean,
    private readonly cookieTtl?: Duration,
  ) {}

  /** Whether explicit locality failover is configured (it needs outlier detection to act). */
  public get hasLocalityFailover(): boolean {
    return (this.options.localityFailover ?? []).length > 0;
  }

  /** @internal */
  public _render(scope: IConstruct, prop: string): any {
    const lb: any = JSON.parse(JSON.stringify(this.algorithm));
    if (this.cookieTtl) lb.consistentHash.httpCookie.ttl = istioDuration(scope, `${prop}.cookie.ttl`, this.cookieTtl);
    const o = this.options;
    if (o.localityDistribute?.length && o.localityFailover?.length) {
      throw configError(scope, `${prop}.localityFailover`, o.localityFailover, 'use either localityDistribute or localityFailover, not both');
    }
    if (o.localityDistribute?.length) {
      for (const d of o.localityDistribute) {
        Object.entries(d.to).forEach(([locality, w]) => requireWholePercent(scope, `${prop}.localityDistribute.to.${locality}`, w));
        const sum = Object.values(d.to).reduce((a, b) => a + b, 0);
        if (sum !== 100) throw configError(scope, `${prop}.localityDistribute`, d, 'the weights of each distribution must sum to 100');
      }
      lb.localityLbSetting = { enabled: true, distribute: o.localityDistribute.map(d => ({ from: d.from, to: { ...d.to } })) };
    }
    if (o.localityFailover?.length) {
      for (const f of o.localityFailover) {
        if (f.from === f.to) throw configError(scope, `${prop}.localityFailover`, f, 'fail over to a different region');
        if (/[/*]/.test(f.from + f.to)) throw configError(scope, `${prop}.localityFailover`, f, 'Istio fails over between regions only: name regions, without zones or \'*\'');
      }
      lb.localityLbSetting = { enabled: true, failover: o.localityFailover.map(f => ({ from: f.from, to: f.to })) };
    }
    if (o.warmup) {
      if (!this.supportsWarmup) throw configError(scope, `${prop}.warmup`, lb.simple ?? 'consistentHash', 'warmup works only with round robin and least request');
      requireIstio(scope, `${prop}.warmup`, 24, 'load-balancer warmup');
      lb.warmup = { duration: istioDuration(scope, `${prop}.warmup`, o.warmup) };
      if (o.warmupMinimumPercent !== undefined) lb.warmup.minimumPercent = requirePercent(scope, `${prop}.warmupMinimumPercent`, o.warmupMinimumPercent);
    }
    return lb;
  }
}
