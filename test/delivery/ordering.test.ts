import { ApiObject, Chart, Duration, Testing } from 'cdk8s';
import { deployment, resources, shopChart, synthValid } from './fixtures';
import {
  ArgoCdSyncWaves, ArgoRollout, CanaryService, FlaggerCanary, FlaggerStrategy, Host, Mesh, PhaseSelector, ReleasePhases, ResilientUpstream,
  RetryPolicy, RolloutStep, RolloutWorkload, TrafficApi,
} from '../../src';

const WAVE = 'argocd.argoproj.io/sync-wave';
const versions = [{ name: 'v1', image: 'reviews:1.0.0' }, { name: 'v2', image: 'reviews:2.0.0' }];

/** `kind/name` of each manifest, in synthesis order. */
const order = (manifests: any[]) => manifests.map(m => `${m.kind}/${m.metadata.name}`);
const waves = (manifests: any[]) => Object.fromEntries(manifests.map(m => [`${m.kind}/${m.metadata.name}`, m.metadata.annotations?.[WAVE]]));

/** Asserts that each of `before` is synthesized before each of `after`. */
function expectBefore(manifests: any[], before: string[], after: string[]): void {
  const names = order(manifests);
  for (const a of [...before, ...after]) expect(names).toContain(a);
  for (const b of before) for (const a of after) expect(names.indexOf(b)).toBeLessThan(names.indexOf(a));
}

/** An app with one service on each of the three ways to release. */
function mixedApp(chart: Chart): void {
  new CanaryService(chart, 'Reviews', {
    versions, resources, phases: ReleasePhases.steps([10, 50, 100], { stable: 'v1', canary: 'v2', selector: PhaseSelector.fixed(1) }),
  });
  new FlaggerCanary(chart, 'Checkout', { deployment: deployment(chart, 'checkout'), analysis: { strategy: FlaggerStrategy.progressive({ stepWeight: 10, maxWeight: 50 }) } });
  new ArgoRollout(chart, 'Payments', { workload: RolloutWorkload.inline(deployment(chart, 'payments')), steps: [RolloutStep.weight(20), RolloutStep.pause()] });
}

describe('make-before-break', () => {
  test('a DestinationRule declared after the VirtualService is still written before it', () => {
    // GIVEN a request policy first (it creates the VirtualService), the subsets after (they create the DestinationRule)
    const chart = shopChart();
    new ResilientUpstream(chart, 'Resilience', {
      host: Host.service(chart, 'reviews', 'shop'),
      timeout: Duration.seconds(5),
      retries: RetryPolicy.none(),
    });
    new CanaryService(chart, 'Reviews', { versions, resources, weights: { v1: 90, v2: 10 } });

    // WHEN
    const manifests = synthValid(chart);

    // THEN
    expect(order(manifests)).toMatchSnapshot();
    expectBefore(manifests, ['DestinationRule/reviews'], ['VirtualService/reviews']);
  });

  test('a route depends only on what tree order does not already put first', () => {
    // GIVEN the usual order (subsets, then routes), and a host whose route exists before its DestinationRule
    const chart = shopChart();
    const reviews = new CanaryService(chart, 'Reviews', { versions, resources, weights: { v1: 90, v2: 10 } });
    const ratings = new ResilientUpstream(chart, 'Ratings', {
      host: Host.service(chart, 'ratings', 'shop'), timeout: Duration.seconds(5), retries: RetryPolicy.none(),
    });
    new CanaryService(chart, 'RatingsCanary', { name: 'ratings', versions, resources, weights: { v1: 90, v2: 10 } });

    // THEN cdk8s writes the first DestinationRule before its route without a dependency (each costs every synthesis
    // graph work); the later one is a dependency of its route
    expect(reviews.routing.virtualService!.node.dependencies).toEqual([]);
    expect(ratings.routing.virtualService!.node.dependencies).toEqual([ratings.routing.destinationRule]);
    const manifests = synthValid(chart);
    expectBefore(manifests, ['DestinationRule/reviews'], ['VirtualService/reviews']);
    expectBefore(manifests, ['DestinationRule/ratings'], ['VirtualService/ratings']);
  });

  test('Gateway API: the per-version Services and their DestinationRules before the HTTPRoute', () => {
    const app = Testing.app();
    new Mesh(app, 'Mesh', { trafficApi: TrafficApi.GATEWAY_API });
    const chart = shopChart(app);
    new CanaryService(chart, 'Reviews', { versions, resources, weights: { v1: 90, v2: 10 } });
    new ResilientUpstream(chart, 'Resilience', { host: Host.service(chart, 'reviews', 'shop'), retries: RetryPolicy.meshDefault() });
    const manifests = synthValid(chart);
    expect(order(manifests)).toMatchSnapshot();
    expectBefore(manifests, ['Service/reviews-v1', 'Service/reviews-v2', 'DestinationRule/reviews-v1', 'DestinationRule/reviews-v2'], ['HTTPRoute/reviews']);
  });

  test('controllers after what they read: Flagger\'s Deployment, Argo Rollouts\' Service, subsets and routes', () => {
    const chart = shopChart();
    mixedApp(chart);
    const manifests = synthValid(chart);
    expect(order(manifests)).toMatchSnapshot();
    expectBefore(manifests, ['Deployment/checkout'], ['Canary/checkout']);
    expectBefore(manifests, ['Service/payments', 'DestinationRule/payments'], ['VirtualService/payments']);
    expectBefore(manifests, ['VirtualService/payments'], ['Rollout/payments']);
  });
});

