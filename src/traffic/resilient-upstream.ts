import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { configError } from '../_errors';
import { ConnectionPool } from './connection-pool';
import { FaultInjection } from './fault-injection';
import { HostRouting } from './host-routing';
import { LoadBalancer } from './load-balancer';
import { OutlierDetection } from './outlier-detection';
import { RequestMatch } from './request-match';
import { RetryOn, RetryPolicy } from './retry-policy';
import { TrafficPolicy } from './traffic-policy';
import { UpstreamTls } from './upstream-tls';
import { Host } from '../mesh/host';

/** The settings of a {@link ResiliencePreset}. */
export interface ResiliencePresetProps {
  /** Overall request timeout. */
  readonly timeout: Duration;
  /** Retries. */
  readonly retries: RetryPolicy;
  /** Connection limits. */
  readonly connectionPool: ConnectionPool;
  /** Circuit breaking. */
  readonly outlierDetection: OutlierDetection;
}

/**
 * Named starting points for a {@link ResilientUpstream}; every field can be overridden.
 */
export class ResiliencePreset {
  /**
   * Interactive in-mesh services: 10s timeout; 2 retries of 3s on connection failures, refused streams, gRPC
   * UNAVAILABLE and 502/503/504; 100 connections and 100 pending requests per host; a host is ejected for 30s after
   * 5 consecutive 5xx, at most half of them at once.
   */
  public static readonly STANDARD = new ResiliencePreset({
    timeout: Duration.seconds(10),
    retries: RetryPolicy.of({ attempts: 2, perTryTimeout: Duration.seconds(3) }),
    connectionPool: { maxConnections: 100, maxPendingRequests: 100, maxRequests: 1000, connectTimeout: Duration.seconds(2) },
    outlierDetection: { consecutive5xxErrors: 5, interval: Duration.seconds(10), baseEjectionTime: Duration.seconds(30), maxEjectionPercent: 50 },
  });

  /**
   * Latency-critical paths that should fail fast: 1s timeout; one retry of 400ms; 10 pending requests; ejection
   * after 3 consecutive 5xx.
   */
  public static readonly LATENCY_SENSITIVE = new ResiliencePreset({
    timeout: Duration.seconds(1),
    retries: RetryPolicy.of({ attempts: 1, perTryTimeout: Duration.millis(400) }),
    connectionPool: { maxConnections: 100, maxPendingRequests: 10, maxRequests: 100, connectTimeout: Duration.millis(250) },
    outlierDetection: { consecutive5xxErrors: 3, interval: Duration.seconds(5), baseEjectionTime: Duration.seconds(30), maxEjectionPercent: 50 },
  });

  /**
   * Slow batch or reporting calls: 60s timeout; 3 retries of 15s; 1000 pending requests; ejection after 10
   * consecutive 5xx for 60s.
   */
  public static readonly BATCH = new ResiliencePreset({
    timeout: Duration.seconds(60),
    retries: RetryPolicy.of({ attempts: 3, perTryTimeout: Duration.seconds(15) }),
    connectionPool: { maxConnections: 50, maxPendingRequests: 1000, maxRequests: 200, connectTimeout: Duration.seconds(5) },
    outlierDetection: { consecutive5xxErrors: 10, interval: Duration.seconds(30), baseEjectionTime: Duration.seconds(60), maxEjectionPercent: 30 },
  });

  /**
   * Third-party APIs outside the mesh: 15s timeout; 2 retries of 5s only when the request cannot have reached the
   * provider or it answered 502/503/504; 50 connections; an endpoint is ejected for 60s after 5 consecutive gateway
   * errors (the 5xx detector is off: a provider's 500s answer the request, they do not mark a broken endpoint).
   */
  public static readonly EXTERNAL_API = new ResiliencePreset({
    timeout: Duration.seconds(15),
    retries: RetryPolicy.of({
      attempts: 2,
      perTryTimeout: Duration.seconds(5),
      retryOn: [RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM, RetryOn.RESET_BEFORE_REQUEST, RetryOn.GATEWAY_ERROR],
    }),
    connectionPool: { maxConnections: 50, maxPendingRequests: 50, connectTimeout: Duration.seconds(5) },
    outlierDetection: {
      consecutive5xxErrors: 0,
      consecutiveGatewayErrors: 5,
      interval: Duration.seconds(30),
      baseEjectionTime: Duration.seconds(60),
      maxEjectionPercent: 100,
    },
  });

  /** A preset of your own. */
  public static custom(props: ResiliencePresetProps): ResiliencePreset {
    return new ResiliencePreset(props);
  }

  private constructor(
    /** The preset's settings. */
    public readonly props: ResiliencePresetProps,
  ) {}
}

