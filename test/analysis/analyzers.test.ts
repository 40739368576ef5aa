import * as fs from 'fs';
import * as path from 'path';
import { AnalysisLevel, AnalysisMeshConfig, AnalyzerStatus, AnalyzeOptions, MeshAnalyzer } from '../../src';

const CODES = path.resolve(__dirname, '..', '..', '..', 'shared', 'istio-testdata', 'analysis', 'message-codes.json');

const ns = (name: string, labels: { [k: string]: string } = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const svc = (name: string, namespace: string, extra: any = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace, ...extra.metadata },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});
const deploy = (name: string, namespace: string, serviceAccountName = name) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { serviceAccountName, containers: [{ name, image: name }] } },
  },
});
const ap = (name: string, namespace: string, spec: any) => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec });
const pa = (name: string, namespace: string, spec: any) => ({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace }, spec });
const dr = (name: string, namespace: string, spec: any) => ({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace }, spec });
const vs = (name: string, namespace: string, spec: any) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace }, spec });

function findings(manifests: any[], analyzer: string, options: AnalyzeOptions = {}): string[] {
  return MeshAnalyzer.analyze(manifests, { ...options, analyzers: [analyzer] }).findings.map(f => `${f.code} ${f.resource}: ${f.message}`);
}

describe('message types', () => {
  test("Istio's codes, names and levels are Istio's; this library's codes are CIS", () => {
    const istio: any[] = JSON.parse(fs.readFileSync(CODES, 'utf8'));
    for (const t of MeshAnalyzer.messageTypes()) {
      if (t.code.startsWith('CIS')) continue;
      expect(istio.find(i => i.name === t.name)).toEqual(expect.objectContaining({ code: t.code, level: t.level }));
    }
    expect(MeshAnalyzer.messageTypes().filter(t => t.code.startsWith('CIS')).map(t => t.code))
      .toEqual(['CIS0001', 'CIS0002', 'CIS0003', 'CIS0004', 'CIS0005']);
  });
});

describe('cdk8s-istio.MtlsConflictAnalyzer (CIS0001)', () => {
  const base = [ns('shop'), svc('reviews', 'shop'), deploy('reviews', 'shop')];

  test('TLS DISABLE towards workloads that require mTLS', () => {
    const m = [...base, pa('strict', 'shop', { mtls: { mode: 'STRICT' } }), dr('reviews', 'shop', { host: 'reviews', trafficPolicy: { tls: { mode: 'DISABLE' } } })];
    expect(findings(m, 'cdk8s-istio.MtlsConflictAnalyzer')).toEqual([expect.stringMatching(
      /^CIS0001 DestinationRule shop\/reviews: DestinationRule shop\/reviews sets TLS mode DISABLE for reviews, but PeerAuthentication shop\/strict sets mTLS mode STRICT on Deployment shop\/reviews/)]);
  });

  test('ISTIO_MUTUAL towards a port whose mTLS is disabled; the mesh-wide mode applies otherwise', () => {
    const m = [...base,
      pa('mesh', 'istio-system', { mtls: { mode: 'STRICT' } }),
      pa('reviews', 'shop', { selector: { matchLabels: { app: 'reviews' } }, portLevelMtls: { 8080: { mode: 'DISABLE' } } }),
      dr('reviews', 'shop', { host: 'reviews.shop.svc.cluster.local', trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, tls: { mode: 'ISTIO_MUTUAL' } }] } })];
    expect(findings(m, 'cdk8s-istio.MtlsConflictAnalyzer')).toEqual([expect.stringMatching(/sets TLS mode ISTIO_MUTUAL for reviews.shop.svc.cluster.local port 80, but PeerAuthentication shop\/reviews sets mTLS mode DISABLE/)]);
  });

  test('agreeing modes, and PERMISSIVE, are fine', () => {
    expect(findings([...base, pa('p', 'shop', { mtls: { mode: 'PERMISSIVE' } }), dr('reviews', 'shop', { host: 'reviews', trafficPolicy: { tls: { mode: 'DISABLE' } } })],
      'cdk8s-istio.MtlsConflictAnalyzer')).toEqual([]);
    expect(findings([...base, pa('p', 'shop', { mtls: { mode: 'STRICT' } }), dr('reviews', 'shop', { host: 'reviews', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } })],
      'cdk8s-istio.MtlsConflictAnalyzer')).toEqual([]);
  });

  test('without any PeerAuthentication the analyzer says what it assumed', () => {
    const report = MeshAnalyzer.analyze([...base, dr('reviews', 'shop', { host: 'reviews', trafficPolicy: { tls: { mode: 'DISABLE' } } })],
      { analyzers: ['cdk8s-istio.MtlsConflictAnalyzer'] });
    expect(report.analyzers[0]).toEqual(expect.objectContaining({ status: AnalyzerStatus.LIMITED, reason: expect.stringMatching(/assumed PERMISSIVE/) }));
  });
});

