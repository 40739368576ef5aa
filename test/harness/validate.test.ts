import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { CelValidator } from './cel';
import { servedCrdVersions } from './crds';
import { describeIfCrds, expectValidManifests, validateManifests } from './validate';
import { REPO_ROOT } from '../../scripts/crd-sources';

const ISTIO_CASES = path.resolve(REPO_ROOT, '..', 'shared', 'istio-testdata', 'validation');

/**
 * Istio cases whose expectation an API server does not share, by `file#document index`, with the reason.
 * The harness models the API server; these checks exist only in Istio's own validation.
 */
const EXCEPTIONS: Record<string, string> = {};

/**
 * Documents js-yaml reads differently from the Go YAML readers of Istio and kubectl, set to the Go reading: this is
 * about loading the test data, not validating it. In a flow sequence, YAML 1.2 (js-yaml) ends the plain scalar
 * `001:db8::` at `:]`, making a one-key mapping; go-yaml only ends it at `: ` and reads the string, which is why the
 * case is valid upstream.
 */
const GO_YAML_READINGS: Record<string, (doc: any) => void> = {
  'serviceentry-valid.yaml#0': doc => {
    doc.spec.addresses = ['1.2.3.4', '001:db8::'];
  },
};

function virtualService(http: unknown[]): any {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: 'default' },
    spec: { hosts: ['reviews'], http },
  };
}

function messagesOf(objects: any[]): string[] {
  return validateManifests(objects).map(e => `${e.path}: ${e.message}`);
}

