import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Chart, Include, Testing } from 'cdk8s';
import { AnalysisLevel, CanaryService, MeshAnalysis } from '../../src';

function service(chart: Chart, id: string, name: string): ApiObject {
  return new ApiObject(chart, id, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080 }] },
  });
}

function deployment(chart: Chart, id: string, name: string, version: string): ApiObject {
  return new ApiObject(chart, id, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `${name}-${version}` },
    spec: {
      selector: { matchLabels: { app: name, version } },
      template: { metadata: { labels: { app: name, version } }, spec: { containers: [{ name, image: `${name}:${version}` }] } },
    },
  });
}

/** An app whose VirtualService routes to subset `routedSubset` of a DestinationRule that defines v1 and v2. */
function reviewsApp(routedSubset: string, analysis: ConstructorParameters<typeof MeshAnalysis>[2] = {}): { app: App; chart: Chart } {
  const app = Testing.app();
  const chart = new Chart(app, 'shop', { namespace: 'shop' });
  service(chart, 'Service', 'reviews');
  deployment(chart, 'V1', 'reviews', 'v1');
  deployment(chart, 'V2', 'reviews', 'v2');
  new ApiObject(chart, 'Subsets', {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'reviews' },
    spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
  });
  new ApiObject(chart, 'Routes', {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews' },
    spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: routedSubset } }] }] },
  });
  new MeshAnalysis(app, 'MeshAnalysis', analysis);
  return { app, chart };
}

