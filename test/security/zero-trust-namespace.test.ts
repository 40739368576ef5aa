import { readFileSync } from 'fs';
import { join } from 'path';
import { ApiObject, App, JsonPatch, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { loadAll } from 'js-yaml';
import { RESOURCES, ambientShop, byKind, chart, deployment, one, securityObjects, shop, synth } from './fixtures';
import {
  AuthorizationEvaluator, AuthorizationPolicy, CanaryService, Caller, Condition, DataplaneMode, EgressControl, EgressRoute, FlaggerCanary,
  FlaggerStrategy, Host, Mesh, MigrationPhase, MtlsMode, ResilientUpstream, ServiceEntryResolution, ServiceIdentity, ServicePort, Source,
  UpstreamTls, Waypoint, WorkloadSelector, ZeroTrustNamespace,
} from '../../src';

const BACKEND = { 'cdk8s.io/metadata.addr': 'shop-backend-c8459dcf' };
const FRONTEND = { 'cdk8s.io/metadata.addr': 'shop-frontend-c817fe5a' };
const INGRESS_PRINCIPAL = 'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account';

describe('ZeroTrustNamespace: sidecar mode', () => {
  test('namespace, STRICT mTLS, deny-all, NetworkPolicies, Sidecar and the declared calls', () => {
    // GIVEN
    const { chart: c, frontend, backend } = shop();
    // WHEN
    backend.allowFrom(frontend, { methods: ['GET'], paths: ['/api/*'] });
    frontend.allowFrom(Source.ingressGateway(), { paths: ['/', '/static/*'] });
    // THEN
    const m = synth(c);
    expect(securityObjects(m)).toMatchSnapshot();
    expect(m[0]).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } } });
    expect(one(m, 'PeerAuthentication', 'default').spec).toEqual({ mtls: { mode: 'STRICT' } });
    expect(one(m, 'AuthorizationPolicy', 'deny-all').spec).toEqual({});
    expect(one(m, 'AuthorizationPolicy', 'backend-allow-frontend').spec).toEqual({
      selector: { matchLabels: BACKEND },
      action: 'ALLOW',
      rules: [{
        from: [{ source: { principals: ['cluster.local/ns/shop/sa/frontend'] } }],
        to: [{ operation: { methods: ['GET'], paths: ['/api/*'] } }],
      }],
    });
    expect(one(m, 'AuthorizationPolicy', 'frontend-allow-ingress-gateway').spec.rules).toEqual([{
      from: [{ source: { principals: [INGRESS_PRINCIPAL] } }],
      to: [{ operation: { paths: ['/', '/static/*'] } }],
    }]);
    expect(one(m, 'Sidecar', 'default').spec).toEqual({ egress: [{ hosts: ['./*', 'istio-system/*'] }] });
  });

  test('the Namespace comes before everything that lives in it, wherever the construct is defined', () => {
    // GIVEN a Deployment defined before the ZeroTrustNamespace
    const c = chart();
    deployment(c, 'early');
    new ZeroTrustNamespace(c, 'ZeroTrust');
    // THEN
    const m = synth(c);
    expect(m[0].kind).toBe('Namespace');
    expect(m[0].metadata.namespace).toBeUndefined();
  });

  test('the Namespace also comes before objects defined after it that an earlier object depends on', () => {
    // GIVEN an early ConfigMap that depends on one defined after the ZeroTrustNamespace: cdk8s emits a dependency
    // with its dependant, ahead of its own place in the tree
    const c = chart();
    const early = new ApiObject(c, 'Early', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'early' } });
    new ZeroTrustNamespace(c, 'ZeroTrust');
    const late = new ApiObject(c, 'Late', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } });
    early.node.addDependency(late);
    // THEN
    const names = synth(c).map(o => `${o.kind}/${o.metadata.name}`);
    expect(names.indexOf('Namespace/shop')).toBe(0);
    expect(names.indexOf('ConfigMap/late')).toBeLessThan(names.indexOf('ConfigMap/early'));
  });

  test('the Namespace stays first when objects after it depend on each other', () => {
    // GIVEN a CanaryService after the ZeroTrustNamespace, whose VirtualService depends on its DestinationRule, then
    // a ConfigMap that depends on an object defined before the ZeroTrustNamespace
    const c = chart();
    const before = new ApiObject(c, 'Before', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'before' } });
    new ZeroTrustNamespace(c, 'ZeroTrust');
    new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'reviews:1' }, { name: 'v2', image: 'reviews:2' }], resources: RESOURCES });
    const after = new ApiObject(c, 'After', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after' } });
    after.node.addDependency(before);
    // THEN the Namespace precedes every object of the namespace, and the dependencies still hold
    const names = synth(c).map(o => `${o.kind}/${o.metadata.name}`);
    expect(names[0]).toBe('Namespace/shop');
    expect(names.indexOf('DestinationRule/reviews')).toBeLessThan(names.indexOf('VirtualService/reviews'));
    expect(names.indexOf('ConfigMap/before')).toBeLessThan(names.indexOf('ConfigMap/after'));
  });

  test('the Namespace comes before the objects of a construct an earlier object depends on', () => {
    // GIVEN an object defined before the ZeroTrustNamespace that depends on a whole CanaryService defined after it:
    // cdk8s emits every object of the CanaryService ahead of that object
    const c = chart();
    const early = new ApiObject(c, 'Early', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'early' } });
    new ZeroTrustNamespace(c, 'ZeroTrust');
    const reviews = new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'reviews:1' }], resources: RESOURCES });
    early.node.addDependency(reviews);
    // WHEN synthesized chart by chart, and as `cdk8s synth` writes it (validating before cdk8s resolves dependencies)
    const fromChart = synth(c).map(o => `${o.kind}/${o.metadata.name}`);
    const app = c.node.root as App;
    app.synth();
    const written = loadAll(readFileSync(join(app.outdir, 'shop.k8s.yaml'), 'utf8')).map((o: any) => `${o.kind}/${o.metadata.name}`);
    // THEN
    for (const names of [fromChart, written]) {
      expect(names[0]).toBe('Namespace/shop');
      expect(names.indexOf('Deployment/reviews-v1')).toBeLessThan(names.indexOf('ConfigMap/early'));
    }
  });

  test('NetworkPolicy: default deny, what the mesh needs, and both sides of each declared call', () => {
    const { chart: c, frontend, backend } = shop();
    backend.allowFrom(frontend, { methods: ['GET'], ports: [8080] });
    frontend.allowFrom(Source.ingressGateway(), { paths: ['/'] });
    const m = synth(c);
    expect(one(m, 'NetworkPolicy', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(one(m, 'NetworkPolicy', 'allow-mesh').spec.egress).toEqual([
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { app: 'istiod' } } }], ports: [{ protocol: 'TCP', port: 15012 }] },
    ]);
    // The backend admits the frontend's pods on the rule's port; the frontend may reach the backend's pods there.
    expect(one(m, 'NetworkPolicy', 'backend-allow').spec).toEqual({
      podSelector: { matchLabels: BACKEND },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: { matchLabels: FRONTEND } }], ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'TCP', port: 15008 }] }],
    });
    expect(one(m, 'NetworkPolicy', 'frontend-allow').spec).toEqual({
      podSelector: { matchLabels: FRONTEND },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { istio: 'ingressgateway' } } }] }],
      egress: [{ to: [{ podSelector: { matchLabels: BACKEND } }], ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'TCP', port: 15008 }] }],
    });
  });

  test('calls across ZeroTrustNamespaces: the caller\'s egress and Sidecar host are created too', () => {
    // GIVEN two zero-trust namespaces in one app
    const { chart: c, backend } = shop();
    const web = chart({}, 'web', c.node.scope as any);
    const webZt = new ZeroTrustNamespace(web, 'ZeroTrust');
    const storefront = webZt.addWorkload(deployment(web, 'storefront'));
    // WHEN
    backend.allowFrom(storefront, { methods: ['GET'] });
    backend.allowFrom(Source.namespace('web'), { paths: ['/health'] });
    // THEN the backend admits the storefront's pods in web, and web may reach the backend
    const shopManifests = synth(c);
    expect(one(shopManifests, 'AuthorizationPolicy', 'backend-allow-web-storefront').spec.rules[0].from)
      .toEqual([{ source: { principals: ['cluster.local/ns/web/sa/storefront'] } }]);
    const storefrontPods = storefront.selector.labels;
    expect(one(shopManifests, 'NetworkPolicy', 'backend-allow').spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'web' } }, podSelector: { matchLabels: storefrontPods } }] },
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'web' } } }] },
    ]);
    const webManifests = synth(web);
    const toBackend = { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: { matchLabels: BACKEND } }] };
    expect(one(webManifests, 'NetworkPolicy', 'storefront-allow').spec.egress).toEqual([toBackend]);
    expect(one(webManifests, 'NetworkPolicy', 'allow-mesh').spec.egress).toContainEqual(toBackend);
    expect(one(webManifests, 'Sidecar', 'default').spec.egress[0].hosts).toEqual(['./*', 'istio-system/*', 'shop/*']);
  });

  test('allowEgress opens namespaces and addresses the NetworkPolicy would drop, and adds them to the Sidecar', () => {
    const { chart: c, zt } = shop();
    zt.allowEgress({ namespaces: ['payments'], ports: [8443] });
    zt.allowEgress({ ipBlocks: ['203.0.113.0/24', '198.51.100.7'] });
    zt.allowEgress({ ipBlocks: ['192.0.2.123'], udpPorts: [123] });
    const m = synth(c);
    expect(one(m, 'NetworkPolicy', 'allow-mesh').spec.egress.slice(2)).toEqual([
      // HBONE too: ztunnel, and a sidecar calling an ambient pod, connect on 15008.
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } } }], ports: [{ protocol: 'TCP', port: 8443 }, { protocol: 'TCP', port: 15008 }] },
      { to: [{ ipBlock: { cidr: '203.0.113.0/24' } }, { ipBlock: { cidr: '198.51.100.7/32' } }] },
      { to: [{ ipBlock: { cidr: '192.0.2.123/32' } }], ports: [{ protocol: 'UDP', port: 123 }] },
    ]);
    expect(() => zt.allowEgress({ ipBlocks: ['192.0.2.53'], udpPorts: [70000] })).toThrow(/udpPorts\[0\] got 70000: use a port from 1 to 65535/);
    expect(one(m, 'Sidecar', 'default').spec.egress[0].hosts).toEqual(['./*', 'istio-system/*', 'payments/*']);
  });

  test('metrics scrapers are admitted to the proxies\' metrics ports', () => {
    const { chart: c } = shop({}, { metricsScraperNamespaces: ['monitoring'] });
    expect(one(synth(c), 'NetworkPolicy', 'allow-mesh').spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      ports: [{ protocol: 'TCP', port: 15020 }, { protocol: 'TCP', port: 15090 }],
    }]);
  });

  test('defence in depth can be switched off, by name', () => {
    const { chart: c } = shop({}, { networkPolicy: false, limitSidecarEgress: false });
    const m = synth(c);
    expect(byKind(m, 'NetworkPolicy')).toEqual([]);
    expect(byKind(m, 'Sidecar')).toEqual([]);
  });

  test('the generated children are exposed', () => {
    const { zt, backend, frontend } = shop();
    const policy = backend.allowFrom(frontend);
    expect(zt.namespace.kind).toBe('Namespace');
    expect(zt.namespaceName).toBe('shop');
    expect(zt.peerAuthentication.mode).toBe(MtlsMode.STRICT);
    expect(zt.denyAll.name).toBe('deny-all');
    expect(zt.networkPolicy?.name).toBe('default-deny');
    expect(zt.meshNetworkPolicy?.name).toBe('allow-mesh');
    expect(zt.sidecar?.name).toBe('default');
    expect(zt.waypoint).toBeUndefined();
    expect(zt.usesWaypoint).toBe(false);
    expect(zt.workloads).toEqual([frontend, backend]);
    expect(policy.name).toBe('backend-allow-frontend');
    expect(policy.dryRun).toBe(false);
    expect(backend.networkPolicy?.name).toBe('backend-allow');
    expect(backend.identity?.serviceAccountName).toBe('backend');
    expect(ApiObject.of(policy).kind).toBe('AuthorizationPolicy');
  });

  test('several sources, operations and conditions in one rule keep their AND/OR structure', () => {
    const { chart: c, frontend, backend } = shop();
    backend.allow({
      from: [frontend, Source.namespace('reporting', { requestPrincipals: ['https://auth.example.com/*'] })],
      to: [{ methods: ['GET'], paths: ['/api/*'] }, { methods: ['POST'], paths: ['/api/orders'] }],
      when: [Condition.requestHeader('x-tenant', { values: ['acme'] })],
    }, { name: 'backend-readers' });
    backend.requireJwt({ issuer: 'https://auth.example.com' });
    const spec = one(synth(c), 'AuthorizationPolicy', 'backend-readers').spec;
    expect(spec.rules).toEqual([{
      // OR: two sources; AND: the namespace and the JWT principal of the second
      from: [
        { source: { principals: ['cluster.local/ns/shop/sa/frontend'] } },
        { source: { namespaces: ['reporting'], requestPrincipals: ['https://auth.example.com/*'] } },
      ],
      to: [
        { operation: { methods: ['GET'], paths: ['/api/*'] } },
        { operation: { methods: ['POST'], paths: ['/api/orders'] } },
      ],
      when: [{ key: 'request.headers[x-tenant]', values: ['acme'] }],
    }]);
  });

  test('DENY rules, and names kept unique', () => {
    const { chart: c, frontend, backend } = shop();
    backend.denyFrom(Source.namespace('sandbox'));
    backend.denyFrom(frontend, { methods: ['DELETE'] });
    backend.deny({ to: [{ paths: ['/admin/*'] }] });
    backend.allowFrom(frontend, { methods: ['GET'] });
    backend.allowFrom(frontend, { methods: ['HEAD'] });
    const m = synth(c);
    expect(byKind(m, 'AuthorizationPolicy').map(p => p.metadata.name)).toEqual([
      'deny-all', 'backend-deny-ns-sandbox', 'backend-deny-frontend', 'backend-deny', 'backend-allow-frontend', 'backend-allow-frontend-2',
    ]);
    expect(one(m, 'AuthorizationPolicy', 'backend-deny').spec).toEqual({
      selector: { matchLabels: BACKEND }, action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }],
    });
    // A DENY opens nothing in the NetworkPolicy.
    expect(one(m, 'NetworkPolicy', 'backend-allow').spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: FRONTEND } }] }]);
  });

  test('addWorkloadSelector for pods defined elsewhere', () => {
    const c = chart();
    const zt = new ZeroTrustNamespace(c, 'ZeroTrust');
    const legacy = zt.addWorkloadSelector(WorkloadSelector.fromLabels(c, 'shop', { app: 'legacy' }, 'legacy'), { name: 'legacy' });
    legacy.allowFrom(Source.identity(ServiceIdentity.fromName('shop', 'batch')), { ports: [5432] });
    const m = synth(c);
    expect(one(m, 'AuthorizationPolicy', 'legacy-allow-batch').spec).toEqual({
      selector: { matchLabels: { app: 'legacy' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/batch'] } }], to: [{ operation: { ports: ['5432'] } }] }],
    });
    expect(legacy.identity?.serviceAccountName).toBe('legacy');
  });

  test('the Mesh\'s trust domain and root namespace flow through', () => {
    const { chart: c, frontend, backend } = shop({ trustDomain: 'prod.example.com', rootNamespace: 'mesh-root' });
    backend.allowFrom(frontend);
    const m = synth(c);
    expect(one(m, 'AuthorizationPolicy', 'backend-allow-frontend').spec.rules[0].from[0].source.principals).toEqual(['prod.example.com/ns/shop/sa/frontend']);
    expect(one(m, 'Sidecar', 'default').spec.egress[0].hosts).toEqual(['./*', 'mesh-root/*']);
  });

  test('the namespace prop', () => {
    const c = chart();
    new ZeroTrustNamespace(c, 'ZeroTrust', { namespace: 'payments' });
    const m = synth(c);
    expect(m[0].metadata).toEqual({ name: 'payments', labels: { 'istio-injection': 'enabled' } });
    expect(m.slice(1).every(o => o.metadata.namespace === 'payments')).toBe(true);
  });
});

