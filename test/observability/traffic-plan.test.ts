import { ApiObject, App, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { AnalysisLevel, CanaryService, MeshAnalysis, Mesh, TrafficPlan } from '../../src';
import { exampleNames, synthExample } from '../example-helper';
import { policy, service, deployment, shopManifests, virtualService } from './fixtures';

/** The lines of a Markdown section, from its heading to the next heading of the same level. */
function section(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(heading);
  expect(start).toBeGreaterThanOrEqual(0);
  const level = heading.split(' ')[0];
  const end = lines.findIndex((l, i) => i > start && l.startsWith(`${level} `));
  return lines.slice(start, end < 0 ? undefined : end);
}
/** The cells of a Markdown table row starting with `first`. */
function row(lines: string[], first: string): string[] {
  const line = lines.find(l => l.startsWith(`| ${first} |`));
  expect(line).toBeDefined();
  return line!.slice(2, -2).split(' | ');
}

describe('TrafficPlan', () => {
  const plan = TrafficPlan.fromManifests(shopManifests()).toMarkdown();

  test('snapshot', () => {
    expect(plan).toMatchSnapshot();
    expect(plan.startsWith('# Traffic plan\n\nRead from 21 objects in namespaces `istio-system`, `shop`.')).toBe(true);
  });

  test('per service: versions, their workloads and images, routes in order with weights, matches and mirrors', () => {
    const orders = section(plan, '### shop/orders');
    expect(orders).toContain('Host `orders.shop.svc.cluster.local` · ports http 8080 · DestinationRule shop/orders: outlierDetection.');
    expect(row(orders, 'v2')).toEqual(['v2', 'Deployment orders-v2 ×1', 'ghcr.io/acme/orders:v2', 'orders', '']);
    expect(orders).toContain('Routes of VirtualService shop/orders (mesh):');
    // A route without retries gets Istio's default policy, and the plan says so.
    expect(row(orders, '1')).toEqual(['1', 'beta', 'header x-beta = 1<br>or cookie beta = yes', 'shop/orders v2 100%', '', 'retries 2 (Istio\'s default)']);
    expect(row(orders, '2')).toEqual(['2', 'split', 'every request', 'shop/orders v1 80%<br>shop/orders v2 20%', 'shop/orders v3 5%', 'timeout 3s<br>retries 2 (Istio\'s default)']);
  });

  test('exposure through gateways', () => {
    expect(section(plan, '### shop/web')).toContain('- `shop.acme.com` through istio-system/istio-ingressgateway (VirtualService shop/web on Gateway shop/public)');
    const gateways = section(plan, '## Gateways');
    expect(row(gateways, 'istio-system/istio-ingressgateway')).toEqual([
      'istio-system/istio-ingressgateway', 'ingress gateway', 'Gateway shop/public', 'HTTP 80: shop.acme.com', 'shop.acme.com → shop/web',
    ]);
    expect(row(gateways, 'istio-system/istio-egressgateway')[4]).toBe('egress to api.psp.example');
  });

  test('who may call whom: a matrix with conditions as notes', () => {
    const matrix = section(plan, '## Who may call whom');
    expect(row(matrix, 'Caller \\ callee')).toEqual(['Caller \\ callee', 'api.psp.example', 'shop/orders', 'shop/payments', 'shop/web']);
    expect(row(matrix, 'any caller')).toEqual(['any caller', '✖', '✖', '✖', 'open']);
    expect(row(matrix, 'shop/web (sa web)')).toEqual(['shop/web (sa web)', '✖', '⚠️ 2', '✖', 'open']);
    expect(row(matrix, 'shop/orders (sa orders)')).toEqual(['shop/orders (sa orders)', '✖', '✖', '⚠️ 1', 'open']);
    expect(row(matrix, 'shop/payments (sa payments)')).toEqual(['shop/payments (sa payments)', '✅', '✖', '✖', 'open']);
    expect(row(matrix, 'shop/loadgen (sa loadgen)')).toEqual(['shop/loadgen (sa loadgen)', '✖', '✖', '✖', 'open']);
    expect(matrix).toContain('1. shop/orders (sa orders) → shop/payments: any request except DELETE (shop/payments, shop/payments-no-delete)');
    expect(matrix).toContain('2. shop/web (sa web) → shop/orders: GET,POST /orders* (shop/orders)');
  });

  test('a service nobody may call (an "allow nothing" policy) is a column of refusals, not missing', () => {
    const m = [service('shop', 'reviews', { app: 'reviews' }), deployment('shop', 'reviews', { app: 'reviews' }, 'reviews'), policy('shop', 'p', {})];
    const matrix = section(TrafficPlan.fromManifests(m, { analyze: false }).toMarkdown(), '## Who may call whom');
    expect(matrix).toContain('| any caller | ✖ |');
    expect(matrix.join('\n')).not.toContain('No service runs workloads');
  });

  test('a caller a DENY singles out is refused in the matrix, not given what any caller has', () => {
    const m = [
      service('shop', 'reviews', { app: 'reviews' }), deployment('shop', 'reviews', { app: 'reviews' }, 'reviews'),
      deployment('shop', 'frontend', { app: 'frontend' }, 'frontend'),
      policy('shop', 'no-frontend', { selector: { matchLabels: { app: 'reviews' } }, action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/frontend'] } }] }] }),
    ];
    const matrix = section(TrafficPlan.fromManifests(m, { analyze: false }).toMarkdown(), '## Who may call whom');
    expect(row(matrix, 'any caller')).toEqual(['any caller', 'open']);
    expect(row(matrix, 'shop/frontend (sa frontend)')).toEqual(['shop/frontend (sa frontend)', '✖']);
  });

  test('the egress allow-list', () => {
    const egress = section(plan, '## Egress allow-list');
    expect(egress).toContain('Outbound traffic policy: shop `REGISTRY_ONLY` (REGISTRY_ONLY: only the hosts below and in-mesh services are reachable).');
    expect(row(egress, 'api.psp.example')).toEqual([
      'api.psp.example', 'TLS 443', 'DNS', 'through istio-system/istio-egressgateway', 'shop', 'shop/payments (sa payments)', 'ServiceEntry shop/psp',
    ]);
  });

  test('findings: the mesh analysis of the same manifests', () => {
    const broken = [...shopManifests()];
    const orders = broken.find(m => m.kind === 'VirtualService' && m.metadata.name === 'orders');
    orders.spec.http[0].route[0].destination.subset = 'v9';
    const findings = section(TrafficPlan.fromManifests(broken).toMarkdown(), '## Analysis findings');
    expect(findings.find(l => l.includes('v9'))).toMatch(/^\| Error \| IST0101 ReferencedResourceNotFound \| VirtualService shop\/orders \| .*v9/);
    expect(section(plan, '## Analysis findings')[2]).toBe('No findings.');
  });

  test('findings: given, or not run', () => {
    expect(section(TrafficPlan.fromManifests(shopManifests(), { analyze: false }).toMarkdown(), '## Analysis findings')).toEqual([
      '## Analysis findings', '', 'Analysis was not run.', '',
    ]);
    expect(TrafficPlan.fromManifests([], { findings: [] }).toMarkdown()).toContain('## Analysis findings\n\nNo findings.');
    const finding = (level: AnalysisLevel, code: string, message: string, resource = '') => ({ level, code, name: 'Name', message, resource, analyzer: 'a' });
    const withFindings = TrafficPlan.fromManifests([], {
      title: 'Release 42',
      findings: [
        finding(AnalysisLevel.INFO, 'I1', 'fyi'),
        { ...finding(AnalysisLevel.ERROR, 'E1', 'subset v3 | undefined', 'VirtualService shop/orders'), constructPath: 'shop/Orders' },
        finding(AnalysisLevel.WARNING, 'W1', 'retries on POST'),
      ],
    }).toMarkdown();
    expect(withFindings.startsWith('# Release 42\n')).toBe(true);
    expect(section(withFindings, '## Analysis findings').slice(4)).toEqual([
      '| Error | E1 Name | VirtualService shop/orders (shop/Orders) | subset v3 \\| undefined |',
      '| Warning | W1 Name |  | retries on POST |',
      '| Info | I1 Name |  | fyi |',
      '',
    ]);
  });

  test('empty manifests', () => {
    const empty = TrafficPlan.fromManifests([]).toMarkdown();
    expect(empty).toMatchSnapshot();
    expect(empty).toContain('No Services.');
    expect(empty).toContain('No ServiceEntries: no external hosts are declared.');
  });

  test('a service whose policies differ by caller namespace', () => {
    const m = [
      service('a', 'api', { app: 'api' }),
      deployment('a', 'api', { app: 'api' }, 'api'),
      deployment('b', 'job', { app: 'job' }, 'job'),
      policy('a', 'from-b', { rules: [{ from: [{ source: { namespaces: ['b', 'c'] } }] }] }),
    ];
    const matrix = section(TrafficPlan.fromManifests(m).toMarkdown(), '## Who may call whom');
    expect(row(matrix, 'b/job (sa job)')).toEqual(['b/job (sa job)', '✅']);
    expect(row(matrix, 'any workload in c')).toEqual(['any workload in c', '✅']);
    expect(row(matrix, 'a/api (sa api)')).toEqual(['a/api (sa api)', '✖']);
  });

  test('every kind of match and route behaviour is spelled out', () => {
    const vs = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'api', namespace: 'a' },
      spec: {
        hosts: ['api'],
        http: [
          {
            name: 'rich',
            match: [{
              uri: { prefix: '/v1' },
              method: { exact: 'GET' },
              authority: { regex: 'api\\..*' },
              scheme: { exact: 'https' },
              withoutHeaders: { 'x-debug': {} },
              queryParams: { beta: { exact: '1' } },
              port: 8080,
              sourceLabels: { app: 'web' },
              sourceNamespace: 'web',
            }],
            route: [{ destination: { host: 'api' } }],
            retries: { attempts: 0 },
            fault: { delay: { fixedDelay: '2s', percentage: { value: 10 } }, abort: { httpStatus: 503 } },
          },
          { name: 'old', match: [{ uri: { exact: '/old' } }], redirect: { uri: '/new' } },
          { name: 'gone', match: [{ uri: { exact: '/gone' } }], directResponse: { status: 410 } },
          { name: 'team', match: [{ uri: { prefix: '/team' } }], delegate: { name: 'team-routes' }, rewrite: { uri: '/' } },
        ],
        tcp: [{ match: [{ port: 9000, destinationSubnets: ['10.0.0.0/8'] }], route: [{ destination: { host: 'api', port: { number: 9000 } } }] }],
      },
    };
    const md = TrafficPlan.fromManifests([service('a', 'api', { app: 'api' }), vs]).toMarkdown();
    const routes = section(md, '### a/api');
    expect(row(routes, '1')).toEqual(['1', 'rich',
      'path ^= /v1 & method = GET & authority ~ api\\..* & scheme = https & no header x-debug present & query beta = 1 & port 8080'
      + ' & source app=web & source namespace web',
      // An abort without a percentage aborts no request (istio#36303).
      'a/api 100%', '', 'no retries<br>fault: delay 2s for 10%<br>fault: abort 503 for 0%']);
    expect(row(routes, '2').slice(1)).toEqual(['old', 'path = /old', '-', '', 'redirect to /new']);
    expect(row(routes, '3').slice(1)).toEqual(['gone', 'path = /gone', '-', '', 'direct response 410']);
    expect(row(routes, '4').slice(1)).toEqual(['team', 'path ^= /team', '-', '', 'rewrite /<br>delegate to a/team-routes']);
    expect(row(routes, '5').slice(1)).toEqual(['(tcp)', 'port 9000 & destination 10.0.0.0/8', 'a/api:9000 100%', '', '']);
  });

  test('ambient egress: a ServiceEntry using a waypoint, and a policy attached to it', () => {
    const m = [
      deployment('pay', 'checkout', { app: 'checkout' }, 'checkout'),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'ServiceEntry',
        metadata: { name: 'stripe', namespace: 'pay', labels: { 'istio.io/use-waypoint': 'egress' } },
        spec: { hosts: ['api.stripe.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'DNS' },
      },
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'egress', namespace: 'pay' },
        spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
      },
      policy('pay', 'stripe', {
        targetRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'stripe' }],
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/pay/sa/checkout'] } }], to: [{ operation: { methods: ['POST'] } }] }],
      }),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'stripe', namespace: 'pay' },
        spec: { host: 'api.stripe.com', trafficPolicy: { tls: { mode: 'SIMPLE' } } },
      },
    ];
    const md = TrafficPlan.fromManifests(m).toMarkdown();
    expect(row(section(md, '## Egress allow-list'), 'api.stripe.com')).toEqual([
      'api.stripe.com', 'TLS 443', 'DNS', 'through pay/egress, TLS originated by the mesh', 'all namespaces',
      'pay/checkout (sa checkout) if POST', 'ServiceEntry pay/stripe',
    ]);
    expect(row(section(md, '## Gateways'), 'pay/egress')).toEqual(['pay/egress', 'waypoint', 'Gateway pay/egress (istio-waypoint)', 'HBONE 15008: *', 'egress to api.stripe.com']);
  });

  test('fromApp', () => {
    const app = new App({ outdir: Testing.app().outdir });
    new Mesh(app, 'Mesh');
    const chart = new Chart(app, 'shop', { namespace: 'shop' });
    new CanaryService(chart, 'Reviews', {
      versions: [{ name: 'v1', image: 'reviews:1' }, { name: 'v2', image: 'reviews:2' }],
      weights: { v1: 95, v2: 5 },
      resources: { cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(100) } },
    });
    const md = TrafficPlan.fromApp(app, { title: 'Reviews' }).toMarkdown();
    expect(md).toContain('| 1 | split | every request | shop/reviews v1 95%<br>shop/reviews v2 5% |  | retries 2 (Istio\'s default) |');
    expect(md).toContain('## Analysis findings\n\nNo findings.');
  });

  test('fromApp uses the app\'s MeshAnalysis, whose findings name constructs', () => {
    const app = new App({ outdir: Testing.app().outdir });
    const chart = new Chart(app, 'shop', { namespace: 'shop' });
    new MeshAnalysis(app, 'Analysis', { failOn: AnalysisLevel.ERROR, printFrom: AnalysisLevel.ERROR });
    new ApiObject(chart, 'Web', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', annotations: { 'networking.istio.io/bogus': 'x' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] },
    });
    const md = TrafficPlan.fromApp(app).toMarkdown();
    expect(md).toMatch(/\| Warning \| IST0108 UnknownAnnotation \| Service shop\/web \(shop\/Web\) \|/);
  });

  test.each(exampleNames)('example %s', name => {
    const manifests = synthExample(name);
    const md = TrafficPlan.fromManifests(manifests).toMarkdown();
    expect(md).toMatchSnapshot();
    expect(TrafficPlan.fromManifests([...manifests].reverse()).toMarkdown()).toBe(md);
    for (const s of manifests.filter(m => m.kind === 'Service' && !m.spec.selector?.version)) {
      expect(md).toContain(`### ${s.metadata.namespace}/${s.metadata.name}`);
    }
    for (const se of manifests.filter(m => m.kind === 'ServiceEntry')) {
      for (const host of se.spec.hosts) expect(md).toContain(`| ${host} |`);
    }
  });
});

