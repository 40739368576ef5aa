// The scenarios a zero-trust rollout goes through, decided by the AuthorizationEvaluator over what the charts
// synthesize; then Istio's matching semantics on hand-written policies.
import { Testing } from 'cdk8s';
import { ambientShop, shop, synth } from './fixtures';
import {
  AuthorizationEvaluator, AuthorizationRequest, Caller, Condition, GatewayWorkload, Mesh, MigrationPhase, RequestProtocol,
  ServiceIdentity, Source,
} from '../../src';

const FRONTEND = Caller.identity(ServiceIdentity.fromName('shop', 'frontend'));
const INTRUDER = Caller.identity(ServiceIdentity.fromName('shop', 'intruder'));
const INGRESS = Caller.identity(GatewayWorkload.defaultIngress().identity);
const TO_BACKEND = { namespace: 'shop', service: 'backend' };
const TO_FRONTEND = { namespace: 'shop', service: 'frontend' };
const TOKEN = { issuer: 'https://auth.example.com', subject: 'alice', audiences: ['shop'] };

/** The shop with its declared calls: the frontend reads the backend's API; the gateway reaches the frontend's pages. */
function declaredShop(kind: 'sidecar' | 'ambient', phase?: MigrationPhase) {
  const s = kind === 'ambient' ? ambientShop({ migrationPhase: phase }) : shop({}, { migrationPhase: phase });
  s.backend.allowFrom(s.frontend, { methods: ['GET'], paths: ['/api/*'] });
  s.frontend.allowFrom(Source.ingressGateway(), { paths: ['/', '/static/*', '/account/*'] });
  s.frontend.requireJwt({ issuer: TOKEN.issuer, jwksUri: 'https://auth.example.com/jwks.json', audiences: ['shop'], paths: ['/account/*'] });
  return { ...s, authz: AuthorizationEvaluator.fromManifests(synth(s.chart)) };
}

describe.each(['sidecar', 'ambient'] as const)('zero-trust rollout, %s mode', kind => {
  const { authz } = declaredShop(kind);
  const check = (request: AuthorizationRequest) => authz.check(request);

  test('the frontend may GET the backend\'s API', () => {
    const decision = check({ source: FRONTEND, destination: TO_BACKEND, method: 'GET', path: '/api/items?page=2' });
    expect(decision.allowed).toBe(true);
    expect(decision.policy).toBe('shop/backend-allow-frontend');
    expect(decision.enforcedBy).toBe(kind === 'ambient' ? 'waypoint shop/waypoint' : 'sidecar');
  });

  test('but not write to it, nor read outside the API', () => {
    for (const request of [
      { method: 'POST', path: '/api/items' },
      { method: 'GET', path: '/admin' },
    ]) {
      const decision = check({ source: FRONTEND, destination: TO_BACKEND, ...request });
      expect(decision.allowed).toBe(false);
      expect(decision.policy).toBe(kind === 'ambient' ? 'shop/deny-all-waypoint' : 'shop/deny-all');
    }
  });

  test('a pod with another identity is denied', () => {
    const decision = check({ source: INTRUDER, destination: TO_BACKEND, method: 'GET', path: '/api/items' });
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toMatch(/no rule of the ALLOW policies .* matches cluster.local\/ns\/shop\/sa\/intruder/);
  });

  test('the ingress gateway reaches the entry service only on its paths', () => {
    expect(check({ source: INGRESS, destination: TO_FRONTEND, path: '/' }).allowed).toBe(true);
    expect(check({ source: INGRESS, destination: TO_FRONTEND, path: '/static/app.js' }).allowed).toBe(true);
    expect(check({ source: INGRESS, destination: TO_FRONTEND, path: '/internal/debug' }).allowed).toBe(false);
    expect(check({ source: INGRESS, destination: TO_BACKEND, path: '/api/items' }).allowed).toBe(false);
  });

  test('a request without a valid JWT is denied where one is required', () => {
    const account = { source: INGRESS, destination: TO_FRONTEND, path: '/account/orders' };
    const missing = check(account);
    expect(missing.allowed).toBe(false);
    expect(missing.policy).toBe('shop/frontend-require-jwt');
    expect(missing.reason).toMatch(/DENY policy shop\/frontend-require-jwt rule 0 matches/);
    expect(check({ ...account, jwt: TOKEN }).allowed).toBe(true);
    const forged = check({ ...account, jwt: { ...TOKEN, valid: false } });
    expect(forged.allowed).toBe(false);
    expect(forged.reason).toMatch(/fails validation .* \(401\)/);
    expect(check({ ...account, jwt: { ...TOKEN, issuer: 'https://evil.example.com' } }).reason).toMatch(/is not accepted by RequestAuthentication shop\/frontend-jwt \(401\)/);
    expect(check({ ...account, jwt: { ...TOKEN, audiences: ['billing'] } }).reason).toMatch(/audiences \(billing\) are not among shop/);
    // Where no token is required, none is needed.
    expect(check({ source: INGRESS, destination: TO_FRONTEND, path: '/' }).allowed).toBe(true);
  });

  test('a plaintext client is refused by STRICT mutual TLS', () => {
    const decision = check({ source: Caller.plaintext(), destination: TO_BACKEND, path: '/api/items' });
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toMatch(/STRICT mutual TLS \(PeerAuthentication shop\/default\) refuses the plaintext connection on port 8080/);
  });
});