describe('ZeroTrustNamespace: revisioned control plane', () => {
  test('istio.io/rev instead of istio-injection, never both', () => {
    const { chart: c, frontend, backend } = shop({ revision: '1-30' });
    backend.allowFrom(frontend, { methods: ['GET'] });
    const m = synth(c);
    expect(securityObjects(m)).toMatchSnapshot();
    expect(m[0].metadata.labels).toEqual({ 'istio.io/rev': '1-30' });
  });

  test('an older Istio gets v1beta1 security APIs', () => {
    const { chart: c, frontend, backend } = shop({ istioVersion: '1.20' });
    backend.allowFrom(frontend);
    const m = synth(c);
    expect(byKind(m, 'AuthorizationPolicy').every(p => p.apiVersion === 'security.istio.io/v1beta1')).toBe(true);
    expect(one(m, 'PeerAuthentication', 'default').apiVersion).toBe('security.istio.io/v1beta1');
  });
});

describe('ZeroTrustNamespace: ambient mode with a waypoint', () => {
  test('rules go to the waypoint, the workloads admit only the waypoint\'s identity', () => {
    // GIVEN
    const { chart: c, zt, frontend, backend } = ambientShop();
    // WHEN
    backend.allowFrom(frontend, { methods: ['GET'], paths: ['/api/*'] });
    frontend.allowFrom(Source.ingressGateway(), { paths: ['/'] });
    // THEN
    const m = synth(c);
    expect(securityObjects(m)).toMatchSnapshot();
    expect(m[0].metadata.labels).toEqual({
      'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'waypoint', 'istio.io/ingress-use-waypoint': 'true',
    });
    expect(one(m, 'Gateway', 'waypoint').spec).toEqual({
      gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }],
    });
    expect(one(m, 'AuthorizationPolicy', 'deny-all-waypoint').spec).toEqual({
      targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }],
    });
    expect(one(m, 'AuthorizationPolicy', 'backend-allow-frontend').spec).toEqual({
      targetRefs: [{ group: '', kind: 'Service', name: 'backend' }],
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/frontend'] } }], to: [{ operation: { methods: ['GET'], paths: ['/api/*'] } }] }],
    });
    expect(one(m, 'AuthorizationPolicy', 'backend-waypoint-only').spec).toEqual({
      selector: { matchLabels: BACKEND },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/waypoint'] } }] }],
    });
    expect(byKind(m, 'Sidecar')).toEqual([]);
    expect(zt.waypoint?.name).toBe('waypoint');
    expect(backend.waypointOnly?.name).toBe('backend-waypoint-only');
  });

  test('NetworkPolicy: HBONE to and from the waypoint, kubelet probes, no istiod for workloads', () => {
    const { chart: c, frontend, backend } = ambientShop();
    backend.allowFrom(frontend, { methods: ['GET'] });
    const m = synth(c);
    const waypointPods = { podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } } };
    expect(one(m, 'NetworkPolicy', 'allow-mesh').spec.ingress).toEqual([
      // The addresses istio-cni rewrites kubelet probes to, IPv4 and IPv6.
      { from: [{ ipBlock: { cidr: '169.254.7.127/32' } }, { ipBlock: { cidr: 'fd16:9254:7127:1337:ffff:ffff:ffff:ffff/128' } }] },
      { from: [waypointPods], ports: [{ protocol: 'TCP', port: 15008 }] },
    ]);
    expect(one(m, 'NetworkPolicy', 'allow-mesh').spec.egress).toEqual([
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
    ]);
    expect(one(m, 'NetworkPolicy', 'waypoint-allow').spec).toEqual({
      podSelector: waypointPods.podSelector,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: { matchLabels: FRONTEND } }], ports: [{ protocol: 'TCP', port: 15008 }] }],
      egress: [
        { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { app: 'istiod' } } }], ports: [{ protocol: 'TCP', port: 15012 }] },
        { to: [{ podSelector: {} }], ports: [{ protocol: 'TCP', port: 15008 }] },
      ],
    });
    // The frontend reaches the backend through the waypoint.
    expect(one(m, 'NetworkPolicy', 'frontend-allow').spec.egress).toEqual([{ to: [waypointPods], ports: [{ protocol: 'TCP', port: 15008 }] }]);
  });

  test('a waypoint the namespace shares with other constructs is reused', () => {
    const { chart: c, zt, frontend, backend } = ambientShop();
    expect(zt.waypoint).toBe(Waypoint.forNamespace(c, 'shop'));
    backend.allowFrom(frontend);
    expect(byKind(synth(c), 'Gateway')).toHaveLength(1);
  });

  test('ambient JWT: the RequestAuthentication and the requirement target the Service', () => {
    const { chart: c, frontend } = ambientShop();
    frontend.allowFrom(Source.ingressGateway(), { paths: ['/account/*'] });
    frontend.requireJwt({ issuer: 'https://auth.example.com', jwksUri: 'https://auth.example.com/jwks.json', paths: ['/account/*'] });
    const m = synth(c);
    expect(one(m, 'RequestAuthentication', 'frontend-jwt').spec.targetRefs).toEqual([{ group: '', kind: 'Service', name: 'frontend' }]);
    expect(one(m, 'AuthorizationPolicy', 'frontend-require-jwt').spec.targetRefs).toEqual([{ group: '', kind: 'Service', name: 'frontend' }]);
  });
});

describe('ZeroTrustNamespace: ambient mode without a waypoint', () => {
  test('L4 rules enforced by ztunnel on the workloads', () => {
    const { chart: c, zt, frontend, backend } = ambientShop({ withoutWaypoint: true });
    backend.allowFrom(frontend, { ports: [8080] });
    const m = synth(c);
    expect(securityObjects(m)).toMatchSnapshot();
    expect(zt.waypoint).toBeUndefined();
    expect(m[0].metadata.labels).toEqual({ 'istio.io/dataplane-mode': 'ambient' });
    expect(one(m, 'AuthorizationPolicy', 'backend-allow-frontend').spec.selector).toEqual({ matchLabels: BACKEND });
    expect(byKind(m, 'Gateway')).toEqual([]);
    expect(one(m, 'NetworkPolicy', 'backend-allow').spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: FRONTEND } }], ports: [{ protocol: 'TCP', port: 15008 }] },
    ]);
  });

  test('L7 rules are refused instead of silently denying', () => {
    const { frontend, backend } = ambientShop({ withoutWaypoint: true });
    expect(() => backend.allowFrom(frontend, { methods: ['GET'] }))
      .toThrow(/backend: allow got 'L7 fields': ztunnel enforces L4 only and the waypoint is switched off \(withoutWaypoint\)/);
    expect(() => backend.allowFrom(frontend, { when: [Condition.jwtClaim('groups', { values: ['admin'] })] })).toThrow(/withoutWaypoint/);
    expect(() => backend.requireJwt({ issuer: 'https://auth.example.com' })).toThrow(/ztunnel cannot read JWTs/);
  });

  test('a policy the AuthorizationPolicy refuses leaves nothing behind, and the rule can be declared again', () => {
    // GIVEN ztunnel before 1.25, which would enforce a dry-run policy
    const { chart: c, frontend, backend } = shop({ dataplaneMode: DataplaneMode.AMBIENT, istioVersion: '1.24' }, { withoutWaypoint: true });
    // WHEN
    expect(() => backend.allowFrom(frontend, { ports: [8080], dryRun: true })).toThrow(/ztunnel before Istio 1.25 ignores the dry-run annotation/);
    // THEN no NetworkPolicy, policy or name of it is left
    expect(backend.networkPolicy).toBeUndefined();
    expect(backend.node.children).toEqual([]);
    expect(byKind(synth(c), 'NetworkPolicy').map(n => n.metadata.name)).toEqual(['default-deny', 'allow-mesh']);
    backend.allowFrom(frontend, { ports: [8080] });
    const m = synth(c);
    expect(one(m, 'AuthorizationPolicy', 'backend-allow-frontend').metadata.annotations).toBeUndefined();
    expect(one(m, 'NetworkPolicy', 'backend-allow').spec.ingress).toHaveLength(1);
  });

  test('a Service that uses a waypoint anyway is refused at synth', () => {
    const { chart: c, backend, frontend } = ambientShop({ withoutWaypoint: true });
    backend.allowFrom(frontend);
    const svc = c.node.findAll().find(x => x instanceof ApiObject && x.kind === 'Service' && x.name === 'backend') as ApiObject;
    svc.metadata.addLabel('istio.io/use-waypoint', 'waypoint');
    expect(() => Testing.synth(c)).toThrow(/Service uses waypoint 'waypoint', but the ZeroTrustNamespace enforces its rules at ztunnel/);
  });
});

describe('ZeroTrustNamespace: JWT on the edge', () => {
  test('RequestAuthentication and a DENY of requests without a valid token, per path', () => {
    // GIVEN
    const { chart: c, frontend } = shop();
    frontend.allowFrom(Source.ingressGateway(), { paths: ['/', '/account/*'] });
    // WHEN
    const requirement = frontend.requireJwt({
      issuer: 'https://auth.example.com',
      jwksUri: 'https://auth.example.com/.well-known/jwks.json',
      audiences: ['shop'],
      fromHeaders: [{ name: 'Authorization', prefix: 'Bearer ' }],
      fromCookies: ['session'],
      forwardOriginalToken: true,
      outputClaimToHeaders: [{ header: 'x-user', claim: 'sub' }],
      paths: ['/account/*'],
    });
    // THEN
    const m = synth(c);
    expect(securityObjects(m)).toMatchSnapshot();
    expect(one(m, 'RequestAuthentication', 'frontend-jwt').spec).toEqual({
      selector: { matchLabels: FRONTEND },
      jwtRules: [{
        issuer: 'https://auth.example.com',
        jwksUri: 'https://auth.example.com/.well-known/jwks.json',
        audiences: ['shop'],
        fromHeaders: [{ name: 'Authorization', prefix: 'Bearer ' }],
        fromCookies: ['session'],
        forwardOriginalToken: true,
        outputClaimToHeaders: [{ header: 'x-user', claim: 'sub' }],
      }],
    });
    expect(one(m, 'AuthorizationPolicy', 'frontend-require-jwt').spec).toEqual({
      selector: { matchLabels: FRONTEND },
      action: 'DENY',
      rules: [{ from: [{ source: { notRequestPrincipals: ['https://auth.example.com/*'] } }], to: [{ operation: { paths: ['/account/*'] } }] }],
    });
    expect(requirement.requestAuthentication.issuers[0].issuer).toBe('https://auth.example.com');
    expect(requirement.authorizationPolicy.name).toBe('frontend-require-jwt');
  });

  test('a requirement admits only tokens of its issuer, though Istio validates those of every issuer of the workload', () => {
    // GIVEN a public API behind a social login, and an admin API behind the staff identity provider
    const { chart: c, frontend } = shop();
    frontend.allowFrom(Source.ingressGateway(), { paths: ['/public-api/*', '/admin/*'] });
    frontend.requireJwt({ issuer: 'https://social.example.com', paths: ['/public-api/*'] });
    frontend.requireJwt({ issuer: 'https://staff.example.com', paths: ['/admin/*'] });
    // THEN a social-login token, which Istio accepts as valid, does not open the admin API
    const m = synth(c);
    expect(one(m, 'AuthorizationPolicy', 'frontend-require-jwt-2').spec.rules).toEqual([{
      from: [{ source: { notRequestPrincipals: ['https://staff.example.com/*'] } }], to: [{ operation: { paths: ['/admin/*'] } }],
    }]);
    const evaluator = AuthorizationEvaluator.fromManifests(m);
    const admin = (issuer?: string) => evaluator.isAllowed({
      source: Caller.identity(ServiceIdentity.fromName('istio-system', 'istio-ingressgateway-service-account')),
      destination: { namespace: 'shop', service: 'frontend' },
      method: 'GET',
      path: '/admin/users',
      ...(issuer ? { jwt: { issuer, subject: 'someone' } } : {}),
    });
    expect(admin('https://social.example.com')).toBe(false);
    expect(admin('https://staff.example.com')).toBe(true);
    expect(admin()).toBe(false);
  });

  test('the requirement skips the ports that accept plaintext, even ports declared later, unless scoped to ports', () => {
    // GIVEN a JWT required everywhere, then a plaintext metrics port
    const { chart: c, backend, frontend } = shop();
    backend.requireJwt({ issuer: 'https://auth.example.com' });
    frontend.requireJwt({ issuer: 'https://auth.example.com', paths: ['/account/*'], ports: [8080] });
    backend.acceptPlaintextOnPort(9090, { fromNamespaces: ['monitoring'] });
    frontend.acceptPlaintextOnPort(9090, { fromNamespaces: ['monitoring'] });
    // THEN
    const m = synth(c);
    expect(one(m, 'AuthorizationPolicy', 'backend-require-jwt').spec.rules).toEqual([{
      from: [{ source: { notRequestPrincipals: ['https://auth.example.com/*'] } }], to: [{ operation: { notPorts: ['9090'] } }],
    }]);
    expect(one(m, 'AuthorizationPolicy', 'frontend-require-jwt').spec.rules[0].to).toEqual([{ operation: { ports: ['8080'], paths: ['/account/*'] } }]);
  });

  test('claims conditions need a RequestAuthentication', () => {
    const { chart: c, frontend } = shop();
    frontend.allowFrom(Source.ingressGateway(), { paths: ['/admin/*'], when: [Condition.jwtClaim('groups', { values: ['admin'] })] });
    expect(() => Testing.synth(c)).toThrow(/frontend: a rule reads the JWT .* no RequestAuthentication validates tokens for the workload, so the rule never matches: call requireJwt\(\)/);
    frontend.requireJwt({ issuer: 'https://auth.example.com' });
    expect(() => synth(c)).not.toThrow();
  });
});

describe('ZeroTrustNamespace: migration', () => {
  test('phase 1: PERMISSIVE, every policy in dry run, no NetworkPolicy or Sidecar yet', () => {
    const { chart: c, zt, frontend, backend } = shop({}, { migrationPhase: MigrationPhase.ACCEPT_PLAINTEXT });
    backend.allowFrom(frontend, { methods: ['GET'] });
    const m = synth(c);
    expect(securityObjects(m)).toMatchSnapshot();
    expect(one(m, 'PeerAuthentication', 'default').spec.mtls.mode).toBe('PERMISSIVE');
    expect(byKind(m, 'AuthorizationPolicy').every(p => p.metadata.annotations?.['istio.io/dry-run'] === 'true')).toBe(true);
    expect(byKind(m, 'NetworkPolicy')).toEqual([]);
    expect(byKind(m, 'Sidecar')).toEqual([]);
    expect(zt.dryRun).toBe(true);
    expect(zt.mtlsMode).toBe(MtlsMode.PERMISSIVE);
  });

  test('phase 2: STRICT, authorization still in dry run', () => {
    const { chart: c, backend, frontend } = shop({}, { migrationPhase: MigrationPhase.REQUIRE_MTLS });
    backend.allowFrom(frontend);
    const m = synth(c);
    expect(one(m, 'PeerAuthentication', 'default').spec.mtls.mode).toBe('STRICT');
    expect(one(m, 'AuthorizationPolicy', 'deny-all').metadata.annotations).toEqual({ 'istio.io/dry-run': 'true' });
    expect(byKind(m, 'NetworkPolicy')).toEqual([]);
  });

  test('one policy in dry run while the namespace enforces', () => {
    const { chart: c, backend, frontend } = shop();
    const policy = backend.allowFrom(frontend, { methods: ['POST'], dryRun: true });
    const m = synth(c);
    expect(policy.dryRun).toBe(true);
    expect(one(m, 'AuthorizationPolicy', 'backend-allow-frontend').metadata.annotations).toEqual({ 'istio.io/dry-run': 'true' });
    expect(one(m, 'AuthorizationPolicy', 'deny-all').metadata.annotations).toBeUndefined();
  });

  test('a plaintext port for the Prometheus scraper under STRICT (istio#38720)', () => {
    const { chart: c, backend } = shop();
    const exception = backend.acceptPlaintextOnPort(9090, { fromNamespaces: ['monitoring'], ipBlocks: ['10.8.0.0/16'] });
    const m = synth(c);
    expect(securityObjects(m)).toMatchSnapshot();
    expect(one(m, 'PeerAuthentication', 'backend-mtls').spec).toEqual({
      selector: { matchLabels: BACKEND }, mtls: { mode: 'UNSET' }, portLevelMtls: { 9090: { mode: 'PERMISSIVE' } },
    });
    expect(one(m, 'AuthorizationPolicy', 'backend-allow-plaintext-9090').spec).toEqual({
      selector: { matchLabels: BACKEND },
      action: 'ALLOW',
      rules: [{ from: [{ source: { ipBlocks: ['10.8.0.0/16'] } }], to: [{ operation: { ports: ['9090'] } }] }],
    });
    expect(one(m, 'NetworkPolicy', 'backend-allow').spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }, { ipBlock: { cidr: '10.8.0.0/16' } }],
      ports: [{ protocol: 'TCP', port: 9090 }],
    }]);
    expect(exception.peerAuthentication).toBe(backend.peerAuthentication);
    expect(exception.peerAuthentication.portModes).toEqual([{ port: 9090, mode: MtlsMode.PERMISSIVE }]);
  });

  test('DestinationRules must keep Istio mutual TLS towards a STRICT namespace', () => {
    // GIVEN a ResilientUpstream whose DestinationRule originates plain TLS to the backend
    const { chart: c } = shop();
    new ResilientUpstream(c, 'Backend', { host: Host.service(c, 'backend', 'shop') });
    expect(() => synth(c)).not.toThrow();
    const c2 = shop().chart;
    new ApiObject(c2, 'LegacyRule', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'backend-legacy' },
      spec: { host: 'backend', trafficPolicy: { tls: { mode: 'DISABLE' } } },
    });
    expect(() => Testing.synth(c2)).toThrow(/DestinationRule 'backend-legacy' sets trafficPolicy.tls.mode DISABLE for backend, which STRICT mutual TLS in namespace 'shop' refuses: use ISTIO_MUTUAL/);
    // The patterns' own DestinationRules are read without synthesizing them, unless an escape hatch patched them.
    const c4 = shop().chart;
    new ResilientUpstream(c4, 'Backend', { host: Host.service(c4, 'backend', 'shop'), tls: UpstreamTls.simple() });
    expect(() => synth(c4)).toThrow(/DestinationRule 'backend' sets trafficPolicy.tls.mode SIMPLE for backend.shop.svc.cluster.local/);
    const c5 = shop().chart;
    const upstream = new ResilientUpstream(c5, 'Backend', { host: Host.service(c5, 'backend', 'shop') });
    upstream.routing.destinationRule!.addJsonPatch(JsonPatch.add('/spec/trafficPolicy/tls', { mode: 'DISABLE' }));
    expect(() => synth(c5)).toThrow(/DestinationRule 'backend' sets trafficPolicy.tls.mode DISABLE for backend.shop.svc.cluster.local/);
    // In phase 1 the namespace accepts plaintext: no error.
    const c3 = shop({}, { migrationPhase: MigrationPhase.ACCEPT_PLAINTEXT }).chart;
    new ApiObject(c3, 'LegacyRule', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'backend-legacy' },
      spec: { host: 'backend.shop.svc.cluster.local', trafficPolicy: { tls: { mode: 'DISABLE' } } },
    });
    expect(() => Testing.synth(c3)).not.toThrow();
  });

  test('each synthesis reads the app afresh: a DestinationRule added after a synth is checked by the next', () => {
    const { chart: c } = shop();
    expect(() => Testing.synth(c)).not.toThrow();
    new ApiObject(c, 'LegacyRule', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'backend-legacy', namespace: 'payments' },
      spec: { host: '*.shop.svc.cluster.local', trafficPolicy: { tls: { mode: 'SIMPLE' } } },
    });
    expect(() => Testing.synth(c)).toThrow(/DestinationRule 'backend-legacy' sets trafficPolicy.tls.mode SIMPLE for \*.shop.svc.cluster.local/);
  });

  test('each namespace reads DestinationRule hosts in its own Mesh\'s cluster domain', () => {
    // GIVEN two charts, each with its own Mesh, and a rule towards the second namespace in its cluster domain
    const app = Testing.app();
    const first = chart({}, 'shop', app);
    new Mesh(first, 'Mesh');
    new ZeroTrustNamespace(first, 'ZeroTrust');
    const second = chart({}, 'billing', app);
    new Mesh(second, 'Mesh', { clusterDomain: 'corp.internal' });
    new ZeroTrustNamespace(second, 'ZeroTrust');
    new ApiObject(second, 'LegacyRule', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'ledger-legacy' },
      spec: { host: 'ledger.billing.svc.corp.internal', trafficPolicy: { tls: { mode: 'DISABLE' } } },
    });
    // THEN
    expect(() => Testing.synth(first)).toThrow(/DestinationRule 'ledger-legacy' sets trafficPolicy.tls.mode DISABLE for ledger.billing.svc.corp.internal, which STRICT mutual TLS in namespace 'billing' refuses/);
  });

  test('a DestinationRule may disable TLS on a port that accepts plaintext', () => {
    const { chart: c, backend } = shop();
    backend.acceptPlaintextOnPort(9090, { fromNamespaces: ['monitoring'] });
    new ApiObject(c, 'Scrape', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'backend-metrics' },
      spec: { host: 'backend.shop.svc.cluster.local', trafficPolicy: { portLevelSettings: [{ port: { number: 9090 }, tls: { mode: 'DISABLE' } }] } },
    });
    expect(() => synth(c)).not.toThrow();
  });

  test("a DestinationRule names Service ports, which the app's Service maps to the container ports that accept plaintext", () => {
    // GIVEN a Service whose port 9090 leads to the STRICT container port 8080, and 9100 to the plaintext 9090
    const build = (servicePort: number) => {
      const c = chart();
      const zt = new ZeroTrustNamespace(c, 'ZeroTrust');
      const d = new kplus.Deployment(c, 'backend', {
        metadata: { name: 'backend' },
        podMetadata: { labels: { app: 'backend' } },
        containers: [{ name: 'app', image: 'x:1', ports: [{ number: 8080 }, { number: 9090 }], resources: RESOURCES }],
      });
      d.exposeViaService({ name: 'backend', ports: [{ port: 9090, targetPort: 8080, name: 'http' }, { port: 9100, targetPort: 9090, name: 'http-metrics' }] });
      zt.addWorkload(d, { serviceName: 'backend' }).acceptPlaintextOnPort(9090, { fromNamespaces: ['monitoring'] });
      new ApiObject(c, 'Scrape', {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'backend-metrics' },
        spec: { host: 'backend.shop.svc.cluster.local', trafficPolicy: { portLevelSettings: [{ port: { number: servicePort }, tls: { mode: 'DISABLE' } }] } },
      });
      return () => Testing.synth(c);
    };
    // THEN plaintext to the Service port of the plaintext container port is fine, to the other one it is refused
    expect(build(9100)).not.toThrow();
    expect(build(9090)).toThrow(/portLevelSettings\[0\]\.tls\.mode DISABLE .* accept plaintext on the container port behind that Service port/);
  });
});

describe('ZeroTrustNamespace: bad input', () => {
  test('wildcard principals and sources that admit everyone need explicit names', () => {
    const { backend } = shop();
    expect(() => backend.allowFrom(Source.principal('cluster.local/ns/shop/sa/*')))
      .toThrow(/shop\/ZeroTrust\/backend: source.principals\[0\] got 'cluster.local\/ns\/shop\/sa\/\*': wildcard principals admit identities nobody reviewed/);
    expect(() => backend.allowFrom(Source.namespace('*'))).toThrow(/wildcard namespaces admit namespaces nobody reviewed/);
    expect(() => backend.allow({ to: [{ methods: ['GET'] }] }))
      .toThrow(/backend: rule\.from got \[\]: an ALLOW rule without a source admits every caller: name the sources, or pass Source.anyone\(\)/);
    expect(() => backend.allow({ from: [], to: [{ methods: ['GET'] }] })).toThrow(/an ALLOW rule without a source admits every caller/);
  });

  test('explicit opt-ins are accepted', () => {
    const { chart: c, backend } = shop();
    backend.allowFrom(Source.principalPattern('cluster.local/ns/shop/sa/batch-*'), { paths: ['/jobs/*'] });
    backend.allowFrom(Source.anyAuthenticated(), { paths: ['/health'] });
    backend.allowFrom(Source.anyone(), { paths: ['/public/*'] });
    const m = synth(c);
    expect(one(m, 'AuthorizationPolicy', 'backend-allow-principal-pattern').spec.rules[0].from[0].source.principals).toEqual(['cluster.local/ns/shop/sa/batch-*']);
    expect(one(m, 'AuthorizationPolicy', 'backend-allow-any-authenticated').spec.rules[0].from[0].source.principals).toEqual(['*']);
    expect(one(m, 'AuthorizationPolicy', 'backend-allow-anyone').spec.rules).toEqual([{ to: [{ operation: { paths: ['/public/*'] } }] }]);
    // Anyone may come from anywhere: the NetworkPolicy rule has no peers.
    expect(one(m, 'NetworkPolicy', 'backend-allow').spec.ingress).toContainEqual({});
  });

  test('methods that are not HTTP methods, malformed paths and ports', () => {
    const { backend, frontend } = shop();
    expect(() => backend.allowFrom(frontend, { methods: ['get'] })).toThrow(/backend: methods\[0\] got 'get': methods are matched exactly and sent in upper case: use 'GET'/);
    expect(() => backend.allowFrom(frontend, { methods: ['FETCH'] })).toThrow(/methods\[0\] got 'FETCH': use an HTTP method: GET, HEAD, POST/);
    expect(() => backend.allowFrom(frontend, { paths: ['api/*'] })).toThrow(/paths\[0\] got 'api\/\*': a path starts with '\/'/);
    expect(() => backend.allowFrom(frontend, { paths: ['/api/*/items'] })).toThrow(/'\*' may only end a prefix match/);
    expect(() => backend.allowFrom(frontend, { paths: ['/api?x=1'] })).toThrow(/paths are matched without the query string/);
    expect(() => backend.allowFrom(frontend, { paths: ['/a/{**}/b/{*}'] })).toThrow(/\{\*\*\} may appear once, as the last operator/);
    // istiod refuses an operator inside a segment, and segments that are empty or not RFC 3986 pchars
    for (const path of ['/api/v{*}/items', '/files/{*}.png']) {
      expect(() => backend.allowFrom(frontend, { paths: [path] })).toThrow(/the operators \{\*\} and \{\*\*\} each fill a whole segment between '\/'s/);
    }
    expect(() => backend.allowFrom(frontend, { paths: ['/a/[x]/{*}'] })).toThrow(/segment '\[x\]' of a path template is empty or uses characters other than/);
    expect(() => backend.allowFrom(frontend, { paths: ['/a//{*}'] })).toThrow(/segment '' of a path template is empty/);
    expect(() => backend.allowFrom(frontend, { paths: ['/users/{*}/orders/{**}/'] })).not.toThrow();
    expect(() => backend.allowFrom(frontend, { ports: [70000] })).toThrow(/ports\[0\] got 70000: use a port from 1 to 65535/);
    expect(() => backend.allowFrom(frontend, { hosts: ['bad host'] })).toThrow(/hosts\[0\] got 'bad host'/);
    // Istio's suffix and prefix matches: any subdomain of example.com (not evilexample.com), any api.<domain>.
    expect(() => backend.allowFrom(frontend, { hosts: ['*.example.com', 'api.*'], methods: ['GET'] })).not.toThrow();
    expect(() => backend.allowFrom(frontend, { hosts: ['.example.com'] })).toThrow(/hosts\[0\] got '\.example\.com'/);
  });

  test('a source whose lists are all empty, which istiod refuses and which must not read as anyone', () => {
    const { backend } = shop();
    expect(() => backend.allowFrom(Source.anyone({ ipBlocks: [] }), { methods: ['POST'] }))
      .toThrow(/shop\/ZeroTrust\/backend: source got \[\]: the source names nothing \(its lists are empty\)/);
  });

  test('identities from another trust domain', () => {
    const { backend } = shop();
    expect(() => backend.allowFrom(Source.principal('other.example.com/ns/shop/sa/frontend')))
      .toThrow(/principals\[0\] got 'other.example.com\/ns\/shop\/sa\/frontend': the identity is not of the mesh's trust domain 'cluster.local'/);
    expect(() => backend.allowFrom(Source.principal('frontend'))).toThrow(/a principal is '<trust-domain>\/ns\/<namespace>\/sa\/<service-account>'/);
  });

  test('a caller without its own ServiceAccount cannot be named', () => {
    const { zt, backend, chart: c } = shop();
    const anonymous = zt.addWorkload(deployment(c, 'anonymous', { serviceAccount: false }));
    expect(() => backend.allowFrom(anonymous)).toThrow(/anonymous: identity is missing: the workload runs as its namespace's default ServiceAccount/);
  });

  test('ambient rules need the Service the waypoint enforces them for', () => {
    const c = chart({ dataplaneMode: DataplaneMode.AMBIENT });
    const zt = new ZeroTrustNamespace(c, 'ZeroTrust');
    const backend = zt.addWorkload(deployment(c, 'backend'));
    expect(() => backend.allowFrom(Source.namespace('web'))).toThrow(/backend: serviceName is missing: in ambient mode the waypoint enforces the rules of a Service/);
  });

  test('props that do not fit the data plane mode', () => {
    expect(() => shop({}, { withoutWaypoint: true })).toThrow(/withoutWaypoint got true: waypoints serve ambient mode/);
    expect(() => ambientShop({ limitSidecarEgress: true })).toThrow(/limitSidecarEgress got true: ambient mode has no sidecars/);
    const c = chart();
    expect(() => new ZeroTrustNamespace(c, 'Z', { migrationPhase: 'later' as any })).toThrow(/migrationPhase got 'later': use a MigrationPhase/);
  });

  test('one ZeroTrustNamespace per namespace, not the root namespace, one Namespace object', () => {
    const c = chart();
    new ZeroTrustNamespace(c, 'A');
    expect(() => new ZeroTrustNamespace(c, 'B')).toThrow(/test\/shop\/B|shop\/B: namespace got 'shop': .*A already makes it zero trust/);
    expect(() => new ZeroTrustNamespace(c, 'C', { namespace: 'istio-system' })).toThrow(/policies in Istio's root namespace apply to the whole mesh/);
    new ApiObject(c, 'Dup', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    expect(() => Testing.synth(c)).toThrow(/defines Namespace 'shop' too: remove it/);
  });

  test('a second namespace-wide Sidecar (made by hand) is refused with the fix', () => {
    const { chart: c } = shop();
    new ApiObject(c, 'OtherSidecar', { apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'egress' }, spec: { egress: [{ hosts: ['./*'] }] } });
    expect(() => Testing.synth(c)).toThrow(/is a namespace-wide Sidecar of 'shop' too, and Istio uses only one: set limitSidecarEgress: false/);
  });

  test('workloads of another namespace, duplicate workloads, plaintext ports without callers', () => {
    const { zt, backend } = shop();
    const other = chart({}, 'other');
    expect(() => zt.addWorkload(deployment(other, 'x'))).toThrow(/namespace got 'other': the workload runs in another namespace/);
    expect(() => zt.addWorkloadSelector(backend.selector, { name: 'backend' })).toThrow(/each workload is added once/);
    expect(() => backend.acceptPlaintextOnPort(9090)).toThrow(/say who connects in plaintext: fromNamespaces/);
    backend.acceptPlaintextOnPort(9090, { fromNamespaces: ['monitoring'] });
    expect(() => backend.acceptPlaintextOnPort(9090, { fromNamespaces: ['monitoring'] })).toThrow(/the port already accepts plaintext/);
  });

  test('bad conditions', () => {
    const { backend, frontend } = shop();
    expect(() => backend.allowFrom(frontend, { when: [Condition.requestHeader('x-env', {})] })).toThrow(/give values or notValues/);
    expect(() => backend.allowFrom(frontend, { when: [Condition.sourceIp({ values: ['10.0.0.300'] })] })).toThrow(/use an IP address or a CIDR block/);
    expect(() => backend.allowFrom(frontend, { when: [Condition.attribute('request.body', { values: ['x'] })] })).toThrow(/use a key Istio supports/);
    expect(() => backend.allowFrom(frontend, { when: [Condition.requestHeader('bad header', { values: ['x'] })] })).toThrow(/use a header name/);
    expect(() => backend.allowFrom(frontend, { when: [Condition.destinationPort({ values: ['http'] })] })).toThrow(/use a port from 1 to 65535/);
  });
});

describe('ZeroTrustNamespace: refused calls leave nothing behind', () => {
  test('a refused rule creates no policy and takes no name', () => {
    const { chart: c, backend, frontend } = shop();
    expect(() => backend.allowFrom(frontend, { methods: ['get'] })).toThrow(/use 'GET'/);
    backend.allowFrom(frontend, { methods: ['GET'] });
    expect(byKind(synth(c), 'AuthorizationPolicy').map(p => p.metadata.name)).toEqual(['deny-all', 'backend-allow-frontend']);
  });

  test('explicit names must be free and valid', () => {
    const { backend, frontend } = shop();
    backend.allowFrom(frontend, { name: 'backend-readers' });
    expect(() => backend.allowFrom(frontend, { name: 'backend-readers' })).toThrow(/name got 'backend-readers': another policy of the namespace has that name/);
    expect(() => backend.allowFrom(frontend, { name: 'Backend Readers' })).toThrow(/name got 'Backend Readers': use a DNS label/);
    expect(() => backend.allowFrom(frontend, { name: 'deny-all' })).toThrow(/another policy of the namespace has that name/);
  });
});

describe('ZeroTrustNamespace: with the other patterns', () => {
  test.each([DataplaneMode.SIDECAR, DataplaneMode.AMBIENT])('a CanaryService\'s versions are one workload (%s mode)', mode => {
    // GIVEN a backend with two versions and a frontend, as CanaryServices
    const c = chart({ dataplaneMode: mode });
    const zt = new ZeroTrustNamespace(c, 'ZeroTrust');
    const backendService = new CanaryService(c, 'Backend', {
      name: 'backend', versions: [{ name: 'v1', image: 'b:1' }, { name: 'v2', image: 'b:2' }], weights: { v1: 90, v2: 10 }, resources: RESOURCES,
    });
    const frontendService = new CanaryService(c, 'Frontend', { name: 'frontend', versions: [{ name: 'v1', image: 'f:1' }], resources: RESOURCES });
    new ResilientUpstream(c, 'Resilience', { host: backendService.host });
    // WHEN
    const backend = zt.addWorkloadSelector(backendService.selector(), { name: 'backend', serviceName: backendService.service.name });
    const frontend = zt.addWorkloadSelector(frontendService.selector(), { name: 'frontend', serviceName: frontendService.service.name });
    backend.allowFrom(frontend, { methods: ['GET'] });
    // THEN one waypoint at most, and the rule holds for both versions
    const m = synth(c);
    expect(byKind(m, 'Gateway')).toHaveLength(mode === DataplaneMode.AMBIENT ? 1 : 0);
    const authz = AuthorizationEvaluator.fromManifests(m);
    const caller = Caller.identity(frontendService.identity);
    for (const workload of ['backend-v1', 'backend-v2']) {
      expect(authz.isAllowed({ source: caller, destination: { namespace: 'shop', service: 'backend', workload }, method: 'GET' })).toBe(true);
      expect(authz.isAllowed({ source: caller, destination: { namespace: 'shop', service: 'backend', workload }, method: 'DELETE' })).toBe(false);
    }
  });

  test.each([['ZeroTrustNamespace', 'EgressControl'], ['EgressControl', 'ZeroTrustNamespace']])(
    'an EgressControl in the namespace (%s first): one Sidecar with both, and the NetworkPolicy admits the allowed hosts', (first) => {
      // GIVEN the shop calling a ledger namespace, and egress control of the shop in either order
      const app = Testing.app();
      const c = chart({}, 'shop', app);
      const ledgerChart = chart({}, 'ledger', app);
      const egress = () => {
        const e = new EgressControl(c, 'Egress');
        e.allowHost('api.stripe.com', { route: EgressRoute.viaGatewayTlsPassthrough() });
        e.allowHost('hooks.slack.com');
        e.allowHost('legacy.example.com', { route: EgressRoute.tlsOrigination({ targetPort: 8443 }) });
        e.allowHost('db.partner.example', {
          ports: [ServicePort.tcp(5432, { name: 'tcp-postgres' })],
          resolution: ServiceEntryResolution.STATIC,
          endpoints: [{ address: '203.0.113.10' }],
        });
        return e;
      };
      const e = first === 'EgressControl' ? egress() : undefined;
      const zt = new ZeroTrustNamespace(c, 'ZeroTrust');
      const control = e ?? egress();
      const frontend = zt.addWorkload(deployment(c, 'frontend'));
      new ZeroTrustNamespace(ledgerChart, 'ZeroTrust').addWorkload(deployment(ledgerChart, 'ledger')).allowFrom(frontend, { ports: [8080] });
      // THEN one Sidecar: the EgressControl's REGISTRY_ONLY and hosts, and the declared call to the ledger
      const m = synth(c);
      expect(byKind(m, 'Sidecar')).toHaveLength(1);
      expect(zt.sidecar).toBe(control.sidecar);
      expect(one(m, 'Sidecar', 'default').spec).toEqual({
        outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
        egress: [{
          hosts: first === 'EgressControl'
            ? ['./*', 'istio-system/*', 'istio-system/istio-egressgateway.istio-system.svc.cluster.local', './api.stripe.com', './hooks.slack.com',
              './legacy.example.com', './db.partner.example', 'ledger/*']
            : ['./*', 'istio-system/*', 'ledger/*', 'istio-system/istio-egressgateway.istio-system.svc.cluster.local', './api.stripe.com',
              './hooks.slack.com', './legacy.example.com', './db.partner.example'],
        }],
      });
      // AND the pods may reach the egress gateway, the hosts reached directly on their ports, and the fixed address
      const egressRules = one(m, 'NetworkPolicy', 'allow-mesh').spec.egress;
      expect(egressRules).toEqual(expect.arrayContaining([
        { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { istio: 'egressgateway' } } }] },
        { ports: [{ protocol: 'TCP', port: 443 }] },
        { ports: [{ protocol: 'TCP', port: 8443 }] },
        { to: [{ ipBlock: { cidr: '203.0.113.10/32' } }], ports: [{ protocol: 'TCP', port: 5432 }] },
      ]));
    });

  test.each([['ZeroTrustNamespace'], ['EgressControl']])('ambient: an EgressControl\'s waypoint (%s first) gets a NetworkPolicy of its own', (first) => {
    // GIVEN an ambient mesh, the shop with egress control in either order, and a caller admitted from another namespace
    const c = chart({ dataplaneMode: DataplaneMode.AMBIENT });
    const egress = () => {
      const e = new EgressControl(c, 'Egress');
      e.allowHost('api.stripe.com', { fromNamespaces: ['shop', 'billing'] });
      e.allowHost('legacy.example.com', { route: EgressRoute.tlsOrigination() });
      return e;
    };
    if (first === 'EgressControl') egress();
    new ZeroTrustNamespace(c, 'ZeroTrust');
    if (first === 'ZeroTrustNamespace') egress();
    // THEN the waypoint admits HBONE from the callers' namespaces and reaches istiod and the hosts
    const m = synth(c);
    expect(one(m, 'NetworkPolicy', 'egress-waypoint-allow').spec).toEqual({
      podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'egress-waypoint' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{
        from: [{ podSelector: {} }, { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'billing' } } }],
        ports: [{ protocol: 'TCP', port: 15008 }],
      }],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { app: 'istiod' } } }],
          ports: [{ protocol: 'TCP', port: 15012 }],
        },
        { ports: [{ protocol: 'TCP', port: 443 }] },
      ],
    });
    // AND the namespace's pods reach it on HBONE
    expect(one(m, 'NetworkPolicy', 'allow-mesh').spec.egress).toContainEqual({
      to: [{ podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'egress-waypoint' } } }],
      ports: [{ protocol: 'TCP', port: 15008 }],
    });
  });

  test.each([['ZeroTrustNamespace'], ['EgressControl']])('a ZeroTrustNamespace and an EgressControl of one namespace in different data plane modes (%s first) are refused', (first) => {
    // GIVEN a sidecar mesh, the shop made zero trust in ambient mode and its egress controlled in sidecar mode
    const c = chart();
    const zeroTrust = () => new ZeroTrustNamespace(c, 'ZeroTrust', { dataplaneMode: DataplaneMode.AMBIENT });
    const egress = () => new EgressControl(c, 'Egress');
    const before = first === 'EgressControl' ? egress() : zeroTrust();
    const emitted = Testing.synth(c);
    // THEN the second fails, naming the first and the fix, and adds nothing
    const second = first === 'EgressControl' ? zeroTrust : egress;
    const path = first === 'EgressControl' ? 'shop/ZeroTrust' : 'shop/Egress';
    const mode = first === 'EgressControl' ? 'ambient' : 'sidecar';
    expect(second).toThrow(new RegExp(`^${path}: dataplaneMode got '${mode}': ${before.node.path} builds namespace 'shop' for ${first === 'EgressControl' ? 'sidecar' : 'ambient'} mode: use one data plane mode per namespace \\(the same dataplaneMode on both`));
    expect(Testing.synth(c)).toEqual(emitted);
  });

  test('services of a namespace the ZeroTrustNamespace enrolls in ambient mode, in a sidecar mesh, go through the waypoint', () => {
    // GIVEN a sidecar mesh and the shop in ambient mode, then a canary and a rollout-managed service in the shop
    const c = chart();
    const zt = new ZeroTrustNamespace(c, 'ZeroTrust', { dataplaneMode: DataplaneMode.AMBIENT });
    const reviews = new CanaryService(c, 'Reviews', {
      versions: [{ name: 'v1', image: 'reviews:1' }, { name: 'v2', image: 'reviews:2' }], weights: { v1: 90, v2: 10 }, resources: RESOURCES,
    });
    // THEN the canary's routes are applied by the namespace's waypoint, as ztunnel alone would ignore the weights
    expect(reviews.waypoint).toBe(zt.waypoint);
    expect(one(synth(c), 'Service', 'reviews').metadata.labels['istio.io/use-waypoint']).toBe(zt.waypoint!.name);
    // AND Flagger, which cannot enroll the Services it creates in a waypoint, is refused there
    expect(() => new FlaggerCanary(c, 'Checkout', { deployment: deployment(c, 'checkout'), analysis: { strategy: FlaggerStrategy.blueGreen({ iterations: 3 }) } }))
      .toThrow(/shop\/Checkout: dataplaneMode got 'ambient': Flagger creates the routed Services itself/);
  });

  test('policies written by hand in a namespace the ZeroTrustNamespace enrolls in ambient mode are checked for ambient mode', () => {
    const c = chart();
    new ZeroTrustNamespace(c, 'ZeroTrust', { dataplaneMode: DataplaneMode.AMBIENT });
    const selector = WorkloadSelector.fromLabels(c, 'shop', { app: 'backend' });
    expect(() => new AuthorizationPolicy(c, 'Readers', { selector, rules: [{ from: [Source.namespace('shop')], to: [{ methods: ['GET'] }] }] }))
      .toThrow(/shop\/Readers: rules\[0\] got 'L7 fields': in ambient mode ztunnel enforces selector policies at L4 only/);
    // L4 rules are what ztunnel enforces: accepted
    new AuthorizationPolicy(c, 'Ports', { selector, rules: [{ from: [Source.namespace('shop')], to: [{ ports: [8080] }] }] });
    synth(c);
  });

  test('a ZeroTrustNamespace in another mode than the services already built for its namespace is refused', () => {
    const c = chart();
    new CanaryService(c, 'Reviews', { versions: [{ name: 'v1', image: 'reviews:1' }], resources: RESOURCES });
    const emitted = Testing.synth(c);
    expect(() => new ZeroTrustNamespace(c, 'ZeroTrust', { dataplaneMode: DataplaneMode.AMBIENT })).toThrow(
      'shop/ZeroTrust: dataplaneMode got \'ambient\': shop/Reviews builds namespace \'shop\' for sidecar mode: use one data plane mode per namespace: define this construct before shop/Reviews (which took the Mesh\'s mode), or set the mode on the Mesh');
    expect(Testing.synth(c)).toEqual(emitted);
  });

  test('an EgressControl of another namespace may use another data plane mode', () => {
    const c = chart();
    new ZeroTrustNamespace(c, 'ZeroTrust', { dataplaneMode: DataplaneMode.AMBIENT });
    const egress = new EgressControl(c, 'Egress', { namespace: 'billing' });
    expect(egress.dataplaneMode).toBe(DataplaneMode.SIDECAR);
    expect(one(synth(c), 'Sidecar', 'default').metadata.namespace).toBe('billing');
  });

  test('an EgressControl in a namespace whose ZeroTrustNamespace keeps no Sidecar: the EgressControl\'s lists the declared calls', () => {
    const app = Testing.app();
    const c = chart({}, 'shop', app);
    const ledgerChart = chart({}, 'ledger', app);
    const zt = new ZeroTrustNamespace(c, 'ZeroTrust', { limitSidecarEgress: false });
    const frontend = zt.addWorkload(deployment(c, 'frontend'));
    new ZeroTrustNamespace(ledgerChart, 'ZeroTrust').addWorkload(deployment(ledgerChart, 'ledger')).allowFrom(frontend);
    const control = new EgressControl(c, 'Egress');
    const m = synth(c);
    expect(zt.sidecar).toBeUndefined();
    expect(control.node.tryFindChild('Resource')).toBe(control.sidecar);
    expect(one(m, 'Sidecar', 'default').spec.egress).toEqual([{ hosts: ['./*', 'istio-system/*', 'ledger/*'] }]);
  });

  test('a sidecar caller of a namespace whose rules a waypoint enforces is refused: the call would never pass ztunnel', () => {
    const app = Testing.app();
    const web = chart({}, 'web', app);
    const shopChart = chart({}, 'shop', app);
    const ui = new ZeroTrustNamespace(web, 'ZeroTrust').addWorkload(deployment(web, 'ui'));
    const backend = new ZeroTrustNamespace(shopChart, 'ZeroTrust', { dataplaneMode: DataplaneMode.AMBIENT }).addWorkload(deployment(shopChart, 'backend'));
    expect(() => backend.allowFrom(ui, { methods: ['GET'] }))
      .toThrow(/shop\/ZeroTrust\/backend: allowFrom got 'web\/ZeroTrust\/ui': a sidecar does not send its requests through the waypoint of 'shop'/);
    expect(byKind(synth(shopChart), 'AuthorizationPolicy').map((p: any) => p.metadata.name)).not.toContain('backend-allow-ui');
    // Named by its namespace, the sidecar namespace's callers fare no better.
    expect(() => backend.allowFrom(Source.namespace('web'))).toThrow(/allowFrom got 'web': a sidecar does not send its requests through the waypoint/);
  });

  test('a caller named by its principal gets its side of the call too (Sidecar and NetworkPolicy egress)', () => {
    const app = Testing.app();
    const web = chart({}, 'web', app);
    const shopChart = chart({}, 'shop', app);
    new ZeroTrustNamespace(web, 'ZeroTrust');
    new ZeroTrustNamespace(shopChart, 'ZeroTrust').addWorkload(deployment(shopChart, 'backend'))
      .allowFrom(Source.principal('cluster.local/ns/web/sa/ui'), { ports: [8080] });
    const m = synth(web);
    expect(one(m, 'Sidecar', 'default').spec.egress).toEqual([{ hosts: ['./*', 'istio-system/*', 'shop/*'] }]);
    expect(JSON.stringify(m.filter(o => o.kind === 'NetworkPolicy').map(o => o.spec.egress))).toContain('"kubernetes.io/metadata.name":"shop"');
  });

});

