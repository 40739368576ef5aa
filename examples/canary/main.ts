// A shop frontend exposed through the ingress gateway, calling a backend whose v2 takes 10% of traffic.
import { App, Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { CanaryService, IngressTls, Mesh, RequestMatch, ResiliencePreset, ResilientUpstream, RetryPolicy, StringMatch, MeshAnalysis } from 'cdk8s-istio';

const app = new App();
// Offline istioctl-grade analysis at synth: a broken reference fails `cdk8s synth` with the finding.
new MeshAnalysis(app, 'MeshAnalysis');
new Mesh(app, 'Mesh');
const chart = new Chart(app, 'shop', { namespace: 'shop', disableResourceNameHashes: true });

const resources: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) },
};

new CanaryService(chart, 'Frontend', {
  versions: [{ name: 'v1', image: 'ghcr.io/example/shop-frontend:1.4.0' }],
  resources,
  timeout: Duration.seconds(5),
  retries: RetryPolicy.of({ attempts: 2, perTryTimeout: Duration.seconds(1) }),
  ingress: { hosts: ['shop.example.com'], tls: IngressTls.simple('shop-example-com-cert') },
});

const backend = new CanaryService(chart, 'Backend', {
  versions: [
    { name: 'v1', image: 'ghcr.io/example/shop-backend:2.0.3' },
    { name: 'v2', image: 'ghcr.io/example/shop-backend:2.1.0' },
  ],
  weights: { v1: 90, v2: 10 },
  // Testers opt in to v2 with a header, whatever the split.
  matchRoutes: [{ version: 'v2', matches: [RequestMatch.header('x-canary', StringMatch.exact('always'))] }],
  resources,
});

new ResilientUpstream(chart, 'BackendResilience', {
  host: backend.host,
  preset: ResiliencePreset.STANDARD,
  subsetPolicies: [{ subset: 'v2', policy: { connectionPool: { maxConnections: 20, maxPendingRequests: 20 } } }],
});

app.synth();