describe('TrafficPlan: as Istio reads the routes', () => {
  test('VirtualService weights are relative, a lone destination takes everything', () => {
    const vs = virtualService('a', 'r', {
      hosts: ['api'],
      http: [
        { name: 'h', match: [{ headers: { x: { exact: '1' } } }], route: [{ destination: { host: 'api' }, weight: 50 }] },
        { name: 'split', route: [{ destination: { host: 'api', subset: 'v1' }, weight: 1 }, { destination: { host: 'api', subset: 'v2' }, weight: 3 }] },
      ],
    });
    const routes = section(TrafficPlan.fromManifests([service('a', 'api', { app: 'api' }), vs]).toMarkdown(), '### a/api');
    expect(row(routes, '1')[3]).toBe('a/api 100%');
    expect(row(routes, '2')[3]).toBe('a/api 25%<br>a/api 75%');
  });

  test('HTTPRoute rules in Istio\'s order (longest prefix first), gRPC methods spelled out, versions of versions and bare Pods', () => {
    const serviceRoute = (kind: string, name: string, parent: string, rules: any[]) => ({
      apiVersion: 'gateway.networking.k8s.io/v1', kind, metadata: { name, namespace: 'shop' }, spec: { parentRefs: [{ group: '', kind: 'Service', name: parent }], rules },
    });
    const m = [
      service('shop', 'ratings', { app: 'ratings' }), deployment('shop', 'ratings', { app: 'ratings' }, 'ratings'),
      service('shop', 'ratings-v2', { app: 'ratings', version: 'v2' }), service('shop', 'ratings-v2-canary', { app: 'ratings', version: 'v2', track: 'canary' }),
      serviceRoute('HTTPRoute', 'ratings', 'ratings', [
        { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'ratings', port: 8080 }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: 'ratings-v2', port: 8080 }] },
      ]),
      serviceRoute('HTTPRoute', 'canary', 'ratings-v2', [{ backendRefs: [{ name: 'ratings-v2-canary', port: 8080 }] }]),
      service('shop', 'grpc', { app: 'grpc' }),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'grpc', namespace: 'shop', labels: { app: 'grpc' } }, spec: { containers: [{ name: 'c', image: 'grpc:1' }] } },
      serviceRoute('GRPCRoute', 'grpc', 'grpc', [
        { matches: [{ method: { service: 'shop.Cart', method: 'Add' } }], backendRefs: [{ name: 'grpc', port: 8080 }] },
      ]),
    ];
    const md = TrafficPlan.fromManifests(m, { analyze: false }).toMarkdown();
    const ratings = section(md, '### shop/ratings');
    expect(row(ratings, '1')[2]).toBe('path ^= /api');
    expect(row(ratings, '2')[2]).toBe('path ^= /');
    expect(section(md, '### shop/grpc').join('\n')).toContain('grpc shop.Cart/Add');
  });

  test('a rule without matches ranks as the CRD\'s default match (any path under /): ahead of an equal match listed after it', () => {
    const route = (rules: any[]) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'ratings', namespace: 'shop' },
      spec: { parentRefs: [{ group: '', kind: 'Service', name: 'ratings' }], rules },
    });
    const base = [service('shop', 'ratings', { app: 'ratings' }), service('shop', 'ratings-v2', { app: 'ratings', version: 'v2' })];
    const plan = (rules: any[]) => section(TrafficPlan.fromManifests([...base, route(rules)], { analyze: false }).toMarkdown(), '### shop/ratings');
    const all = { backendRefs: [{ name: 'ratings', port: 8080 }] };
    const prefix = { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'ratings-v2', port: 8080 }] };
    const header = { matches: [{ headers: [{ name: 'x-beta', value: '1' }] }], backendRefs: [{ name: 'ratings-v2', port: 8080 }] };
    expect([row(plan([all, prefix]), '1')[3], row(plan([all, prefix]), '2')[3]]).toEqual(['shop/ratings:8080 100%', 'shop/ratings v2:8080 100%']);
    expect(row(plan([all, header]), '1')[3]).toBe('shop/ratings v2:8080 100%');
  });
});

