import { ApiObject, Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import {
  CanaryService, DataplaneMode, FaultInjection, Host, HostRouting, LoadBalancer, Mesh, RequestMatch, ResiliencePreset, ResilientUpstream,
  ResilientUpstreamProps, RetryOn, RetryPolicy, StringMatch, UpstreamTls, Waypoint,
} from '../../src';
import { expectValidManifests } from '../harness/validate';

function chart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'shop' });
}

function synth(props: Partial<ResilientUpstreamProps>, configure?: (u: ResilientUpstream) => void): any[] {
  const c = chart();
  const upstream = new ResilientUpstream(c, 'Payments', { host: Host.service(c, 'payments', 'shop'), ...props });
  configure?.(upstream);
  const manifests = Testing.synth(c);
  expectValidManifests(manifests);
  return manifests;
}

const only = (m: any[], kind: string) => m.filter(o => o.kind === kind)[0];

describe('ResilientUpstream', () => {
  beforeEach(() => jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined));

  test('standard preset: timeout, bounded retries, pool and outlier detection', () => {
    const m = synth({});
    expect(m).toMatchSnapshot();
    const http = only(m, 'VirtualService').spec.http;
    expect(http[http.length - 1]).toMatchObject({
      timeout: '10s',
      retries: { attempts: 2, perTryTimeout: '3s', retryOn: 'connect-failure,refused-stream,unavailable,gateway-error' },
    });
    expect(only(m, 'DestinationRule').spec.trafficPolicy).toEqual({
      connectionPool: { tcp: { maxConnections: 100, connectTimeout: '2s' }, http: { http1MaxPendingRequests: 100, http2MaxRequests: 1000 } },
      outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
    });
    expect(JSON.stringify(m)).not.toContain('consecutiveErrors"');
  });

  test.each([
    ['LATENCY_SENSITIVE', ResiliencePreset.LATENCY_SENSITIVE, '1s'],
    ['BATCH', ResiliencePreset.BATCH, '60s'],
    ['EXTERNAL_API', ResiliencePreset.EXTERNAL_API, '15s'],
  ])('preset %s', (_n, preset, timeout) => {
    const m = synth({ preset });
    expect(only(m, 'VirtualService').spec.http.slice(-1)[0].timeout).toBe(timeout);
    expect(m).toMatchSnapshot();
  });

  test('fully custom', () => {
    const m = synth({
      timeout: Duration.seconds(4),
      retries: RetryPolicy.of({
        attempts: 3,
        perTryTimeout: Duration.seconds(1),
        retryOn: [RetryOn.SERVER_ERROR, RetryOn.statusCodes(429, 503)],
        retryNonIdempotent: true,
      }),
      connectionPool: {
        maxConnections: 10,
        tcpKeepaliveTime: Duration.minutes(5),
        maxPendingRequests: 5,
        maxRequestsPerConnection: 1,
        idleTimeout: Duration.seconds(30),
        maxRetries: 3,
      },
      outlierDetection: {
        consecutiveGatewayErrors: 2,
        interval: Duration.seconds(5),
        baseEjectionTime: Duration.minutes(1),
        maxEjectionPercent: 100,
        minHealthPercent: 50,
      },
      loadBalancer: LoadBalancer.roundRobin({ warmup: Duration.seconds(60) }),
      tls: UpstreamTls.istioMutual(),
    });
    expect(m).toMatchSnapshot();
    const http = only(m, 'VirtualService').spec.http;
    expect(http).toHaveLength(1);
    expect(http[0].retries).toEqual({ attempts: 3, perTryTimeout: '1s', retryOn: '5xx,retriable-status-codes,429,503' });
  });

  test('EXTERNAL_API ejects on gateway errors only: the 5xx detector, on by default in Envoy, is switched off', () => {
    const m = synth({ preset: ResiliencePreset.EXTERNAL_API });
    expect(only(m, 'DestinationRule').spec.trafficPolicy.outlierDetection).toEqual({
      consecutive5xxErrors: 0, consecutiveGatewayErrors: 5, interval: '30s', baseEjectionTime: '60s', maxEjectionPercent: 100,
    });
  });

  test('a route that must not retry says attempts: 0', () => {
    const m = synth({ retries: RetryPolicy.none() });
    expect(only(m, 'VirtualService').spec.http).toEqual([expect.objectContaining({ retries: { attempts: 0 } })]);
  });

  test('consistent hash', () => {
    const m = synth({ loadBalancer: LoadBalancer.consistentHashByCookie('session', { ttl: Duration.minutes(30), path: '/' }) });
    expect(only(m, 'DestinationRule').spec.trafficPolicy.loadBalancer).toEqual({ consistentHash: { httpCookie: { name: 'session', path: '/', ttl: '1800s' } } });
    expect(synth({ loadBalancer: LoadBalancer.consistentHashByQueryParameter('user') }).length).toBe(2);
  });

  test('locality failover (with the outlier detection it needs)', () => {
    const m = synth({ loadBalancer: LoadBalancer.leastRequest({ localityFailover: [{ from: 'us-east1', to: 'us-west1' }] }) });
    expect(only(m, 'DestinationRule')).toMatchSnapshot();
    expect(only(m, 'DestinationRule').spec.trafficPolicy.loadBalancer).toEqual({
      simple: 'LEAST_REQUEST', localityLbSetting: { enabled: true, failover: [{ from: 'us-east1', to: 'us-west1' }] },
    });
  });

  test('fault injection scoped to test traffic goes first and does not retry', () => {
    const m = synth({}, u => u.addFault('chaos', FaultInjection.of({ delay: Duration.seconds(2), delayPercentage: 50, abortHttpStatus: 503, abortPercentage: 10 }), {
      matches: [RequestMatch.header('x-chaos', StringMatch.exact('on'))],
    }));
    expect(only(m, 'VirtualService')).toMatchSnapshot();
    const http = only(m, 'VirtualService').spec.http;
    expect(http[0]).toMatchObject({
      name: 'chaos',
      match: [{ headers: { 'x-chaos': { exact: 'on' } } }],
      fault: { delay: { fixedDelay: '2s', percentage: { value: 50 } }, abort: { httpStatus: 503, percentage: { value: 10 } } },
    });
    // Off explicitly: a route without retries would get Istio's default policy.
    expect(http[0].retries).toEqual({ attempts: 0 });
    expect(process.emitWarning).toHaveBeenCalledWith(expect.stringMatching(/test\/Payments: fault 'chaos' .* disables retries/));
  });

  test('an unscoped fault on every request needs an explicit opt-in', () => {
    expect(() => synth({}, u => u.addFault('outage', FaultInjection.abort(503))))
      .toThrow(/test\/Payments: fault\.matches .*set allowUnscoped: true/);
    const m = synth({}, u => u.addFault('outage', FaultInjection.abort(503), { allowUnscoped: true }));
    expect(only(m, 'VirtualService')).toMatchSnapshot();
    for (const r of only(m, 'VirtualService').spec.http) expect(r.fault).toEqual({ abort: { httpStatus: 503, percentage: { value: 100 } } });
  });

  test('a subset\'s outlier detection states what differs; a subset\'s load balancer replaces the host\'s', () => {
    const c = chart();
    new ResilientUpstream(c, 'Resilience', {
      host: Host.service(c, 'payments', 'shop'),
      subsetPolicies: [{ subset: 'v2', policy: { outlierDetection: { consecutive5xxErrors: 2 }, loadBalancer: LoadBalancer.random() } }],
    });
    new CanaryService(c, 'Payments', { versions: [{ name: 'v1', image: 'p:1' }, { name: 'v2', image: 'p:2' }], weights: { v1: 95, v2: 5 }, requireResources: false });
    const m = Testing.synth(c);
    expectValidManifests(m);
    expect(only(m, 'DestinationRule').spec.subsets[1].trafficPolicy).toEqual({
      outlierDetection: { consecutive5xxErrors: 2, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
      loadBalancer: { simple: 'RANDOM' },
    });
  });

  test('with a canary on the same host: one VirtualService, one DestinationRule, per-subset bulkheads', () => {
    // GIVEN a canary of payments, and resilience declared first
    const c = chart();
    new ResilientUpstream(c, 'Resilience', {
      host: Host.service(c, 'payments', 'shop'),
      subsetPolicies: [{ subset: 'v2', policy: { connectionPool: { maxConnections: 10 } } }],
    });
    new CanaryService(c, 'Payments', {
      versions: [{ name: 'v1', image: 'p:1' }, { name: 'v2', image: 'p:2' }],
      weights: { v1: 95, v2: 5 },
      resources: {
        cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(200) },
        memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) },
      },
    });
    // WHEN synthesized
    const m = Testing.synth(c);
    expectValidManifests(m);
    // THEN the settings merge into the host's single objects
    expect(m.filter(o => o.kind === 'VirtualService')).toHaveLength(1);
    expect(m.filter(o => o.kind === 'DestinationRule')).toHaveLength(1);
    expect(m.filter(o => ['VirtualService', 'DestinationRule'].includes(o.kind))).toMatchSnapshot();
    const split = only(m, 'VirtualService').spec.http.find((r: any) => r.name === 'split');
    expect(split).toMatchObject({ timeout: '10s', retries: { attempts: 2 } });
    expect(split.route.map((r: any) => r.weight)).toEqual([95, 5]);
    // v2's pool states what differs; the preset's other limits stay (Istio would otherwise drop them for v2)
    expect(only(m, 'DestinationRule').spec.subsets[1].trafficPolicy).toEqual({
      connectionPool: { tcp: { maxConnections: 10, connectTimeout: '2s' }, http: { http1MaxPendingRequests: 100, http2MaxRequests: 1000 } },
    });
  });

  test("RetryPolicy.meshDefault() leaves the route without retries, so Istio's default applies", () => {
    const c = chart();
    const canary = new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }], requireResources: false, retries: RetryPolicy.meshDefault() });
    new ResilientUpstream(c, 'Upstream', { host: canary.host, timeout: Duration.seconds(5), retries: RetryPolicy.none() });
    const m = Testing.synth(c);
    expectValidManifests(m);
    expect(only(m, 'VirtualService').spec.http).toEqual([
      { name: 'split', route: [{ destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v1' }, weight: 100 }], timeout: '5s' },
    ]);
  });

  describe('bad input', () => {
    test.each<[string, Partial<ResilientUpstreamProps>, RegExp]>([
      ['retries without a per-try timeout budget', { timeout: Duration.seconds(2), retries: RetryPolicy.of({ attempts: 2, perTryTimeout: Duration.seconds(1) }) }, /test\/Payments: retries\.perTryTimeout got '3 x 1000ms': \(attempts \+ 1\) x perTryTimeout must fit/],
      ['unbounded retries', { retries: RetryPolicy.of({ attempts: 50, perTryTimeout: Duration.millis(10) }) }, /retries\.attempts got 50: use at most 10 retries/],
      ['status-code retries without codes', { retries: RetryPolicy.of({ attempts: 1, perTryTimeout: Duration.seconds(1), retryOn: [RetryOn.statusCodes()] }) }, /give at least one status code/],
      ['a zero pool', { connectionPool: { maxConnections: 0 } }, /connectionPool\.maxConnections got 0: use a whole number of at least 1/],
      ['a duration below 1ms', { connectionPool: { connectTimeout: Duration.millis(0.5) } }, /connectTimeout got '0.5ms': use a duration of at least 1ms/],
      ['a percentage above 100', { outlierDetection: { maxEjectionPercent: 150 } }, /maxEjectionPercent got 150: use a whole percentage from 0 to 100/],
      ['a fractional percentage in an integer field', { outlierDetection: { maxEjectionPercent: 33.3 } }, /maxEjectionPercent got 33\.3: use a whole percentage from 0 to 100 \(Istio takes an integer here\)/],
      ['a status code HTTP does not define, which istiod refuses', { retries: RetryPolicy.of({ attempts: 1, perTryTimeout: Duration.seconds(1), retryOn: [RetryOn.statusCodes(503, 520)] }) },
        /retries\.retryOn got 520: use a status code HTTP defines/],
      ['a CA file beside a credential, which Istio refuses', { tls: UpstreamTls.simple({ credentialName: 'partner-ca', caCertificates: '/etc/ssl/certs/ca-certificates.crt' }) },
        /tls\.caCertificates got '\/etc\/ssl\/certs\/ca-certificates\.crt': Istio refuses a CA file beside a credentialName/],
      ['failover between zones', { outlierDetection: { consecutive5xxErrors: 5 }, loadBalancer: LoadBalancer.roundRobin({ localityFailover: [{ from: 'us-east1/us-east1-a', to: 'us-*' }] }) },
        /localityFailover got .*: Istio fails over between regions only: name regions, without zones or '\*'/],
      ['a gateway-error detector the 5xx detector overrides', { outlierDetection: { consecutiveGatewayErrors: 5 } },
        /outlierDetection\.consecutiveGatewayErrors got 5: the 5xx detector \(consecutive5xxErrors, 5\) ejects on those errors first, so this has no effect: set consecutive5xxErrors: 0/],
      ['outlier detection that never ejects', { outlierDetection: { consecutive5xxErrors: 0 } }, /consecutive5xxErrors got 0: with no gateway-error detector either, no host would ever be ejected/],
      ['a subset nobody declares', { subsetPolicies: [{ subset: 'v9', policy: { connectionPool: { maxConnections: 1 } } }] }, /no construct declares subset 'v9'/],
    ])('%s', (_n, props, error) => {
      expect(() => synth(props)).toThrow(error);
    });

    test("a route's timeout that the host's retries do not fit, set by two constructs, fails naming both", () => {
      // GIVEN a canary with a 1s timeout, and the standard preset's 3 attempts of 3s for its host
      const c = chart();
      const canary = new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }], requireResources: false, timeout: Duration.seconds(1) });
      new ResilientUpstream(c, 'Upstream', { host: canary.host });
      // THEN Envoy's route timeout would cut every retry short: synth refuses it
      expect(() => Testing.synth(c)).toThrow(
        /test\/Reviews: split\.retries got '3 x 3000ms': the retries of test\/Upstream do not fit the timeout of test\/Reviews \(1000ms\), which bounds them all/);
    });

    test("a route's retries that the host's timeout does not fit fail too", () => {
      const c = chart();
      const canary = new CanaryService(c, 'Reviews', {
        versions: [{ name: 'v1', image: 'r:1' }], requireResources: false, retries: RetryPolicy.of({ attempts: 3, perTryTimeout: Duration.seconds(5) }),
      });
      new ResilientUpstream(c, 'Upstream', { host: canary.host, timeout: Duration.seconds(2), retries: RetryPolicy.none() });
      expect(() => Testing.synth(c)).toThrow(/the retries of test\/Reviews do not fit the timeout of test\/Upstream \(2000ms\)/);
    });

    test('a fault percentage outside 0-100', () => {
      expect(() => synth({}, u => u.addFault('f', FaultInjection.delay(Duration.seconds(1), 101), { matches: [RequestMatch.header('x', StringMatch.exact('1'))] })))
        .toThrow(/delayPercentage got 101/);
    });

    test("a subset's locality failover takes the host's outlier detection, as Istio merges them", () => {
      const c = chart();
      const canary = new CanaryService(c, 'Cart', { versions: [{ name: 'v1', image: 'c:1' }, { name: 'v2', image: 'c:2' }], requireResources: false });
      new ResilientUpstream(c, 'Upstream', {
        host: canary.host,
        subsetPolicies: [{ subset: 'v2', policy: { loadBalancer: LoadBalancer.roundRobin({ localityFailover: [{ from: 'us-east1', to: 'us-west1' }] }) } }],
      });
      const m = Testing.synth(c);
      expectValidManifests(m);
      expect(only(m, 'DestinationRule').spec.trafficPolicy.outlierDetection).toBeDefined();
      expect(only(m, 'DestinationRule').spec.subsets[1].trafficPolicy.loadBalancer.localityLbSetting.failover).toEqual([{ from: 'us-east1', to: 'us-west1' }]);
    });

    test('locality failover without outlier detection', () => {
      const c = chart();
      HostRouting.of(c, Host.service(c, 'payments', 'shop')).addTrafficPolicy(c, { loadBalancer: LoadBalancer.random({ localityFailover: [{ from: 'a', to: 'b' }] }) });
      expect(() => Testing.synth(c)).toThrow(/locality failover needs outlier detection/);
    });

    test('two request policies for one host name both constructs', () => {
      const c = chart();
      new ResilientUpstream(c, 'A', { host: Host.service(c, 'payments', 'shop') });
      expect(() => new ResilientUpstream(c, 'B', { host: Host.service(c, 'payments', 'shop') })).toThrow(/test\/B: .*test\/A already sets the request policy/);
    });
  });

  describe('ambient mode', () => {
    /** An ambient mesh with the payments Service in the app, resilience for it, and `enroll` sending it through a waypoint. */
    function ambient(enroll: (c: Chart, service: kplus.Service) => void = () => undefined): Chart {
      const app = Testing.app();
      new Mesh(app, 'Mesh', { dataplaneMode: DataplaneMode.AMBIENT });
      const c = new Chart(app, 'test', { namespace: 'shop' });
      const service = new kplus.Service(c, 'Service', { metadata: { name: 'payments' }, ports: [{ port: 8080, name: 'http' }], selector: kplus.Pods.select(c, 'Pods', { labels: { app: 'payments' } }) });
      new ResilientUpstream(c, 'Payments', { host: Host.fromService(service) });
      enroll(c, service);
      return c;
    }

    test('a Service that uses no waypoint fails synth: ztunnel would apply none of the policies', () => {
      expect(() => Testing.synth(ambient())).toThrow(
        /\[test\/Routing-payments-shop-svc-cluster-local\] payments\.shop\.svc\.cluster\.local is routed for in-mesh callers \(by test\/Payments\), but in ambient mode only a waypoint applies routes and traffic policies, and Service shop\/payments uses none: send it through one/);
      // A Service that opts out of its namespace's waypoint is the same
      expect(() => Testing.synth(ambient((c, s) => {
        Waypoint.forNamespace(c, 'shop').use(new ApiObject(c, 'Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }));
        s.metadata.addLabel('istio.io/use-waypoint', 'none');
      }))).toThrow(/uses none/);
    });

    test('the Service or its Namespace uses a waypoint; a Service outside the app cannot be checked', () => {
      const m = Testing.synth(ambient((c, s) => Waypoint.forNamespace(c, 'shop').use(s.apiObject)));
      expectValidManifests(m);
      expect(m.find(o => o.kind === 'Service').metadata.labels['istio.io/use-waypoint']).toBe('waypoint');
      Testing.synth(ambient(c => Waypoint.forNamespace(c, 'shop').use(new ApiObject(c, 'Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }))));
      const app = Testing.app();
      new Mesh(app, 'Mesh', { dataplaneMode: DataplaneMode.AMBIENT });
      const c = new Chart(app, 'test', { namespace: 'shop' });
      new ResilientUpstream(c, 'Payments', { host: Host.service(c, 'payments', 'shop') });
      expectValidManifests(Testing.synth(c));
    });
  });
});