describe('cdk8s-istio.RegexAnalyzer (CIS0002)', () => {
  const route = (match: any) => vs('r', 'shop', { hosts: ['r'], http: [{ match: [match], route: [{ destination: { host: 'r' } }] }] });

  test.each([
    [{ uri: { regex: '/api/(?=v1)' } }, /uri regular expression invalid: "\/api\/\(\?=v1\)" \(lookaround assertions are not supported by RE2\)/],
    [{ headers: { 'x-id': { regex: '([a-z]+' } } }, /headers\.x-id regular expression invalid: "\(\[a-z\]\+" \(.*Unterminated group/],
    [{ queryParams: { v: { regex: '(a)\\1' } } }, /backreferences are not supported by RE2/],
  ])('%j is invalid', (match, message) => {
    expect(findings([route(match)], 'cdk8s-istio.RegexAnalyzer')).toEqual([expect.stringMatching(message)]);
  });

  test.each([['^/api/(v1|v2)/.*$'], ['(?i)^/API'], ['(?P<version>v[0-9]+)'], ['\\Q/a.b\\E.*'], ['[[:alpha:]]+\\z'],
    // Literal characters: in a class, escaped, or an octal code.
    ['^[0-9*+]+$'], ['^\\(?=$'], ['a\\12b']])('%s is valid RE2', regex => {
    expect(findings([route({ uri: { regex } })], 'cdk8s-istio.RegexAnalyzer')).toEqual([]);
  });
});

describe('cdk8s-istio.AmbientWaypointAnalyzer (CIS0003, CIS0004)', () => {
  const ambient = ns('shop', { 'istio.io/dataplane-mode': 'ambient' });
  const l7 = { rules: [{ to: [{ operation: { methods: ['GET'], paths: ['/api/*'] } }] }] };

  test('an L7 policy bound with a selector to ambient workloads', () => {
    const m = [ambient, svc('reviews', 'shop'), deploy('reviews', 'shop'), ap('l7', 'shop', { selector: { matchLabels: { app: 'reviews' } }, ...l7 })];
    expect(findings(m, 'cdk8s-istio.AmbientWaypointAnalyzer')).toEqual([expect.stringMatching(
      /^CIS0003 AuthorizationPolicy shop\/l7: The policy uses L7 attributes \(to\.operation\.methods, to\.operation\.paths\) but binds to ambient workloads with a selector/)]);
  });

  test('an L7 policy targeting a Service no waypoint serves, and a mesh route to it', () => {
    const m = [ambient, svc('reviews', 'shop'), deploy('reviews', 'shop'),
      ap('l7', 'shop', { targetRefs: [{ kind: 'Service', group: '', name: 'reviews' }], ...l7 }),
      vs('reviews', 'shop', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] })];
    expect(findings(m, 'cdk8s-istio.AmbientWaypointAnalyzer')).toEqual([
      expect.stringMatching(/^CIS0003 AuthorizationPolicy shop\/l7: The policy targets Service shop\/reviews with L7 attributes/),
      expect.stringMatching(/^CIS0004 VirtualService shop\/reviews: The route applies to mesh traffic for Service shop\/reviews, but namespace shop is in ambient mode/),
    ]);
  });

  test('a waypoint makes both effective; a waypoint label naming no Gateway is a missing reference', () => {
    const waypointNs = ns('shop', { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'waypoint' });
    const waypoint = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'waypoint', namespace: 'shop' },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    };
    const rest = [svc('reviews', 'shop'), deploy('reviews', 'shop'), ap('l7', 'shop', { targetRefs: [{ kind: 'Service', group: '', name: 'reviews' }], ...l7 }),
      vs('reviews', 'shop', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] })];
    expect(findings([waypointNs, waypoint, ...rest], 'cdk8s-istio.AmbientWaypointAnalyzer')).toEqual([]);
    const otherGateway = { ...waypoint, metadata: { name: 'other', namespace: 'shop' } };
    expect(findings([waypointNs, otherGateway, ...rest], 'cdk8s-istio.AmbientWaypointAnalyzer')).toEqual([
      expect.stringMatching(/^IST0101 Service shop\/reviews: Referenced waypoint not found: "shop\/waypoint"/),
    ]);
  });

  test('sidecar namespaces are not ambient', () => {
    const m = [ns('shop', { 'istio-injection': 'enabled' }), svc('reviews', 'shop'), deploy('reviews', 'shop'),
      ap('l7', 'shop', { selector: { matchLabels: { app: 'reviews' } }, ...l7 })];
    expect(findings(m, 'cdk8s-istio.AmbientWaypointAnalyzer')).toEqual([]);
  });
});