/** A traffic policy for one subset (version) of the host: a bulkhead per version. */
export interface SubsetTrafficPolicy {
  /** The subset's name. */
  readonly subset: string;
  /**
   * Its policy. A connection pool or outlier detection states only what differs from the host's: the limits it leaves
   * unset stay the host's (Istio itself would replace the host's whole field, dropping them).
   */
  readonly policy: TrafficPolicy;
}

/** Options of {@link ResilientUpstream.addFault}. */
export interface FaultOptions {
  /**
   * Requests that get the fault, normally a test header so only test traffic is affected.
   * @default - every request: needs `allowUnscoped` when the fault hits 100% of them
   */
  readonly matches?: RequestMatch[];
  /**
   * Allow a fault on every request of every caller (all traffic, not only tests).
   * @default false
   */
  readonly allowUnscoped?: boolean;
}

/** Properties of a {@link ResilientUpstream}. */
export interface ResilientUpstreamProps {
  /** The upstream host: a mesh service or an external host (with its ServiceEntry). */
  readonly host: Host;
  /**
   * Starting values for every setting below.
   * @default ResiliencePreset.STANDARD
   */
  readonly preset?: ResiliencePreset;
  /**
   * Overall request timeout, retries included.
   * @default - the preset's
   */
  readonly timeout?: Duration;
  /**
   * Retries; `RetryPolicy.none()` for a route that must not retry.
   * @default - the preset's
   */
  readonly retries?: RetryPolicy;
  /**
   * Connection and request limits.
   * @default - the preset's
   */
  readonly connectionPool?: ConnectionPool;
  /**
   * Circuit breaking.
   * @default - the preset's
   */
  readonly outlierDetection?: OutlierDetection;
  /**
   * Load balancing.
   * @default - Envoy's least request
   */
  readonly loadBalancer?: LoadBalancer;
  /**
   * TLS towards the upstream.
   * @default - auto mTLS inside the mesh
   */
  readonly tls?: UpstreamTls;
  /**
   * Policies of individual subsets (declared by a CanaryService on the same host).
   * @default - none
   */
  readonly subsetPolicies?: SubsetTrafficPolicy[];
}

/**
 * How calls to an upstream behave: timeouts, bounded retries, connection pools, circuit breaking and load
 * balancing, merged into the host's single VirtualService and DestinationRule.
 *
 * @example
 * new ResilientUpstream(chart, 'Payments', {
 *   host: Host.service(chart, 'payments', 'shop'),
 *   preset: ResiliencePreset.LATENCY_SENSITIVE,
 *   loadBalancer: LoadBalancer.leastRequest(),
 * });
 */
export class ResilientUpstream extends Construct {
  /** The host's routing, shared with other constructs configuring the same host. */
  public readonly routing: HostRouting;
  /** The upstream host. */
  public readonly host: Host;

  public constructor(scope: Construct, id: string, props: ResilientUpstreamProps) {
    super(scope, id);
    const preset = (props.preset ?? ResiliencePreset.STANDARD).props;
    this.host = props.host;
    const timeout = props.timeout ?? preset.timeout;
    const retries = props.retries ?? preset.retries;
    retries._validate(this, 'retries', timeout);
    const policy: TrafficPolicy = {
      connectionPool: props.connectionPool ?? preset.connectionPool,
      outlierDetection: props.outlierDetection ?? preset.outlierDetection,
      loadBalancer: props.loadBalancer,
      tls: props.tls,
    };

    this.routing = HostRouting.of(this, this.host);
    this.routing.setRequestPolicy(this, { timeout, retries });
    this.routing.addTrafficPolicy(this, policy);
    for (const s of props.subsetPolicies ?? []) this.routing.addTrafficPolicy(this, s.policy, s.subset);
  }

  /**
   * Injects a fault for resilience tests, ahead of the host's other routes. Envoy does not retry a faulted route.
   * @param name the fault route's name
   * @param fault the delay and/or abort
   * @example
   * upstream.addFault('chaos-delay', FaultInjection.delay(Duration.seconds(3), 50), {
   *   matches: [RequestMatch.header('x-chaos', StringMatch.exact('on'))],
   * });
   */
  public addFault(name: string, fault: FaultInjection, options: FaultOptions = {}): void {
    const scoped = (options.matches ?? []).length > 0;
    if (!scoped && fault.affectsAllRequests && !options.allowUnscoped) {
      throw configError(this, 'fault.matches', [], 'scope the fault to test traffic with a match (a header), or set allowUnscoped: true to fault every request');
    }
    this.routing.addFault(this, name, { fault, matches: options.matches });
    // Said at synth, not only in the docs: a faulted route does not retry.
    process.emitWarning(`${this.node.path}: fault '${name}' on ${this.host.name} disables retries on the requests it matches`);
  }
}