let stderr: jest.SpyInstance;
beforeEach(() => {
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => stderr.mockRestore());
const printed = () => stderr.mock.calls.map(c => String(c[0])).join('');

describe('MeshAnalysis', () => {
  test('a route to an undefined subset fails synthesis, naming the construct path and the finding', () => {
    // GIVEN a VirtualService routing to subset v3, which the DestinationRule does not define
    const { chart } = reviewsApp('v3');

    // THEN synthesis fails with the finding on its own line
    expect(() => Testing.synth(chart)).toThrow(
      /\n {2}\[MeshAnalysis\] shop\/Routes: Error \[IST0101\] ReferencedResourceNotFound \(VirtualService shop\/reviews\) Referenced host\+subset not found: "reviews\+v3"/);
    expect(() => Testing.synth(chart)).toThrow(/define subsets v1, v2; fix the subset name or add it/);
  });

  test('app.synth() fails too, and the report keeps the construct path', () => {
    const { app } = reviewsApp('v3');
    const analysis = app.node.findChild('MeshAnalysis') as MeshAnalysis;
    expect(() => app.synth()).toThrow(/Validation failed with the following errors:\n.*IST0101/);
    expect(analysis.report?.findings).toEqual([expect.objectContaining({
      code: 'IST0101',
      name: 'ReferencedResourceNotFound',
      level: AnalysisLevel.ERROR,
      resource: 'VirtualService shop/reviews',
      constructPath: 'shop/Routes',
      analyzer: 'virtualservice.DestinationRuleAnalyzer',
    })]);
  });

  test('a correct app synthesizes, and warnings are printed without failing', () => {
    // GIVEN a correct route, and a Service port that does not name its protocol (IST0118, Info)
    const { chart } = reviewsApp('v2');
    new ApiObject(chart, 'Legacy', {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'legacy' }, spec: { selector: { app: 'reviews' }, ports: [{ port: 9090 }] },
    });

    // THEN it synthesizes and prints the finding
    expect(() => Testing.synth(chart)).not.toThrow();
    expect(printed()).toMatch(/Info \[IST0118\] \(Service shop\/legacy\) Port name {2}\(port: 9090.* \[shop\/Legacy\]/);
  });

  test('failOn makes warnings fail synthesis', () => {
    // GIVEN a DestinationRule that originates TLS without verifying the server (IST0128, Warning)
    const { chart } = reviewsApp('v2', { failOn: AnalysisLevel.WARNING });
    new ApiObject(chart, 'Tls', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'payments' },
      spec: { host: 'payments.example.com', trafficPolicy: { tls: { mode: 'SIMPLE' } } },
    });
    expect(() => Testing.synth(chart)).toThrow(/shop\/Tls: Warning \[IST0128\]/);
  });

  test('suppressions leave findings out, by code and resource', () => {
    const byResource = reviewsApp('v3', { suppressions: [{ code: 'IST0101', resource: 'VirtualService shop/*' }] });
    expect(() => Testing.synth(byResource.chart)).not.toThrow();
    const byName = reviewsApp('v3', { suppressions: [{ code: 'ReferencedResourceNotFound', resource: 'shop/Routes' }] });
    expect(() => Testing.synth(byName.chart)).not.toThrow();
    const elsewhere = reviewsApp('v3', { suppressions: [{ code: 'IST0101', resource: 'VirtualService other/*' }] });
    expect(() => Testing.synth(elsewhere.chart)).toThrow(/IST0101/);
  });

  test('the galley.istio.io/analyze-suppress annotation suppresses on the resource', () => {
    const { chart } = reviewsApp('v3');
    ApiObject.of(chart.node.findChild('Routes')).metadata.addAnnotation('galley.istio.io/analyze-suppress', 'IST0101');
    expect(() => Testing.synth(chart)).not.toThrow();
  });

  test("Include'd YAML is analyzed, and its findings name the include's construct path", () => {
    // GIVEN a VirtualService from a YAML file, bound to a Gateway that does not exist, next to a Gateway that does
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-analysis-'));
    const file = path.join(dir, 'routes.yaml');
    fs.writeFileSync(file, [
      'apiVersion: networking.istio.io/v1', 'kind: VirtualService', 'metadata: {name: web, namespace: shop}',
      'spec: {hosts: [web.example.com], gateways: [public], http: [{route: [{destination: {host: reviews}}]}]}',
    ].join('\n'));
    const { chart } = reviewsApp('v1');
    new ApiObject(chart, 'Gateway', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'internal' },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
    });
    new Include(chart, 'Imported', { url: file });

    expect(() => Testing.synth(chart)).toThrow(/shop\/Imported\/[^:]*: Error \[IST0101\] ReferencedResourceNotFound \(VirtualService shop\/web\) Referenced gateway not found: "public"/);
  });

  test('analyzers that cannot run say so', () => {
    // GIVEN a route to a subset, and no DestinationRule anywhere in the app
    const app = Testing.app();
    const chart = new Chart(app, 'shop', { namespace: 'shop' });
    new ApiObject(chart, 'Routes', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews' },
      spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] },
    });
    const analysis = new MeshAnalysis(app, 'MeshAnalysis');

    expect(() => Testing.synth(chart)).not.toThrow();
    expect(printed()).toMatch(/virtualservice\.DestinationRuleAnalyzer skipped: no DestinationRule in the manifests: 1 subset reference not checked/);
    expect(analysis.report?.incompleteAnalyzers().map(a => a.name)).toEqual(expect.arrayContaining([
      'virtualservice.DestinationHostAnalyzer', 'virtualservice.DestinationRuleAnalyzer',
    ]));
  });

  test('inputsAreComplete reports what the app lacks', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'shop', { namespace: 'shop' });
    new ApiObject(chart, 'Routes', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews' },
      spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] },
    });
    new MeshAnalysis(app, 'MeshAnalysis', { inputsAreComplete: true });
    expect(() => Testing.synth(chart)).toThrow(/Referenced host not found: "reviews"[\s\S]*Referenced host\+subset not found/);
  });

  test('a suppression without a code is refused at construction', () => {
    expect(() => new MeshAnalysis(Testing.app(), 'MeshAnalysis', { suppressions: [{ code: '' }] }))
      .toThrow(/^MeshAnalysis: suppressions got {"code":""}: give each suppression a code/);
  });
});

describe('MeshAnalysis with the library constructs', () => {
  test('a CanaryService analyzes clean; a route to a version it does not have fails synthesis', () => {
    // GIVEN a canary of reviews with versions v1 and v2, and a hand-written route to v3 of it
    const app = Testing.app();
    const chart = new Chart(app, 'shop', { namespace: 'shop' });
    new CanaryService(chart, 'Reviews', {
      versions: [{ name: 'v1', image: 'reviews:1' }, { name: 'v2', image: 'reviews:2' }],
      weights: { v1: 90, v2: 10 },
      requireResources: false,
    });
    const analysis = new MeshAnalysis(app, 'MeshAnalysis');
    expect(() => Testing.synth(chart)).not.toThrow();
    expect(analysis.report?.findingsAtOrAbove(AnalysisLevel.WARNING)).toEqual([]);

    new ApiObject(chart, 'Preview', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews-preview' },
      spec: { hosts: ['reviews-preview.example.com'], gateways: ['mesh'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v3' } }] }] },
    });
    expect(() => Testing.synth(chart)).toThrow(/shop\/Preview: Error \[IST0101\] .*"reviews\+v3".*define subsets v1, v2/);
  });
});