describe('cdk8s-istio.DenyByDefaultAnalyzer (CIS0005)', () => {
  const base = [ns('shop', { 'istio-injection': 'enabled' }), svc('reviews', 'shop'), deploy('reviews', 'shop'), deploy('batch', 'shop')];

  test('a Service-backed workload that only allow-nothing policies apply to', () => {
    expect(findings([...base, ap('deny-all', 'shop', {})], 'cdk8s-istio.DenyByDefaultAnalyzer')).toEqual([expect.stringMatching(
      /^CIS0005 Deployment shop\/reviews: Deployment shop\/reviews is behind Service shop\/reviews, but the only ALLOW policies that apply to it \(shop\/deny-all\) allow nothing/)]);
  });

  test('mesh-wide deny-all in the root namespace counts too', () => {
    expect(findings([...base, ap('deny-all', 'istio-system', {})], 'cdk8s-istio.DenyByDefaultAnalyzer')).toHaveLength(1);
  });

  test('an ALLOW policy with rules admits the workload', () => {
    const allow = ap('allow-frontend', 'shop', { selector: { matchLabels: { app: 'reviews' } }, rules: [{ from: [{ source: { namespaces: ['shop'] } }] }] });
    expect(findings([...base, ap('deny-all', 'shop', {}), allow], 'cdk8s-istio.DenyByDefaultAnalyzer')).toEqual([]);
  });
});

describe('cdk8s-istio.PrincipalAnalyzer', () => {
  const base = [ns('shop'), svc('reviews', 'shop'), deploy('reviews', 'shop'), deploy('frontend', 'shop', 'frontend-sa')];
  const from = (principal: string) => ap('allow', 'shop', { selector: { matchLabels: { app: 'reviews' } }, rules: [{ from: [{ source: { principals: [principal] } }] }] });

  test('a principal naming a service account no workload of its namespace runs as', () => {
    expect(findings([...base, from('cluster.local/ns/shop/sa/frontend')], 'cdk8s-istio.PrincipalAnalyzer')).toEqual([expect.stringMatching(
      /^IST0101 AuthorizationPolicy shop\/allow: Referenced service account not found: "cluster.local\/ns\/shop\/sa\/frontend" \(rules\[0\]\.from\[0\]\.source\.principals\)/)]);
    expect(findings([...base, from('cluster.local/ns/shop/sa/frontend-sa')], 'cdk8s-istio.PrincipalAnalyzer')).toEqual([]);
    expect(findings([...base, from('cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account')], 'cdk8s-istio.PrincipalAnalyzer')).toEqual([]);
  });

  test("namespaces the manifests do not hold are other apps': not checked unless the manifests are complete", () => {
    const m = [...base, from('cluster.local/ns/payments/sa/api')];
    const report = MeshAnalyzer.analyze(m, { analyzers: ['cdk8s-istio.PrincipalAnalyzer'] });
    expect(report.findings).toEqual([]);
    expect(report.analyzers[0].status).toBe(AnalyzerStatus.LIMITED);
    expect(findings(m, 'cdk8s-istio.PrincipalAnalyzer', { inputsAreComplete: true })).toEqual([expect.stringMatching(/Referenced namespace not found: "payments"/)]);
  });
});