test('who may call: a waypoint of another namespace chosen by the Namespace\'s labels enforces the rules (ServiceAccount named after it)', () => {
  const m = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'wp', 'istio.io/use-waypoint-namespace': 'infra' } } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'front', labels: { 'istio.io/dataplane-mode': 'ambient' } } },
    service('shop', 'reviews', { app: 'reviews' }), deployment('shop', 'reviews', { app: 'reviews' }, 'reviews'), deployment('front', 'frontend', { app: 'frontend' }, 'frontend'),
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'wp', namespace: 'infra' }, spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } },
    policy('infra', 'reviews-api', {
      targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'wp' }],
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/front/sa/frontend'] } }], to: [{ operation: { paths: ['/api/*'] } }] }],
    }),
  ];
  const matrix = section(TrafficPlan.fromManifests(m, { analyze: false }).toMarkdown(), '## Who may call whom');
  expect(row(matrix, 'front/frontend (sa frontend)')).toEqual(['front/frontend (sa frontend)', '⚠️ 1']);
  expect(matrix).toContain('1. front/frontend (sa frontend) → shop/reviews: /api/* (infra/reviews-api)');
  expect(row(matrix, 'infra/wp (sa wp)')).toBeDefined();
});

test('who may call: a dry-run policy decides nothing, so the service stays open', () => {
  const m = [
    service('shop', 'reviews', { app: 'reviews' }), deployment('shop', 'reviews', { app: 'reviews' }, 'reviews'), deployment('shop', 'frontend', { app: 'frontend' }, 'frontend'),
    {
      ...policy('shop', 'reviews-allow', { selector: { matchLabels: { app: 'reviews' } }, rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/frontend'] } }] }] }),
      metadata: { name: 'reviews-allow', namespace: 'shop', annotations: { 'istio.io/dry-run': 'true' } },
    },
  ];
  const matrix = section(TrafficPlan.fromManifests(m, { analyze: false }).toMarkdown(), '## Who may call whom');
  expect(row(matrix, 'any caller')).toEqual(['any caller', 'open']);
});