describeIfCrds('validation harness', () => {
  test('a valid VirtualService passes', () => {
    expect(validateManifests([virtualService([{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 100 }] }])])).toEqual([]);
  });

  test('an unknown field is rejected, with its path', () => {
    const errors = validateManifests([virtualService([{ route: [{ destination: { host: 'reviews' }, wieght: 100 }] }])]);
    expect(errors).toEqual([expect.objectContaining({
      index: 0, kind: 'VirtualService', name: 'reviews', path: 'spec.http[0].route[0].wieght', message: 'unknown field "wieght"',
    })]);
  });

  test('a schema bound is enforced', () => {
    expect(messagesOf([{
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'reviews' },
      spec: { host: 'reviews', trafficPolicy: { loadBalancer: { warmup: { duration: '60s', minimumPercent: 150 } } } },
    }])).toEqual([expect.stringMatching(/^spec\.trafficPolicy\.loadBalancer\.warmup\.minimumPercent: Invalid value: 150: must be <= 100/)]);
  });

  test('a CEL rule of the Istio CRD is enforced', () => {
    // GIVEN an idle timeout below the 1ms the DestinationRule CRD's rule requires
    const dr = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'reviews' },
      spec: { host: 'reviews', trafficPolicy: { connectionPool: { http: { idleTimeout: '0s' } } } },
    };
    // THEN the rule's message is reported at the field
    expect(messagesOf([dr])).toEqual([expect.stringMatching(
      /^spec\.trafficPolicy\.connectionPool\.http\.idleTimeout: Invalid value: "string": .*1ms/)]);
    dr.spec.trafficPolicy.connectionPool.http.idleTimeout = '5s';
    expect(messagesOf([dr])).toEqual([]);
  });

  test('a rule across fields of the ServiceEntry CRD is enforced', () => {
    // GIVEN a ServiceEntry with a CIDR address: fine without resolution (NONE), refused with DNS resolution
    const se = (resolution?: string) => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'ext' },
      spec: { hosts: ['ext.example.com'], addresses: ['10.0.0.0/16'], ...(resolution ? { resolution } : {}) },
    });
    expect(messagesOf([se()])).toEqual([]);
    expect(messagesOf([se('DNS')])).toEqual([expect.stringMatching(/^spec: .*CIDR addresses are allowed only for NONE\/STATIC/)]);
  });

  test('a default fills a field a rule needs', () => {
    // GIVEN an HTTPRoute whose path match omits `type` (defaulted to PathPrefix) and whose value is relative:
    // only the default makes the "must be an absolute path" rule apply
    const route = (value: string) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web', namespace: 'apps' },
      spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { value } }], backendRefs: [{ name: 'web', port: 80 }] }] },
    });
    expect(messagesOf([route('/api')])).toEqual([]);
    expect(messagesOf([route('api')])).toEqual([expect.stringMatching(/^spec\.rules\[0\]\.matches\[0\]\.path: Invalid value: "object": value must be an absolute path/)]);
  });

  test('defaults are applied to a copy, not to the object given', () => {
    const route = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web' },
      spec: { rules: [{ matches: [{ path: { value: '/' } }] }] },
    };
    expectValidManifests([route]);
    expect(route.spec.rules[0].matches[0].path).toEqual({ value: '/' });
  });

  test('escaped property names are visible to rules (`namespace` is `__namespace__`)', () => {
    // GIVEN parent refs that differ only by namespace: distinct for the Gateway API uniqueness rule
    const route = (namespaces: string[]) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web' },
      spec: { parentRefs: namespaces.map(namespace => ({ name: 'gw', namespace })) },
    });
    expect(messagesOf([route(['a', 'b'])])).toEqual([]);
    expect(messagesOf([route(['a', 'a'])])).toEqual([expect.stringMatching(/^spec\.parentRefs: Invalid value: "array": sectionName must be unique when parentRefs includes 2 or more references to the same parent/)]);
  });

  test('transition rules (oldSelf) are skipped on create', () => {
    // Argo Rollouts' spec.selector carries `self == oldSelf`, which only applies to updates
    expectValidManifests([{
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'reviews' },
      spec: {
        selector: { matchLabels: { app: 'reviews' } },
        template: { metadata: { labels: { app: 'reviews' } }, spec: { containers: [{ name: 'reviews', image: 'reviews:1' }] } },
        strategy: { canary: { steps: [{ setWeight: 20 }, { pause: { duration: '1m' } }] } },
      },
    }]);
  });

  test('a duplicate key in a list-type map is rejected', () => {
    const errors = messagesOf([{
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'ext' },
      spec: { hosts: ['ext.example.com'], ports: [{ name: 'http', number: 80 }, { name: 'http', number: 8080 }] },
    }]);
    expect(errors).toContainEqual(expect.stringMatching(/^spec\.ports\[1\]: Duplicate value: \{"name":"http"\}/));
  });

  test('a bad metadata name is rejected', () => {
    const vs = virtualService([{ route: [{ destination: { host: 'reviews' } }] }]);
    vs.metadata.name = 'Reviews_v1';
    expect(messagesOf([vs])).toEqual([expect.stringMatching(/^metadata\.name: Invalid value: "Reviews_v1": a lowercase RFC 1123 subdomain/)]);
  });

  test('bad label keys and values are rejected', () => {
    const vs = virtualService([{ route: [{ destination: { host: 'reviews' } }] }]);
    vs.metadata.labels = { 'app/name/x': 'ok', 'team': '-bad-' };
    expect(messagesOf([vs])).toEqual([
      expect.stringMatching(/^metadata\.labels: Invalid value: "app\/name\/x": a qualified name/),
      expect.stringMatching(/^metadata\.labels\.team: Invalid value: "-bad-"/),
    ]);
  });

  test('a version no pinned CRD serves is rejected', () => {
    expect(messagesOf([{ apiVersion: 'networking.istio.io/v2', kind: 'VirtualService', metadata: { name: 'x' }, spec: {} }]))
      .toEqual([expect.stringMatching(/^: no matches for kind "VirtualService" in version "networking.istio.io\/v2"/)]);
  });

  test('a valid Gateway API HTTPRoute passes', () => {
    expectValidManifests([{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'reviews', namespace: 'bookinfo' },
      spec: {
        parentRefs: [{ name: 'mesh-gateway', namespace: 'istio-ingress', sectionName: 'https' }],
        hostnames: ['reviews.example.com'],
        rules: [{
          matches: [{ path: { type: 'PathPrefix', value: '/reviews' }, headers: [{ name: 'x-canary', value: 'true' }] }],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x-route', value: 'canary' }] } }],
          backendRefs: [{ name: 'reviews-v2', port: 9080, weight: 10 }, { name: 'reviews-v1', port: 9080, weight: 90 }],
          timeouts: { request: '10s', backendRequest: '2s' },
        }],
      },
    }]);
  });

  test('an HTTPRoute breaking a Gateway API rule is rejected', () => {
    // GIVEN a backend request timeout longer than the whole request timeout
    const errors = messagesOf([{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'reviews', namespace: 'bookinfo' },
      spec: { rules: [{ backendRefs: [{ name: 'reviews', port: 9080 }], timeouts: { request: '1s', backendRequest: '2s' } }] },
    }]);
    expect(errors).toEqual([expect.stringMatching(/^spec\.rules\[0\]\.timeouts: Invalid value: "object": backendRequest timeout cannot be longer than request timeout/)]);
  });

  test('a valid core Deployment passes', () => {
    expectValidManifests([{
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'reviews-v1', namespace: 'bookinfo', labels: { 'app.kubernetes.io/name': 'reviews' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'reviews', version: 'v1' } },
        template: {
          metadata: { labels: { app: 'reviews', version: 'v1' }, annotations: { 'sidecar.istio.io/inject': 'true' } },
          spec: {
            serviceAccountName: 'reviews',
            containers: [{
              name: 'reviews',
              image: 'docker.io/istio/examples-bookinfo-reviews-v1:1.20.2',
              ports: [{ containerPort: 9080, name: 'http' }],
              resources: { limits: { cpu: '500m', memory: '256Mi' } },
            }],
          },
        },
      },
    }]);
  });

  test('an invalid core Service is rejected', () => {
    // GIVEN a Service with an unknown field, a port given as a string, and a name that is no DNS-1035 label
    const errors = messagesOf([{
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: '1reviews' },
      spec: { selector: { app: 'reviews' }, ports: [{ port: '9080', protocol: 'TCP' }], clusterIp: 'None' },
    }]);
    expect(errors).toEqual(expect.arrayContaining([
      expect.stringMatching(/^spec\.ports\[0\]\.port: Invalid value: "9080": must be of type integer/),
      'spec.clusterIp: unknown field "clusterIp"',
      expect.stringMatching(/^metadata\.name: Invalid value: "1reviews": a DNS-1035 label/),
    ]));
    expect(errors).toHaveLength(3);
  });

  test('an unknown core kind or version is rejected', () => {
    expect(messagesOf([
      { apiVersion: 'v1', kind: 'Container', metadata: { name: 'x' } },
      { apiVersion: 'extensions/v1beta1', kind: 'Deployment', metadata: { name: 'x' } },
    ])).toEqual([expect.stringMatching(/no matches for kind "Container"/), expect.stringMatching(/no matches for kind "Deployment"/)]);
  });

  test('expectValidManifests lists every error', () => {
    const vs = virtualService([{ route: [{ destination: { host: 'reviews' }, extra: true }] }]);
    vs.metadata.namespace = 'Default';
    expect(() => expectValidManifests([vs])).toThrow(new RegExp([
      '2 manifest error\\(s\\):',
      '  \\[0\\] VirtualService/reviews spec\\.http\\[0\\]\\.route\\[0\\]\\.extra: unknown field "extra"',
      '  \\[0\\] VirtualService/reviews metadata\\.namespace: Invalid value: "Default": a lowercase RFC 1123 label',
    ].join('\n')));
  });

  test('every served version of every pinned CRD compiles, schema and rules', () => {
    // Compiling throws on anything the harness cannot check (a keyword, a format, a CEL function).
    const objects = [...servedCrdVersions().values()].map(v => ({
      apiVersion: `${v.group}/${v.version}`, kind: v.kind, metadata: { name: 'x', namespace: 'default' },
    }));
    expect(() => validateManifests(objects)).not.toThrow();
  });

  (fs.existsSync(ISTIO_CASES) ? test : test.skip)('agrees with Istio\'s CRD validation cases', () => {
    const disagreements: Record<string, string> = {};
    let total = 0;
    for (const file of fs.readdirSync(ISTIO_CASES).filter(f => /-(in)?valid\.yaml$/.test(f)).sort()) {
      const shouldPass = file.endsWith('-valid.yaml');
      // The YAML 1.2 core schema, as Kubernetes' YAML reader: no timestamps.
      const docs = yaml.loadAll(fs.readFileSync(path.join(ISTIO_CASES, file), 'utf8'), undefined, { schema: yaml.CORE_SCHEMA });
      docs.forEach((doc: any, i) => {
        if (doc === null || doc === undefined) return;
        total++;
        const { _err: expected, ...object } = doc;
        GO_YAML_READINGS[`${file}#${i}`]?.(object);
        const errors = validateManifests([object]);
        if ((errors.length === 0) !== shouldPass) {
          const found = errors.map(e => `${e.path}: ${e.message}`).join('; ');
          disagreements[`${file}#${i}`] = shouldPass ? `refused: ${found}` : `accepted, Istio expects: ${expected}`;
        }
      });
    }
    const unexplained = Object.keys(disagreements).filter(k => !(k in EXCEPTIONS));
    // eslint-disable-next-line no-console
    console.log(`istio validation cases: ${total - Object.keys(disagreements).length}/${total} agree` +
      (unexplained.length ? `\n${unexplained.map(k => `${k}: ${disagreements[k]}`).join('\n')}` : ''));
    expect(Object.keys(disagreements).sort()).toEqual(Object.keys(EXCEPTIONS).sort());
  });
});