describe('inputs', () => {
  test('List objects are expanded and unnamespaced objects take the default namespace', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [svc('reviews', undefined as any), dr('reviews', undefined as any, { host: 'reviews.prod.svc.cluster.local' })] };
    expect(findings([list], 'destinationrule.PodNotSelectedAnalyzer', { defaultNamespace: 'prod' })).toEqual([]);
    expect(findings([list], 'destinationrule.PodNotSelectedAnalyzer', { inputsAreComplete: true })).toEqual([
      expect.stringMatching(/^IST0174 DestinationRule reviews: DestinationRule for host "reviews.prod.svc.cluster.local" has no effect/),
    ]);
  });

  test("references into namespaces the manifests do not hold are other apps': not checked unless the manifests are complete", () => {
    // GIVEN a VirtualService in shop routing to a payments service, through a platform Gateway, to a subset
    const m = [svc('reviews', 'shop'), dr('reviews', 'shop', { host: 'reviews', subsets: [{ name: 'v1' }] }),
      { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'shop', namespace: 'shop' }, spec: { selector: { istio: 'ingressgateway' } } },
      vs('checkout', 'shop', {
        hosts: ['checkout.example.com'],
        gateways: ['platform/public'],
        http: [{ route: [{ destination: { host: 'api.payments.svc.cluster.local', subset: 'stable' } }] }],
      })];
    const report = MeshAnalyzer.analyze(m);
    expect(report.findings).toEqual([]);
    expect(Object.fromEntries(report.incompleteAnalyzers().map(a => [a.name, a.reason]))).toEqual(expect.objectContaining({
      'virtualservice.DestinationHostAnalyzer': '1 destination in namespaces the manifests do not hold not checked',
      'virtualservice.DestinationRuleAnalyzer': '1 subset reference to services in namespaces the manifests do not hold not checked',
      'virtualservice.GatewayAnalyzer': '1 gateway reference into namespaces the manifests do not hold not checked',
    }));
    // WHEN the manifests are declared complete THEN each reference is missing
    expect(MeshAnalyzer.analyze(m, { inputsAreComplete: true }).findings.map(f => f.message)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^Referenced gateway not found: "platform\/public"/),
      expect.stringMatching(/^Referenced host not found: "api.payments.svc.cluster.local"/),
      expect.stringMatching(/^Referenced host\+subset not found: "api.payments.svc.cluster.local\+stable"/),
    ]));
    // AND a typo in a namespace the manifests hold is reported either way
    const typo = [...m, vs('reviews', 'shop', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviewz', subset: 'v1' } }] }] })];
    expect(MeshAnalyzer.analyze(typo).findings.map(f => f.message)).toEqual([
      expect.stringMatching(/^Referenced host not found: "reviewz"/),
      expect.stringMatching(/^Referenced host\+subset not found: "reviewz\+v1"/),
    ]);
  });

  test('the report lists each analyzer with its status', () => {
    const report = MeshAnalyzer.analyze([vs('r', 'shop', { hosts: ['r'], gateways: ['gw'], http: [{ route: [{ destination: { host: 'r', subset: 'v1' } }] }] })]);
    const status = Object.fromEntries(report.analyzers.map(a => [a.name, a.status]));
    expect(status['virtualservice.GatewayAnalyzer']).toBe(AnalyzerStatus.SKIPPED);
    expect(status['virtualservice.DestinationHostAnalyzer']).toBe(AnalyzerStatus.LIMITED);
    expect(status['gateway.ConflictingGatewayAnalyzer']).toBe(AnalyzerStatus.RAN);
    expect(report.analyzers).toHaveLength(MeshAnalyzer.analyzerNames().length);
    expect(report.toText()).toMatch(/virtualservice\.GatewayAnalyzer skipped: no Gateway in the manifests: 1 gateway reference not checked/);
  });

  test("unnamed ports are TCP on Istio's well-known ports only (SMTP, DNS, MySQL, MongoDB)", () => {
    const port = (name: string, n: number) => ({ ...svc(name, 'shop'), spec: { selector: { app: name }, ports: [{ name: 'x', port: n }] } });
    const flagged = findings([ns('shop', { 'istio-injection': 'enabled' }), port('mail', 25), port('dns', 53), port('db', 3306), port('cache', 6379)], 'service.PortNameAnalyzer');
    expect(flagged.map(f => f.split(':')[0])).toEqual(['IST0118 Service shop/cache']);
  });

  test('a proxy injected as a native sidecar (an init container) counts as the proxy', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { initContainers: [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.30.3', restartPolicy: 'Always' }], containers: [{ name: 'web', image: 'web' }] },
    };
    expect(findings([ns('shop', { 'istio-injection': 'enabled' }), pod], 'injection.Analyzer')).toEqual([]);
    expect(findings([ns('shop', { 'istio-injection': 'enabled' }), { ...pod, spec: { containers: pod.spec.containers } }], 'injection.Analyzer'))
      .toEqual([expect.stringMatching(/^IST0103 Pod shop\/web: The pod shop\/web is missing the Istio proxy/)]);
  });

  test('a gateway Service in the manifests is the one checked, not the stand-in for a gateway installed elsewhere', () => {
    const gatewayService = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'istio-ingressgateway', namespace: 'istio-system' },
      spec: { selector: { istio: 'ingressgateway' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
    };
    const gateway = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: 'default' },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
    };
    expect(MeshAnalyzer.analyze([gatewayService, gateway]).findings.map(f => f.code)).toContain('IST0162');
  });

  test('findingsAtOrAbove filters by level', () => {
    const report = MeshAnalyzer.analyze([svc('legacy', 'shop'), { ...svc('old', 'shop'), spec: { selector: { app: 'old' }, ports: [{ port: 9999 }] } }]);
    expect(report.findingsAtOrAbove(AnalysisLevel.INFO).map(f => f.code)).toEqual(['IST0118']);
    expect(report.findingsAtOrAbove(AnalysisLevel.WARNING)).toEqual([]);
  });

  test('telemetry providers are checked against a given mesh config only', () => {
    const telemetry = {
      apiVersion: 'telemetry.istio.io/v1',
      kind: 'Telemetry',
      metadata: { name: 't', namespace: 'shop' },
      spec: { tracing: [{ providers: [{ name: 'otel' }] }] },
    };
    expect(MeshAnalyzer.analyze([telemetry], { analyzers: ['cdk8s-istio.TelemetryProviderReferenceAnalyzer'] }).analyzers[0].status).toBe(AnalyzerStatus.SKIPPED);
    const meshConfig = AnalysisMeshConfig.fromYaml('extensionProviders:\n- name: otel-tracing\n  opentelemetry: {service: otel.obs.svc.cluster.local, port: 4317}\n');
    expect(findings([telemetry], 'cdk8s-istio.TelemetryProviderReferenceAnalyzer', { meshConfig })).toEqual([
      expect.stringMatching(/Referenced provider not found: "otel" \(tracing\): .* use one of envoy, otel-tracing, prometheus, stackdriver/),
    ]);
  });

  test('mesh config from the istio ConfigMap', () => {
    const cm = AnalysisMeshConfig.fromYaml('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio}\ndata:\n  mesh: |\n    rootNamespace: mesh-root\n');
    expect(cm.rootNamespace).toBe('mesh-root');
    expect(() => AnalysisMeshConfig.fromYaml('- a list')).toThrow(/mesh config got \["a list"\]: give a MeshConfig object/);
    // Rendered files with `---` around the ConfigMap, or beside other objects
    const wrapped = AnalysisMeshConfig.fromYaml('---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio}\ndata:\n  mesh: |\n    rootNamespace: mesh-root\n---\n');
    const beside = AnalysisMeshConfig.fromYaml('apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio}\ndata:\n  mesh: |\n    rootNamespace: mesh-root\n');
    expect([wrapped.rootNamespace, beside.rootNamespace]).toEqual(['mesh-root', 'mesh-root']);
  });
});

