import { App, Chart, Duration, Testing } from 'cdk8s';
import {
  CanaryService, DataplaneMode, GatewayApiChannel, GatewayWorkload, Host, HostRouting, IngressGateway, IngressTls, Mesh, ResiliencePreset,
  RequestMatch, ResilientUpstream, RetryOn, RetryPolicy, RoutePriority, ServicePort, Source, TlsVersion, TrafficApi, WorkloadSelector,
  ZeroTrustNamespace,
} from '../../src';
import { expectValidManifests } from '../harness/validate';

function setup(trafficApi: TrafficApi): { app: App; edge: Chart; gateway: IngressGateway } {
  const app = new App();
  new Mesh(app, 'Mesh', { trafficApi });
  const edge = new Chart(app, 'edge', { namespace: 'edge' });
  const gateway = new IngressGateway(edge, 'Public', { name: 'public' });
  return { app, edge, gateway };
}

function shopRoutes(trafficApi: TrafficApi): any[] {
  // GIVEN an edge gateway serving two hosts, routing by path to services in the shop namespace
  const { edge, gateway, app } = setup(trafficApi);
  gateway.addHost('shop.example.com', 'edge', IngressTls.simple('shop-cert'));
  gateway.addHost('status.example.com', 'edge', IngressTls.none());
  gateway.addRoute('shop.example.com', Host.service(edge, 'api', 'shop'), 8080, { pathPrefix: '/api/', timeout: Duration.seconds(3) });
  gateway.addRoute('shop.example.com', Host.service(edge, 'web', 'shop'), 80);
  gateway.addRoute('status.example.com', Host.service(edge, 'status', 'ops'), 8080);
  // WHEN synthesized
  const m = app.charts.flatMap(c => Testing.synth(c));
  expectValidManifests(m);
  return m;
}

