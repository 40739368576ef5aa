import { App, Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import {
  AccessLogFilter, CustomTag, IstioMetric, Mesh, TagOverride, Telemetry, TelemetryProps, TelemetryProvider,
  TelemetryScope, WorkloadMode, WorkloadSelector,
} from '../../src';
import { expectValidManifests } from '../harness/validate';

function chart(app: App = Testing.app()): Chart {
  return new Chart(app, 'test', { namespace: 'shop' });
}

function synth(props: TelemetryProps, c: Chart = chart()): any {
  new Telemetry(c, 'Telemetry', props);
  const manifests = Testing.synth(c);
  expectValidManifests(manifests);
  const telemetries = manifests.filter(m => m.kind === 'Telemetry');
  expect(telemetries).toHaveLength(1);
  return telemetries[0];
}

describe('Telemetry', () => {
  describe('scope', () => {
    test('mesh: the root namespace, no selector', () => {
      const t = synth({ scope: TelemetryScope.mesh(), tracing: [{ randomSamplingPercentage: 10 }] });
      expect(t).toMatchSnapshot();
      expect(t.apiVersion).toBe('telemetry.istio.io/v1');
      expect(t.metadata).toEqual({ name: 'telemetry', namespace: 'istio-system' });
      expect(t.spec.selector).toBeUndefined();
    });

    test('mesh: a custom root namespace of the Mesh', () => {
      const app = Testing.app();
      new Mesh(app, 'Mesh', { rootNamespace: 'mesh-root' });
      const t = synth({ scope: TelemetryScope.mesh(), name: 'mesh-default', accessLogging: [{}] }, chart(app));
      expect(t.metadata).toEqual({ name: 'mesh-default', namespace: 'mesh-root' });
    });

    test('default scope: the chart\'s namespace, no selector', () => {
      const t = synth({ accessLogging: [{ providers: [TelemetryProvider.ENVOY] }] });
      expect(t.metadata.namespace).toBe('shop');
      expect(t.spec).toEqual({ accessLogging: [{ providers: [{ name: 'envoy' }] }] });
    });

    test('namespace: an explicit namespace', () => {
      const t = synth({ scope: TelemetryScope.namespace('payments'), accessLogging: [{ disabled: true }] });
      expect(t.metadata.namespace).toBe('payments');
      expect(t.spec).toEqual({ accessLogging: [{ disabled: true }] });
    });

    test('workload: the selector\'s labels and namespace, read late', () => {
      const c = chart();
      const deployment = new kplus.Deployment(c, 'Reviews', { containers: [{ image: 'reviews' }] });
      new Telemetry(c, 'Telemetry', {
        scope: TelemetryScope.workload(WorkloadSelector.fromWorkload(deployment)),
        tracing: [{ disableSpanReporting: true }],
      });
      deployment.select(kplus.LabelSelector.of({ labels: { app: 'reviews' } }));
      const manifests = Testing.synth(c);
      expectValidManifests(manifests);
      const t = manifests.find(m => m.kind === 'Telemetry');
      expect(t.metadata.namespace).toBe('shop');
      expect(t.spec.selector.matchLabels).toEqual(expect.objectContaining({ app: 'reviews' }));
    });

    test('workload: from labels in another namespace', () => {
      const c = chart();
      const t = synth({
        scope: TelemetryScope.workload(WorkloadSelector.fromLabels(c, 'billing', { app: 'invoices' })),
        metrics: [{ overrides: [{ metric: IstioMetric.REQUEST_COUNT, disabled: true }] }],
      }, c);
      expect(t.metadata.namespace).toBe('billing');
      expect(t.spec.selector).toEqual({ matchLabels: { app: 'invoices' } });
    });

    test('gateway: targetRefs to a Gateway API Gateway such as a waypoint', () => {
      const t = synth({ scope: TelemetryScope.gateway('waypoint'), accessLogging: [{ providers: [TelemetryProvider.ENVOY] }] });
      expect(t).toMatchSnapshot();
      expect(t.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }]);
      expect(t.spec.selector).toBeUndefined();
    });

    test('older meshes get telemetry.istio.io/v1alpha1', () => {
      const app = Testing.app();
      new Mesh(app, 'Mesh', { istioVersion: '1.20' });
      const t = synth({ scope: TelemetryScope.mesh(), tracing: [{ randomSamplingPercentage: 1 }] }, chart(app));
      expect(t.apiVersion).toBe('telemetry.istio.io/v1alpha1');
    });
  });

  describe('tracing', () => {
    test('provider, sampling, custom tags from a literal, a header and the environment', () => {
      const t = synth({
        scope: TelemetryScope.mesh(),
        tracing: [{
          provider: TelemetryProvider.of('otel-tracing'),
          randomSamplingPercentage: 2.5,
          customTags: {
            'cluster': CustomTag.literal('prod-eu-1'),
            'user.tier': CustomTag.header('X-User-Tier', 'free'),
            'pod': CustomTag.environment('POD_NAME'),
          },
          useRequestIdForTraceSampling: false,
        }],
      });
      expect(t).toMatchSnapshot();
      expect(t.spec.tracing).toEqual([{
        providers: [{ name: 'otel-tracing' }],
        randomSamplingPercentage: 2.5,
        customTags: {
          'cluster': { literal: { value: 'prod-eu-1' } },
          'pod': { environment: { name: 'POD_NAME' } },
          'user.tier': { header: { name: 'x-user-tier', defaultValue: 'free' } },
        },
        useRequestIdForTraceSampling: false,
      }]);
    });

    test('client-side only, span reporting off', () => {
      const t = synth({ tracing: [{ mode: WorkloadMode.CLIENT, disableSpanReporting: true }] });
      expect(t.spec.tracing).toEqual([{ match: { mode: 'CLIENT' }, disableSpanReporting: true }]);
    });

    test('an empty rule turns tracing on with the default provider', () => {
      expect(synth({ tracing: [{}] }).spec).toEqual({ tracing: [{}] });
    });

    test('0 and 100 are valid sampling percentages', () => {
      expect(synth({ tracing: [{ randomSamplingPercentage: 0 }] }).spec.tracing[0].randomSamplingPercentage).toBe(0);
      expect(synth({ tracing: [{ randomSamplingPercentage: 100 }] }).spec.tracing[0].randomSamplingPercentage).toBe(100);
      expect(synth({ tracing: [{ randomSamplingPercentage: 0.01 }] }).spec.tracing[0].randomSamplingPercentage).toBe(0.01);
    });

    test.each([-1, 100.5, NaN])('sampling percentage %p is refused', pct => {
      expect(() => new Telemetry(chart(), 'T', { tracing: [{ randomSamplingPercentage: pct }] }))
        .toThrow(/test\/T: tracing\[0\]\.randomSamplingPercentage got .*: use a percentage from 0 to 100/);
    });

    test('sampling finer than 0.01% is refused', () => {
      expect(() => new Telemetry(chart(), 'T', { tracing: [{ randomSamplingPercentage: 0.005 }] }))
        .toThrow(/randomSamplingPercentage got 0.005: Istio samples in steps of 0.01%/);
    });

    test('bad custom tags are refused', () => {
      expect(() => new Telemetry(chart(), 'T', { tracing: [{ customTags: { env: CustomTag.literal('') } }] }))
        .toThrow(/tracing\[0\]\.customTags\.env got '': give the literal tag a non-empty value/);
      expect(() => new Telemetry(chart(), 'T', { tracing: [{ customTags: { env: CustomTag.environment('1BAD') } }] }))
        .toThrow(/customTags\.env\.name got '1BAD': use an environment variable name/);
      expect(() => new Telemetry(chart(), 'T', { tracing: [{ customTags: { h: CustomTag.header('bad header') } }] }))
        .toThrow(/customTags\.h\.name got 'bad header': use an HTTP header name/);
      expect(() => new Telemetry(chart(), 'T', { tracing: [{ customTags: { 'my tag': CustomTag.literal('x') } }] }))
        .toThrow(/customTags got 'my tag': name the tag without whitespace/);
    });

    test('a blank provider name is refused', () => {
      expect(() => new Telemetry(chart(), 'T', { tracing: [{ provider: TelemetryProvider.of('') }] }))
        .toThrow(/tracing\[0\]\.provider got '': name a provider of meshConfig.extensionProviders/);
    });
  });

  describe('access logging', () => {
    test('errors only, to Envoy\'s log and an OpenTelemetry collector', () => {
      const t = synth({
        scope: TelemetryScope.mesh(),
        accessLogging: [{
          providers: [TelemetryProvider.ENVOY, TelemetryProvider.of('otel-als')],
          filter: AccessLogFilter.responseCodeAtLeast(400),
        }],
      });
      expect(t).toMatchSnapshot();
      expect(t.spec.accessLogging).toEqual([{
        providers: [{ name: 'envoy' }, { name: 'otel-als' }],
        filter: { expression: 'response.code >= 400' },
      }]);
    });

    test('a CEL expression and a direction', () => {
      const t = synth({
        accessLogging: [{ mode: WorkloadMode.SERVER, filter: AccessLogFilter.expression('connection.mtls && request.url_path.contains(\'admin\')') }],
      });
      expect(t.spec.accessLogging).toEqual([{ match: { mode: 'SERVER' }, filter: { expression: 'connection.mtls && request.url_path.contains(\'admin\')' } }]);
    });

    test('re-enabling below a scope that disabled it', () => {
      expect(synth({ accessLogging: [{ disabled: false }] }).spec.accessLogging).toEqual([{ disabled: false }]);
    });

    test.each([
      ['', /filter got '': give a CEL expression/],
      ['   ', /filter got '   ': give a CEL expression/],
      ['response.code >= (400', /add the missing '\)'/],
      ['response.code >= 400)', /'\)' at position 20 closes nothing/],
      ['request.host == "a', /close the string opened with "/],
    ])('filter %p is refused', (expression, error) => {
      expect(() => new Telemetry(chart(), 'T', { accessLogging: [{ filter: AccessLogFilter.expression(expression) }] })).toThrow(error);
    });

    test('brackets inside strings do not count', () => {
      const t = synth({ accessLogging: [{ filter: AccessLogFilter.expression('request.url_path.startsWith("/a(") && request.headers["x-b]"] == \'\\\'\'') }] });
      expect(t.spec.accessLogging[0].filter.expression).toContain('/a(');
    });

    test('a status code outside 100-599 is refused', () => {
      expect(() => new Telemetry(chart(), 'T', { accessLogging: [{ filter: AccessLogFilter.responseCodeAtLeast(40) }] }))
        .toThrow(/accessLogging\[0\]\.filter got 40: use an HTTP status code from 100 to 599/);
    });

    test('a filter on a disabled rule is refused', () => {
      expect(() => new Telemetry(chart(), 'T', { accessLogging: [{ disabled: true, filter: AccessLogFilter.responseCodeAtLeast(500) }] }))
        .toThrow(/a disabled rule logs nothing to filter/);
    });

    test('a provider listed twice is refused', () => {
      expect(() => new Telemetry(chart(), 'T', { accessLogging: [{ providers: [TelemetryProvider.ENVOY, TelemetryProvider.of('envoy')] }] }))
        .toThrow(/accessLogging\[0\]\.providers got 'envoy': list each provider once/);
    });
  });

  describe('metrics', () => {
    test('tag overrides: upsert and remove, per metric and mode', () => {
      const t = synth({
        metrics: [{
          providers: [TelemetryProvider.PROMETHEUS],
          overrides: [
            { tagOverrides: { request_host: TagOverride.upsert('request.host') } },
            { metric: IstioMetric.REQUEST_COUNT, mode: WorkloadMode.SERVER, tagOverrides: { response_code: TagOverride.remove() } },
            { metric: IstioMetric.custom('my_app_requests'), tagOverrides: { route: TagOverride.upsert('string(destination.port)') } },
          ],
          reportingInterval: Duration.seconds(15),
        }],
      });
      expect(t).toMatchSnapshot();
      expect(t.spec.metrics).toEqual([{
        providers: [{ name: 'prometheus' }],
        overrides: [
          { tagOverrides: { request_host: { operation: 'UPSERT', value: 'request.host' } } },
          { match: { metric: 'REQUEST_COUNT', mode: 'SERVER' }, tagOverrides: { response_code: { operation: 'REMOVE' } } },
          { match: { customMetric: 'my_app_requests' }, tagOverrides: { route: { operation: 'UPSERT', value: 'string(destination.port)' } } },
        ],
        reportingInterval: '15s',
      }]);
    });

    test('disable server-side metrics mesh-wide', () => {
      const t = synth({
        scope: TelemetryScope.mesh(),
        metrics: [{
          providers: [TelemetryProvider.PROMETHEUS],
          overrides: [{ metric: IstioMetric.ALL_METRICS, mode: WorkloadMode.SERVER, disabled: true }],
        }],
      });
      expect(t.spec.metrics[0].overrides).toEqual([{ match: { metric: 'ALL_METRICS', mode: 'SERVER' }, disabled: true }]);
    });

    test('every standard metric renders to a value the CRD accepts', () => {
      const all = [
        IstioMetric.ALL_METRICS, IstioMetric.REQUEST_COUNT, IstioMetric.REQUEST_DURATION, IstioMetric.REQUEST_SIZE,
        IstioMetric.RESPONSE_SIZE, IstioMetric.TCP_OPENED_CONNECTIONS, IstioMetric.TCP_CLOSED_CONNECTIONS,
        IstioMetric.TCP_SENT_BYTES, IstioMetric.TCP_RECEIVED_BYTES, IstioMetric.GRPC_REQUEST_MESSAGES,
        IstioMetric.GRPC_RESPONSE_MESSAGES,
      ];
      const t = synth({ metrics: [{ overrides: all.map(metric => ({ metric, disabled: false })) }] });
      expect(t.spec.metrics[0].overrides.map((o: any) => o.match.metric)).toEqual(all.map(m => m.name));
    });

    test('the typed API has no `dimensions`: tags are changed with tagOverrides', () => {
      // @ts-expect-error dimensions is not a field of Istio's Telemetry (nor of MetricOverride)
      const override: import('../../src').MetricOverride = { dimensions: { request_host: 'request.host' } };
      expect(() => new Telemetry(chart(), 'T', { metrics: [{ overrides: [override] }] }))
        .toThrow(/an override changes nothing without disabled or tagOverrides/);
    });

    test('bad overrides are refused', () => {
      const bad = (o: import('../../src').MetricOverride) => () => new Telemetry(chart(), 'T', { metrics: [{ overrides: [o] }] });
      expect(bad({ metric: IstioMetric.REQUEST_COUNT })).toThrow(/metrics\[0\]\.overrides\[0\] got 'REQUEST_COUNT': an override changes nothing/);
      expect(bad({ disabled: true, tagOverrides: { a: TagOverride.remove() } })).toThrow(/a disabled metric has no tags to change/);
      expect(bad({ tagOverrides: { 'bad-tag': TagOverride.remove() } })).toThrow(/tagOverrides got 'bad-tag': name the tag as a metric label/);
      expect(bad({ tagOverrides: { host: TagOverride.upsert('') } })).toThrow(/tagOverrides\.host\.value got '': give a CEL expression/);
      expect(bad({ metric: IstioMetric.custom('has space'), disabled: true })).toThrow(/overrides\[0\]\.metric got 'has space'/);
    });

    test('a reporting interval under 1ms is refused', () => {
      expect(() => new Telemetry(chart(), 'T', { metrics: [{ reportingInterval: Duration.millis(0) }] }))
        .toThrow(/metrics\[0\]\.reportingInterval got '0ms': use a duration of at least 1ms/);
    });
  });

  test('tracing, access logging and metrics together, and rules added after construction', () => {
    const c = chart();
    const t = new Telemetry(c, 'Everything', { name: 'shop-telemetry', tracing: [{ randomSamplingPercentage: 5 }] });
    t.addAccessLogging({ filter: AccessLogFilter.responseCodeAtLeast(500) });
    t.addMetrics({ overrides: [{ metric: IstioMetric.REQUEST_DURATION, tagOverrides: { request_protocol: TagOverride.remove() } }] });
    t.addTracing({ mode: WorkloadMode.CLIENT, provider: TelemetryProvider.of('zipkin') });
    const manifests = Testing.synth(c);
    expectValidManifests(manifests);
    expect(manifests).toMatchSnapshot();
    expect(Object.keys(manifests[0].spec).sort()).toEqual(['accessLogging', 'metrics', 'tracing']);
    expect(manifests[0].spec.tracing).toHaveLength(2);
    expect(t.resource.name).toBe('shop-telemetry');
    expect(t.namespace).toBe('shop');
  });

  describe('uniqueness and emptiness', () => {
    test('two mesh-wide Telemetries are refused', () => {
      const app = Testing.app();
      new Telemetry(chart(app), 'A', { scope: TelemetryScope.mesh(), tracing: [{}] });
      const other = new Chart(app, 'other');
      expect(() => new Telemetry(other, 'B', { scope: TelemetryScope.mesh(), tracing: [{}] }))
        .toThrow(/other\/B: scope got 'istio-system namespace-wide': test\/A already configures the mesh, and Istio takes only one: merge the rules into it/);
    });

    test('a namespace Telemetry in the root namespace is the mesh-wide one', () => {
      const app = Testing.app();
      new Telemetry(chart(app), 'A', { scope: TelemetryScope.mesh(), tracing: [{}] });
      expect(() => new Telemetry(new Chart(app, 'c2'), 'B', { scope: TelemetryScope.namespace('istio-system'), tracing: [{}] })).toThrow(/already configures/);
    });

    test('two Telemetries for one namespace are refused; other namespaces are fine', () => {
      const c = chart();
      new Telemetry(c, 'A', { tracing: [{}] });
      new Telemetry(c, 'B', { scope: TelemetryScope.namespace('other'), tracing: [{}] });
      expect(() => new Telemetry(c, 'C', { tracing: [{}] })).toThrow(/test\/A already configures namespace shop/);
    });

    test('two Telemetries for the same workloads are refused at synth', () => {
      const c = chart();
      new Telemetry(c, 'A', { scope: TelemetryScope.workload(WorkloadSelector.fromLabels(c, 'shop', { app: 'x' })), tracing: [{}] });
      new Telemetry(c, 'B', { scope: TelemetryScope.workload(WorkloadSelector.fromLabels(c, 'shop', { app: 'x' })), tracing: [{}] });
      expect(() => Testing.synth(c)).toThrow(/already configures these workloads/);
    });

    test('a workload without labels is refused at synth: it would select the whole namespace', () => {
      const c = chart();
      const pod = new kplus.Deployment(c, 'Bare', { containers: [{ image: 'x' }], select: false });
      new Telemetry(c, 'T', { scope: TelemetryScope.workload(WorkloadSelector.fromWorkload(pod)), tracing: [{}] });
      expect(() => Testing.synth(c)).toThrow(/test\/T: scope selects pods by no label, which is every pod of namespace shop/);
    });

    test('a Telemetry with no rules is refused at synth', () => {
      const c = chart();
      new Telemetry(c, 'Empty');
      expect(() => Testing.synth(c)).toThrow(/test\/Empty: the Telemetry configures nothing/);
    });

    test('a bad name is refused', () => {
      expect(() => new Telemetry(chart(), 'T', { name: 'Mesh_Default', tracing: [{}] })).toThrow(/test\/T: name got 'Mesh_Default'/);
    });
  });
});
