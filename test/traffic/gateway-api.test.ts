import { ApiObject, App, Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import {
  CanaryService, CanaryServiceProps, DataplaneMode, FaultInjection, GatewayApiChannel, Host, IngressGateway, IngressTls, Mesh, MeshProps,
  RequestMatch, ResilientUpstream, RetryOn, RetryPolicy, ServicePort, StickySession, StringMatch, TlsVersion, TrafficApi,
  Waypoint, WaypointFor, EgressControl, ServiceEntryResolution, AuthorizationAction, AuthorizationPolicy, PolicyTarget, LoadBalancer,
  RequestAuthentication, UpstreamTls,
} from '../../src';
import { expectValidManifests, validateManifests } from '../harness/validate';

const resources: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
};

function chart(mesh: MeshProps = {}): Chart {
  const app = new App();
  new Mesh(app, 'Mesh', mesh);
  return new Chart(app, 'test', { namespace: 'shop' });
}

/** The canary app of the examples, in one traffic API. */
function canaryApp(trafficApi: TrafficApi, extra: Partial<CanaryServiceProps> = {}, mesh: MeshProps = {}): any[] {
  const c = chart({ trafficApi, ...mesh });
  new CanaryService(c, 'Reviews', {
    versions: [{ name: 'v1', image: 'reviews:1' }, { name: 'v2', image: 'reviews:2' }, { name: 'v3', image: 'reviews:3' }],
    weights: { v1: 90, v2: 10 },
    matchRoutes: [{ version: 'v2', matches: [RequestMatch.header('x-beta', StringMatch.exact('yes')).and(RequestMatch.queryParam('lang', StringMatch.regex('en|de')))] }],
    mirror: { version: 'v3', percentage: 20 },
    timeout: Duration.seconds(4),
    ingress: { hosts: ['reviews.example.com'], tls: IngressTls.simple('reviews-cert') },
    resources,
    ...extra,
  });
  return Testing.synth(c);
}

const kinds = (m: any[]) => m.map(o => `${o.kind} ${o.metadata.name}`);
const route = (m: any[], name = 'reviews') => m.find(o => o.kind === 'HTTPRoute' && o.metadata.name === name);