describe('IngressGateway', () => {
  test('Istio: servers per host, edge-only VirtualServices routing prefixes to services', () => {
    const m = shopRoutes(TrafficApi.ISTIO);
    expect(m).toMatchSnapshot();
    const gw = m.find(o => o.kind === 'Gateway');
    expect(gw.spec.servers.map((s: any) => [s.name, s.hosts])).toEqual([
      ['http', ['edge/status.example.com']],
      ['http-redirect', ['edge/shop.example.com']],
      ['https-0', ['edge/shop.example.com']],
    ]);
    const shop = m.find(o => o.kind === 'VirtualService' && o.spec.hosts[0] === 'shop.example.com');
    expect(shop.spec.gateways).toEqual(['edge/public']);
    expect(shop.spec.http).toEqual([
      { name: 'prefix-api', match: [{ uri: { prefix: '/api/' } }], route: [{ destination: { host: 'api.shop.svc.cluster.local', port: { number: 8080 } }, weight: 100 }], timeout: '3s' },
      { name: 'root', route: [{ destination: { host: 'web.shop.svc.cluster.local', port: { number: 80 } }, weight: 100 }] },
    ]);
  });

  test('Gateway API: listeners per host, HTTPRoutes with cross-namespace backends and their ReferenceGrants', () => {
    const m = shopRoutes(TrafficApi.GATEWAY_API);
    expect(m).toMatchSnapshot();
    const shop = m.find(o => o.kind === 'HTTPRoute' && o.spec.hostnames?.[0] === 'shop.example.com' && o.spec.rules.length === 2);
    expect(shop.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'edge', name: 'public', sectionName: 'https-0' }]);
    expect(shop.spec.rules[0]).toMatchObject({
      matches: [{ path: { type: 'PathPrefix', value: '/api/' } }],
      backendRefs: [{ name: 'api', namespace: 'shop', port: 8080, weight: 100 }],
      timeouts: { request: '3s' },
    });
    const grants = m.filter(o => o.kind === 'ReferenceGrant');
    expect(grants.map(g => [g.metadata.namespace, g.spec.from[0].namespace])).toEqual([['shop', 'edge'], ['ops', 'edge']]);
    const names = m.map(o => `${o.kind}/${o.metadata.namespace}`);
    expect(names.indexOf('ReferenceGrant/shop')).toBeLessThan(names.lastIndexOf('HTTPRoute/edge'));
  });

  test('TLS passthrough and minimum TLS version (Istio)', () => {
    const { app, gateway } = setup(TrafficApi.ISTIO);
    gateway.addHost('db.example.com', 'edge', IngressTls.passthrough());
    gateway.addHost('secure.example.com', 'edge', IngressTls.simple('secure-cert', { minProtocolVersion: TlsVersion.TLS_1_3, httpsRedirect: false }));
    const m = app.charts.flatMap(c => Testing.synth(c));
    expectValidManifests(m);
    expect(m[0].spec.servers).toEqual([
      { name: 'tls-0', port: { number: 443, name: 'tls-0', protocol: 'TLS' }, hosts: ['edge/db.example.com'], tls: { mode: 'PASSTHROUGH', minProtocolVersion: 'TLSV1_2' } },
      { name: 'https-1', port: { number: 443, name: 'https-1', protocol: 'HTTPS' }, hosts: ['edge/secure.example.com'], tls: { mode: 'SIMPLE', credentialName: 'secure-cert', minProtocolVersion: 'TLSV1_3' } },
    ]);
  });

  test('Gateway API: more routes on a host than an HTTPRoute takes (16 rules) fail at synth', () => {
    const { app, edge, gateway } = setup(TrafficApi.GATEWAY_API);
    gateway.addHost('big.example.com', 'edge', IngressTls.none());
    for (let i = 0; i < 16; i++) gateway.addRoute('big.example.com', Host.service(edge, `svc-${i}`, 'edge'), 80, { pathPrefix: `/p${String(i).padStart(2, '0')}/` });
    gateway.addRoute('big.example.com', Host.service(edge, 'web', 'edge'), 80);
    expect(() => app.synthYaml()).toThrow(/routes got '17 rules, 17 matches': an HTTPRoute for big\.example\.com takes at most 16 rules and 128 matches/);
  });

  test('a passthrough host is not routed by HTTP routes, which would never apply to its connections', () => {
    const { edge, gateway } = setup(TrafficApi.ISTIO);
    gateway.addHost('db.example.com', 'edge', IngressTls.passthrough());
    expect(() => gateway.addRoute('db.example.com', Host.service(edge, 'db', 'edge'), 5432))
      .toThrow(/host got 'db\.example\.com': the gateway passes the host's TLS connections through unopened, so HTTP routes never apply to them/);
    const c = new Chart(new App(), 'shop', { namespace: 'shop' });
    expect(() => new CanaryService(c, 'Web', { versions: [{ name: 'v1', image: 'web:1' }], requireResources: false, ingress: { hosts: ['web.example.com'], tls: IngressTls.passthrough() } }))
      .toThrow(/shop\/Web: ingress\.tls got 'PASSTHROUGH': the gateway passes the host's TLS connections through unopened/);
  });

  test('a custom gateway workload', () => {
    const app = new App();
    const c = new Chart(app, 'c', { namespace: 'edge' });
    const gw = new IngressGateway(c, 'Gw', { workload: GatewayWorkload.custom({ labels: { app: 'edge-gw' }, namespace: 'edge', serviceAccountName: 'edge-gw' }) });
    gw.addHost('a.example.com', 'edge', IngressTls.none());
    expect(Testing.synth(c)[0].spec.selector).toEqual({ app: 'edge-gw' });
  });

  // A gateway uses only the routes bound to it: the service's own VirtualService (its timeout, its retries) applies to
  // in-mesh callers, not to requests through the gateway.
  describe('a route to a service with a ResilientUpstream takes its timeout and retries', () => {
    test('Istio: declared after the route; the route\'s own timeout wins, the retries still apply', () => {
      const { app, edge, gateway } = setup(TrafficApi.ISTIO);
      gateway.addHost('shop.example.com', 'edge', IngressTls.none());
      gateway.addRoute('shop.example.com', Host.service(edge, 'api', 'shop'), 8080, { pathPrefix: '/api/', timeout: Duration.seconds(12) });
      gateway.addRoute('shop.example.com', Host.service(edge, 'web', 'shop'), 80);
      new ResilientUpstream(edge, 'Api', { host: Host.service(edge, 'api', 'shop'), preset: ResiliencePreset.STANDARD });
      const m = app.charts.flatMap(c => Testing.synth(c));
      expectValidManifests(m);
      const shop = m.find(o => o.kind === 'VirtualService' && o.spec.hosts[0] === 'shop.example.com');
      const retries = { attempts: 2, perTryTimeout: '3s', retryOn: 'connect-failure,refused-stream,unavailable,gateway-error' };
      const rule = (name: string) => shop.spec.http.find((r: any) => r.name === name);
      expect(shop.spec.http.map((r: any) => r.name)).toEqual(['prefix-api-non-idempotent', 'prefix-api', 'root']);
      expect(rule('prefix-api')).toMatchObject({ timeout: '12s', retries });
      expect(rule('prefix-api-non-idempotent')).toMatchObject({ timeout: '12s', retries: { ...retries, retryOn: 'connect-failure,refused-stream' } });
      // web has no request policy: Istio's defaults, as before
      expect(rule('root').timeout).toBeUndefined();
      expect(rule('root').retries).toBeUndefined();
      const mesh = m.find(o => o.kind === 'VirtualService' && o.spec.hosts[0] === 'api.shop.svc.cluster.local');
      expect(mesh.spec.http[mesh.spec.http.length - 1]).toMatchObject({ timeout: '10s', retries });
    });

    test('Gateway API (experimental channel for retries): the HTTPRoute rule gets both', () => {
      const app = new App();
      new Mesh(app, 'Mesh', { trafficApi: TrafficApi.GATEWAY_API, gatewayApiChannel: GatewayApiChannel.EXPERIMENTAL });
      const edge = new Chart(app, 'edge', { namespace: 'edge' });
      const gateway = new IngressGateway(edge, 'Public', { name: 'public' });
      gateway.addHost('shop.example.com', 'edge', IngressTls.none());
      const api = Host.service(edge, 'api', 'shop');
      // The service's own (mesh) HTTPRoute needs its port, which a CanaryService would declare.
      HostRouting.of(edge, api).setPorts(edge, [ServicePort.http(8080)]);
      new ResilientUpstream(edge, 'Api', {
        host: api,
        timeout: Duration.seconds(5),
        retries: RetryPolicy.of({ attempts: 2, perTryTimeout: Duration.seconds(1), retryOn: [RetryOn.statusCodes(503)] }),
      });
      gateway.addRoute('shop.example.com', api, 8080);
      // (the pinned CRDs are the Standard channel's, which has no retry field)
      const m = app.charts.flatMap(c => Testing.synth(c));
      const shop = m.find(o => o.kind === 'HTTPRoute' && o.spec.hostnames?.[0] === 'shop.example.com');
      expect(shop.spec.rules.map((r: any) => [r.name, r.timeouts, r.retry])).toEqual([
        // a 503 may come after the request was processed: POST and PATCH are not re-sent
        ['root-non-idempotent', { request: '5s', backendRequest: '1s' }, { attempts: 0 }],
        ['root', { request: '5s', backendRequest: '1s' }, { attempts: 2, codes: [503] }],
      ]);
    });

    test('a route to services with different request policies sets its own, or fails at synth', () => {
      const { app, edge, gateway } = setup(TrafficApi.ISTIO);
      gateway.addHost('shop.example.com', 'edge', IngressTls.none());
      const api = Host.service(edge, 'api', 'shop');
      const web = Host.service(edge, 'web', 'shop');
      const routing = gateway.addRoute('shop.example.com', web, 80);
      new ResilientUpstream(edge, 'Api', { host: api, preset: ResiliencePreset.LATENCY_SENSITIVE });
      new ResilientUpstream(edge, 'Web', { host: web });
      const split = (name: string, own: { timeout?: Duration; retries?: RetryPolicy }) => routing.addRoute(edge, {
        name, matches: [RequestMatch.pathPrefix(`/${name}`)], destinations: [{ host: api, port: 8080, weight: 50 }, { host: web, port: 80, weight: 50 }], ...own,
      }, RoutePriority.MATCHED);
      split('both', { timeout: Duration.seconds(5), retries: RetryPolicy.none() });
      expect(() => app.synthYaml()).not.toThrow();
      split('neither', {});
      expect(() => app.synthYaml()).toThrow(/edge: neither\.destinations got \["api\.shop\.svc\.cluster\.local","web\.shop\.svc\.cluster\.local"\]: they have different request policies/);
    });

    test('retries that do not fit the route\'s own timeout fail at synth, naming both constructs', () => {
      const { app, edge, gateway } = setup(TrafficApi.ISTIO);
      gateway.addHost('shop.example.com', 'edge', IngressTls.none());
      gateway.addRoute('shop.example.com', Host.service(edge, 'api', 'shop'), 8080, { timeout: Duration.seconds(2) });
      new ResilientUpstream(edge, 'Api', {
        host: Host.service(edge, 'api', 'shop'), timeout: Duration.seconds(30), retries: RetryPolicy.of({ attempts: 3, perTryTimeout: Duration.seconds(5) }),
      });
      expect(() => app.synthYaml()).toThrow(/root\.retries.*the retries of edge\/Api do not fit the timeout of edge\/Public \(2000ms\)/);
    });
  });

  describe('bad input', () => {
    test('routing a host the gateway does not serve', () => {
      const { edge, gateway } = setup(TrafficApi.ISTIO);
      expect(() => gateway.addRoute('x.example.com', Host.service(edge, 'web', 'shop'), 80)).toThrow(/test|Public: host got 'x.example.com': serve the host with addHost\(\) before routing it/);
    });

    test('a shorter prefix added first would shadow a longer one', () => {
      const { edge, gateway } = setup(TrafficApi.ISTIO);
      gateway.addHost('shop.example.com', 'edge', IngressTls.none());
      gateway.addRoute('shop.example.com', Host.service(edge, 'web', 'shop'), 80, { pathPrefix: '/api' });
      expect(() => gateway.addRoute('shop.example.com', Host.service(edge, 'v2', 'shop'), 80, { pathPrefix: '/api/v2' }))
        .toThrow(/pathPrefix got '\/api\/v2': the earlier prefix '\/api' takes these requests first/);
    });

    test('a host that is not a domain, a certificate-less TLS host, a gateway with no host', () => {
      const { app, gateway } = setup(TrafficApi.ISTIO);
      expect(() => gateway.addHost('not a host', 'edge', IngressTls.none())).toThrow(/host got 'not a host'/);
      expect(() => gateway.addHost('a.example.com', 'edge', IngressTls.simple(''))).toThrow(/tls\.credentialName is missing/);
      expect(() => app.synth()).toThrow(/the gateway serves no host/);
    });
  });
});

