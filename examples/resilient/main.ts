// A checkout service calling a payments service with stated timeouts, bounded retries, circuit breaking and load
// balancing, a smaller bulkhead for the payments canary, and a fault that only requests with `x-chaos: on` get.
import { App, Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import {
  CanaryService, FaultInjection, LoadBalancer, Mesh, MeshAnalysis, RequestMatch, ResiliencePreset, ResilientUpstream, StringMatch,
} from 'cdk8s-istio';

const app = new App();
new MeshAnalysis(app, 'MeshAnalysis');
new Mesh(app, 'Mesh');
const chart = new Chart(app, 'shop', { namespace: 'shop', disableResourceNameHashes: true });

const resources: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) },
};

new CanaryService(chart, 'Checkout', { versions: [{ name: 'v1', image: 'ghcr.io/example/checkout:3.2.0' }], resources });
const payments = new CanaryService(chart, 'Payments', {
  versions: [{ name: 'v1', image: 'ghcr.io/example/payments:1.8.0' }, { name: 'v2', image: 'ghcr.io/example/payments:1.9.0' }],
  weights: { v1: 95, v2: 5 },
  resources,
});

// Payments must answer fast: fail fast, one retry, eject a pod after 3 consecutive 5xx; v2 gets a smaller bulkhead.
const paymentsPolicy = new ResilientUpstream(chart, 'PaymentsResilience', {
  host: payments.host,
  preset: ResiliencePreset.LATENCY_SENSITIVE,
  loadBalancer: LoadBalancer.leastRequest({ warmup: Duration.seconds(30) }),
  subsetPolicies: [{ subset: 'v2', policy: { connectionPool: { maxConnections: 20, maxPendingRequests: 5 } } }],
});
// Chaos tests: half the requests that carry `x-chaos: on` wait 2s; nobody else is affected.
paymentsPolicy.addFault('chaos-delay', FaultInjection.delay(Duration.seconds(2), 50), {
  matches: [RequestMatch.header('x-chaos', StringMatch.exact('on'))],
});

app.synth();