describe('ArgoCdSyncWaves', () => {
  test('route targets, then routes, then controllers; other objects keep the default wave', () => {
    // GIVEN
    const app = Testing.app();
    new ArgoCdSyncWaves(app, 'SyncWaves');
    const chart = shopChart(app);
    mixedApp(chart);

    // WHEN
    const manifests = synthValid(chart);

    // THEN
    expect(waves(manifests)).toMatchSnapshot();
    expect(waves(manifests)).toMatchObject({
      'DestinationRule/reviews': '-1',
      'VirtualService/reviews': '0',
      'DestinationRule/payments': '-1',
      'VirtualService/payments': '0',
      'Rollout/payments': '1',
      'Canary/checkout': '1',
      'Service/reviews': undefined,
      // A version is up (Argo CD waits for a wave to be healthy) before the route gives it traffic.
      'Deployment/reviews-v1': '-1',
      'Deployment/checkout': undefined,
    });
  });

  test('Gateway API: per-version Services are route targets too', () => {
    const app = Testing.app();
    new Mesh(app, 'Mesh', { trafficApi: TrafficApi.GATEWAY_API });
    new ArgoCdSyncWaves(app, 'SyncWaves');
    const chart = shopChart(app);
    new CanaryService(chart, 'Reviews', { versions, resources, weights: { v1: 90, v2: 10 } });
    expect(waves(synthValid(chart))).toMatchObject({
      'Service/reviews': undefined,
      'Service/reviews-v1': '-1',
      'Service/reviews-v2': '-1',
      'Deployment/reviews-v2': '-1',
      'DestinationRule/reviews-v1': '-1',
      'HTTPRoute/reviews': '0',
    });
  });

  test('custom waves, only below the scope it is added to, and a wave set by hand is kept', () => {
    const app = Testing.app();
    const chart = shopChart(app);
    new ArgoCdSyncWaves(chart, 'SyncWaves', { routeTargets: 5, routes: 10, controllers: 20 });
    const other = new Chart(app, 'other', { namespace: 'other' });
    new CanaryService(chart, 'Reviews', { versions, resources, weights: { v1: 90, v2: 10 } });
    new CanaryService(other, 'Ratings', { versions, resources });
    const rollout = new ArgoRollout(chart, 'Payments', { workload: RolloutWorkload.inline(deployment(chart, 'payments')), steps: [RolloutStep.weight(20)] });
    ApiObject.of(rollout).metadata.addAnnotation(WAVE, '42');
    expect(waves(synthValid(chart))).toMatchObject({ 'DestinationRule/reviews': '5', 'VirtualService/reviews': '10', 'Rollout/payments': '42' });
    expect(waves(synthValid(other))).toMatchObject({ 'DestinationRule/ratings': undefined, 'VirtualService/ratings': undefined });
  });

  test('waves that would break the order, or are not whole numbers', () => {
    expect(() => new ArgoCdSyncWaves(Testing.app(), 'SyncWaves', { routes: -1 }))
      .toThrow('SyncWaves: routes got [-1,-1,1]: order the waves routeTargets < routes < controllers, or the make-before-break order is lost');
    expect(() => new ArgoCdSyncWaves(Testing.app(), 'SyncWaves', { controllers: 1.5 })).toThrow(/controllers got 1\.5: use a whole number/);
  });
});
