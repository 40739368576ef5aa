// Three services of a shop, each released its own way: static phases selected by RELEASE_PHASE, Flagger, Argo Rollouts.
import { App, Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import {
  ArgoCdSyncWaves, ArgoRollout, CanaryService, FlaggerCanary, FlaggerMetric, FlaggerMetricTemplate, FlaggerStrategy, FlaggerWebhookType, IngressTls,
  Mesh, PhaseSelector, ReleasePhases, RequestMatch, RolloutStep, RolloutWorkload, ServicePort, StringMatch,
} from 'cdk8s-istio';

const app = new App();
new Mesh(app, 'Mesh');
// Argo CD applies DestinationRules, then routes, then the controllers' Rollouts and Canaries.
new ArgoCdSyncWaves(app, 'SyncWaves');
const chart = new Chart(app, 'shop', { namespace: 'shop', disableResourceNameHashes: true });

const resources: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
  memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) },
};
const testers = RequestMatch.header('x-canary', StringMatch.exact('always'));

// 1. Static phases: the pipeline promotes by setting RELEASE_PHASE (1 to 5, or a phase's name); nothing rewrites
// the manifests at run time. Print the plan for review with `console.log(cartPhases.plan())`.
const cartPhases = ReleasePhases.of([
  { name: 'dark', weight: 0, matches: [testers] },
  { weight: 5, matches: [testers] },
  { weight: 25 },
  { weight: 50 },
  { weight: 100 },
], { stable: 'v1', canary: 'v2', selector: PhaseSelector.environment('RELEASE_PHASE', { defaultPhase: 1 }) });

new CanaryService(chart, 'Cart', {
  versions: [
    { name: 'v1', image: 'ghcr.io/example/shop-cart:3.1.0' },
    { name: 'v2', image: 'ghcr.io/example/shop-cart:3.2.0' },
  ],
  phases: cartPhases,
  timeout: Duration.seconds(3),
  resources,
});

// 2. Flagger: promotion driven by Istio metrics and a load test; Flagger owns the checkout host's routing.
const checkout = new kplus.Deployment(chart, 'CheckoutDeployment', {
  metadata: { name: 'checkout' },
  select: false,
  replicas: 3,
  containers: [{ image: 'ghcr.io/example/shop-checkout:5.0.2', portNumber: 8080, resources }],
});
const errors = new FlaggerMetricTemplate(chart, 'ServerErrors', {
  name: 'server-error-percentage',
  address: 'http://prometheus.istio-system:9090',
  // `or vector(0)`: without any 5xx the numerator is empty, and Flagger halts on a query that returns no value.
  query: '100 * (sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",'
    + 'destination_workload="{{ target }}",response_code=~"5.."}[{{ interval }}])) or vector(0)) / sum(rate(istio_requests_total{reporter="destination",'
    + 'destination_workload_namespace="{{ namespace }}",destination_workload="{{ target }}"}[{{ interval }}]))',
});
new FlaggerCanary(chart, 'Checkout', {
  deployment: checkout,
  port: ServicePort.http(8080),
  ingress: { hosts: ['checkout.example.com'], tls: IngressTls.simple('checkout-example-com-cert') },
  timeout: Duration.seconds(10),
  analysis: {
    strategy: FlaggerStrategy.stepWeights([5, 10, 25, 50]),
    interval: Duration.minutes(1),
    threshold: 5,
    metrics: [
      FlaggerMetric.requestSuccessRate(99),
      FlaggerMetric.requestDuration(Duration.millis(500)),
      FlaggerMetric.fromTemplate(errors, { max: 1, interval: Duration.minutes(1) }),
    ],
    webhooks: [
      { name: 'load-test', type: FlaggerWebhookType.ROLLOUT, url: 'http://flagger-loadtester.test/', metadata: { cmd: 'hey -z 1m -q 10 -c 2 http://checkout-canary.shop:8080/' } },
    ],
  },
});

// 3. Argo Rollouts: testers first through a header route, then weights with pauses, subset-level split.
const payments = new kplus.Deployment(chart, 'PaymentsDeployment', {
  metadata: { name: 'payments' },
  select: false,
  replicas: 4,
  containers: [{ image: 'ghcr.io/example/shop-payments:7.4.0', portNumber: 8080, resources }],
});
new ArgoRollout(chart, 'Payments', {
  workload: RolloutWorkload.inline(payments),
  timeout: Duration.seconds(5),
  steps: [
    RolloutStep.canaryScale({ replicas: 1 }),
    RolloutStep.headerRoute('testers', [testers]),
    RolloutStep.pause(),
    RolloutStep.canaryScale({ matchTrafficWeight: true }),
    RolloutStep.weight(10),
    RolloutStep.pause(Duration.minutes(10)),
    RolloutStep.weight(50),
    RolloutStep.pause(Duration.minutes(10)),
    RolloutStep.removeHeaderRoute('testers'),
  ],
});

app.synth();