describe('ZeroTrustNamespace: more refusals', () => {
  test('a port-level TLS setting that breaks STRICT', () => {
    const { chart: c } = shop();
    const subset = { name: 'v1', labels: { v: '1' }, trafficPolicy: { portLevelSettings: [{ port: { number: 8443 }, tls: { mode: 'SIMPLE' } }] } };
    new ApiObject(c, 'Rule', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'orders' },
      spec: { host: 'orders.shop.svc.cluster.local', subsets: [subset] },
    });
    expect(() => Testing.synth(c)).toThrow(/sets subsets.v1.trafficPolicy.portLevelSettings\[0\].tls.mode SIMPLE for orders.shop.svc.cluster.local/);
  });

  test('ambient: a waypoint of another namespace; the ingress gateway before Istio 1.25', () => {
    const c = chart({ dataplaneMode: DataplaneMode.AMBIENT });
    expect(() => new ZeroTrustNamespace(c, 'ZeroTrust', { waypoint: Waypoint.forNamespace(c, 'other') })).toThrow(/waypoint got 'other': use a waypoint of namespace 'shop'/);
    const old = shop({ dataplaneMode: DataplaneMode.AMBIENT, istioVersion: '1.24' });
    expect(() => old.frontend.allowFrom(Source.ingressGateway(), { paths: ['/'] })).toThrow(/before Istio 1.25 ingress gateways ignore istio.io\/ingress-use-waypoint on a namespace/);
  });

  test('every workload\'s first child has the same construct id, whatever its policies are named', () => {
    // constructs keeps children in a plain object, and V8 gives each distinct first key of one a transition from the
    // empty object's hidden class; past about 1,500 of them, new objects everywhere get unshared hidden classes, which
    // made synthesizing 2,000 workloads 4 times slower. The NetworkPolicy goes first.
    const { zt, chart: c, frontend, backend } = shop();
    const workloads = ['orders', 'billing', 'search'].map(n => zt.addWorkload(deployment(c, n), { serviceName: n }));
    backend.allowFrom(frontend);
    workloads.forEach((w, i) => w.allowFrom(i ? workloads[i - 1] : backend, { methods: ['GET'] }));
    frontend.allowFrom(Source.ingressGateway());
    expect(new Set([frontend, backend, ...workloads].map(w => w.node.children[0].node.id))).toEqual(new Set(['NetworkPolicy']));
  });

  test('without NetworkPolicies, a workload\'s children are named after its rules and their sources, never after the workload', () => {
    // GIVEN a namespace in its first migration phase (no NetworkPolicies), whose workloads start with different rules
    const { zt, chart: c, frontend } = shop({}, { migrationPhase: MigrationPhase.ACCEPT_PLAINTEXT });
    const [orders, billing, search, audit] = ['orders', 'billing', 'search', 'audit'].map(n => zt.addWorkload(deployment(c, n), { serviceName: n }));
    orders.allowFrom(frontend, { methods: ['GET'] });
    orders.allowFrom(frontend, { methods: ['POST'] });
    billing.allowFrom(frontend);
    search.denyFrom(Source.namespace('sandbox'));
    audit.requireJwt({ issuer: 'https://auth.example.com', jwksUri: 'https://auth.example.com/jwks.json' });
    // THEN workloads share first ids, and the policies keep their names
    expect([orders, billing, search, audit].map(w => w.node.children.map(k => k.node.id))).toEqual([
      ['allow-frontend', 'allow-frontend-2'], ['allow-frontend'], ['deny-ns-sandbox'], ['jwt', 'require-jwt'],
    ]);
    expect(orders.node.children.map(k => (k as AuthorizationPolicy).name)).toEqual(['orders-allow-frontend', 'orders-allow-frontend-2']);
    synth(c);
  });

  test('a workload name too long for the names generated from it', () => {
    const { zt, chart: c } = shop();
    expect(() => zt.addWorkload(deployment(c, 'a-rather-long-workload-name-that-keeps-on-going'))).toThrow(/use a DNS label of at most 40 characters/);
  });
});
