import * as fs from 'fs';
import * as path from 'path';
import { loadAll } from 'js-yaml';
import { MeshAnalyzer } from '../../src';

const VALIDATION = path.resolve(__dirname, '..', '..', '..', 'shared', 'istio-testdata', 'validation');

// Istio's CRD validation cases hold every kind of malformed resource: the analysis must report on them, never crash.
test('malformed resources (Istio validation cases) never make the analysis throw', () => {
  const files = fs.readdirSync(VALIDATION).filter(f => f.endsWith('.yaml'));
  expect(files.length).toBeGreaterThan(0);
  const manifests = files.flatMap(f => (loadAll(fs.readFileSync(path.join(VALIDATION, f), 'utf8')) as any[]).filter(Boolean));
  expect(() => MeshAnalyzer.analyze(manifests)).not.toThrow();
  expect(() => MeshAnalyzer.analyze(manifests, { inputsAreComplete: true, defaultNamespace: '' })).not.toThrow();
  // Each file alone too, so that no analyzer is spared by another's index entries.
  for (const f of files) {
    const docs = (loadAll(fs.readFileSync(path.join(VALIDATION, f), 'utf8')) as any[]).filter(Boolean);
    expect(() => MeshAnalyzer.analyze(docs, { inputsAreComplete: true })).not.toThrow();
  }
});

test('values of the wrong type are tolerated', () => {
  const odd = [
    { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'a' }, spec: { hosts: 'x', http: [null, { match: 'x', route: [{}] }], gateways: [1] } },
    { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'g' }, spec: { selector: 'x', servers: [{ hosts: null }, null] } },
    { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'd' }, spec: { host: 5, trafficPolicy: 'x', subsets: [null, {}] } },
    { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p' }, spec: { rules: [null, { from: [null, { source: { principals: 'x' } }] }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', annotations: { 'networking.istio.io/exportTo': 5 } }, spec: { ports: [null, { port: 'http' }] } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'w' }, spec: { template: 'x' } },
    null, 'text', 42, [], { kind: 'List', items: [null, { kind: 'Pod' }] },
  ];
  expect(() => MeshAnalyzer.analyze(odd, { inputsAreComplete: true })).not.toThrow();
});
