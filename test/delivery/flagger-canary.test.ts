import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { byKind, deployment, one, resources, shopChart, synthValid } from './fixtures';
import {
  CanaryService, DataplaneMode, FlaggerCanary, FlaggerCanaryProps, FlaggerMetric, FlaggerMetricProvider, FlaggerMetricTemplate, FlaggerStrategy,
  FlaggerWebhookType, Host, IngressTls, LoadBalancer, Mesh, RequestMatch, ResilientUpstream, RetryOn, RetryPolicy, ServicePort, StringMatch,
  UpstreamTls,
} from '../../src';

const progressive = { strategy: FlaggerStrategy.progressive({ stepWeight: 10, maxWeight: 50 }) };

function canary(props: Partial<FlaggerCanaryProps> = {}) {
  const chart = shopChart();
  const c = new FlaggerCanary(chart, 'Checkout', { deployment: deployment(chart, 'checkout'), analysis: progressive, ...props });
  return { chart, canary: c };
}

const spec = (props: Partial<FlaggerCanaryProps> = {}) => one(synthValid(canary(props).chart), 'Canary').spec;

describe('FlaggerCanary', () => {
  test('a Canary for the Deployment, and nothing Flagger creates itself', () => {
    // GIVEN
    const { chart, canary: c } = canary({ port: ServicePort.http(80, { targetPort: 8080 }) });

    // WHEN
    const manifests = synthValid(chart);

    // THEN
    expect(manifests).toMatchSnapshot();
    expect(manifests.map(m => m.kind)).toEqual(['Deployment', 'Canary']);
    const canarySpec = one(manifests, 'Canary').spec;
    expect(canarySpec.provider).toBe('istio');
    expect(canarySpec.targetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout' });
    expect(canarySpec.service).toEqual({ name: 'checkout', port: 80, targetPort: 8080, portName: 'http', appProtocol: 'http' });
    expect(canarySpec.analysis).toEqual({
      interval: '1m',
      threshold: 5,
      stepWeight: 10,
      maxWeight: 50,
      metrics: [
        { name: 'request-success-rate', thresholdRange: { min: 99 } },
        { name: 'request-duration', thresholdRange: { max: 500 } },
      ],
    });
    // Flagger tells primary and canary apart by one selector label.
    expect(one(manifests, 'Deployment').spec.selector).toEqual({ matchLabels: { app: 'checkout' } });
    expect(one(manifests, 'Deployment').spec.template.metadata.labels.app).toBe('checkout');
    expect(c.routing.claimedBy).toBe('Flagger');
    expect(c.routing.virtualService).toBeUndefined();
    expect(c.host.name).toBe('checkout.shop.svc.cluster.local');
  });

  test("Argo CD leaves the Deployment's replicas to Flagger, which scales it to 0 once the primary runs the release", () => {
    const { canary: c } = canary();
    expect(c.argoCdIgnoreDifferences()).toEqual([{ group: 'apps', kind: 'Deployment', name: 'checkout', namespace: 'shop', jsonPointers: ['/spec/replicas'] }]);
  });

  test('the route settings the user declared: gateways, hosts, match, retries, timeout, traffic policy', () => {
    const { chart } = canary({
      ingress: { hosts: ['checkout.example.com'], tls: IngressTls.simple('checkout-cert') },
      matches: [RequestMatch.pathPrefix('/checkout')],
      timeout: Duration.seconds(10),
      retries: RetryPolicy.of({ attempts: 2, perTryTimeout: Duration.seconds(2), retryOn: [RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM] }),
      trafficPolicy: {
        tls: UpstreamTls.istioMutual(),
        connectionPool: { maxPendingRequests: 100, maxRequests: 200 },
        outlierDetection: { consecutive5xxErrors: 5, interval: Duration.seconds(10), baseEjectionTime: Duration.seconds(30) },
      },
      progressDeadline: Duration.minutes(5),
    });
    const manifests = synthValid(chart);
    expect(manifests).toMatchSnapshot();
    const s = one(manifests, 'Canary').spec;
    expect(s.service.gateways).toEqual([`shop/${byKind(manifests, 'Gateway')[0].metadata.name}`, 'mesh']);
    expect(s.service.hosts).toEqual(['checkout.example.com']);
    expect(s.service.match).toEqual([{ uri: { prefix: '/checkout' } }]);
    expect(s.service.timeout).toBe('10s');
    expect(s.service.retries).toEqual({ attempts: 2, perTryTimeout: '2s', retryOn: 'connect-failure,refused-stream' });
    expect(s.service.trafficPolicy).toEqual({
      connectionPool: { http: { http1MaxPendingRequests: 100, http2MaxRequests: 200 } },
      outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s' },
      tls: { mode: 'ISTIO_MUTUAL' },
    });
    expect(s.progressDeadlineSeconds).toBe(300);
    // The gateway is an Istio Gateway serving the host for the canary's namespace.
    expect(one(manifests, 'Gateway').spec.servers.map((srv: any) => srv.hosts)).toEqual([['shop/checkout.example.com'], ['shop/checkout.example.com']]);
  });

  describe('strategies', () => {
    test('step weights with mirroring first and progressive promotion', () => {
      const s = spec({ analysis: { strategy: FlaggerStrategy.stepWeights([1, 5, 10, 25, 50], { mirrorPercentage: 50, stepWeightPromotion: 25 }) } });
      expect(s.analysis).toMatchObject({ stepWeights: [1, 5, 10, 25, 50], stepWeightPromotion: 25, mirror: true, mirrorWeight: 50 });
    });

    test('A/B testing on a header and a cookie', () => {
      const s = spec({
        analysis: {
          strategy: FlaggerStrategy.abTesting({ iterations: 10, matches: [RequestMatch.header('x-canary', StringMatch.regex('.*insider.*')), RequestMatch.cookie('canary', 'always')] }),
          threshold: 2,
        },
      });
      expect(s.analysis).toMatchSnapshot();
      expect(s.analysis.iterations).toBe(10);
      expect(s.analysis.match).toEqual([
        { headers: { 'x-canary': { regex: '.*insider.*' } } },
        { headers: { cookie: { regex: '^(.*?;\\s*)?canary=always(;.*)?$' } } },
      ]);
      expect(s.analysis.stepWeight).toBeUndefined();
    });

    test('blue/green with traffic mirroring', () => {
      const s = spec({ analysis: { strategy: FlaggerStrategy.blueGreen({ iterations: 5, mirrorPercentage: 100 }), interval: Duration.seconds(30) } });
      expect(s.analysis).toMatchObject({ interval: '30s', iterations: 5, mirror: true, mirrorWeight: 100 });
    });
  });

  test('metrics: built-in checks and MetricTemplates, webhooks', () => {
    // GIVEN a MetricTemplate in the app and one referenced by name
    const chart = shopChart();
    const template = new FlaggerMetricTemplate(chart, 'NotFound', {
      name: 'not-found-percentage',
      address: 'http://prometheus.istio-system:9090',
      query: '100 - sum(rate(istio_requests_total{destination_workload="{{ target }}",response_code!="{{ variables.code }}"}[{{ interval }}]))',
    });
    const datadog = new FlaggerMetricTemplate(chart, 'Latency', {
      name: 'latency',
      namespace: 'flagger',
      provider: FlaggerMetricProvider.DATADOG,
      address: 'https://api.datadoghq.com',
      secretName: 'datadog',
      query: 'avg:trace.http.request.duration{service:{{ target }}}',
    });

    // WHEN
    new FlaggerCanary(chart, 'Checkout', {
      deployment: deployment(chart, 'checkout'),
      analysis: {
        ...progressive,
        metrics: [
          FlaggerMetric.requestSuccessRate(99.5, { interval: Duration.minutes(1) }),
          FlaggerMetric.requestDuration(Duration.millis(300)),
          FlaggerMetric.fromTemplate(template, { max: 5, interval: Duration.seconds(30), variables: { code: '404' } }),
          FlaggerMetric.fromTemplate(datadog, { name: 'p95 latency', max: 250 }),
          FlaggerMetric.fromTemplateName('error-budget', { namespace: 'istio-system', min: 0, max: 1 }),
        ],
        webhooks: [
          { name: 'smoke', type: FlaggerWebhookType.PRE_ROLLOUT, url: 'http://flagger-loadtester.test/', timeout: Duration.seconds(30), metadata: { type: 'bash', cmd: 'curl -sf http://checkout-canary.shop:8080/healthz' } },
          { name: 'load-test', url: 'http://flagger-loadtester.test/', metadata: { cmd: 'hey -z 1m -q 10 -c 2 http://checkout-canary.shop:8080/' } },
          { name: 'approval', type: FlaggerWebhookType.CONFIRM_PROMOTION, url: 'https://gate.example.com/approve', retries: 3, muteAlert: true },
        ],
      },
    });
    const manifests = synthValid(chart);

    // THEN
    expect(manifests).toMatchSnapshot();
    const analysis = one(manifests, 'Canary').spec.analysis;
    expect(analysis.metrics).toEqual([
      { name: 'request-success-rate', thresholdRange: { min: 99.5 }, interval: '1m' },
      { name: 'request-duration', thresholdRange: { max: 300 } },
      { name: 'not-found-percentage', templateRef: { name: 'not-found-percentage', namespace: 'shop' }, thresholdRange: { max: 5 }, templateVariables: { code: '404' }, interval: '30s' },
      // Flagger gives a template metric no interval of its own: it gets the analysis interval.
      { name: 'p95 latency', templateRef: { name: 'latency', namespace: 'flagger' }, thresholdRange: { max: 250 }, interval: '1m' },
      { name: 'error-budget', templateRef: { name: 'error-budget', namespace: 'istio-system' }, thresholdRange: { min: 0, max: 1 }, interval: '1m' },
    ]);
    expect(analysis.webhooks.map((w: any) => [w.name, w.type])).toEqual([['smoke', 'pre-rollout'], ['load-test', 'rollout'], ['approval', 'confirm-promotion']]);
    // Flagger reads the templates when the analysis starts: they come first.
    const kinds = manifests.map(m => m.kind);
    expect(kinds.lastIndexOf('MetricTemplate')).toBeLessThan(kinds.indexOf('Canary'));
    expect(byKind(manifests, 'MetricTemplate').map(t => t.spec.provider)).toEqual([
      { type: 'prometheus', address: 'http://prometheus.istio-system:9090' },
      { type: 'datadog', address: 'https://api.datadoghq.com', secretRef: { name: 'datadog' } },
    ]);
  });

  describe('the host belongs to Flagger', () => {
    test('a CanaryService for the same host, declared after, fails naming both', () => {
      const { chart } = canary();
      expect(() => new CanaryService(chart, 'CheckoutV2', { name: 'checkout', versions: [{ name: 'v2', image: 'checkout:2' }], resources }))
        .toThrow('test/CheckoutV2: host got \'checkout.shop.svc.cluster.local\': test/Checkout hands this host to Flagger, which rewrites its routing, '
          + 'so the ports set here would be lost: configure it on test/Checkout, or drop that adapter');
    });

    test('a resilience policy declared before fails the claim naming both', () => {
      const chart = shopChart();
      new ResilientUpstream(chart, 'Resilience', { host: Host.service(chart, 'checkout', 'shop') });
      expect(() => new FlaggerCanary(chart, 'Checkout', { deployment: deployment(chart, 'checkout'), analysis: progressive }))
        .toThrow('test/Checkout: host got \'checkout.shop.svc.cluster.local\': test/Resilience already configures the routing of this host, which Flagger owns: '
          + 'remove that configuration, or give its settings to test/Checkout');
    });

    test('fault injection after the claim fails too', () => {
      const chart = shopChart();
      new FlaggerCanary(chart, 'Checkout', { deployment: deployment(chart, 'checkout'), analysis: progressive });
      expect(() => new ResilientUpstream(chart, 'Resilience', { host: Host.service(chart, 'checkout', 'shop') })).toThrow(/test\/Resilience: host got .* hands this host to Flagger/);
    });
  });

  describe('bad input', () => {
    test('retries Flagger cannot render on one route', () => {
      expect(() => canary({ retries: RetryPolicy.of({ attempts: 2, perTryTimeout: Duration.seconds(1) }) }))
        .toThrow('test/Checkout: retries got ["connect-failure","refused-stream","unavailable","gateway-error"]: Flagger renders one route, '
          + 'so POST and PATCH cannot get safer retries: set retryNonIdempotent: true, or retry only on connect-failure, refused-stream and reset-before-request');
      expect(() => canary({ retries: RetryPolicy.of({ attempts: 2, perTryTimeout: Duration.seconds(1), retryNonIdempotent: true }) })).not.toThrow();
    });

    test('traffic policy fields the Canary has no place for', () => {
      expect(() => canary({ trafficPolicy: { connectionPool: { maxConnections: 100 } } }))
        .toThrow('test/Checkout: trafficPolicy.connectionPool.tcp got {"maxConnections":100}: Flagger\'s Canary has no such traffic policy field');
      expect(() => canary({ trafficPolicy: { tls: UpstreamTls.mutual({ credentialName: 'client-cert' }) } }))
        .toThrow(/trafficPolicy\.tls\.credentialName got 'client-cert'/);
    });

    test('weights that do not increase or leave 1-100', () => {
      expect(() => canary({ analysis: { strategy: FlaggerStrategy.stepWeights([5, 5, 50]) } }))
        .toThrow('test/Checkout: analysis.strategy.stepWeights got [5,5,50]: the weights must increase (5 is followed by 5)');
      expect(() => canary({ analysis: { strategy: FlaggerStrategy.stepWeights([0, 50]) } })).toThrow(/from 1 to 100 \(got 0\)/);
      expect(() => canary({ analysis: { strategy: FlaggerStrategy.progressive({ stepWeight: 60, maxWeight: 50 }) } }))
        .toThrow('test/Checkout: analysis.strategy.maxWeight got 50: use a maxWeight of at least the stepWeight (60)');
      expect(() => canary({ analysis: { strategy: FlaggerStrategy.progressive({ stepWeight: 0, maxWeight: 50 }) } })).toThrow(/stepWeight got 0/);
    });

    test('A/B matches Flagger cannot take', () => {
      expect(() => canary({ analysis: { strategy: FlaggerStrategy.abTesting({ iterations: 5, matches: [RequestMatch.pathPrefix('/beta')] }) } }))
        .toThrow(/analysis\.strategy\.matches got 'uri': Flagger's A\/B match takes headers, cookies and query parameters/);
      expect(() => canary({ analysis: { strategy: FlaggerStrategy.abTesting({ iterations: 0, matches: [RequestMatch.header('x', StringMatch.exact('y'))] }) } }))
        .toThrow(/iterations got 0/);
    });

    test('durations Flagger cannot parse, webhooks without a URL, duplicate names', () => {
      expect(() => canary({ analysis: { ...progressive, interval: Duration.millis(1500) } }))
        .toThrow('test/Checkout: analysis.interval got \'1500ms\': use a whole number of seconds, at least 1s');
      expect(() => canary({ analysis: { ...progressive, webhooks: [{ name: 'x', url: 'flagger-loadtester' }] } }))
        .toThrow(/analysis\.webhooks\[0\]\.url got 'flagger-loadtester': give an http:\/\/ or https:\/\/ URL/);
      expect(() => canary({ analysis: { ...progressive, metrics: [FlaggerMetric.requestSuccessRate(99), FlaggerMetric.requestSuccessRate(98)] } }))
        .toThrow(/analysis\.metrics\.name got 'request-success-rate': each value may appear only once/);
    });

    test('template metrics without a range or the variables the query uses', () => {
      const build = (metric: (chart: Chart) => FlaggerMetric) => {
        const chart = shopChart();
        new FlaggerCanary(chart, 'Checkout', { deployment: deployment(chart, 'checkout'), analysis: { ...progressive, metrics: [metric(chart)] } });
      };
      const template = (chart: Chart) => new FlaggerMetricTemplate(chart, 'T', { query: 'sum(x{code="{{ variables.code }}"})', address: 'http://prometheus:9090' });
      expect(() => build(chart => FlaggerMetric.fromTemplate(template(chart), { max: 1 })))
        .toThrow('test/Checkout: analysis.metrics[0].variables got {}: give the variables the template\'s query uses: code');
      expect(() => build(() => FlaggerMetric.fromTemplateName('t', {}))).toThrow(/analysis\.metrics\[0\]\.min is missing: give the passing range: min, max or both/);
      expect(() => build(() => FlaggerMetric.fromTemplateName('t', { min: 5, max: 1 }))).toThrow(/min got 5: use a min no higher than max \(1\)/);
      expect(() => new FlaggerMetricTemplate(shopChart(), 'Empty', { query: ' ' })).toThrow(/query got ' ': give the query/);
      // Flagger builds the Prometheus, Graphite and InfluxDB clients from the address alone.
      expect(() => new FlaggerMetricTemplate(shopChart(), 'NoAddress', { query: 'up' }))
        .toThrow(/test\/NoAddress: address is missing: give the prometheus API's URL/);
    });

    test('A/B matches Flagger would not merge into the service matches', () => {
      const build = (matches: RequestMatch[]) => {
        const chart = shopChart();
        new FlaggerCanary(chart, 'Checkout', {
          deployment: deployment(chart, 'checkout'),
          matches: [RequestMatch.pathPrefix('/shop').and(RequestMatch.header('x-tenant', StringMatch.exact('a')))],
          analysis: { strategy: FlaggerStrategy.abTesting({ iterations: 5, matches }) },
        });
      };
      expect(() => build([RequestMatch.queryParam('canary', StringMatch.exact('yes'))]))
        .toThrow(/test\/Checkout: analysis\.strategy\.matches got \["canary"\]: Flagger drops an A\/B match's query parameters/);
      expect(() => build([RequestMatch.header('x-canary', StringMatch.exact('yes'))]))
        .toThrow(/Flagger replaces the service matches' headers with the A\/B match's/);
    });

    test('a load-balancer hash Flagger cannot carry is refused', () => {
      const chart = shopChart();
      expect(() => new FlaggerCanary(chart, 'Checkout', {
        deployment: deployment(chart, 'checkout'),
        trafficPolicy: { loadBalancer: LoadBalancer.consistentHashByQueryParameter('user') },
        analysis: progressive,
      })).toThrow(/httpQueryParameterName/);
    });

    test('a cookie hash needs a ttl: Flagger would copy an empty one into its DestinationRules', () => {
      const canaryWith = (chart: Chart, loadBalancer: LoadBalancer) =>
        new FlaggerCanary(chart, 'Checkout', { deployment: deployment(chart, 'checkout'), trafficPolicy: { loadBalancer }, analysis: progressive });
      const refused = shopChart();
      expect(() => canaryWith(refused, LoadBalancer.consistentHashByCookie('session')))
        .toThrow(/^test\/Checkout: trafficPolicy\.loadBalancer\.consistentHash\.httpCookie\.ttl is missing: Flagger copies the cookie .* give the cookie a ttl$/);
      expect(Testing.synth(refused).filter(o => o.kind === 'Canary')).toEqual([]);
      const chart = shopChart();
      canaryWith(chart, LoadBalancer.consistentHashByCookie('session', { ttl: Duration.hours(1) }));
      expect(synthValid(chart).find(o => o.kind === 'Canary').spec.service.trafficPolicy).toEqual({
        loadBalancer: { consistentHash: { httpCookie: { name: 'session', ttl: '3600s' } } },
      });
    });

    test('a Deployment selected by other labels fails at synth', () => {
      const chart = shopChart();
      const selected = new kplus.Deployment(chart, 'Checkout', { metadata: { name: 'checkout' }, containers: [{ image: 'checkout:1', portNumber: 8080, resources }] });
      new FlaggerCanary(chart, 'Canary', { deployment: selected, analysis: progressive });
      expect(() => Testing.synth(chart)).toThrow(/test\/Canary: deployment got \["cdk8s\.io\/metadata\.addr"\]: Flagger needs a Deployment selected by exactly one of the labels app, name, app\.kubernetes\.io\/name: create test\/Checkout with select: false/);
    });

    test('TCP ports and ambient mode are refused', () => {
      expect(() => canary({ port: ServicePort.tcp(5432) })).toThrow(/port\[0\] got 'tcp': progressive delivery shifts HTTP routes/);
      const app = Testing.app();
      new Mesh(app, 'Mesh', { dataplaneMode: DataplaneMode.AMBIENT });
      const chart = shopChart(app);
      expect(() => new FlaggerCanary(chart, 'Checkout', { deployment: deployment(chart, 'checkout'), analysis: progressive }))
        .toThrow(/dataplaneMode got 'ambient': Flagger creates the routed Services itself/);
    });
  });
});