describe('one intent, both traffic APIs', () => {
  test('Istio API: Gateway, VirtualService and DestinationRule', () => {
    const m = canaryApp(TrafficApi.ISTIO);
    expectValidManifests(m);
    expect(m.filter(o => o.apiVersion.includes('istio.io'))).toMatchSnapshot();
    expect(kinds(m)).toEqual(expect.arrayContaining(['VirtualService reviews', 'DestinationRule reviews']));
    expect(m.some(o => o.apiVersion.startsWith('gateway.networking.k8s.io'))).toBe(false);
  });

  test('Gateway API: Gateway of class istio, HTTPRoute over one Service per version', () => {
    const m = canaryApp(TrafficApi.GATEWAY_API);
    expectValidManifests(m);
    expect(m.filter(o => o.kind !== 'Deployment')).toMatchSnapshot();
    expect(m.some(o => o.kind === 'VirtualService')).toBe(false);
    expect(kinds(m)).toEqual(expect.arrayContaining(['Service reviews-v1', 'Service reviews-v2', 'Service reviews-v3', 'HTTPRoute reviews']));

    const spec = route(m).spec;
    expect(spec.parentRefs[0]).toEqual({ group: '', kind: 'Service', name: 'reviews', port: 8080 });
    expect(spec.parentRefs[1]).toMatchObject({ kind: 'Gateway', namespace: 'shop', sectionName: 'https-0' });
    expect(spec.hostnames).toEqual(['reviews.example.com']);
    const [ab, split] = spec.rules;
    expect(ab.matches).toEqual([{
      headers: [{ name: 'x-beta', type: 'Exact', value: 'yes' }],
      queryParams: [{ name: 'lang', type: 'RegularExpression', value: 'en|de' }],
    }]);
    expect(split.backendRefs.map((b: any) => [b.name, b.weight])).toEqual([['reviews-v1', 90], ['reviews-v2', 10]]);
    expect(split.filters).toEqual([{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'reviews-v3', port: 8080 }, percent: 20 } }]);
    expect(split.timeouts).toEqual({ request: '4s' });

    const gateway = m.find(o => o.kind === 'Gateway');
    expect(gateway.spec.gatewayClassName).toBe('istio');
    expect(gateway.spec.listeners.map((l: any) => [l.name, l.port, l.protocol])).toEqual([['http-0', 80, 'HTTP'], ['https-0', 443, 'HTTPS']]);
    const redirect = m.find(o => o.kind === 'HTTPRoute' && o.metadata.name !== 'reviews');
    expect(redirect.spec.rules).toEqual([{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }]);
  });

  test('Gateway API: per-version Services are ordered before the route that uses them', () => {
    const names = kinds(canaryApp(TrafficApi.GATEWAY_API));
    for (const v of ['v1', 'v2', 'v3']) expect(names.indexOf(`Service reviews-${v}`)).toBeLessThan(names.indexOf('HTTPRoute reviews'));
  });

  test('Gateway API: a Service of your own gives the route its HTTP port (Istio\'s protocol selection)', () => {
    const c = chart({ trafficApi: TrafficApi.GATEWAY_API });
    const web = new kplus.Service(c, 'Web', { metadata: { name: 'web' }, ports: [{ port: 9090, name: 'tcp-admin' }, { port: 80, targetPort: 8080, name: 'http-web' }] });
    new ResilientUpstream(c, 'Resilience', { host: Host.fromService(web), retries: RetryPolicy.meshDefault() });
    const m = Testing.synth(c);
    expectValidManifests(m);
    expect(route(m, 'web').spec).toEqual({
      parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }],
      rules: [{ name: 'default', backendRefs: [{ name: 'web', port: 80, weight: 100 }], timeouts: { request: '10s' } }],
    });
    // A port Istio cannot tell the protocol of is no HTTP port.
    const opaque = chart({ trafficApi: TrafficApi.GATEWAY_API });
    const db = new kplus.Service(opaque, 'Db', { metadata: { name: 'db' }, ports: [{ port: 5000, name: 'db' }] });
    new ResilientUpstream(opaque, 'Resilience', { host: Host.fromService(db), retries: RetryPolicy.meshDefault() });
    expect(() => Testing.synth(opaque)).toThrow(/test\/Resilience: ports got \["db"\]: Gateway API routes need an HTTP port of the Service/);
  });

  test('Gateway API: resilience policy goes to each per-version Service\'s DestinationRule', () => {
    // GIVEN a canary and a resilience policy on the same host
    const c = chart({ trafficApi: TrafficApi.GATEWAY_API });
    const canary = new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }, { name: 'v2', image: 'r:2' }], weights: { v1: 50, v2: 50 }, resources });
    new ResilientUpstream(c, 'Resilience', {
      host: canary.host,
      retries: RetryPolicy.meshDefault(),
      subsetPolicies: [{ subset: 'v2', policy: { connectionPool: { maxConnections: 5 } } }],
    });
    // WHEN synthesized
    const m = Testing.synth(c);
    expectValidManifests(m);
    // THEN each version's Service has a DestinationRule with the host's policy and its own override
    const rules = m.filter(o => o.kind === 'DestinationRule');
    expect(rules.map(r => r.spec.host)).toEqual(['reviews-v1.shop.svc.cluster.local', 'reviews-v2.shop.svc.cluster.local']);
    expect(rules[0].spec.trafficPolicy.connectionPool.tcp.maxConnections).toBe(100);
    expect(rules[1].spec.trafficPolicy.connectionPool).toEqual({ tcp: { maxConnections: 5, connectTimeout: '2s' }, http: { http1MaxPendingRequests: 100, http2MaxRequests: 1000 } });
    expect(route(m).spec.rules[0]).toMatchObject({ timeouts: { request: '10s' } });
    expect(route(m).spec.rules[0].retry).toBeUndefined();
  });

  test('Gateway API: several HTTP ports get one HTTPRoute each', () => {
    const c = chart({ trafficApi: TrafficApi.GATEWAY_API });
    new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }], ports: [ServicePort.http(8080), ServicePort.grpc(9090)], resources });
    const m = Testing.synth(c);
    expectValidManifests(m);
    expect(route(m, 'reviews-http').spec.parentRefs).toEqual([{ group: '', kind: 'Service', name: 'reviews', port: 8080 }]);
    expect(route(m, 'reviews-grpc').spec.rules[0].backendRefs).toEqual([{ name: 'reviews-v1', port: 9090, weight: 100 }]);
  });

  test('Gateway API: the sticky cookie is set by a response header filter on each backend', () => {
    const m = canaryApp(TrafficApi.GATEWAY_API, { mirror: undefined, matchRoutes: undefined, stickySession: StickySession.cookie('rv', Duration.minutes(10)) });
    expectValidManifests(m);
    const rules = route(m).spec.rules;
    // v3 has no weight (it is mirrored to): nobody is pinned to it.
    expect(rules.map((r: any) => r.name)).toEqual(['sticky-v1', 'sticky-v2', 'split']);
    expect(rules[0].matches[0].headers[0]).toEqual({ name: 'cookie', type: 'RegularExpression', value: '^(.*?;\\s*)?rv=v1(;.*)?$' });
    expect(rules[2].backendRefs[0].filters).toEqual([{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'set-cookie', value: 'rv=v1; Path=/; Max-Age=600; HttpOnly' }] } }]);
  });

  test('Gateway API: a uri prefix is a PathPrefix, which Istio ranks ahead of the catch-all rule (a regular expression it ranks after)', () => {
    const m = canaryApp(TrafficApi.GATEWAY_API, { matchRoutes: [{ version: 'v2', matches: [RequestMatch.pathPrefix('/api/v2')] }] });
    expect(route(m).spec.rules[0].matches).toEqual([{ path: { type: 'PathPrefix', value: '/api/v2' } }]);
    expect(() => canaryApp(TrafficApi.GATEWAY_API, { matchRoutes: [{ version: 'v2', matches: [RequestMatch.uri(StringMatch.regex('/api/v[0-9]+'))] }] }))
      .toThrow(/Istio ranks regular-expression paths of an HTTPRoute below every prefix, the catch-all route's included, so the rule would never match/);
  });

  describe('Gateway API: Istio orders matches by its own precedence, and the routes keep their declared order', () => {
    interface Request { readonly method?: string; readonly headers?: Record<string, string>; readonly query?: Record<string, string> }
    const value = (m: any, actual: string | undefined) => actual !== undefined && (m.type === 'Exact' ? actual === m.value : new RegExp(m.value).test(actual));
    /** The rule Istio applies to a request to `/`: matches ranked as pilot's sortHTTPRoutes ranks them, ties in listing order. */
    function ruleFor(rules: any[], request: Request): string {
      const rank = (m: any) => [m.path?.type === 'Exact' ? 1 : 0, (m.path?.value ?? '/').length, m.method ? 1 : 0, m.headers?.length ?? 0, m.queryParams?.length ?? 0];
      const entries = rules.flatMap((r: any) => (r.matches ?? [{}]).map((m: any) => ({ rule: r.name, m, rank: rank(m) })));
      entries.sort((x: any, y: any) => {
        for (let i = 0; i < x.rank.length; i++) if (x.rank[i] !== y.rank[i]) return y.rank[i] - x.rank[i];
        return 0;
      });
      const hit = entries.find(({ m }: any) => (!m.method || m.method === (request.method ?? 'GET'))
        && (m.headers ?? []).every((h: any) => value(h, request.headers?.[h.name]))
        && (m.queryParams ?? []).every((q: any) => value(q, request.query?.[q.name])));
      return hit!.rule;
    }

    test('a sticky cookie (a header match) would outrank a route matching only a query parameter: refused', () => {
      expect(() => canaryApp(TrafficApi.GATEWAY_API, {
        mirror: undefined,
        matchRoutes: [{ version: 'v2', matches: [RequestMatch.queryParam('preview', StringMatch.exact('1'))] }],
        stickySession: StickySession.cookie('rv', Duration.minutes(10)),
      })).toThrow(/test\/Reviews: to-v2\.matches got 'sticky-v1': with the Gateway API, Istio ranks route 'sticky-v1' ahead of this one/);
      // The Istio API applies the routes in order.
      expect(() => canaryApp(TrafficApi.ISTIO, {
        matchRoutes: [{ version: 'v2', matches: [RequestMatch.queryParam('preview', StringMatch.exact('1'))] }],
        stickySession: StickySession.cookie('rv', Duration.minutes(10)),
      })).not.toThrow();
    });

    test('a header route ahead of the sticky cookie keeps its place (an equal rank goes by listing order)', () => {
      const m = canaryApp(TrafficApi.GATEWAY_API, {
        mirror: undefined,
        matchRoutes: [{ version: 'v2', matches: [RequestMatch.header('x-beta', StringMatch.exact('yes'))] }],
        stickySession: StickySession.cookie('rv', Duration.minutes(10)),
      });
      expectValidManifests(m);
      const rules = route(m).spec.rules;
      expect(ruleFor(rules, { headers: { 'x-beta': 'yes', 'cookie': 'rv=v1' } })).toBe('to-v2');
      expect(ruleFor(rules, { headers: { cookie: 'rv=v2' } })).toBe('sticky-v2');
      // A version out of the split pins nobody: the split re-pins its callers.
      expect(ruleFor(rules, { headers: { cookie: 'rv=v3' } })).toBe('split');
      expect(ruleFor(rules, {})).toBe('split');
    });

    test('routes that no request meets together may rank in any order', () => {
      const m = canaryApp(TrafficApi.GATEWAY_API, {
        mirror: undefined,
        matchRoutes: [
          { version: 'v2', matches: [RequestMatch.header('x-track', StringMatch.exact('beta'))] },
          { version: 'v3', matches: [RequestMatch.header('x-track', StringMatch.exact('canary')).and(RequestMatch.header('x-team', StringMatch.exact('qa')))] },
        ],
      });
      expect(ruleFor(route(m).spec.rules, { headers: { 'x-track': 'beta', 'x-team': 'qa' } })).toBe('to-v2');
    });

    test('the POST and PATCH rule of retries that must not re-send a request does not take an earlier route\'s requests', () => {
      const m = canaryApp(TrafficApi.GATEWAY_API, {
        mirror: undefined,
        matchRoutes: [{ version: 'v2', matches: [RequestMatch.header('x-beta', StringMatch.exact('yes'))] }],
        retries: RetryPolicy.of({ attempts: 2, perTryTimeout: Duration.seconds(1), retryOn: [RetryOn.statusCodes(503)] }),
      }, { gatewayApiChannel: GatewayApiChannel.EXPERIMENTAL });
      const rules = route(m).spec.rules;
      expect(rules.map((r: any) => r.name)).toEqual(['to-v2-non-idempotent', 'to-v2', 'split-non-idempotent', 'split']);
      for (const method of ['GET', 'POST', 'PATCH']) expect(ruleFor(rules, { method, headers: { 'x-beta': 'yes' } })).toBe(method === 'GET' ? 'to-v2' : 'to-v2-non-idempotent');
      expect(ruleFor(rules, { method: 'POST' })).toBe('split-non-idempotent');
    });

    test('an earlier route outranked only by a later route\'s method gets a match for that method', () => {
      const m = canaryApp(TrafficApi.GATEWAY_API, {
        mirror: undefined,
        matchRoutes: [
          { version: 'v2', matches: [RequestMatch.header('x-beta', StringMatch.exact('yes'))] },
          { version: 'v3', matches: [RequestMatch.method('DELETE')] },
        ],
      });
      expectValidManifests(m);
      const rules = route(m).spec.rules;
      expect(rules[0].matches).toEqual([
        { headers: [{ name: 'x-beta', type: 'Exact', value: 'yes' }] },
        { headers: [{ name: 'x-beta', type: 'Exact', value: 'yes' }], method: 'DELETE' },
      ]);
      expect(ruleFor(rules, { method: 'DELETE', headers: { 'x-beta': 'yes' } })).toBe('to-v2');
      expect(ruleFor(rules, { method: 'DELETE' })).toBe('to-v3');
    });
  });

  test('Gateway API: durations in units of at most 5 digits, as the CRD accepts them', () => {
    const m = canaryApp(TrafficApi.GATEWAY_API, { timeout: Duration.millis(100_500) });
    expectValidManifests(m);
    expect(route(m).spec.rules.find((r: any) => r.name === 'split').timeouts).toEqual({ request: '1m40s500ms' });
  });

  test('Gateway API: a mirror percentage that is not whole is refused, since the CRD takes an integer', () => {
    expect(() => canaryApp(TrafficApi.GATEWAY_API, { mirror: { version: 'v3', percentage: 12.5 } }))
      .toThrow(/mirrorPercentage got 12\.5: the Gateway API mirrors a whole percentage/);
  });

  test('a query parameter matched twice in one match is refused, as a header is', () => {
    expect(() => canaryApp(TrafficApi.GATEWAY_API, {
      matchRoutes: [{ version: 'v2', matches: [RequestMatch.queryParam('a', StringMatch.exact('1')).and(RequestMatch.queryParam('a', StringMatch.exact('2')))] }],
    })).toThrow(/got 'a': match a query parameter once per RequestMatch/);
  });

  test('Experimental channel: retries become HTTPRoute retry, per-try timeout the backend request timeout', () => {
    const m = canaryApp(TrafficApi.GATEWAY_API, {
      mirror: undefined,
      retries: RetryPolicy.of({ attempts: 2, perTryTimeout: Duration.seconds(1), retryOn: [RetryOn.statusCodes(503)], retryNonIdempotent: true }),
    }, { gatewayApiChannel: GatewayApiChannel.EXPERIMENTAL });
    const split = route(m).spec.rules.find((r: any) => r.name === 'split');
    expect(split).toMatchObject({ retry: { attempts: 2, codes: [503] }, timeouts: { request: '4s', backendRequest: '1s' } });
    // The pinned CRDs are the Standard channel's, so `retry` is the only field they reject.
    const errors = validateManifests(m);
    expect(errors.map(e => e.path)).toEqual(expect.arrayContaining([expect.stringMatching(/\.retry$/)]));
    expect(errors.every(e => /\.retry$/.test(e.path))).toBe(true);
  });

  describe('what the Gateway API cannot express fails at synth', () => {
    test('retries on the Standard channel', () => {
      expect(() => canaryApp(TrafficApi.GATEWAY_API, { retries: RetryPolicy.of({ attempts: 1, perTryTimeout: Duration.seconds(1) }) }))
        .toThrow(/HTTPRoute retry is an Experimental Gateway API field/);
    });

    test('retry conditions other than status codes', () => {
      const retries = RetryPolicy.of({ attempts: 1, perTryTimeout: Duration.seconds(1) });
      expect(() => canaryApp(TrafficApi.GATEWAY_API, { retries }, { gatewayApiChannel: GatewayApiChannel.EXPERIMENTAL }))
        .toThrow(/retries on status codes only/);
    });

    test('versions with a TCP port, which HTTPRoutes and the per-version DestinationRules would not cover', () => {
      expect(() => canaryApp(TrafficApi.GATEWAY_API, { mirror: undefined, ports: [ServicePort.http(8080), ServicePort.tcp(9000)] }))
        .toThrow(/test\/Reviews: ports got 'tcp 9000': with the Gateway API the versions of reviews\.shop\.svc\.cluster\.local are routed on HTTP ports only/);
    });

    test('fault injection', () => {
      const c = chart({ trafficApi: TrafficApi.GATEWAY_API });
      const canary = new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }], resources });
      const upstream = new ResilientUpstream(c, 'Chaos', { host: canary.host, retries: RetryPolicy.meshDefault() });
      jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      upstream.addFault('delay', FaultInjection.delay(Duration.seconds(1), 10));
      expect(() => Testing.synth(c)).toThrow(/test\/Chaos: delay\.fault .*no fault injection/);
    });

    test('TLS passthrough and a minimum TLS version', () => {
      const c = chart({ trafficApi: TrafficApi.GATEWAY_API });
      const gw = new IngressGateway(c, 'Gw');
      expect(() => gw.addHost('a.example.com', 'shop', IngressTls.passthrough())).toThrow(/TLSRoute/);
      expect(() => gw.addHost('b.example.com', 'shop', IngressTls.simple('cert', { minProtocolVersion: TlsVersion.TLS_1_3 }))).toThrow(/minimum TLS version/);
    });

    test('external hosts', () => {
      const c = chart({ trafficApi: TrafficApi.GATEWAY_API });
      new ResilientUpstream(c, 'Api', { host: Host.external(c, 'api.example.com'), retries: RetryPolicy.meshDefault() });
      expect(() => Testing.synth(c)).toThrow(/Gateway API routes need the Service's HTTP ports|routes only Kubernetes Services/);
    });

    test('a gateway and routes in different traffic APIs', () => {
      const c = chart();
      const gw = new IngressGateway(c, 'Gw', { trafficApi: TrafficApi.GATEWAY_API });
      expect(() => new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }], resources, ingress: { hosts: ['r.example.com'], gateway: gw } }))
        .toThrow(/use one traffic API/);
    });
  });
});