describe('IngressGateway with the Gateway API: the deployment Istio creates for it', () => {
  const gatewayApiChart = (mesh: any = {}) => {
    const app = Testing.app();
    new Mesh(app, 'Mesh', { trafficApi: TrafficApi.GATEWAY_API, ...mesh });
    return new Chart(app, 'shop', { namespace: 'shop', disableResourceNameHashes: true });
  };

  test('its workload is <name>-istio in the Gateway\'s namespace, which authorization rules and NetworkPolicies admit', () => {
    const c = gatewayApiChart();
    const gw = new IngressGateway(c, 'Public', { name: 'public' });
    gw.addHost('shop.example.com', 'shop', IngressTls.simple('shop-cert'));
    expect(gw.workload.labels).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'public' });
    expect(gw.workload.identity.principal(c)).toBe('cluster.local/ns/shop/sa/public-istio');
    const web = new ZeroTrustNamespace(c, 'ZeroTrust').addWorkloadSelector(WorkloadSelector.fromLabels(c, 'shop', { app: 'web' }, 'web'), { name: 'web' });
    web.allowFrom(Source.ingressGateway({ gateway: gw.workload }), { methods: ['GET'] });
    const m = Testing.synth(c);
    expectValidManifests(m);
    const policy = m.find(o => o.kind === 'AuthorizationPolicy' && o.metadata.name === 'web-allow-ingress-gateway');
    expect(policy.spec.rules[0].from[0].source.principals).toEqual(['cluster.local/ns/shop/sa/public-istio']);
    const np = m.find(o => o.kind === 'NetworkPolicy' && o.metadata.name === 'web-allow');
    expect(JSON.stringify(np.spec.ingress)).toContain('"gateway.networking.k8s.io/gateway-name":"public"');
  });

  test('a Mesh on a control-plane revision labels the gateways Istio deploys (waypoint too): only that revision provisions them', () => {
    const c = gatewayApiChart({ revision: '1-30', dataplaneMode: DataplaneMode.AMBIENT });
    const gw = new IngressGateway(c, 'Public', { name: 'public' });
    gw.addHost('shop.example.com', 'shop', IngressTls.simple('shop-cert'));
    new ZeroTrustNamespace(c, 'ZeroTrust');
    const m = Testing.synth(c);
    expectValidManifests(m);
    for (const name of ['public', 'waypoint']) expect(m.find(o => o.kind === 'Gateway' && o.metadata.name === name).metadata.labels['istio.io/rev']).toBe('1-30');
  });

  test('the CRDs\' limits: 64 listeners, 16 redirected hosts', () => {
    const gw = new IngressGateway(gatewayApiChart(), 'Public', { name: 'public' });
    for (let i = 0; i < 16; i++) gw.addHost(`h${i}.example.com`, 'shop', IngressTls.simple(`c${i}`));
    expect(() => gw.addHost('h16.example.com', 'shop', IngressTls.simple('c16')))
      .toThrow(/shop\/Public: host got 'h16\.example\.com': a Gateway API Gateway takes at most 64 listeners .* and its redirect route 16 hosts/);
    const plain = new IngressGateway(gatewayApiChart(), 'Plain', { name: 'plain' });
    for (let i = 0; i < 64; i++) plain.addHost(`p${i}.example.com`, 'shop', IngressTls.none());
    expect(() => plain.addHost('p64.example.com', 'shop', IngressTls.none())).toThrow(/at most 64 listeners/);
  });

  test('the default installation\'s gateway is not assumed, and a name Istio cannot suffix is refused', () => {
    const c = gatewayApiChart();
    const web = new ZeroTrustNamespace(c, 'ZeroTrust').addWorkloadSelector(WorkloadSelector.fromLabels(c, 'shop', { app: 'web' }, 'web'), { name: 'web' });
    expect(() => web.allowFrom(Source.ingressGateway())).toThrow(/shop\/ZeroTrust\/web: source got 'ingressGateway': with the Gateway API each Gateway has its own deployment/);
    // A gateway deployment given to the Mesh is the one meant.
    const given = gatewayApiChart({ ingressGateway: GatewayWorkload.custom({ labels: { app: 'edge' }, namespace: 'edge', serviceAccountName: 'edge' }) });
    const other = new ZeroTrustNamespace(given, 'ZeroTrust').addWorkloadSelector(WorkloadSelector.fromLabels(given, 'shop', { app: 'web' }, 'web'), { name: 'web' });
    expect(() => other.allowFrom(Source.ingressGateway())).not.toThrow();
    expect(() => new IngressGateway(gatewayApiChart(), 'Long', { name: 'a'.repeat(58) })).toThrow(/name got 'a{58}': Istio deploys a Gateway API gateway as <name>-istio/);
  });
});

