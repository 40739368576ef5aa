import { Duration, Testing } from 'cdk8s';
import { chart, deployment, synth } from './fixtures';
import {
  AuthorizationAction, AuthorizationPolicy, Condition, DataplaneMode, MtlsMode, PeerAuthentication, PolicyTarget,
  RequestAuthentication, ServiceIdentity, Source, WorkloadSelector,
} from '../../src';

const frontend = ServiceIdentity.fromName('shop', 'frontend');

describe('AuthorizationPolicy', () => {
  test('selector, rules added after construction, dry run', () => {
    // GIVEN
    const c = chart();
    const policy = new AuthorizationPolicy(c, 'Readers', {
      name: 'readers',
      selector: WorkloadSelector.fromLabels(c, 'shop', { app: 'backend' }),
      dryRun: true,
    });
    // WHEN
    policy.addRule({ from: [Source.identity(frontend)], to: [{ methods: ['GET', 'HEAD'], notPaths: ['/admin/*'] }] });
    // THEN
    const [m] = synth(c);
    expect(m).toMatchSnapshot();
    expect(m.metadata).toEqual({ name: 'readers', namespace: 'shop', annotations: { 'istio.io/dry-run': 'true' } });
    expect(m.spec.rules).toHaveLength(1);
    expect(policy.rules).toHaveLength(1);
    expect(policy.needsL7).toBe(true);
    expect(policy.namespace).toBe('shop');
  });

  test('targets, CUSTOM with its provider, AUDIT', () => {
    const c = chart();
    new AuthorizationPolicy(c, 'Waypoint', {
      name: 'viewer',
      targets: [PolicyTarget.gateway('waypoint'), PolicyTarget.service('reviews'), PolicyTarget.serviceEntry('stripe')],
      rules: [{ from: [Source.namespace('shop')], to: [{ methods: ['GET'] }] }],
    });
    new AuthorizationPolicy(c, 'External', {
      name: 'ext-authz', action: AuthorizationAction.CUSTOM, provider: 'opa', rules: [{ to: [{ paths: ['/admin/*'] }] }],
    });
    new AuthorizationPolicy(c, 'Audit', { name: 'audit', action: AuthorizationAction.AUDIT, rules: [{ to: [{ paths: ['/user/profile/*'] }] }] });
    const m = synth(c);
    expect(m.map(o => o.spec)).toEqual([
      {
        targetRefs: [
          { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' },
          { group: '', kind: 'Service', name: 'reviews' },
          { group: 'networking.istio.io', kind: 'ServiceEntry', name: 'stripe' },
        ],
        action: 'ALLOW',
        rules: [{ from: [{ source: { namespaces: ['shop'] } }], to: [{ operation: { methods: ['GET'] } }] }],
      },
      { action: 'CUSTOM', provider: { name: 'opa' }, rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }] },
      { action: 'AUDIT', rules: [{ to: [{ operation: { paths: ['/user/profile/*'] } }] }] },
    ]);
  });

  test('a policy in the root namespace selects across namespaces', () => {
    const c = chart({}, 'istio-system');
    new AuthorizationPolicy(c, 'MeshWide', {
      name: 'deny-sandbox',
      namespace: 'istio-system',
      selector: WorkloadSelector.fromLabels(c, 'shop', { app: 'backend' }),
      action: AuthorizationAction.DENY,
      rules: [{ from: [Source.namespace('sandbox')] }],
    });
    expect(synth(c)[0].metadata.namespace).toBe('istio-system');
  });

  test('refused: both selector and targets, providers out of place, dry run of CUSTOM, foreign selectors', () => {
    const c = chart();
    const selector = WorkloadSelector.fromLabels(c, 'shop', { app: 'backend' });
    expect(() => new AuthorizationPolicy(c, 'A', { selector, targets: [PolicyTarget.service('backend')] })).toThrow(/A: targets got \["Service\/backend"\]: set either a selector or targets, not both/);
    expect(() => new AuthorizationPolicy(c, 'B', { action: AuthorizationAction.CUSTOM })).toThrow(/B: provider is missing: a CUSTOM policy names its extension provider/);
    expect(() => new AuthorizationPolicy(c, 'C', { provider: 'opa' })).toThrow(/a provider belongs to CUSTOM policies only/);
    expect(() => new AuthorizationPolicy(c, 'D', { action: AuthorizationAction.AUDIT, dryRun: true })).toThrow(/Istio dry-runs ALLOW and DENY policies only/);
    expect(() => new AuthorizationPolicy(c, 'E', { namespace: 'web', selector })).toThrow(/a selector matches workloads of the policy's namespace 'web' only: put the policy in 'shop'/);
    expect(() => new AuthorizationPolicy(c, 'F', { action: 'PERMIT' as any })).toThrow(/action got 'PERMIT': use an AuthorizationAction/);
    const p = new AuthorizationPolicy(c, 'G');
    expect(() => p.addRule({ to: [{}], from: [Source.anyone()] })).toThrow(/rules\[0\]\.to\[0\] got \{\}: an operation without fields matches every request/);
  });

  test('ambient: L7 rules on a selector policy are refused (istio#54275, #45502), with targets they are fine', () => {
    const c = chart({ dataplaneMode: DataplaneMode.AMBIENT });
    const selector = WorkloadSelector.fromLabels(c, 'shop', { app: 'backend' });
    const l4 = new AuthorizationPolicy(c, 'L4', { selector, rules: [{ from: [Source.identity(frontend)], to: [{ ports: [8080] }] }] });
    expect(l4.needsL7).toBe(false);
    expect(() => new AuthorizationPolicy(c, 'L7', { selector, rules: [{ from: [Source.identity(frontend)], to: [{ methods: ['GET'] }] }] }))
      .toThrow(/L7: rules\[0\] got 'L7 fields': in ambient mode ztunnel enforces selector policies at L4 only/);
    expect(() => new AuthorizationPolicy(c, 'Claims', { selector, rules: [{ from: [Source.identity(frontend)], when: [Condition.jwtClaim('role', { values: ['x'] })] }] }))
      .toThrow(/attach the policy to a waypoint with targets/);
    new AuthorizationPolicy(c, 'Waypoint', { targets: [PolicyTarget.service('backend')], rules: [{ from: [Source.identity(frontend)], to: [{ methods: ['GET'] }] }] });
    expect(() => new AuthorizationPolicy(c, 'Custom', { action: AuthorizationAction.CUSTOM, provider: 'opa', rules: [{}] })).toThrow(/ztunnel does not support CUSTOM policies/);
    expect(synth(c)).toHaveLength(2);
  });

  test('ambient dry run needs Istio 1.25+ at ztunnel', () => {
    const c = chart({ dataplaneMode: DataplaneMode.AMBIENT, istioVersion: '1.24' });
    expect(() => new AuthorizationPolicy(c, 'P', { dryRun: true })).toThrow(/ztunnel before Istio 1.25 ignores the dry-run annotation and enforces the policy/);
  });
});