describe("as Istio's analyzers decide", () => {
  const gateway = (name: string, namespace: string, hosts: string[], selector: any = { istio: 'ingressgateway' }, server: any = {}) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace },
    spec: { selector, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts, ...server }] },
  });
  const pod = (name: string, namespace: string, labels: any, containers: any[] = [{ name: 'istio-proxy', image: 'proxyv2' }]) =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels }, spec: { containers } });

  test("gateway pods the manifests deploy are the gateway's: the installed gateway's stand-in pod is not checked beside them", () => {
    const tls = { port: { number: 443, name: 'https', protocol: 'HTTPS' }, tls: { mode: 'SIMPLE', credentialName: 'tls-cert' } };
    const manifests = [
      ns('ingress'),
      pod('my-gw', 'ingress', { istio: 'ingressgateway' }),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls-cert', namespace: 'ingress' }, type: 'kubernetes.io/tls' },
      gateway('gw', 'ingress', ['a.example.com'], undefined, tls),
    ];
    expect(findings(manifests, 'gateway.SecretAnalyzer')).toEqual([]);
    // Without its own pods, the gateway is the installed one, in istio-system, where the Secret is missing.
    expect(findings(manifests.filter(m => m.kind !== 'Pod'), 'gateway.SecretAnalyzer')).toEqual([expect.stringMatching(/^IST0101 Gateway ingress\/gw/)]);
  });

  test('conflicting gateways: hosts compared as written, and narrower selectors only when a pod carries both', () => {
    expect(findings([gateway('a', 'istio-system', ['team-a/foo.example.com']), gateway('b', 'istio-system', ['team-b/foo.example.com'])],
      'gateway.ConflictingGatewayAnalyzer')).toEqual([]);
    expect(findings([gateway('a', 'istio-system', ['team-a/foo.example.com']), gateway('b', 'istio-system', ['team-a/foo.example.com'])],
      'gateway.ConflictingGatewayAnalyzer')).toHaveLength(2);
    const narrower = [gateway('a', 'istio-system', ['foo.example.com']), gateway('b', 'istio-system', ['foo.example.com'], { istio: 'ingressgateway', tier: 'edge' })];
    expect(findings(narrower, 'gateway.ConflictingGatewayAnalyzer')).toEqual([]);
    expect(findings([...narrower, pod('edge', 'istio-system', { istio: 'ingressgateway', tier: 'edge' })], 'gateway.ConflictingGatewayAnalyzer')).toHaveLength(2);
  });

  test('ServiceEntry addresses: allocated by istiod (PILOT_ENABLE_IP_AUTOALLOCATE) with DNS capture', () => {
    const se = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'db', namespace: 'app' },
      spec: { hosts: ['db.example.com'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }], resolution: 'DNS' },
    };
    const meshConfig = (metadata: any) => AnalysisMeshConfig.fromYaml(`defaultConfig:\n  proxyMetadata: ${JSON.stringify(metadata)}\n`);
    expect(findings([se], 'serviceentry.ProtocolAddressesAnalyzer', { meshConfig: meshConfig({ ISTIO_META_DNS_CAPTURE: 'true', PILOT_ENABLE_IP_AUTOALLOCATE: 'true' }) })).toEqual([]);
    expect(findings([se], 'serviceentry.ProtocolAddressesAnalyzer', { meshConfig: meshConfig({ PILOT_ENABLE_IP_AUTOALLOCATE: 'true' }) })).toHaveLength(1);
  });

  test('a VirtualService bound to the mesh gateway alone is checked for subsets it skips (IST0140)', () => {
    const manifests = [
      vs('r1', 'default', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] }),
      vs('r2', 'default', { hosts: ['x.example.com'], gateways: ['mesh'], http: [{ route: [{ destination: { host: 'reviews' } }] }] }),
    ];
    expect(findings(manifests, 'virtualservice.DestinationHostAnalyzer')).toEqual([expect.stringMatching(/^IST0140 VirtualService default\/r2/)]);
  });

  test('injection labels: any data plane mode counts, the namespace stays injected, and a revision alone does not have pods checked', () => {
    const bare = (namespace: string) => pod('web', namespace, { app: 'web' }, [{ name: 'web', image: 'web' }]);
    expect(findings([ns('a', { 'istio-injection': 'enabled', 'istio.io/dataplane-mode': 'none' }), bare('a')], 'injection.Analyzer').map(f => f.split(':')[0]))
      .toEqual(['IST0123 Namespace a', 'IST0103 Pod a/web']);
    expect(findings([ns('b', { 'istio-injection': 'enabled', 'istio.io/rev': 'canary' }), bare('b')], 'injection.Analyzer').map(f => f.split(':')[0]))
      .toEqual(['IST0123 Namespace b', 'IST0103 Pod b/web']);
    expect(findings([ns('c', { 'istio.io/rev': 'canary' }), bare('c')], 'injection.Analyzer')).toEqual([]);
    expect(findings([ns('d', { 'istio-injection': 'disabled', 'istio.io/rev': 'canary' }), bare('d')], 'injection.Analyzer')).toEqual([]);
  });
});