describe('ambient mode: the waypoint cannot be bypassed', () => {
  const { authz } = declaredShop('ambient');

  test('the frontend calling the backend\'s pods directly (not through the Service) is denied at ztunnel', () => {
    const decision = authz.check({ source: FRONTEND, destination: { namespace: 'shop', workload: 'backend' }, method: 'GET', path: '/api/items' });
    expect(decision.allowed).toBe(false);
    expect(decision.enforcedBy).toBe('ztunnel');
    expect(decision.reason).toMatch(/shop\/backend-waypoint-only/);
  });

  test('through the waypoint, ztunnel sees the waypoint\'s identity and admits it', () => {
    const decision = authz.check({ source: FRONTEND, destination: TO_BACKEND, method: 'GET', path: '/api/items' });
    expect(decision.reason).toMatch(/then ztunnel: ALLOW policy shop\/backend-waypoint-only rule 0 matches cluster.local\/ns\/shop\/sa\/waypoint/);
  });

  test('rules with ports: the waypoint matches the Service port (80) that targets the container port (8080)', () => {
    const s = ambientShop();
    s.backend.allowFrom(s.frontend, { methods: ['GET'], ports: [8080] });
    s.backend.requireJwt({ issuer: TOKEN.issuer, jwksUri: 'https://auth.example.com/jwks.json', ports: [8080] });
    const m = synth(s.chart);
    const policy = (name: string) => m.find(o => o.kind === 'AuthorizationPolicy' && o.metadata.name === name).spec.rules[0].to[0].operation;
    expect(policy('backend-allow-frontend')).toEqual({ methods: ['GET'], ports: ['80'] });
    expect(policy('backend-require-jwt').ports).toEqual(['80']);
    const evaluator = AuthorizationEvaluator.fromManifests(m);
    expect(evaluator.check({ source: FRONTEND, destination: TO_BACKEND, method: 'GET', port: 8080, jwt: TOKEN }).allowed).toBe(true);
    // The JWT requirement holds: without a token the DENY matches, as it does at the waypoint.
    expect(evaluator.check({ source: FRONTEND, destination: TO_BACKEND, method: 'GET', port: 8080 })).toEqual(expect.objectContaining({
      allowed: false, policy: 'shop/backend-require-jwt',
    }));
  });

  test('rules with ports need the Service in the app, with numbered target ports covering them', () => {
    const s = ambientShop();
    s.backend.allowFrom(s.frontend, { ports: [9090] });
    expect(() => Testing.synth(s.chart)).toThrow(/shop\/ZeroTrust\/backend: ports got 9090: Service 'backend' has no port targeting container port 9090/);
    const t = ambientShop();
    t.zt.addWorkloadSelector(t.backend.selector, { name: 'orphan', serviceName: 'orphan' }).allowFrom(t.frontend, { ports: [8080] });
    expect(() => Testing.synth(t.chart)).toThrow(/shop\/ZeroTrust\/orphan: serviceName got 'orphan': rules with ports are enforced by the waypoint, which matches the Service's ports/);
  });

  test('a sidecar caller skips waypoints, so it is held to the waypoint-only rule', () => {
    // GIVEN a sidecar namespace calling into the ambient shop
    const { chart: c, backend } = ambientShop();
    backend.allowFrom(Source.namespace('legacy'), { methods: ['GET'] });
    const legacy = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy', labels: { 'istio-injection': 'enabled' } } };
    const evaluator = AuthorizationEvaluator.fromManifests([...Testing.synth(c), legacy]);
    // THEN
    const decision = evaluator.check({ source: Caller.identity(ServiceIdentity.fromName('legacy', 'app')), destination: TO_BACKEND });
    expect(decision.allowed).toBe(false);
    expect(decision.enforcedBy).toBe('ztunnel');
  });
});

describe('migration', () => {
  test('phase 1: everything still works, and the dry run shows what enforcement would deny', () => {
    const { authz } = declaredShop('sidecar', MigrationPhase.ACCEPT_PLAINTEXT);
    const intruder = authz.check({ source: INTRUDER, destination: TO_BACKEND, method: 'GET', path: '/api/items' });
    expect(intruder.allowed).toBe(true);
    expect(intruder.reason).toBe('no ALLOW policy applies at the sidecar');
    expect(intruder.dryRun).toEqual({ allowed: false, policy: 'shop/deny-all', reason: expect.stringMatching(/no rule of the ALLOW policies/) });
    // Plaintext callers are accepted while the namespace is PERMISSIVE.
    expect(authz.check({ source: Caller.plaintext(), destination: TO_BACKEND }).allowed).toBe(true);
    // A declared call is allowed either way: no dry-run difference.
    expect(authz.check({ source: FRONTEND, destination: TO_BACKEND, method: 'GET', path: '/api/x' }).dryRun).toBeUndefined();
  });

  test('phase 2: plaintext is refused, authorization still observed only', () => {
    const { authz } = declaredShop('sidecar', MigrationPhase.REQUIRE_MTLS);
    expect(authz.check({ source: Caller.plaintext(), destination: TO_BACKEND }).allowed).toBe(false);
    expect(authz.check({ source: INTRUDER, destination: TO_BACKEND }).allowed).toBe(true);
  });

  test('the metrics port accepts the Prometheus scraper in plaintext, from its addresses only', () => {
    const { chart: c, backend } = shop();
    backend.acceptPlaintextOnPort(9090, { fromNamespaces: ['monitoring'], ipBlocks: ['10.8.0.0/16'] });
    const authz = AuthorizationEvaluator.fromManifests(synth(c));
    const scrape = (ip: string, port = 9090) => authz.check({
      source: Caller.plaintext({ ip }), destination: TO_BACKEND, protocol: RequestProtocol.TCP, port,
    });
    expect(scrape('10.8.3.4').allowed).toBe(true);
    expect(scrape('10.8.3.4').policy).toBe('shop/backend-allow-plaintext-9090');
    expect(scrape('192.168.1.1').allowed).toBe(false);
    expect(scrape('10.8.3.4', 8080).reason).toMatch(/STRICT mutual TLS \(PeerAuthentication shop\/default\) refuses/);
  });
});

describe('ambient without a waypoint: L4 rules at ztunnel', () => {
  test('identity rules hold, ports too', () => {
    const { chart: c, frontend, backend } = ambientShop({ withoutWaypoint: true });
    backend.allowFrom(frontend, { ports: [8080] });
    const authz = AuthorizationEvaluator.fromManifests(synth(c));
    const decision = authz.check({ source: FRONTEND, destination: TO_BACKEND, port: 8080 });
    expect(decision).toEqual(expect.objectContaining({ allowed: true, enforcedBy: 'ztunnel', policy: 'shop/backend-allow-frontend' }));
    expect(authz.check({ source: FRONTEND, destination: TO_BACKEND, port: 9000 }).allowed).toBe(false);
    expect(authz.check({ source: INTRUDER, destination: TO_BACKEND, port: 8080 }).allowed).toBe(false);
  });
});

describe('JWT claims in conditions', () => {
  test('only admins reach the admin pages, with the claim as a list', () => {
    const { chart: c, frontend } = shop();
    frontend.requireJwt({ issuer: TOKEN.issuer });
    frontend.allowFrom(Source.ingressGateway(), { paths: ['/admin/*'], when: [Condition.jwtClaim('groups', { values: ['admin'] })] });
    frontend.allowFrom(Source.ingressGateway({ requestPrincipals: ['https://auth.example.com/bob'] }), { paths: ['/reports/*'] });
    const authz = AuthorizationEvaluator.fromManifests(synth(c));
    const admin = (groups: string[]) => authz.check({ source: INGRESS, destination: TO_FRONTEND, path: '/admin/users', jwt: { ...TOKEN, claims: { groups } } });
    expect(admin(['staff', 'admin']).allowed).toBe(true);
    expect(admin(['staff']).allowed).toBe(false);
    const reports = (subject: string) => authz.check({ source: INGRESS, destination: TO_FRONTEND, path: '/reports/q3', jwt: { ...TOKEN, subject } });
    expect(reports('bob').allowed).toBe(true);
    expect(reports('alice').allowed).toBe(false);
  });
});

describe('evaluator options', () => {
  test('the Mesh supplies the trust domain and the ingress gateway', () => {
    const { chart: c, frontend } = shop({ trustDomain: 'prod.example.com' });
    frontend.allowFrom(Source.ingressGateway(), { paths: ['/'] });
    const authz = AuthorizationEvaluator.fromManifests(synth(c), { mesh: Mesh.of(c) });
    expect(authz.isAllowed({ source: INGRESS, destination: TO_FRONTEND, path: '/' })).toBe(true);
    expect(AuthorizationEvaluator.fromManifests(Testing.synth(c)).isAllowed({ source: INGRESS, destination: TO_FRONTEND, path: '/' })).toBe(false);
  });

  test('destinations must be found in the manifests', () => {
    const authz = AuthorizationEvaluator.fromManifests([]);
    expect(() => authz.check({ source: FRONTEND, destination: { namespace: 'shop', service: 'nope' } })).toThrow(/no Service 'nope' in namespace 'shop'/);
    expect(() => authz.check({ source: FRONTEND, destination: { namespace: 'shop', workload: 'nope' } })).toThrow(/no workload 'nope'/);
    expect(() => authz.check({ source: FRONTEND, destination: { namespace: 'shop' } })).toThrow(/neither service, workload nor labels/);
  });
});

// Istio's semantics on hand-written manifests, after the examples of the AuthorizationPolicy reference.
describe('Istio semantics', () => {
  const policy = (name: string, spec: any, namespace = 'foo', annotations?: any) => ({
    apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace, ...(annotations ? { annotations } : {}) }, spec,
  });
  const httpbin = { namespace: 'foo', labels: { app: 'httpbin', version: 'v1' } };
  const sleep = Caller.principal('cluster.local/ns/default/sa/sleep');
  const fromTest = Caller.principal('cluster.local/ns/test/sa/anything');
  const decide = (manifests: any[], request: Partial<AuthorizationRequest>) =>
    AuthorizationEvaluator.fromManifests(manifests).check({ source: sleep, destination: httpbin, port: 8000, ...request } as AuthorizationRequest);

  test('no policy: allowed; an empty spec: denied; rules: [{}]: allowed', () => {
    expect(decide([], {}).allowed).toBe(true);
    expect(decide([policy('allow-nothing', {})], {}).allowed).toBe(false);
    expect(decide([policy('allow-nothing', {}), policy('allow-all', { rules: [{}] })], {}).allowed).toBe(true);
  });

  test('sources are OR-ed, operations OR-ed, fields AND-ed, conditions AND-ed (the reference example)', () => {
    const manifests = [policy('httpbin', {
      action: 'ALLOW',
      rules: [{
        from: [{ source: { principals: ['cluster.local/ns/default/sa/sleep'] } }, { source: { namespaces: ['test'] } }],
        to: [{ operation: { methods: ['GET'], paths: ['/info*'] } }, { operation: { methods: ['POST'], paths: ['/data'] } }],
        when: [{ key: 'request.auth.claims[iss]', values: ['https://accounts.google.com'] }],
      }],
    }), {
      apiVersion: 'security.istio.io/v1',
      kind: 'RequestAuthentication',
      metadata: { name: 'jwt', namespace: 'foo' },
      spec: { jwtRules: [{ issuer: 'https://accounts.google.com' }] },
    }];
    const google = { issuer: 'https://accounts.google.com', subject: 'u1' };
    expect(decide(manifests, { method: 'GET', path: '/info/x', jwt: google }).allowed).toBe(true);
    expect(decide(manifests, { source: fromTest, method: 'POST', path: '/data', jwt: google }).allowed).toBe(true);
    expect(decide(manifests, { method: 'POST', path: '/info', jwt: google }).allowed).toBe(false);
    expect(decide(manifests, { method: 'GET', path: '/info' }).allowed).toBe(false);
    expect(decide(manifests, { source: Caller.principal('cluster.local/ns/prod/sa/sleep'), method: 'GET', path: '/info', jwt: google }).allowed).toBe(false);
  });

  test('fields within one source are AND-ed: a stray `- from` would have made them OR (istio.io#9043)', () => {
    const and = [policy('and', { rules: [{ from: [{ source: { namespaces: ['default'], principals: ['cluster.local/ns/default/sa/sleep'] } }] }] })];
    const or = [policy('or', { rules: [{ from: [{ source: { namespaces: ['default'] } }, { source: { principals: ['cluster.local/ns/default/sa/sleep'] } }] }] })];
    const other = Caller.principal('cluster.local/ns/default/sa/other');
    expect(decide(and, { source: other }).allowed).toBe(false);
    expect(decide(or, { source: other }).allowed).toBe(true);
  });

  test('CUSTOM, then DENY, then ALLOW', () => {
    const allowAll = policy('allow', { action: 'ALLOW', rules: [{}] });
    const denyPost = policy('deny-post', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] });
    const custom = policy('ext', { action: 'CUSTOM', provider: { name: 'opa' }, rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] });
    const manifests = [allowAll, denyPost, custom];
    expect(decide(manifests, { method: 'POST' }).policy).toBe('foo/deny-post');
    expect(decide(manifests, { path: '/admin/x', externalAuthorizerAllows: false }).reason).toMatch(/CUSTOM policy foo\/ext rule 0 sends the request to opa, which denies it/);
    expect(decide(manifests, { path: '/admin/x' }).allowed).toBe(true);
    expect(decide([policy('audit', { action: 'AUDIT', rules: [{}] })], {}).allowed).toBe(true);
  });

  test('selectors, the policy\'s namespace, and the root namespace applying mesh-wide', () => {
    expect(decide([policy('other-app', { selector: { matchLabels: { app: 'other' } } })], {}).allowed).toBe(true);
    expect(decide([policy('other-ns', {}, 'bar')], {}).allowed).toBe(true);
    expect(decide([policy('v1-mesh-wide', { selector: { matchLabels: { version: 'v1' } } }, 'istio-system')], {}).allowed).toBe(false);
    expect(decide([policy('waypoint-only', { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }] })], {}).allowed).toBe(true);
  });

  test('exact, prefix, suffix and presence matches; negations', () => {
    const rule = (operation: any) => [policy('p', { rules: [{ to: [{ operation }] }] })];
    expect(decide(rule({ paths: ['/api/*'] }), { path: '/api/v1' }).allowed).toBe(true);
    expect(decide(rule({ paths: ['*.png'] }), { path: '/img/logo.png' }).allowed).toBe(true);
    expect(decide(rule({ paths: ['*'] }), { path: '/anything' }).allowed).toBe(true);
    expect(decide(rule({ paths: ['/api'] }), { path: '/api/' }).allowed).toBe(false);
    expect(decide(rule({ notPaths: ['/admin*'] }), { path: '/admin/x' }).allowed).toBe(false);
    expect(decide(rule({ notPaths: ['/admin*'] }), { path: '/home' }).allowed).toBe(true);
    expect(decide(rule({ paths: ['/users/{*}/orders/{**}'] }), { path: '/users/7/orders/2024/1' }).allowed).toBe(true);
    expect(decide(rule({ paths: ['/users/{*}/orders'] }), { path: '/users/7/8/orders' }).allowed).toBe(false);
    expect(decide(rule({ hosts: ['*.example.com'] }), { host: 'API.Example.com' }).allowed).toBe(true);
    expect(decide(rule({ ports: ['8000'] }), {}).allowed).toBe(true);
    expect(decide(rule({ notPorts: ['8000'] }), {}).allowed).toBe(false);
    expect(decide(rule({ notMethods: ['DELETE'] }), { method: 'DELETE' }).allowed).toBe(false);
    const source = (s: any) => [policy('p', { rules: [{ from: [{ source: s }] }] })];
    expect(decide(source({ principals: ['*'] }), {}).allowed).toBe(true);
    expect(decide(source({ principals: ['*'] }), { source: Caller.plaintext() }).allowed).toBe(false);
    expect(decide(source({ notPrincipals: ['*'] }), { source: Caller.plaintext() }).allowed).toBe(true);
    expect(decide(source({ principals: ['*/sa/sleep'] }), {}).allowed).toBe(true);
    expect(decide(source({ namespaces: ['def*'] }), {}).allowed).toBe(true);
    expect(decide(source({ serviceAccounts: ['default/sleep'] }), {}).allowed).toBe(true);
    expect(decide(source({ ipBlocks: ['10.0.0.0/8'] }), { source: Caller.principal('cluster.local/ns/default/sa/sleep', { ip: '10.1.2.3' }) }).allowed).toBe(true);
    expect(decide(source({ notIpBlocks: ['10.0.0.0/8'] }), { source: Caller.principal('cluster.local/ns/default/sa/sleep', { ip: '10.1.2.3' }) }).allowed).toBe(false);
    expect(decide(source({ ipBlocks: ['2001:db8::/32'] }), { source: Caller.principal('x', { ip: '2001:db8::1' }) }).allowed).toBe(true);
  });

  test('conditions: headers, nested claims, source attributes', () => {
    const when = (w: any) => [policy('p', { rules: [{ when: [w] }] }), {
      apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'jwt', namespace: 'foo' }, spec: { jwtRules: [{ issuer: 'iss' }] },
    }];
    expect(decide(when({ key: 'request.headers[X-Tenant]', values: ['acme'] }), { headers: { 'x-tenant': 'acme' } }).allowed).toBe(true);
    expect(decide(when({ key: 'request.headers[x-tenant]', notValues: ['acme'] }), { headers: { 'X-Tenant': 'acme' } }).allowed).toBe(false);
    const jwt = { issuer: 'iss', subject: 'sub', claims: { realm_access: { roles: ['viewer', 'editor'] } } };
    expect(decide(when({ key: 'request.auth.claims[realm_access][roles]', values: ['editor'] }), { jwt }).allowed).toBe(true);
    expect(decide(when({ key: 'request.auth.principal', values: ['iss/sub'] }), { jwt }).allowed).toBe(true);
    expect(decide(when({ key: 'source.namespace', values: ['default'] }), {}).allowed).toBe(true);
    expect(decide(when({ key: 'destination.port', values: ['8000'] }), {}).allowed).toBe(true);
    expect(decide(when({ key: 'source.ip', values: ['10.0.0.0/8'] }), {}).allowed).toBe(false);
  });

  test('a JWT with no RequestAuthentication is not validated: no request principal', () => {
    const requirePrincipal = [policy('p', { rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] })];
    expect(decide(requirePrincipal, { jwt: { issuer: 'iss', subject: 'sub' } }).allowed).toBe(false);
  });

  test('TCP: ALLOW rules with HTTP fields never match, DENY rules match without them', () => {
    const allowGet = policy('allow-get', { rules: [{ to: [{ operation: { methods: ['GET'] } }] }] });
    const denyAdmin = policy('deny-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin'], ports: ['8000'] } }] }] });
    expect(decide([allowGet], { protocol: RequestProtocol.TCP }).allowed).toBe(false);
    expect(decide([allowGet], { protocol: RequestProtocol.HTTP }).allowed).toBe(true);
    const tcp = decide([policy('allow-all', { rules: [{}] }), denyAdmin], { protocol: RequestProtocol.TCP, path: '/' });
    expect(tcp).toEqual(expect.objectContaining({ allowed: false, policy: 'foo/deny-admin' }));
    expect(decide([policy('allow-all', { rules: [{}] }), denyAdmin], { path: '/' }).allowed).toBe(true);
  });

  test('TCP: a sidecar reads the TLS server name, ztunnel does not', () => {
    const bySni = [policy('sni', { rules: [{ when: [{ key: 'connection.sni', values: ['*.example.com'] }] }] })];
    expect(decide(bySni, { protocol: RequestProtocol.TCP, host: 'db.example.com' }).allowed).toBe(true);
    expect(decide(bySni, { protocol: RequestProtocol.TCP, host: 'db.example.org' }).allowed).toBe(false);
    const ambient = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'foo', labels: { 'istio.io/dataplane-mode': 'ambient' } } };
    expect(decide([...bySni, ambient], { protocol: RequestProtocol.TCP, host: 'db.example.com' }).allowed).toBe(false);
  });

  test('TCP: a sidecar matches the remote IP (the downstream address), ztunnel takes it for an HTTP field', () => {
    const from = (ip: string) => ({ protocol: RequestProtocol.TCP, source: Caller.principal('cluster.local/ns/default/sa/sleep', { ip }) });
    const allowOffice = [policy('office', { rules: [{ from: [{ source: { remoteIpBlocks: ['10.0.0.0/8'] } }] }] })];
    expect(decide(allowOffice, from('10.1.2.3')).allowed).toBe(true);
    expect(decide(allowOffice, from('192.168.0.1')).allowed).toBe(false);
    const byCondition = [policy('office', { rules: [{ when: [{ key: 'remote.ip', values: ['10.0.0.0/8'] }] }] })];
    expect(decide(byCondition, from('10.1.2.3')).allowed).toBe(true);
    const denyHome = [policy('allow-all', { rules: [{}] }), policy('home', { action: 'DENY', rules: [{ from: [{ source: { remoteIpBlocks: ['192.168.0.0/16'] } }] }] })];
    expect(decide(denyHome, from('10.1.2.3')).allowed).toBe(true);
    expect(decide(denyHome, from('192.168.0.1')).allowed).toBe(false);
    const ambient = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'foo', labels: { 'istio.io/dataplane-mode': 'ambient' } } };
    expect(decide([...allowOffice, ambient], from('10.1.2.3')).allowed).toBe(false);
    expect(decide([...denyHome, ambient], from('10.1.2.3')).allowed).toBe(false);
  });

  test('dry-run policies do not decide; their decision is reported', () => {
    const decision = decide([policy('deny-all', {}, 'foo', { 'istio.io/dry-run': 'true' })], {});
    expect(decision.allowed).toBe(true);
    expect(decision.dryRun).toEqual({ allowed: false, policy: 'foo/deny-all', reason: expect.any(String) });
  });

  test('PeerAuthentication: workload port, workload, namespace, mesh, then PERMISSIVE', () => {
    const pa = (name: string, namespace: string, spec: any) => ({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace }, spec });
    const plaintext = (manifests: any[], port = 8000) => decide(manifests, { source: Caller.plaintext(), port }).allowed;
    expect(plaintext([])).toBe(true);
    expect(plaintext([pa('mesh', 'istio-system', { mtls: { mode: 'STRICT' } })])).toBe(false);
    expect(plaintext([pa('mesh', 'istio-system', { mtls: { mode: 'STRICT' } }), pa('ns', 'foo', { mtls: { mode: 'PERMISSIVE' } })])).toBe(true);
    const workload = pa('wl', 'foo', { selector: { matchLabels: { app: 'httpbin' } }, mtls: { mode: 'UNSET' }, portLevelMtls: { 9090: { mode: 'PERMISSIVE' } } });
    expect(plaintext([pa('ns', 'foo', { mtls: { mode: 'STRICT' } }), workload], 9090)).toBe(true);
    expect(plaintext([pa('ns', 'foo', { mtls: { mode: 'STRICT' } }), workload], 8000)).toBe(false);
  });
});