describe('version-aware emission', () => {
  test('Istio before 1.22 gets v1beta1 APIs, still accepted by the pinned CRDs', () => {
    const m = canaryApp(TrafficApi.ISTIO, {}, { istioVersion: '1.20' });
    expectValidManifests(m);
    expect([...new Set(m.filter(o => o.apiVersion.includes('istio.io')).map(o => o.apiVersion))]).toEqual(['networking.istio.io/v1beta1']);
  });

  test('from 1.22 on, v1', () => {
    const m = canaryApp(TrafficApi.ISTIO, {}, { istioVersion: '1.22' });
    expect(m.find(o => o.kind === 'VirtualService').apiVersion).toBe('networking.istio.io/v1');
  });

  test('an unsupported version is refused', () => {
    expect(() => new Mesh(new App(), 'Mesh', { istioVersion: '1.5' })).toThrow(/istioVersion got '1.5'/);
  });

  describe('features an older Istio lacks are refused, not emitted', () => {
    const at = (istioVersion: string) => chart({ istioVersion });
    test('ambient mode and waypoints before 1.22', () => {
      expect(() => new Mesh(new App(), 'Mesh', { istioVersion: '1.21', dataplaneMode: DataplaneMode.AMBIENT }))
        .toThrow(/dataplaneMode got '1\.21': ambient mode as this library builds it .* needs Istio 1\.22 or later/);
      expect(() => new Waypoint(at('1.21'), 'W')).toThrow(/test\/W: scope got '1\.21': a waypoint \(istio\.io\/use-waypoint\) needs Istio 1\.22 or later/);
    });
    test('the Gateway API objects (v1) before 1.20: by the Mesh, a construct or a host', () => {
      expect(() => new Mesh(new App(), 'Mesh', { istioVersion: '1.19', trafficApi: TrafficApi.GATEWAY_API }))
        .toThrow(/^Mesh: trafficApi got '1\.19': the Gateway API at v1 \(Gateway, HTTPRoute\) needs Istio 1\.20 or later: upgrade, or use TrafficApi\.ISTIO$/);
      expect(() => new IngressGateway(at('1.19'), 'Gw', { trafficApi: TrafficApi.GATEWAY_API })).toThrow(/^test\/Gw: trafficApi got '1\.19': the Gateway API at v1/);
      const c = at('1.19');
      expect(() => new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }], resources, trafficApi: TrafficApi.GATEWAY_API }))
        .toThrow(/^test\/Reviews: trafficApi got '1\.19': the Gateway API at v1/);
      expect(() => canaryApp(TrafficApi.GATEWAY_API, {}, { istioVersion: '1.20' })).not.toThrow();
    });
    test('policy targetRefs before 1.22, a ServiceEntry target before 1.24', () => {
      expect(() => new AuthorizationPolicy(at('1.21'), 'P', { targets: [PolicyTarget.gateway('gw')] })).toThrow(/targets got '1\.21': targetRefs needs Istio 1\.22/);
      expect(() => new AuthorizationPolicy(at('1.23'), 'P', { targets: [PolicyTarget.serviceEntry('se')] })).toThrow(/a ServiceEntry as a policy target needs Istio 1\.24/);
    });
    test('path templates before 1.22, reset-before-request retries before 1.23, warmup before 1.24, JWT cookies before 1.21', () => {
      expect(() => new AuthorizationPolicy(at('1.21'), 'P', { action: AuthorizationAction.DENY, rules: [{ to: [{ paths: ['/api/{*}'] }] }] })).toThrow(/a path template \(\{\*\}, \{\*\*\}\) needs Istio 1\.22/);
      const retries = RetryPolicy.of({ attempts: 1, perTryTimeout: Duration.seconds(1), retryOn: [RetryOn.RESET_BEFORE_REQUEST] });
      expect(() => canaryApp(TrafficApi.ISTIO, { mirror: undefined, retries }, { istioVersion: '1.22' })).toThrow(/retrying on reset-before-request needs Istio 1\.23/);
      const c = at('1.23');
      new ResilientUpstream(c, 'R', { host: Host.service(c, 'api', 'shop'), loadBalancer: LoadBalancer.leastRequest({ warmup: Duration.seconds(30) }) });
      expect(() => Testing.synth(c)).toThrow(/load-balancer warmup needs Istio 1\.24/);
      expect(() => new RequestAuthentication(at('1.20'), 'J', { issuers: [{ issuer: 'https://a.example.com', jwksUri: 'https://a.example.com/jwks', fromCookies: ['token'] }] }))
        .toThrow(/a JWT from a cookie needs Istio 1\.21/);
    });
    test('a waypoint of another namespace before 1.23, a NONE ServiceEntry\'s targetPort before 1.22', () => {
      const app = new App();
      new Mesh(app, 'Mesh', { istioVersion: '1.22', dataplaneMode: DataplaneMode.AMBIENT });
      const infra = new Chart(app, 'infra', { namespace: 'infra' });
      const shop = new Chart(app, 'shop', { namespace: 'shop' });
      const service = new ApiObject(shop, 'Svc', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews' } });
      expect(() => new Waypoint(infra, 'W').use(service)).toThrow(/a waypoint of another namespace \(istio\.io\/use-waypoint-namespace\) needs Istio 1\.23/);
      expect(() => new EgressControl(at('1.21'), 'E').allowHost('db.example.com', { ports: [ServicePort.tcp(5432, { targetPort: 6432 })], resolution: ServiceEntryResolution.NONE, addresses: ['10.0.0.1'] }))
        .toThrow(/a targetPort with NONE resolution needs Istio 1\.22/);
    });

    test('TLS origination before 1.21 names the system CA bundle, which Istio verified against only when named', () => {
      const c = at('1.20');
      new ResilientUpstream(c, 'R', { host: Host.external(c, 'api.example.com'), tls: UpstreamTls.simple() });
      const dr = Testing.synth(c).find(o => o.kind === 'DestinationRule');
      expect(dr.spec.trafficPolicy.tls).toEqual(expect.objectContaining({ mode: 'SIMPLE', caCertificates: '/etc/ssl/certs/ca-certificates.crt' }));
    });
  });
});