describe("as Istio's analyzers decide (security)", () => {
  test('source namespaces: the root namespace exists, and other apps\' namespaces are not checked unless the manifests are complete', () => {
    const policy = ap('p', 'shop', { rules: [{ from: [{ source: { namespaces: ['istio-system', 'frontend'] } }] }] });
    const manifests = [ns('shop', { 'istio-injection': 'enabled' }), deploy('reviews', 'shop'), svc('reviews', 'shop'), policy];
    expect(findings(manifests, 'authz.AuthorizationPoliciesAnalyzer')).toEqual([]);
    expect(findings(manifests, 'authz.AuthorizationPoliciesAnalyzer', { inputsAreComplete: true }))
      .toEqual([expect.stringMatching(/^IST0101 AuthorizationPolicy shop\/p: Referenced namespace not found: "frontend"/)]);
  });

  test('principals of the gateways Istio deploys for Gateway API Gateways exist (waypoints as <name>, others as <name>-<class>)', () => {
    const gw = (name: string, cls: string) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace: 'shop' }, spec: { gatewayClassName: cls, listeners: [] } });
    const policy = ap('p', 'shop', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/waypoint', 'cluster.local/ns/shop/sa/web-istio'] } }] }] });
    expect(findings([ns('shop'), deploy('reviews', 'shop'), gw('waypoint', 'istio-waypoint'), gw('web', 'istio'), policy], 'cdk8s-istio.PrincipalAnalyzer')).toEqual([]);
  });

  test('an L7 policy on a workload that keeps a sidecar in an ambient namespace is enforced by the sidecar (no CIS0003)', () => {
    const legacy = deploy('legacy', 'shop');
    legacy.spec.template.metadata.labels = { 'app': 'legacy', 'sidecar.istio.io/inject': 'true' };
    const policy = ap('p', 'shop', { selector: { matchLabels: { app: 'legacy' } }, rules: [{ to: [{ operation: { methods: ['GET'] } }] }] });
    expect(findings([ns('shop', { 'istio.io/dataplane-mode': 'ambient' }), legacy, policy], 'cdk8s-istio.AmbientWaypointAnalyzer')).toEqual([]);
  });

  test('workloads of a namespace injected by revision are in the mesh (no IST0127)', () => {
    const policy = ap('p', 'shop', { selector: { matchLabels: { app: 'reviews' } }, rules: [{}] });
    expect(findings([ns('shop', { 'istio.io/rev': 'stable' }), deploy('reviews', 'shop'), policy], 'authz.AuthorizationPoliciesAnalyzer')).toEqual([]);
    expect(findings([ns('shop', { 'istio.io/rev': 'stable', 'istio-injection': 'disabled' }), deploy('reviews', 'shop'), policy], 'authz.AuthorizationPoliciesAnalyzer'))
      .toEqual([expect.stringMatching(/^IST0127/)]);
  });
});