describe('CEL rules on a hand-written schema', () => {
  const failures = (rule: string, value: unknown) =>
    new CelValidator({ 'type': 'string', 'x-kubernetes-validations': [{ rule }] }, 'test').validate(value).length;

  test('messageExpression, fieldPath and reason shape the error', () => {
    const validator = new CelValidator({
      'type': 'object',
      'properties': { n: { type: 'integer' }, at: { type: 'string', format: 'date-time' } },
      'x-kubernetes-validations': [
        { rule: 'self.n > 0', messageExpression: "'n is ' + string(self.n)", fieldPath: '.n', reason: 'FieldValueForbidden' },
        { rule: "self.at < timestamp('2025-01-01T00:00:00Z')", message: 'too late' },
      ],
    }, 'test');
    expect(validator.validate({ n: 1, at: '2024-06-01T00:00:00Z' })).toEqual([]);
    expect(validator.validate({ n: 0, at: '2025-06-01T00:00:00Z' })).toEqual([
      { path: ['n'], message: 'Forbidden: n is 0' },
      { path: [], message: 'Invalid value: "object": too late' },
    ]);
  });

  test('a rule the harness cannot run fails loudly when compiled', () => {
    expect(() => new CelValidator({ 'type': 'string', 'x-kubernetes-validations': [{ rule: "quantity(self).isGreaterThan(quantity('1'))" }] }, 'q'))
      .toThrow(/calls isGreaterThan, quantity, which the harness does not implement/);
    expect(() => new CelValidator({ 'type': 'string', 'x-kubernetes-validations': [{ rule: 'self ==' }] }, 'p')).toThrow(/cannot parse CEL/);
  });

  test.each([
    ['isURL(self)', 'https://example.com:8443/a?b=c', 0],
    ['isURL(self)', 'example.com/path', 1],
    ['isURL(self)', 'http://exa mple.com', 1],
    ["url(self).getHostname() == 'example.com' && url(self).getPort() == '8443'", 'https://example.com:8443/', 0],
    ['isIP(self)', '10.0.0.1', 0],
    ['isIP(self)', '010.0.0.1', 1],
    ['isIP(self)', '::ffff:10.0.0.1', 1],
    ["ip(self) == ip('2001:db8::1')", '2001:0db8:0:0:0:0:0:1', 0],
    ["cidr(self).containsIP('10.1.2.3')", '10.0.0.0/8', 0],
    ["cidr(self).containsIP('11.1.2.3')", '10.0.0.0/8', 1],
    ['isCIDR(self)', '10.0.0.0/33', 1],
    ["self.split('/').size() == 2 && self.lowerAscii() == self", 'a/b', 0],
  ])('%s on %j: %d failure(s)', (rule, value, expected) => {
    expect(failures(rule, value)).toBe(expected);
  });
});
