import { ApiObject, Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import {
  CanaryService, CanaryServiceProps, IngressTls, RequestMatch, RetryPolicy, ServicePort, StickySession, StringMatch,
} from '../../src';
import { expectValidManifests } from '../harness/validate';

const resources: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
};

function chart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'shop' });
}

function synth(props: Partial<CanaryServiceProps>, versions = ['v1', 'v2']): any[] {
  const c = chart();
  new CanaryService(c, 'Reviews', { versions: versions.map(name => ({ name, image: `reviews:${name}` })), resources, ...props });
  const manifests = Testing.synth(c);
  expectValidManifests(manifests);
  return manifests;
}

const byKind = (manifests: any[], kind: string) => manifests.filter(m => m.kind === kind);
const vs = (manifests: any[]) => byKind(manifests, 'VirtualService')[0];
const dr = (manifests: any[]) => byKind(manifests, 'DestinationRule')[0];

describe('CanaryService', () => {
  test('basic split: one Service, a Deployment per version, subsets and a weighted route', () => {
    const m = synth({ weights: { v1: 90, v2: 10 } });
    expect(m).toMatchSnapshot();
    expect(byKind(m, 'Deployment').map(d => d.spec.template.metadata.labels)).toEqual([
      expect.objectContaining({ app: 'reviews', version: 'v1' }),
      expect.objectContaining({ app: 'reviews', version: 'v2' }),
    ]);
    expect(byKind(m, 'Service')[0].spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 8080, appProtocol: 'http' }]);
    expect(dr(m).spec.subsets).toEqual([{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }]);
    expect(vs(m).spec.http[vs(m).spec.http.length - 1].route.map((r: any) => [r.destination.subset, r.weight])).toEqual([['v1', 90], ['v2', 10]]);
  });

  test('the DestinationRule is ordered before the VirtualService that uses its subsets', () => {
    const kinds = synth({ weights: { v1: 50, v2: 50 } }).map(o => o.kind);
    expect(kinds.indexOf('DestinationRule')).toBeLessThan(kinds.indexOf('VirtualService'));
  });

  test('blue/green: 0 and 100 are allowed and the idle version gets no route entry', () => {
    const m = synth({ weights: { v1: 0, v2: 100 } });
    expect(vs(m)).toMatchSnapshot();
    const route = vs(m).spec.http[0].route;
    expect(route).toEqual([{ destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v2' }, weight: 100 }]);
    expect(dr(m).spec.subsets).toHaveLength(2);
  });

  test('three versions', () => {
    const m = synth({ weights: { v1: 70, v2: 20, v3: 10 } }, ['v1', 'v2', 'v3']);
    expect(vs(m)).toMatchSnapshot();
    expect(vs(m).spec.http[0].route.map((r: any) => r.weight)).toEqual([70, 20, 10]);
  });

  test('header A/B routing goes ahead of the weighted default', () => {
    const m = synth({
      weights: { v1: 100 },
      matchRoutes: [
        { version: 'v2', matches: [RequestMatch.header('x-user-group', StringMatch.exact('beta'))] },
        { version: 'v2', name: 'beta-cookie', matches: [RequestMatch.cookie('beta', 'yes'), RequestMatch.queryParam('beta', StringMatch.exact('1'))] },
      ],
    });
    expect(vs(m)).toMatchSnapshot();
    const http = vs(m).spec.http;
    expect(http.map((r: any) => r.name)).toEqual(['to-v2', 'beta-cookie', 'split']);
    expect(http[0].match).toEqual([{ headers: { 'x-user-group': { exact: 'beta' } } }]);
    expect(http[1].match).toHaveLength(2);
    expect(http[2].match).toBeUndefined();
  });

  test('method and uri matches AND-ed inside one match', () => {
    const m = synth({ matchRoutes: [{ version: 'v2', matches: [RequestMatch.pathPrefix('/api').and(RequestMatch.methods(['GET', 'HEAD']))] }] });
    expect(vs(m).spec.http[0].match).toEqual([
      { uri: { prefix: '/api' }, method: { exact: 'GET' } },
      { uri: { prefix: '/api' }, method: { exact: 'HEAD' } },
    ]);
  });

  test('mirror: a shadow version gets copies, responses come from the primary', () => {
    const m = synth({ weights: { v1: 100 }, mirror: { version: 'v2', percentage: 25 } });
    expect(vs(m)).toMatchSnapshot();
    const split = vs(m).spec.http[0];
    expect(split.mirror).toEqual({ host: 'reviews.shop.svc.cluster.local', subset: 'v2' });
    expect(split.mirrorPercentage).toEqual({ value: 25 });
    expect(split.route).toEqual([{ destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v1' }, weight: 100 }]);
  });

  test('sticky by cookie: the first answer sets the cookie, later requests with it return to the same version', () => {
    const m = synth({ weights: { v1: 80, v2: 20 }, stickySession: StickySession.cookie('reviews-version', Duration.hours(1)) });
    expect(m.filter(o => ['VirtualService', 'DestinationRule'].includes(o.kind))).toMatchSnapshot();
    const http = vs(m).spec.http;
    expect(http.map((r: any) => r.name)).toEqual(['sticky-v1', 'sticky-v2', 'split']);
    expect(http[0].match[0].headers.cookie.regex).toBe('^(.*?;\\s*)?reviews-version=v1(;.*)?$');
    expect(http[2].route[1].headers.response.add['set-cookie']).toBe('reviews-version=v2; Path=/; Max-Age=3600; HttpOnly');
    // Within the version, a cookie of its own per caller: Envoy hashes the value, which the version cookie shares.
    expect(dr(m).spec.trafficPolicy.loadBalancer).toEqual({ consistentHash: { httpCookie: { name: 'reviews-version-pod', path: '/', ttl: '3600s' } } });
  });

  test('weights are whole percentages: the CRD field is an integer', () => {
    expect(() => synth({ weights: { v1: 87.5, v2: 12.5 } })).toThrow(/test\/Reviews: weights\.v1 got 87\.5: use a whole percentage from 0 to 100/);
  });

  test('versions on a TLS port are refused: Istio routes TLS by SNI and ignores the weights', () => {
    for (const port of [ServicePort.https(8443), ServicePort.tls(9443)]) {
      expect(() => synth({ weights: { v1: 90, v2: 10 }, ports: [port] }))
        .toThrow(/test\/Reviews: ports got '(https 8443|tls 9443)': Istio ignores weights and subsets on a TLS port/);
    }
    // One version: nothing to choose.
    expect(() => synth({ weights: { v1: 100 }, ports: [ServicePort.https(8443)] }, ['v1'])).not.toThrow();
  });

  test('sticky routes only for versions with a weight: after a rollback, pinned callers go back through the split', () => {
    const m = synth({ weights: { v1: 100, v2: 0 }, stickySession: StickySession.cookie('rv', Duration.hours(1)) });
    expect(vs(m).spec.http.map((r: any) => r.name)).toEqual(['sticky-v1', 'split']);
  });

  test('sticky by header or source IP hashes within a version', () => {
    expect(dr(synth({ stickySession: StickySession.header('X-User') })).spec.trafficPolicy.loadBalancer)
      .toEqual({ consistentHash: { httpHeaderName: 'x-user' } });
    expect(dr(synth({ stickySession: StickySession.sourceIp() })).spec.trafficPolicy.loadBalancer)
      .toEqual({ consistentHash: { useSourceIp: true } });
  });

  test('per-route timeout and bounded retries; POST and PATCH only retry what cannot have reached the upstream', () => {
    const m = synth({ timeout: Duration.seconds(3), retries: RetryPolicy.of({ attempts: 2, perTryTimeout: Duration.seconds(1) }) });
    const http = vs(m).spec.http;
    expect(http[0]).toMatchObject({
      name: 'split-non-idempotent',
      match: [{ method: { exact: 'POST' } }, { method: { exact: 'PATCH' } }],
      retries: { attempts: 2, perTryTimeout: '1s', retryOn: 'connect-failure,refused-stream' },
      timeout: '3s',
    });
    expect(http[1]).toMatchObject({ name: 'split', retries: { attempts: 2, perTryTimeout: '1s', retryOn: 'connect-failure,refused-stream,unavailable,gateway-error' } });
  });

  test('gateway exposure with TLS: Gateway servers, redirect, VirtualService bound to the gateway and mesh', () => {
    const m = synth({ weights: { v1: 90, v2: 10 }, ingress: { hosts: ['reviews.example.com'], tls: IngressTls.simple('reviews-cert') } });
    expect(m.filter(o => ['Gateway', 'VirtualService'].includes(o.kind))).toMatchSnapshot();
    const gw = byKind(m, 'Gateway')[0];
    expect(gw.spec.selector).toEqual({ istio: 'ingressgateway' });
    expect(gw.spec.servers).toEqual([
      expect.objectContaining({ port: { number: 80, name: 'http-redirect', protocol: 'HTTP' }, tls: { httpsRedirect: true }, hosts: ['shop/reviews.example.com'] }),
      expect.objectContaining({ port: { number: 443, name: 'https-0', protocol: 'HTTPS' }, tls: { mode: 'SIMPLE', credentialName: 'reviews-cert', minProtocolVersion: 'TLSV1_2' } }),
    ]);
    expect(vs(m).spec.gateways).toEqual([`shop/${gw.metadata.name}`, 'mesh']);
    expect(vs(m).spec.hosts).toEqual(['reviews.shop.svc.cluster.local', 'reviews.example.com']);
  });

  test('several ports: every route and destination names its port, TCP ports get a tcp route', () => {
    const m = synth({ weights: { v1: 90, v2: 10 }, ports: [ServicePort.http(8080), ServicePort.grpc(9090), ServicePort.tcp(5432, { name: 'tcp-db' })] });
    expect(vs(m)).toMatchSnapshot();
    const spec = vs(m).spec;
    expect(spec.http.map((r: any) => r.name)).toEqual(['split-http', 'split-grpc']);
    expect(spec.http[1].match).toEqual([{ port: 9090 }]);
    for (const r of spec.http) for (const d of r.route) expect(d.destination.port).toBeDefined();
    expect(spec.tcp).toEqual([{
      match: [{ port: 5432 }],
      route: [
        { destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v1', port: { number: 5432 } }, weight: 90 },
        { destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v2', port: { number: 5432 } }, weight: 10 },
      ],
    }]);
  });

  test("several ports behind a gateway: in-mesh routes match their port, the gateway's requests go to the first HTTP port", () => {
    // GIVEN a service with HTTP and gRPC ports exposed through the ingress gateway (which listens on 80 and 443)
    const m = synth({
      weights: { v1: 90, v2: 10 },
      ports: [ServicePort.http(8080), ServicePort.grpc(9090)],
      ingress: { hosts: ['reviews.example.com'], tls: IngressTls.simple('reviews-cert') },
    });
    // THEN a route matching the service port would never match at the gateway (Istio drops routes whose port is not
    // the gateway server's): the gateway gets routes of its own, matched by gateway
    const gateway = `shop/${byKind(m, 'Gateway')[0].metadata.name}`;
    const http = vs(m).spec.http;
    expect(http.map((r: any) => [r.name, r.match])).toEqual([
      ['split-http', [{ port: 8080, gateways: ['mesh'] }]],
      ['split-grpc', [{ port: 9090, gateways: ['mesh'] }]],
      ['split-gateway', [{ gateways: [gateway] }]],
    ]);
    expect(http[2].route.map((r: any) => [r.destination.port.number, r.weight])).toEqual([[8080, 90], [8080, 10]]);
  });

  test('a single TCP port is split by a tcp route, since http routes apply to HTTP ports only', () => {
    const m = synth({ weights: { v1: 90, v2: 10 }, ports: [ServicePort.tcp(5432, { name: 'tcp-db' })] });
    expect(vs(m).spec).toEqual({
      hosts: ['reviews.shop.svc.cluster.local'],
      tcp: [{
        route: [
          { destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v1' }, weight: 90 },
          { destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v2' }, weight: 10 },
        ],
      }],
    });
  });

  test('request routing on a service without an HTTP port fails: TCP has no requests to match', () => {
    expect(() => synth({
      ports: [ServicePort.tcp(5432, { name: 'tcp-db' })],
      matchRoutes: [{ version: 'v2', matches: [RequestMatch.header('x-canary', StringMatch.exact('1'))] }],
    })).toThrow(/test\/Reviews: to-v2 got 'reviews\.shop\.svc\.cluster\.local': reviews\.shop\.svc\.cluster\.local has no HTTP port, and TCP connections carry no requests to match/);
    expect(() => synth({ ports: [ServicePort.tcp(5432, { name: 'tcp-db' })], ingress: { hosts: ['db.example.com'] } }))
      .toThrow(/has no HTTP port.*expose through an HTTP gateway/);
  });

  test('existing workloads per version get the app and version labels', () => {
    // GIVEN a Deployment the team already has
    const c = chart();
    const existing = new kplus.Deployment(c, 'Legacy', { containers: [{ image: 'reviews:1', resources }] });
    // WHEN it becomes v1 of the service
    const canary = new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', workload: existing }, { name: 'v2', image: 'reviews:2' }], resources });
    const m = Testing.synth(c);
    // THEN its pods carry the labels the Service and subsets select
    expectValidManifests(m);
    expect(canary.workloads.v1 === ApiObject.of(existing)).toBe(true);
    const legacy = byKind(m, 'Deployment').find(d => d.metadata.name === existing.name);
    expect(legacy.spec.template.metadata.labels).toMatchObject({ app: 'reviews', version: 'v1' });
  });

  test('a namespace of its own: every object, the host and the gateway land there', () => {
    const c = new Chart(Testing.app(), 'platform');
    const canary = new CanaryService(c, 'Reviews', {
      namespace: 'team-a', versions: [{ name: 'v1', image: 'r:1' }], resources, ingress: { hosts: ['r.example.com'] },
    });
    const m = Testing.synth(c);
    expectValidManifests(m);
    expect(new Set(m.map(o => o.metadata.namespace))).toEqual(new Set(['team-a']));
    expect(canary.host.name).toBe('reviews.team-a.svc.cluster.local');
    expect(vs(m).spec.gateways[0]).toMatch(/^team-a\//);
  });

  describe('bad input fails with the construct path, the field and the fix, and emits nothing', () => {
    const cases: [string, Partial<CanaryServiceProps>, RegExp][] = [
      ['weights not summing to 100', { weights: { v1: 90, v2: 20 } }, /test\/Reviews: weights .*must sum to 100 \(they sum to 110\)/],
      ['weight outside 0-100', { weights: { v1: 120, v2: -20 } }, /weights\.v1 got 120: use a whole percentage from 0 to 100/],
      ['unknown version in weights', { weights: { v1: 90, v9: 10 } }, /weights got 'v9': use one of the declared versions: v1, v2/],
      ['match to an unknown version', { matchRoutes: [{ version: 'v3', matches: [RequestMatch.pathPrefix('/')] }] }, /matchRoutes\[0\]\.version got 'v3'/],
      ['mirror to an unknown version', { mirror: { version: 'v7' } }, /mirror\.version got 'v7'/],
      ['mirror to a version taking traffic', { weights: { v1: 50, v2: 50 }, mirror: { version: 'v2' } }, /mirror\.version got 'v2': .*cannot mirror to itself/],
      ['a name that is not a DNS label', { name: 'Reviews_Svc' }, /name got 'Reviews_Svc': use a DNS label/],
      ['a port whose name hides its protocol', { ports: [ServicePort.http(8080, { name: 'web' })] }, /ports\[0\]\.name got 'web': name the port 'http' or 'http-<suffix>'/],
      ['an invalid regex', { matchRoutes: [{ version: 'v2', matches: [RequestMatch.uri(StringMatch.regex('(unclosed'))] }] }, /use a valid RE2 regular expression/],
      ['a method that is not HTTP', { matchRoutes: [{ version: 'v2', matches: [RequestMatch.method('FETCH')] }] }, /method got 'FETCH'/],
      ['retries longer than the timeout', { timeout: Duration.seconds(2), retries: RetryPolicy.of({ attempts: 3, perTryTimeout: Duration.seconds(1) }) }, /must fit the overall timeout/],
    ];
    test.each(cases)('%s', (_name, props, error) => {
      const c = chart();
      expect(() => {
        new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'r:1' }, { name: 'v2', image: 'r:2' }], resources, ...props });
        Testing.synth(c);
      }).toThrow(error);
    });

    test('duplicate version names', () => {
      const c = chart();
      expect(() => new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'a' }, { name: 'v1', image: 'b' }], resources }))
        .toThrow(/versions\.name got 'v1': each value may appear only once/);
      expect(Testing.synth(c)).toEqual([]);
    });

    test('resources are required unless opted out', () => {
      const c = chart();
      expect(() => new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'a' }] })).toThrow(/versions\[0\]\.resources is missing: set resource requests and limits/);
      expect(Testing.synth(c)).toEqual([]);
      new CanaryService(chart(), 'Ok', { versions: [{ name: 'v1', image: 'a' }], requireResources: false });
    });

    test('a second construct defining the same subset names both', () => {
      const c = chart();
      new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'a' }], resources });
      expect(() => new CanaryService(c, 'Again', { name: 'reviews', versions: [{ name: 'v1', image: 'a' }], resources }))
        .toThrow(/test\/Again: .*test\/Reviews already/);
    });
  });
});