describe('Source', () => {
  const render = (source: Source, mesh = {}) => {
    const c = chart(mesh);
    const p = new AuthorizationPolicy(c, 'P', { rules: [{ from: [source] }] });
    return synth(c)[0].spec.rules[0].from?.[0]?.source ?? (p.rules.length ? 'no from' : undefined);
  };

  test('renders each kind, with AND-ed fields', () => {
    expect({
      identity: render(Source.identity(frontend, { notIpBlocks: ['203.0.113.4'] })),
      identities: render(Source.identities([frontend, ServiceIdentity.fromName('web', 'storefront')])),
      principal: render(Source.principal('cluster.local/ns/shop/sa/batch')),
      pattern: render(Source.principalPattern('*/sa/batch')),
      namespaces: render(Source.namespaces(['web', 'mobile'], { notIdentities: [ServiceIdentity.fromName('web', 'untrusted')] })),
      ingress: render(Source.ingressGateway({ requestPrincipals: ['https://auth.example.com/*'] })),
      anyAuthenticated: render(Source.anyAuthenticated({ notNamespaces: ['sandbox'] })),
      anyoneWithJwt: render(Source.anyone({ requestPrincipals: ['*'], remoteIpBlocks: ['198.51.100.0/24'], notRemoteIpBlocks: ['198.51.100.7'] })),
      anyone: render(Source.anyone()),
    }).toMatchSnapshot();
  });

  test('a workload source needs a ServiceAccount of its own', () => {
    const c = chart();
    const withAccount = deployment(c, 'reporter');
    const without = deployment(c, 'anonymous', { serviceAccount: false, service: false });
    expect(render(Source.workload(withAccount))).toEqual({ principals: ['cluster.local/ns/shop/sa/reporter'] });
    expect(() => render(Source.workload(without))).toThrow(/rules\[0\]\.from\[0\] got 'shop\/anonymous': the workload runs as its namespace's default ServiceAccount/);
  });

  test('refused values', () => {
    expect(() => render(Source.identities([]))).toThrow(/identities got \[\]: name at least one identity/);
    expect(() => render(Source.namespaces([]))).toThrow(/namespaces got \[\]: name at least one namespace/);
    expect(() => render(Source.namespace('Web'))).toThrow(/use a namespace name/);
    expect(() => render(Source.identity(frontend, { ipBlocks: ['10.0.0.0/33'] }))).toThrow(/ipBlocks\[0\] got '10.0.0.0\/33': use an IP address or a CIDR block/);
    expect(() => render(Source.anyone({ requestPrincipals: ['alice'] }))).toThrow(/a request principal is '<issuer>\/<subject>', or '\*' for any valid JWT/);
    expect(() => render(Source.principalPattern('cluster.local/ns/*/sa/*'))).toThrow(/a principal pattern has one '\*', at its start or end/);
    expect(() => render(Source.principalPattern('other.io/ns/shop/sa/*'))).toThrow(/not of the mesh's trust domain/);
    expect(() => render(Source.identity(ServiceIdentity.fromName('shop', 'x'), { notIdentities: [ServiceIdentity.fromName('shop', 'x')] }), { trustDomain: 'td.example' })).not.toThrow();
  });
});

describe('Condition', () => {
  test('keys as Istio names them', () => {
    const c = chart();
    const conditions = [
      Condition.requestHeader('x-tenant', { values: ['acme'] }),
      Condition.jwtClaim('groups', { values: ['admin'] }),
      Condition.nestedJwtClaim(['realm_access', 'roles'], { notValues: ['guest'] }),
      Condition.requestPrincipal({ values: ['https://auth.example.com/*'] }),
      Condition.jwtAudience({ values: ['shop'] }),
      Condition.jwtPresenter({ values: ['web-client'] }),
      Condition.sourceIp({ values: ['10.0.0.0/8'] }),
      Condition.remoteIp({ notValues: ['203.0.113.4'] }),
      Condition.sourceNamespace({ values: ['web'] }),
      Condition.sourcePrincipal({ values: ['cluster.local/ns/web/sa/storefront'] }),
      Condition.destinationIp({ values: ['10.96.0.10'] }),
      Condition.destinationPort({ values: ['8080'] }),
      Condition.sni({ values: ['api.example.com'] }),
      Condition.attribute('experimental.envoy.filters.network.mysql_proxy[db.table]', { values: ['[update]'] }),
    ];
    new AuthorizationPolicy(c, 'P', { rules: [{ from: [Source.anyone()], when: conditions }] });
    expect(synth(c)[0].spec.rules[0].when).toMatchSnapshot();
    expect(conditions.map(x => x.key)).toContain('request.auth.claims[realm_access][roles]');
  });

  test('refused values', () => {
    const c = chart();
    const p = new AuthorizationPolicy(c, 'P');
    const add = (condition: Condition) => p.addRule({ from: [Source.anyone()], when: [condition] });
    expect(() => add(Condition.nestedJwtClaim([], { values: ['x'] }))).toThrow(/name the claim/);
    expect(() => add(Condition.jwtClaim('a[b]', { values: ['x'] }))).toThrow(/name the claim/);
    expect(() => add(Condition.sourceNamespace({ values: ['web-*'] }))).toThrow(/wildcard namespaces/);
    expect(() => add(Condition.sourcePrincipal({ values: ['*'] }))).toThrow(/wildcard principals/);
    expect(() => add(Condition.requestHeader('x', { values: [''] }))).toThrow(/an empty value matches nothing: use '\*' for any value/);
  });
});

describe('PeerAuthentication', () => {
  test('namespace-wide, and per workload with port exceptions', () => {
    const c = chart();
    new PeerAuthentication(c, 'Default', { name: 'default' });
    const selector = WorkloadSelector.fromLabels(c, 'shop', { app: 'backend' });
    const workload = new PeerAuthentication(c, 'Backend', { name: 'backend', selector, mode: MtlsMode.UNSET, portModes: [{ port: 9090, mode: MtlsMode.PERMISSIVE }] });
    workload.setPortMode(8081, MtlsMode.DISABLE);
    const m = synth(c);
    expect(m.map(o => o.spec)).toEqual([
      { mtls: { mode: 'STRICT' } },
      { selector: { matchLabels: { app: 'backend' } }, mtls: { mode: 'UNSET' }, portLevelMtls: { 8081: { mode: 'DISABLE' }, 9090: { mode: 'PERMISSIVE' } } },
    ]);
    expect(workload.portModes).toEqual([{ port: 9090, mode: MtlsMode.PERMISSIVE }, { port: 8081, mode: MtlsMode.DISABLE }]);
  });

  test('refused: port modes without selector, DISABLE in ambient, a port set twice', () => {
    const c = chart();
    expect(() => new PeerAuthentication(c, 'A', { portModes: [{ port: 9090, mode: MtlsMode.PERMISSIVE }] })).toThrow(/portModes got 9090: port-level modes need a selector/);
    const ambient = chart({ dataplaneMode: DataplaneMode.AMBIENT }, 'amb');
    expect(() => new PeerAuthentication(ambient, 'B', { mode: MtlsMode.DISABLE })).toThrow(/ztunnel always speaks mutual TLS and ignores DISABLE: use PERMISSIVE/);
    const p = new PeerAuthentication(c, 'C', { selector: WorkloadSelector.fromLabels(c, 'shop', { app: 'x' }) });
    p.setPortMode(9090, MtlsMode.PERMISSIVE);
    expect(() => p.setPortMode(9090, MtlsMode.DISABLE)).toThrow(/port 9090 is already PERMISSIVE/);
    expect(() => p.setPortMode(0, MtlsMode.DISABLE)).toThrow(/use a whole number of at least 1/);
  });
});

describe('RequestAuthentication', () => {
  test('every field of a JWT rule', () => {
    const c = chart();
    new RequestAuthentication(c, 'Jwt', {
      name: 'jwt',
      selector: WorkloadSelector.fromLabels(c, 'shop', { app: 'frontend' }),
      issuers: [{
        issuer: 'https://auth.example.com',
        jwksUri: 'https://auth.example.com/jwks.json',
        audiences: ['shop', 'admin'],
        fromHeaders: [{ name: 'x-jwt-assertion' }],
        fromParams: ['token'],
        fromCookies: ['session'],
        forwardOriginalToken: true,
        outputPayloadToHeader: 'x-jwt-payload',
        outputClaimToHeaders: [{ header: 'x-tenant', claim: 'tenant' }],
        timeout: Duration.seconds(3),
      }, {
        issuer: 'https://partner.example.org',
        jwks: JSON.stringify({ keys: [{ kty: 'RSA', e: 'AQAB', n: 'xyz' }] }),
      }],
    });
    const [m] = synth(c);
    expect(m).toMatchSnapshot();
    expect(m.spec.jwtRules[0].timeout).toBe('3s');
  });

  test('refused: plaintext key URLs, both key sources, malformed keys, duplicate issuers, ambient without targets', () => {
    const c = chart();
    const ra = (issuers: any[], extra: any = {}) => new RequestAuthentication(c, `R${Math.random()}`.replace('.', ''), { issuers, ...extra });
    expect(() => ra([{ issuer: 'https://a', jwksUri: 'http://a/jwks' }])).toThrow(/jwksUri got 'http:\/\/a\/jwks': use an https:\/\/ URL/);
    expect(() => ra([{ issuer: 'https://a', jwksUri: 'https://a/jwks', jwks: '{}' }])).toThrow(/set one of jwks and jwksUri/);
    expect(() => ra([{ issuer: 'https://a', jwks: 'not json' }])).toThrow(/give a JSON Web Key Set/);
    expect(() => ra([{ issuer: 'https://a' }, { issuer: 'https://a' }])).toThrow(/list each issuer once/);
    expect(() => ra([])).toThrow(/accept at least one issuer/);
    expect(() => ra([{ issuer: '' }])).toThrow(/give the issuer/);
    expect(() => ra([{ issuer: 'https://a', outputClaimToHeaders: [{ header: 'x tenant', claim: 't' }] }])).toThrow(/use a header name of letters/);
    const ambient = chart({ dataplaneMode: DataplaneMode.AMBIENT }, 'amb');
    expect(() => new RequestAuthentication(ambient, 'A', { issuers: [{ issuer: 'https://a' }] })).toThrow(/in ambient mode ztunnel cannot read JWTs/);
    new RequestAuthentication(ambient, 'B', { issuers: [{ issuer: 'https://a' }], targets: [PolicyTarget.service('frontend')] });
    expect(Testing.synth(ambient)[0].spec.targetRefs).toEqual([{ group: '', kind: 'Service', name: 'frontend' }]);
  });
});
