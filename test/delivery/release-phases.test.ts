import { Chart, Testing } from 'cdk8s';
import { byKind, one, resources, shopChart, synthValid } from './fixtures';
import {
  CanaryService, CanaryServiceProps, Mesh, PhaseSelector, ReleasePhases, RequestMatch, StringMatch, TrafficApi,
} from '../../src';

const versions = [{ name: 'v1', image: 'reviews:1.0.0' }, { name: 'v2', image: 'reviews:2.0.0' }];

function service(chart: Chart, phases: ReleasePhases, props: Partial<CanaryServiceProps> = {}): CanaryService {
  return new CanaryService(chart, 'Reviews', { versions, resources, phases, ...props });
}

/** The weighted split of the synthesized VirtualService, as `{ subset: weight }`. */
function split(manifests: any[]): { [subset: string]: number } {
  const route = one(manifests, 'VirtualService').spec.http.find((r: any) => r.name === 'split');
  return Object.fromEntries(route.route.map((d: any) => [d.destination.subset, d.weight]));
}

/** Runs `fn` with environment variable `name` set to `value` (or unset), restoring it after. */
function withEnv<T>(name: string, value: string | undefined, fn: () => T): T {
  const previous = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return fn();
  } finally {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
  }
}

describe('ReleasePhases', () => {
  const weights = [5, 25, 50, 100];
  const phases = () => ReleasePhases.steps(weights, { stable: 'v1', canary: 'v2', selector: PhaseSelector.environment('RELEASE_PHASE') });

  describe.each(weights.map((w, i) => [i + 1, w]))('phase %i of 5 -> 25 -> 50 -> 100', (phase, weight) => {
    test(`synthesizes ${weight}% to the canary as static manifests`, () => {
      // GIVEN the pipeline selects the phase through RELEASE_PHASE
      const chart = shopChart();
      withEnv('RELEASE_PHASE', String(phase), () => service(chart, phases()));

      // WHEN
      const manifests = synthValid(chart);

      // THEN
      expect(manifests).toMatchSnapshot();
      const expected: { [subset: string]: number } = weight === 100 ? { v2: 100 } : { v1: 100 - weight, v2: weight };
      expect(split(manifests)).toEqual(expected);
      // Both versions keep running and both subsets stay declared in every phase.
      expect(byKind(manifests, 'Deployment').map(d => d.metadata.name)).toEqual(['reviews-v1', 'reviews-v2']);
      expect(one(manifests, 'DestinationRule').spec.subsets.map((s: any) => s.name)).toEqual(['v1', 'v2']);
    });
  });

  describe('phases with matches and mirroring', () => {
    const staged = (selector: PhaseSelector) => ReleasePhases.of([
      { name: 'shadow', weight: 0, mirrorPercentage: 20 },
      { name: 'testers', weight: 0, matches: [RequestMatch.header('x-canary', StringMatch.exact('always'))] },
      { weight: 10, matches: [RequestMatch.header('x-canary', StringMatch.exact('always'))] },
      { weight: 100 },
    ], { stable: 'v1', canary: 'v2', selector });

    test('shadow phase: all live traffic on v1, 20% copied to v2', () => {
      const chart = shopChart();
      service(chart, staged(PhaseSelector.fixed(1)));
      const manifests = synthValid(chart);
      expect(manifests).toMatchSnapshot();
      const http = one(manifests, 'VirtualService').spec.http;
      expect(http).toHaveLength(1);
      expect(http[0].mirror).toEqual({ host: 'reviews.shop.svc.cluster.local', subset: 'v2' });
      expect(http[0].mirrorPercentage).toEqual({ value: 20 });
      expect(split(manifests)).toEqual({ v1: 100 });
    });

    test('testers phase, selected by name: the header reaches v2 ahead of the split, nothing else does', () => {
      const chart = shopChart();
      withEnv('RELEASE_PHASE', 'testers', () => service(chart, staged(PhaseSelector.environment('RELEASE_PHASE'))));
      const manifests = synthValid(chart);
      expect(manifests).toMatchSnapshot();
      const http = one(manifests, 'VirtualService').spec.http;
      expect(http.map((r: any) => r.name)).toEqual(['phase-v2', 'split']);
      expect(http[0].match).toEqual([{ headers: { 'x-canary': { exact: 'always' } } }]);
      expect(http[0].route).toEqual([{ destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v2' }, weight: 100 }]);
      expect(split(manifests)).toEqual({ v1: 100 });
    });

    test('weighted phase keeps the testers route; the service\'s own match routes stay in every phase', () => {
      const chart = shopChart();
      service(chart, staged(PhaseSelector.fixed(3)), {
        matchRoutes: [{ version: 'v1', name: 'pinned', matches: [RequestMatch.header('x-pin', StringMatch.exact('v1'))] }],
      });
      const manifests = synthValid(chart);
      expect(manifests).toMatchSnapshot();
      expect(one(manifests, 'VirtualService').spec.http.map((r: any) => r.name)).toEqual(['pinned', 'phase-v2', 'split']);
      expect(split(manifests)).toEqual({ v1: 90, v2: 10 });
    });

    test('the plan shows every phase for review', () => {
      const plan = staged(PhaseSelector.environment('RELEASE_PHASE')).plan();
      expect(plan).toMatchSnapshot();
      expect(plan).toContain('| 1 shadow | 100% | 0% | - | 20% |');
      expect(plan).toContain('| 3 | 90% | 10% | header x-canary = always | - |');
    });
  });

  test('the plan of weight-only phases', () => {
    expect(phases().plan()).toMatchSnapshot();
    const cookies = ReleasePhases.of([{ weight: 0, matches: [RequestMatch.cookie('beta', 'yes'), RequestMatch.pathPrefix('/v2').and(RequestMatch.method('GET'))] }],
      { stable: 'v1', canary: 'v2', selector: PhaseSelector.fixed(1) });
    expect(cookies.plan()).toContain('cookie beta = yes or path ^= /v2 & method GET');
  });

  describe('selecting the phase', () => {
    test('from the app context', () => {
      const app = Testing.app();
      app.node.setContext('release-phase', 3);
      const chart = shopChart(app);
      const selected = ReleasePhases.steps(weights, { stable: 'v1', canary: 'v2', selector: PhaseSelector.context('release-phase') });
      service(chart, selected);
      expect(selected.selectedPhase(chart)).toBe(3);
      expect(split(synthValid(chart))).toEqual({ v1: 50, v2: 50 });
    });

    test('the default phase when nothing is set', () => {
      const chart = shopChart();
      const selected = ReleasePhases.steps(weights, { stable: 'v1', canary: 'v2', selector: PhaseSelector.environment('RELEASE_PHASE', { defaultPhase: 1 }) });
      withEnv('RELEASE_PHASE', undefined, () => service(chart, selected));
      expect(split(synthValid(chart))).toEqual({ v1: 95, v2: 5 });
    });

    test('nothing set and no default: a clear error rather than a silent first phase', () => {
      const chart = shopChart();
      expect(() => withEnv('RELEASE_PHASE', undefined, () => service(chart, phases())))
        .toThrow('test/Reviews: phases (environment variable RELEASE_PHASE) is missing: set it to a phase: 1, 2, 3, 4; or give the selector a defaultPhase');
    });

    test('an unknown phase lists the valid ones', () => {
      const chart = shopChart();
      expect(() => withEnv('RELEASE_PHASE', '5', () => service(chart, phases())))
        .toThrow('test/Reviews: phases (environment variable RELEASE_PHASE) got \'5\': use one of the phases: 1, 2, 3, 4');
      const named = ReleasePhases.of([{ weight: 0, name: 'dark' }, { weight: 100 }], { stable: 'v1', canary: 'v2', selector: PhaseSelector.context('phase') });
      const app = Testing.app();
      app.node.setContext('phase', 'light');
      expect(() => service(shopChart(app), named)).toThrow(/got 'light': use one of the phases: 1 \(dark\), 2$/);
    });

    test('works with the Gateway API: the selected weights go to the per-version backends', () => {
      const app = Testing.app();
      new Mesh(app, 'Mesh', { trafficApi: TrafficApi.GATEWAY_API });
      const chart = shopChart(app);
      service(chart, ReleasePhases.steps(weights, { stable: 'v1', canary: 'v2', selector: PhaseSelector.fixed(2) }));
      const manifests = synthValid(chart);
      expect(one(manifests, 'HTTPRoute').spec.rules[0].backendRefs.map((b: any) => [b.name, b.weight])).toEqual([['reviews-v1', 75], ['reviews-v2', 25]]);
    });
  });

  describe('bad input', () => {
    const build = (steps: number[]) => service(shopChart(), ReleasePhases.steps(steps, { stable: 'v1', canary: 'v2', selector: PhaseSelector.fixed(1) }));

    test('steps that are not increasing', () => {
      expect(() => build([5, 50, 25, 100])).toThrow('test/Reviews: phases.steps got [5,50,25,100]: the weights must not decrease (50 is followed by 25)');
      expect(() => build([5, 25, 25, 100])).toThrow('phases 2 and 3 are the same: the weights must increase, or the phase must change its matches or mirroring');
    });

    test('steps outside 0-100, or not whole percentages', () => {
      expect(() => build([5, 25, 150])).toThrow('test/Reviews: phases.steps got [5,25,150]: each weight is a whole percentage from 0 to 100 (got 150)');
      expect(() => build([-5, 100])).toThrow(/from 0 to 100 \(got -5\)/);
      expect(() => build([2.5, 100])).toThrow(/got 2\.5/);
      expect(() => build([])).toThrow(/give at least one weight/);
    });

    test('the plan refuses the same steps without a construct', () => {
      expect(() => ReleasePhases.steps([50, 5], { stable: 'v1', canary: 'v2', selector: PhaseSelector.fixed(1) }).plan())
        .toThrow('ReleasePhases: steps [50,5]: the weights must not decrease (50 is followed by 5)');
    });

    test('phases and weights together', () => {
      expect(() => service(shopChart(), phases(), { weights: { v1: 90, v2: 10 } }))
        .toThrow('test/Reviews: weights got {"v1":90,"v2":10}: give weights or phases, not both: the selected phase sets the weights');
    });

    test('versions that are not declared, or the same', () => {
      const of = (stable: string, canary: string) => ReleasePhases.steps([10, 100], { stable, canary, selector: PhaseSelector.fixed(1) });
      expect(() => service(shopChart(), of('v1', 'v3'))).toThrow('test/Reviews: phases.canary got \'v3\': use one of the declared versions: v1, v2');
      expect(() => service(shopChart(), of('v0', 'v2'))).toThrow(/phases\.stable got 'v0'/);
      expect(() => service(shopChart(), of('v2', 'v2'))).toThrow(/release a version other than the stable one/);
    });

    test('mirroring in a phase that sends live traffic, or twice', () => {
      const mirrored = (weight: number) => ReleasePhases.of([{ weight, mirrorPercentage: 10 }], { stable: 'v1', canary: 'v2', selector: PhaseSelector.fixed(1) });
      expect(() => service(shopChart(), mirrored(5))).toThrow('test/Reviews: phases.steps[0].mirrorPercentage got 10: mirror only in a phase with weight 0');
      expect(() => service(shopChart(), mirrored(0), { versions: [...versions, { name: 'v3', image: 'reviews:3.0.0' }], mirror: { version: 'v3' } }))
        .toThrow(/mirror got 'v3': the selected phase mirrors to the canary/);
    });

    test('phase names that could be taken for numbers, or repeat', () => {
      const named = (...names: string[]) => ReleasePhases.of(names.map((name, i) => ({ weight: i * 10, name })), { stable: 'v1', canary: 'v2', selector: PhaseSelector.fixed(1) });
      expect(() => service(shopChart(), named('2'))).toThrow(/phases\.steps\[0\]\.name got '2': use a DNS label that is not a number/);
      expect(() => service(shopChart(), named('a', 'a'))).toThrow(/phases\.steps\[1\]\.name got 'a': give each phase its own name/);
    });
  });
});
