import { Chart, Duration, Testing } from 'cdk8s';
import { byKind, deployment, one, resources, shopChart, synthValid } from './fixtures';
import {
  ArgoRollout, ArgoRolloutProps, CanaryService, DataplaneMode, FlaggerCanary, FlaggerStrategy, Host, IngressGateway, IngressTls, Mesh,
  RequestMatch, ResilientUpstream, RetryPolicy, RolloutStep, RolloutTrafficSplit, RolloutWorkload, ServicePort, StringMatch, TrafficApi,
  UpstreamTls, WorkloadScaleDown,
} from '../../src';

const steps = [RolloutStep.weight(10), RolloutStep.pause(Duration.minutes(5)), RolloutStep.weight(50), RolloutStep.pause()];

function rollout(props: Partial<ArgoRolloutProps> = {}, chart: Chart = shopChart()) {
  const r = new ArgoRollout(chart, 'Payments', { workload: RolloutWorkload.inline(deployment(chart, 'payments')), steps, ...props });
  return { chart, rollout: r };
}

const canaryOf = (manifests: any[]) => one(manifests, 'Rollout').spec.strategy.canary;
const object = (group: string, kind: string, name: string) => ({ group, kind, name, namespace: 'shop' });

describe('ArgoRollout', () => {
  test('subset-level: the Rollout, and up front the Service, DestinationRule and VirtualService it rewrites', () => {
    // GIVEN
    const { chart } = rollout();

    // WHEN
    const manifests = synthValid(chart);

    // THEN
    expect(manifests).toMatchSnapshot();
    // The inlined Deployment is not emitted: its pods run once, under the Rollout.
    expect(manifests.map(m => m.kind)).toEqual(['Service', 'DestinationRule', 'VirtualService', 'Rollout']);
    expect(one(manifests, 'DestinationRule').spec.subsets).toEqual([
      { name: 'stable', labels: { app: 'payments' } },
      { name: 'canary', labels: { app: 'payments' } },
    ]);
    // Every route starts at 100% stable, so applying the manifests again never moves traffic.
    expect(one(manifests, 'VirtualService').spec.http).toEqual([{
      name: 'split',
      route: [
        { destination: { host: 'payments.shop.svc.cluster.local', subset: 'stable' }, weight: 100 },
        { destination: { host: 'payments.shop.svc.cluster.local', subset: 'canary' }, weight: 0 },
      ],
    }]);
    const r = one(manifests, 'Rollout').spec;
    expect(r.replicas).toBe(3);
    expect(r.selector).toEqual({ matchLabels: { app: 'payments' } });
    expect(r.template.metadata.labels.app).toBe('payments');
    expect(r.template.spec.containers[0].image).toBe('payments:1.0.0');
    expect(r.strategy.canary.trafficRouting).toEqual({
      istio: {
        virtualService: { name: 'payments', routes: ['split'] },
        destinationRule: { name: 'payments', stableSubsetName: 'stable', canarySubsetName: 'canary' },
      },
    });
    expect(r.strategy.canary.steps).toEqual([{ setWeight: 10 }, { pause: { duration: '5m' } }, { setWeight: 50 }, { pause: {} }]);
  });

  test('host-level: stable and canary Services, the route splitting between them', () => {
    const { chart } = rollout({ trafficSplit: RolloutTrafficSplit.HOST, trafficPolicy: { tls: UpstreamTls.istioMutual() } });
    const manifests = synthValid(chart);
    expect(manifests).toMatchSnapshot();
    expect(byKind(manifests, 'Service').map(s => s.metadata.name)).toEqual(['payments', 'payments-stable', 'payments-canary']);
    expect(one(manifests, 'VirtualService').spec.http[0].route).toEqual([
      { destination: { host: 'payments-stable.shop.svc.cluster.local' }, weight: 100 },
      { destination: { host: 'payments-canary.shop.svc.cluster.local' }, weight: 0 },
    ]);
    // The traffic policy applies where the route sends: the stable and canary hosts.
    expect(byKind(manifests, 'DestinationRule').map(d => [d.spec.host, d.spec.trafficPolicy])).toEqual([
      ['payments-stable.shop.svc.cluster.local', { tls: { mode: 'ISTIO_MUTUAL' } }],
      ['payments-canary.shop.svc.cluster.local', { tls: { mode: 'ISTIO_MUTUAL' } }],
    ]);
    const c = canaryOf(manifests);
    expect([c.stableService, c.canaryService]).toEqual(['payments-stable', 'payments-canary']);
    expect(c.trafficRouting.istio).toEqual({ virtualService: { name: 'payments', routes: ['split'] } });
  });

  test('header and mirror routes: managed routes in order of first use', () => {
    const { chart } = rollout({
      steps: [
        RolloutStep.canaryScale({ replicas: 1 }),
        RolloutStep.headerRoute('testers', [RequestMatch.header('x-test', StringMatch.exact('1')), RequestMatch.header('x-qa', StringMatch.prefix('team-'))]),
        RolloutStep.pause(),
        RolloutStep.mirrorRoute('shadow-reads', [RequestMatch.pathPrefix('/api').and(RequestMatch.method('GET'))], 25),
        RolloutStep.weight(20),
        RolloutStep.analysis(['success-rate'], { service: 'payments' }),
        RolloutStep.removeMirrorRoute('shadow-reads'),
        RolloutStep.removeHeaderRoute('testers'),
        RolloutStep.canaryScale({ matchTrafficWeight: true }),
        RolloutStep.weight(100),
      ],
    });
    const manifests = synthValid(chart);
    const c = canaryOf(manifests);
    expect(c).toMatchSnapshot();
    expect(c.trafficRouting.managedRoutes).toEqual([{ name: 'testers' }, { name: 'shadow-reads' }]);
    expect(c.steps[1].setHeaderRoute).toEqual({
      name: 'testers',
      match: [{ headerName: 'x-test', headerValue: { exact: '1' } }, { headerName: 'x-qa', headerValue: { prefix: 'team-' } }],
    });
    expect(c.steps[3].setMirrorRoute).toEqual({ name: 'shadow-reads', match: [{ path: { prefix: '/api' }, method: { exact: 'GET' } }], percentage: 25 });
    expect(c.steps[5].analysis).toEqual({ templates: [{ templateName: 'success-rate' }], args: [{ name: 'service', value: 'payments' }] });
    expect(c.steps[6]).toEqual({ setMirrorRoute: { name: 'shadow-reads' } });
    expect(c.steps[7]).toEqual({ setHeaderRoute: { name: 'testers' } });
  });

  test('the exact route names: several ports, extra routes, the POST/PATCH retry route', () => {
    const { chart, rollout: r } = rollout({
      ports: [ServicePort.http(8080), ServicePort.grpc(9090, { name: 'grpc-api' })],
      routes: [{ name: 'admin', matches: [RequestMatch.pathPrefix('/admin')], timeout: Duration.seconds(30) }],
      retries: RetryPolicy.of({ attempts: 2, perTryTimeout: Duration.seconds(1) }),
      timeout: Duration.seconds(5),
    });
    const manifests = synthValid(chart);
    const names = one(manifests, 'VirtualService').spec.http.map((h: any) => h.name);
    expect(names).toEqual([
      'admin-http-non-idempotent', 'admin-http', 'split-http-non-idempotent', 'split-http',
      'admin-grpc-api-non-idempotent', 'admin-grpc-api', 'split-grpc-api-non-idempotent', 'split-grpc-api',
    ]);
    expect(r.routeNames).toEqual(names);
    expect(canaryOf(manifests).trafficRouting.istio.virtualService.routes).toEqual(names);
  });

  test('trafficRoutes: only the routes named shift; the others stay on stable', () => {
    const { chart } = rollout({ routes: [{ name: 'admin', matches: [RequestMatch.pathPrefix('/admin')] }], trafficRoutes: ['split'] });
    expect(canaryOf(synthValid(chart)).trafficRouting.istio.virtualService.routes).toEqual(['split']);
  });

  test('a referenced Deployment stays, scaled down by Argo Rollouts', () => {
    const chart = shopChart();
    const d = deployment(chart, 'payments');
    new ArgoRollout(chart, 'Payments', { workload: RolloutWorkload.reference(d, WorkloadScaleDown.ON_SUCCESS), steps });
    const manifests = synthValid(chart);
    const kinds = manifests.map(m => m.kind);
    expect([...kinds].sort()).toEqual(['Deployment', 'DestinationRule', 'Rollout', 'Service', 'VirtualService']);
    expect(kinds[kinds.length - 1]).toBe('Rollout');
    const spec = one(manifests, 'Rollout').spec;
    expect(spec.workloadRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'payments', scaleDown: 'onsuccess' });
    expect(spec.template).toBeUndefined();
    expect(one(manifests, 'Deployment').spec.selector).toEqual({ matchLabels: { app: 'payments' } });
  });

  test('ingress, background analysis, and Istio routing on a Gateway API mesh', () => {
    const app = Testing.app();
    new Mesh(app, 'Mesh', { trafficApi: TrafficApi.GATEWAY_API });
    const { chart } = rollout({
      ingress: { hosts: ['pay.example.com'], tls: IngressTls.simple('pay-cert') },
      analysis: { templates: ['success-rate', 'latency'], args: { service: 'payments' }, startingStep: 2 },
    }, shopChart(app));
    const manifests = synthValid(chart);
    const vs = one(manifests, 'VirtualService').spec;
    expect(vs.hosts).toEqual(['payments.shop.svc.cluster.local', 'pay.example.com']);
    expect(vs.gateways).toEqual([`shop/${one(manifests, 'Gateway').metadata.name}`, 'mesh']);
    expect(one(manifests, 'Gateway').apiVersion).toBe('networking.istio.io/v1');
    expect(byKind(manifests, 'HTTPRoute')).toEqual([]);
    expect(canaryOf(manifests).analysis).toEqual({
      templates: [{ templateName: 'success-rate' }, { templateName: 'latency' }], args: [{ name: 'service', value: 'payments' }], startingStep: 2,
    });
  });

  test('ambient mode: the Service goes through the namespace waypoint', () => {
    const app = Testing.app();
    new Mesh(app, 'Mesh', { dataplaneMode: DataplaneMode.AMBIENT });
    const { chart } = rollout({}, shopChart(app));
    const manifests = synthValid(chart);
    expect(one(manifests, 'Service').metadata.labels['istio.io/use-waypoint']).toBe('waypoint');
  });

  describe('what Argo CD must leave to the controller', () => {
    test('subset-level: route weights, added routes, subset labels', () => {
      const { rollout: r } = rollout({ steps: [RolloutStep.headerRoute('testers', [RequestMatch.header('x-test', StringMatch.exact('1'))]), ...steps] });
      expect(r.argoCdIgnoreDifferences()).toEqual([
        {
          ...object('networking.istio.io', 'VirtualService', 'payments'),
          jqPathExpressions: ['.spec.http[] | select(.name == "split") | .route[].weight', '.spec.http[] | select(.name == "testers")'],
        },
        {
          ...object('networking.istio.io', 'DestinationRule', 'payments'),
          jsonPointers: ['/metadata/annotations/argo-rollouts.argoproj.io~1managed-by-rollouts'],
          jqPathExpressions: ['.spec.subsets[].labels["rollouts-pod-template-hash"]'],
        },
      ]);
    });

    test('host-level with a referenced Deployment: Service selectors and the Deployment\'s replicas', () => {
      const chart = shopChart();
      const r = new ArgoRollout(chart, 'Payments', {
        workload: RolloutWorkload.reference(deployment(chart, 'payments-old')), name: 'payments', steps, trafficSplit: RolloutTrafficSplit.HOST,
      });
      expect(r.argoCdIgnoreDifferences().slice(1)).toEqual([
        { ...object('', 'Service', 'payments-stable'), jsonPointers: ['/spec/selector/rollouts-pod-template-hash', '/metadata/annotations/argo-rollouts.argoproj.io~1managed-by-rollouts'] },
        { ...object('', 'Service', 'payments-canary'), jsonPointers: ['/spec/selector/rollouts-pod-template-hash', '/metadata/annotations/argo-rollouts.argoproj.io~1managed-by-rollouts'] },
        { ...object('apps', 'Deployment', 'payments-old'), jsonPointers: ['/spec/replicas'] },
      ]);
    });
  });

  describe('the host belongs to Argo Rollouts', () => {
    test('a CanaryService or resilience policy for the same host fails naming both', () => {
      const { chart } = rollout();
      expect(() => new ResilientUpstream(chart, 'Resilience', { host: Host.service(chart, 'payments', 'shop') }))
        .toThrow(/test\/Resilience: host got 'payments\.shop\.svc\.cluster\.local': test\/Payments hands this host to Argo Rollouts/);
      const before = shopChart();
      new CanaryService(before, 'Payments', { versions: [{ name: 'v1', image: 'payments:1' }], resources });
      expect(() => new ArgoRollout(before, 'Rollout', { name: 'payments', workload: RolloutWorkload.inline(deployment(before, 'pay')), steps }))
        .toThrow(/test\/Rollout: host got 'payments\.shop\.svc\.cluster\.local': test\/Payments already configures the routing of this host, which Argo Rollouts owns/);
    });
  });

  test('one controller per host', () => {
    const chart = shopChart();
    new FlaggerCanary(chart, 'Checkout', { deployment: deployment(chart, 'payments'), analysis: { strategy: FlaggerStrategy.blueGreen({ iterations: 3 }) } });
    expect(() => new ArgoRollout(chart, 'Payments', { workload: RolloutWorkload.inline(deployment(chart, 'pay')), name: 'payments', steps }))
      .toThrow('test/Payments: host got \'payments.shop.svc.cluster.local\': test/Checkout already hands this host to Flagger: one controller per host');
  });

  test("inline: the Deployment's labels, annotations and revision history limit go to the Rollout that replaces it", () => {
    const chart = shopChart();
    const d = deployment(chart, 'payments');
    d.metadata.addLabel('team', 'billing');
    d.metadata.addAnnotation('argocd.argoproj.io/sync-wave', '5');
    new ArgoRollout(chart, 'Payments', { workload: RolloutWorkload.inline(d), steps });
    const r = one(synthValid(chart), 'Rollout');
    expect(r.metadata).toMatchObject({ labels: { team: 'billing' }, annotations: { 'argocd.argoproj.io/sync-wave': '5' } });
    expect(r.spec.revisionHistoryLimit).toBe(10);
  });

  describe('bad input', () => {
    test('an ingress gateway of the Gateway API', () => {
      const chart = shopChart();
      const gateway = new IngressGateway(chart, 'Public', { trafficApi: TrafficApi.GATEWAY_API });
      expect(() => rollout({ ingress: { hosts: ['pay.example.com'], gateway } }, chart))
        .toThrow(/test\/Payments: ingress\.gateway got 'test\/Public': Argo Rollouts routes Istio VirtualServices, which bind to Istio Gateways/);
    });


    test('a managed route name that does not exist in the VirtualService', () => {
      const { chart } = rollout({ trafficRoutes: ['split', 'primary'] });
      expect(() => Testing.synth(chart)).toThrow(/test\/Payments: trafficRoutes got \["primary"\]: the VirtualService payments has no route so named: use its route names \(split\)/);
    });

    test('a step removing a route no earlier step added, or reusing a name', () => {
      expect(() => rollout({ steps: [RolloutStep.removeHeaderRoute('testers')] }))
        .toThrow('test/Payments: steps[0].setHeaderRoute.name got \'testers\': no earlier step adds managed route \'testers\' (known: none)');
      const header = RolloutStep.headerRoute('x', [RequestMatch.header('x', StringMatch.exact('1'))]);
      expect(() => rollout({ steps: [header, RolloutStep.mirrorRoute('x', [RequestMatch.method('GET')])] }))
        .toThrow(/steps\[1\]\.setMirrorRoute\.name got 'x': an earlier step uses it for setHeaderRoute/);
      expect(() => rollout({ routes: [{ name: 'x', matches: [RequestMatch.pathPrefix('/x')] }], steps: [header] }).chart.toJson())
        .toThrow(/steps got \["x"\]: a route that a step adds must not already be a route of the VirtualService/);
    });

    test('header and mirror steps with several ports, which Argo Rollouts would send to the first route\'s port', () => {
      expect(() => rollout({
        ports: [ServicePort.http(8080), ServicePort.grpc(9090)],
        steps: [RolloutStep.headerRoute('testers', [RequestMatch.header('x-test', StringMatch.exact('1'))]), RolloutStep.weight(10)],
      })).toThrow(/test\/Payments: steps got \["testers"\]: Argo Rollouts adds header and mirror routes without a port match/);
    });

    test('matches Argo Rollouts cannot express', () => {
      expect(() => rollout({ steps: [RolloutStep.headerRoute('t', [RequestMatch.pathPrefix('/x')])] }))
        .toThrow(/steps\[0\]\.setHeaderRoute\.match got \["uri"\]: each match of a header route is one header/);
      expect(() => rollout({ steps: [RolloutStep.mirrorRoute('m', [RequestMatch.queryParam('q', StringMatch.exact('1'))])] }))
        .toThrow(/steps\[0\]\.setMirrorRoute\.match got 'queryParams': a mirror route matches headers, path and method only/);
    });

    test('weights, pauses and scales out of range', () => {
      expect(() => rollout({ steps: [RolloutStep.weight(120)] })).toThrow('test/Payments: steps[0].setWeight got 120: use a whole percentage from 0 to 100');
      expect(() => rollout({ steps: [RolloutStep.pause(Duration.millis(500))] })).toThrow(/steps\[0\]\.pause\.duration got '500ms'/);
      expect(() => rollout({ steps: [RolloutStep.canaryScale({ replicas: 1, weight: 10 })] })).toThrow(/give exactly one of replicas, weight or matchTrafficWeight/);
      expect(() => rollout({ steps: [] })).toThrow(/steps got \[\]: give at least one step/);
      expect(() => rollout({ analysis: { templates: ['a'], startingStep: 9 } })).toThrow(/analysis\.startingStep got 9: use the index of a step, from 0 to 3/);
    });

    test('TCP ports, the same subset names, an empty trafficRoutes', () => {
      expect(() => rollout({ ports: [ServicePort.tcp(5432)] })).toThrow(/ports\[0\] got 'tcp': progressive delivery shifts HTTP routes/);
      expect(() => rollout({ stableName: 'main', canaryName: 'main' })).toThrow(/canaryName got 'main'/);
      expect(() => rollout({ trafficRoutes: [] })).toThrow(/trafficRoutes got \[\]/);
    });
  });
});