test('a gateway route to a versioned service would skip its versions (a gateway uses only its own routes): refused at synth', () => {
  const app = Testing.app();
  const c = new Chart(app, 'shop', { namespace: 'shop' });
  const canary = new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }, { name: 'v2', image: 'r:2' }], weights: { v1: 90, v2: 10 }, requireResources: false });
  const gw = new IngressGateway(c, 'Public', { name: 'public' });
  gw.addHost('www.example.com', 'shop', IngressTls.none());
  gw.addRoute('www.example.com', canary.host, 8080);
  expect(() => Testing.synth(c)).toThrow(/shop\/Public: the route for www\.example\.com goes to reviews\.shop\.svc\.cluster\.local, whose versions and routes shop\/Reviews sets/);
});

describe('one route owner per public host and gateway', () => {
  function shared(trafficApi: TrafficApi): { app: App; chart: Chart; gw: IngressGateway } {
    const app = new App();
    new Mesh(app, 'Mesh', { trafficApi });
    const chart = new Chart(app, 'shop', { namespace: 'shop' });
    const gw = new IngressGateway(chart, 'Public', { name: 'public' });
    new CanaryService(chart, 'Web', { versions: [{ name: 'v1', image: 'web:1' }], requireResources: false, ingress: { hosts: ['shop.example.com'], gateway: gw, tls: IngressTls.simple('shop-cert') } });
    return { app, chart, gw };
  }

  test('Istio: a gateway route for a host a CanaryService exposes is refused (two VirtualServices would merge in creation order)', () => {
    const { chart, gw } = shared(TrafficApi.ISTIO);
    expect(() => gw.addRoute('shop.example.com', Host.service(chart, 'api', 'shop'), 8080, { pathPrefix: '/api/' }))
      .toThrow(/^shop\/Public: host got 'shop\.example\.com': shop\/Web already routes it at shop\/public, and Istio would merge the two VirtualServices in creation order/);
  });

  test('Gateway API: the same routes merge by path, so the API prefix reaches the API', () => {
    const { chart, gw } = shared(TrafficApi.GATEWAY_API);
    gw.addRoute('shop.example.com', Host.service(chart, 'api', 'shop'), 8080, { pathPrefix: '/api/' });
    const m = Testing.synth(chart);
    expectValidManifests(m);
    const routes = m.filter(o => o.kind === 'HTTPRoute' && o.spec.hostnames?.includes('shop.example.com') && o.spec.parentRefs.some((p: any) => p.sectionName === 'https-0'));
    expect(routes.map(r => r.spec.rules.map((rule: any) => [rule.matches?.[0]?.path?.value ?? '(all)', rule.backendRefs[0].name]))).toEqual([[['(all)', 'web-v1']], [['/api/', 'api']]]);
  });

  describe('the gateway\'s routes first, then the CanaryService exposing the host: the same outcome', () => {
    function reversed(trafficApi: TrafficApi, tls: IngressTls = IngressTls.simple('shop-cert')): { chart: Chart; expose: () => CanaryService } {
      const app = new App();
      new Mesh(app, 'Mesh', { trafficApi });
      const chart = new Chart(app, 'shop', { namespace: 'shop' });
      const gw = new IngressGateway(chart, 'Public', { name: 'public' });
      gw.addHost('shop.example.com', 'shop', IngressTls.simple('shop-cert'));
      gw.addRoute('shop.example.com', Host.service(chart, 'api', 'shop'), 8080, { pathPrefix: '/api/' });
      const expose = () => new CanaryService(chart, 'Web', { versions: [{ name: 'v1', image: 'web:1' }], requireResources: false, ingress: { hosts: ['shop.example.com'], gateway: gw, tls } });
      return { chart, expose };
    }

    test('Istio: refused, naming the gateway that routes the host', () => {
      expect(reversed(TrafficApi.ISTIO).expose)
        .toThrow(/^shop\/Web: host got 'shop\.example\.com': shop\/Public already routes it at shop\/public, and Istio would merge the two VirtualServices in creation order/);
    });

    test('Gateway API: the routes merge by path', () => {
      const { chart, expose } = reversed(TrafficApi.GATEWAY_API);
      expose();
      const m = Testing.synth(chart);
      expectValidManifests(m);
      const routes = m.filter(o => o.kind === 'HTTPRoute' && o.spec.parentRefs.some((p: any) => p.sectionName === 'https-0'));
      expect(routes.map(r => r.spec.rules.map((rule: any) => [rule.matches?.[0]?.path?.value ?? '(all)', rule.backendRefs[0].name])).sort())
        .toEqual([[['(all)', 'web-v1']], [['/api/', 'api']]]);
      expect(m.filter(o => o.kind === 'Gateway')[0].spec.listeners.map((l: any) => l.name)).toEqual(['http-0', 'https-0']);
    });

    test('other TLS settings for the host are refused', () => {
      expect(reversed(TrafficApi.GATEWAY_API, IngressTls.none()).expose)
        .toThrow(/^shop\/Web: ingress\.hosts got 'shop\.example\.com': shop\/Public already serves it with other settings \(.*"credentialName":"shop-cert".*\): give the same TLS and namespace/);
    });
  });

  test('Istio: two gateways on one deployment cannot both serve a host on one port', () => {
    const app = new App();
    new Mesh(app, 'Mesh');
    const chart = new Chart(app, 'shop', { namespace: 'shop' });
    new CanaryService(chart, 'Web', { versions: [{ name: 'v1', image: 'web:1' }], requireResources: false, ingress: { hosts: ['shop.example.com'], tls: IngressTls.simple('shop-cert') } });
    expect(() => new CanaryService(chart, 'Api', { versions: [{ name: 'v1', image: 'api:1' }], requireResources: false, ingress: { hosts: ['shop.example.com'] } }))
      .toThrow(/^shop\/Api\/Gateway: host got 'shop\.example\.com': shop\/Web\/Gateway already serves it on port 80 of the same gateway deployment \(istio-system\/istio=ingressgateway\)/);
    // Another port of the deployment is another server.
    const plain = new IngressGateway(chart, 'Plain', { name: 'plain' });
    expect(() => plain.addHost('status.example.com', 'shop', IngressTls.none())).not.toThrow();
    expect(() => new IngressGateway(chart, 'Tls', { name: 'tls' }).addHost('status.example.com', 'shop', IngressTls.simple('c', { httpsRedirect: false }))).not.toThrow();
  });
});