describe('ambient mode', () => {
  test.each([TrafficApi.ISTIO, TrafficApi.GATEWAY_API])('%s routes are applied by the namespace waypoint the Service uses', trafficApi => {
    const c = chart({ trafficApi, dataplaneMode: DataplaneMode.AMBIENT });
    const a = new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }, { name: 'v2', image: 'r:2' }], weights: { v1: 80, v2: 20 }, resources });
    const b = new CanaryService(c, 'Ratings', { versions: [{ name: 'v1', image: 'r:1' }], resources });
    const m = Testing.synth(c);
    expectValidManifests(m);
    const waypoints = m.filter(o => o.kind === 'Gateway' && o.spec.gatewayClassName === 'istio-waypoint');
    expect(waypoints).toEqual([{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'waypoint', namespace: 'shop', labels: { 'istio.io/waypoint-for': 'service' } },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    }]);
    expect(a.waypoint).toBe(b.waypoint);
    for (const svc of m.filter(o => o.kind === 'Service')) expect(svc.metadata.labels['istio.io/use-waypoint']).toBe('waypoint');
    expect(a.waypoint!.identity.principal(c)).toBe('cluster.local/ns/shop/sa/waypoint');
  });

  test('a waypoint of its own, and none outside ambient mode', () => {
    const c = chart({ dataplaneMode: DataplaneMode.AMBIENT });
    const wp = new Waypoint(c, 'ReviewsWaypoint', { name: 'reviews-waypoint', trafficFor: WaypointFor.ALL });
    new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }], resources, waypoint: wp });
    const m = Testing.synth(c);
    expectValidManifests(m);
    expect(m.find(o => o.kind === 'Service').metadata.labels['istio.io/use-waypoint']).toBe('reviews-waypoint');
    const sidecar = chart();
    expect(() => new CanaryService(sidecar, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }], resources, waypoint: new Waypoint(sidecar, 'W') }))
      .toThrow(/waypoints serve ambient mode/);
  });

  test("a waypoint of another namespace: the Service names the waypoint's namespace, and the waypoint admits the Service's", () => {
    // GIVEN a shared waypoint in namespace infra, used by a canary in shop
    const c = chart({ dataplaneMode: DataplaneMode.AMBIENT });
    const infra = new Chart(c.node.scope as App, 'infra', { namespace: 'infra' });
    const shared = new Waypoint(infra, 'Shared', { name: 'shared' });
    new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }], resources, waypoint: shared });
    const m = [...Testing.synth(c), ...Testing.synth(infra)];
    expectValidManifests(m);
    // THEN Istio looks for the waypoint in infra (not shop), and its listener lets shop attach (the default is its own namespace only)
    expect(m.find(o => o.kind === 'Service').metadata.labels).toMatchObject({ 'istio.io/use-waypoint': 'shared', 'istio.io/use-waypoint-namespace': 'infra' });
    expect(m.find(o => o.kind === 'Gateway').spec.listeners).toEqual([{
      name: 'mesh',
      port: 15008,
      protocol: 'HBONE',
      allowedRoutes: { namespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['infra', 'shop'] }] } } },
    }]);
  });

  test('a workload waypoint cannot serve a Service, nor a service waypoint a workload', () => {
    const c = chart({ dataplaneMode: DataplaneMode.AMBIENT });
    const pods = new Waypoint(c, 'Pods', { name: 'pods', trafficFor: WaypointFor.WORKLOAD });
    expect(() => new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }], resources, waypoint: pods }))
      .toThrow(/test\/Pods: target got 'test\/Reviews\/Service': the waypoint is for workload traffic, and Istio sends service traffic of a Service through service \(or all\) waypoints only/);
    const services = new Waypoint(c, 'Services', { name: 'services' });
    const deployment = new ApiObject(c, 'Deployment', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'batch' } });
    expect(() => services.use(deployment)).toThrow(/the waypoint is for service traffic, and Istio sends workload traffic of a Deployment through workload \(or all\) waypoints only/);
  });

  test('a workload waypoint labels the pod template, where Istio reads it (not the Deployment)', () => {
    const c = chart({ dataplaneMode: DataplaneMode.AMBIENT });
    const pods = new Waypoint(c, 'Pods', { name: 'pods', trafficFor: WaypointFor.WORKLOAD });
    const batch = new kplus.Deployment(c, 'Batch', { containers: [{ image: 'batch:1', resources }], podMetadata: { labels: { app: 'batch' } } });
    pods.use(ApiObject.of(batch));
    const m = Testing.synth(c);
    expectValidManifests(m);
    const deployment = m.find(o => o.kind === 'Deployment');
    expect(deployment.spec.template.metadata.labels['istio.io/use-waypoint']).toBe('pods');
    expect(deployment.metadata.labels?.['istio.io/use-waypoint']).toBeUndefined();
    // A Job's template may have no labels, and Istio reads none on the Job: refused.
    const job = new ApiObject(c, 'Job', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'once' } });
    expect(() => pods.use(job)).toThrow(/test\/Pods: target got 'test\/Job': Istio reads istio\.io\/use-waypoint on Namespaces, Services, ServiceEntries, Pods and WorkloadEntries, and on a Job it has no effect/);
  });

  test('a waypoint of the same name in another namespace is another waypoint: refused for an object that uses one', () => {
    const app = Testing.app();
    new Mesh(app, 'Mesh', { dataplaneMode: DataplaneMode.AMBIENT });
    const infra = new Chart(app, 'infra', { namespace: 'infra' });
    const c = new Chart(app, 'test', { namespace: 'shop' });
    const service = new ApiObject(c, 'Svc', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews' } });
    new Waypoint(infra, 'Shared', { name: 'waypoint' }).use(service);
    expect(() => new Waypoint(c, 'Own', { name: 'waypoint' }).use(service)).toThrow(/test\/Own: target got 'test\/Svc': it already uses waypoint 'infra\/waypoint'/);
  });
});