test("a host's gateway routes at a second gateway are refused: both gateways would take both gateways' routes", () => {
  const { edge, gateway } = setup(TrafficApi.ISTIO);
  const internal = new IngressGateway(edge, 'Internal', { name: 'internal', workload: GatewayWorkload.custom({ labels: { istio: 'internal' }, namespace: 'edge', serviceAccountName: 'internal' }) });
  gateway.addHost('shop.example.com', 'edge', IngressTls.none());
  internal.addHost('shop.example.com', 'edge', IngressTls.none());
  gateway.addRoute('shop.example.com', Host.service(edge, 'web', 'shop'), 80);
  expect(() => internal.addRoute('shop.example.com', Host.service(edge, 'admin', 'shop'), 80, { pathPrefix: '/admin/' }))
    .toThrow(/^edge\/Internal: host got 'shop\.example\.com': its routes are already bound to edge\/public/);
});

describe('a gateway deployment in a ZeroTrustNamespace gets a NetworkPolicy of its own (default-deny would isolate it)', () => {
  test('Gateway API: clients from anywhere on the listener ports and the status port; istiod and the backends', () => {
    const app = new App();
    new Mesh(app, 'Mesh', { trafficApi: TrafficApi.GATEWAY_API });
    const edge = new Chart(app, 'edge', { namespace: 'edge' });
    const gateway = new IngressGateway(edge, 'Public', { name: 'public' });
    // The ZeroTrustNamespace may come after the gateway.
    new ZeroTrustNamespace(edge, 'ZeroTrust', { namespace: 'edge' });
    gateway.addHost('shop.example.com', 'edge', IngressTls.simple('shop-cert'));
    gateway.addRoute('shop.example.com', Host.service(edge, 'web', 'shop'), 80);
    const m = Testing.synth(edge);
    expectValidManifests(m);
    const policy = m.find(o => o.kind === 'NetworkPolicy' && o.metadata.name === 'public-istio-allow');
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'public' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ ports: [80, 443, 15021].map(port => ({ protocol: 'TCP', port })) }],
      egress: [
        { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { app: 'istiod' } } }], ports: [{ protocol: 'TCP', port: 15012 }] },
        { to: [{ podSelector: {} }, { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }] },
      ],
    });
  });

  test('Istio API: a gateway deployment of your own, shared by two Gateways, gets one policy', () => {
    const app = new App();
    new Mesh(app, 'Mesh');
    const edge = new Chart(app, 'edge', { namespace: 'edge' });
    new ZeroTrustNamespace(edge, 'ZeroTrust', { namespace: 'edge' });
    const workload = GatewayWorkload.custom({ labels: { app: 'edge-gw' }, namespace: 'edge', serviceAccountName: 'edge-gw', serviceName: 'edge-gw' });
    new IngressGateway(edge, 'A', { name: 'a', workload }).addHost('a.example.com', 'shop', IngressTls.none());
    new IngressGateway(edge, 'B', { name: 'b', workload }).addHost('b.example.com', 'orders', IngressTls.none());
    const m = Testing.synth(edge);
    expectValidManifests(m);
    const policies = m.filter(o => o.kind === 'NetworkPolicy' && o.spec.podSelector.matchLabels?.app === 'edge-gw');
    expect(policies.map(p => [p.metadata.name, p.spec.ingress, p.spec.egress[1]])).toEqual([[
      'edge-gw-allow',
      [{}],
      { to: ['shop', 'orders'].map(n => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': n } } })) },
    ]]);
  });
});
