import { IConstruct } from 'constructs';
import { weightListProblem } from './_controller';
import { configError } from '../_errors';
import { isDnsLabel } from '../_validate';
import type { CanaryMatchRoute, CanaryMirror, CanaryServiceProps } from '../traffic/canary-service';
import { MatchCondition, RequestMatch, StringMatch } from '../traffic/request-match';

/** Options of a {@link PhaseSelector} that reads the phase from outside the code. */
export interface PhaseSelectorOptions {
  /**
   * The phase (number, from 1) used when nothing is set. Without one, synthesis fails until the pipeline sets the
   * phase, so a forgotten variable cannot silently move traffic back to an early phase.
   * @default - none: the phase must be set
   */
  readonly defaultPhase?: number;
}

/**
 * Where the pipeline says which release phase to synthesize, so promoting a release changes no code.
 *
 * A phase is named by its number (from 1) or by the name given to its step.
 */
export class PhaseSelector {
  /**
   * The phase from an environment variable, such as `RELEASE_PHASE=2 cdk8s synth`.
   * @param variable the variable's name
   */
  public static environment(variable: string, options: PhaseSelectorOptions = {}): PhaseSelector {
    return new PhaseSelector(`environment variable ${variable}`, () => process.env[variable], options.defaultPhase);
  }

  /**
   * The phase from the app's context, such as `cdk8s synth --app ... -c release-phase=2`, `cdk8s.yaml` or
   * `app.node.setContext('release-phase', 2)`.
   * @param key the context key
   */
  public static context(key: string, options: PhaseSelectorOptions = {}): PhaseSelector {
    return new PhaseSelector(`context key ${key}`, scope => scope.node.tryGetContext(key), options.defaultPhase);
  }

  /**
   * A phase fixed in code: for tests, or for apps that keep the phase in a reviewed file.
   * @param phase the phase number, from 1
   */
  public static fixed(phase: number): PhaseSelector {
    return new PhaseSelector('PhaseSelector.fixed', () => phase, undefined);
  }

  private constructor(
    /** Where the phase is read from, for messages and the plan. */
    public readonly source: string,
    private readonly read: (scope: IConstruct) => unknown,
    private readonly defaultPhase: number | undefined,
  ) {}

  /**
   * The value set, as a string, or the default phase; `undefined` when neither is.
   * @internal
   */
  public _value(scope: IConstruct): string | undefined {
    const value = this.read(scope);
    if (value !== undefined && value !== null && String(value).trim() !== '') return String(value).trim();
    return this.defaultPhase === undefined ? undefined : String(this.defaultPhase);
  }
}

/** One phase of a release: the canary's share of the traffic, and who else reaches it. */
export interface ReleaseStep {
  /** The canary's share of the traffic, a whole percentage from 0 to 100; the stable version takes the rest. */
  readonly weight: number;
  /**
   * Requests sent to the canary whatever the weight (testers, internal users), ahead of the split.
   * @default - none
   */
  readonly matches?: RequestMatch[];
  /**
   * Percentage of the requests copied to the canary, whose responses are discarded (a shadow phase); only in a
   * phase with weight 0.
   * @default - no mirroring
   */
  readonly mirrorPercentage?: number;
  /**
   * A name for the phase, selectable instead of its number (`RELEASE_PHASE=shadow`); a DNS label that is not a
   * number.
   * @default - the phase is selected by its number only
   */
  readonly name?: string;
}

/** Options of {@link ReleasePhases}. */
export interface ReleasePhasesOptions {
  /** The version released from, which takes what the canary does not. */
  readonly stable: string;
  /** The version released. */
  readonly canary: string;
  /** Where the pipeline says which phase to synthesize. */
  readonly selector: PhaseSelector;
}

/**
 * The phases of a release (for example 5% → 25% → 50% → 100%), of which the pipeline selects one; each phase
 * synthesizes fully static manifests, so nothing rewrites them at run time and GitOps tools have nothing to fight.
 *
 * Given to a `CanaryService` as `phases`, instead of `weights`.
 *
 * @example
 * const phases = ReleasePhases.steps([5, 25, 50, 100], {
 *   stable: 'v1', canary: 'v2', selector: PhaseSelector.environment('RELEASE_PHASE'),
 * });
 * new CanaryService(chart, 'Reviews', { versions, phases, resources });
 * console.log(phases.plan());
 */
export class ReleasePhases {
  /**
   * Phases that only move weight: one per weight, in increasing order.
   * @param weights the canary's share in each phase, whole percentages from 0 to 100, increasing
   */
  public static steps(weights: number[], options: ReleasePhasesOptions): ReleasePhases {
    return new ReleasePhases(weights.map(weight => ({ weight })), options);
  }

  /**
   * Phases with matches and mirroring too, such as a shadow phase, then testers only, then weights.
   * @param steps the phases in order; weights never decrease, and a phase repeating the weight before it must change
   * its matches or mirroring
   */
  public static of(steps: ReleaseStep[], options: ReleasePhasesOptions): ReleasePhases {
    return new ReleasePhases(steps.map(s => ({ ...s })), options);
  }

  /** The version released from. */
  public readonly stable: string;
  /** The version released. */
  public readonly canary: string;
  /** Where the phase is read from. */
  public readonly selector: PhaseSelector;

  private constructor(private readonly stepList: ReleaseStep[], options: ReleasePhasesOptions) {
    this.stable = options.stable;
    this.canary = options.canary;
    this.selector = options.selector;
  }

  /** The phases, in order; phase `n` is `phases[n - 1]`. */
  public get phases(): ReleaseStep[] {
    return this.stepList.map(s => ({ ...s }));
  }

  /**
   * The number (from 1) of the phase the selector picks for `scope`'s app.
   * @param scope a construct of the app, whose context a context selector reads
   */
  public selectedPhase(scope: IConstruct): number {
    this.validate(scope);
    const value = this.selector._value(scope);
    const options = this.stepList.map((s, i) => `${i + 1}${s.name ? ` (${s.name})` : ''}`).join(', ');
    const prop = `phases (${this.selector.source})`;
    if (value === undefined) {
      throw configError(scope, prop, undefined, `set it to a phase: ${options}; or give the selector a defaultPhase`);
    }
    const byName = this.stepList.findIndex(s => s.name === value);
    const n = byName >= 0 ? byName + 1 : Number(value);
    if (!Number.isInteger(n) || n < 1 || n > this.stepList.length) {
      throw configError(scope, prop, value, `use one of the phases: ${options}`);
    }
    return n;
  }

  /**
   * The phases for review, as a Markdown table: per phase the traffic share of each version, the requests that
   * reach the canary whatever the weight, and mirroring.
   */
  public plan(): string {
    this.validate(undefined);
    const cell = (s: string) => s.replace(/\|/g, '\\|');
    const rows = this.stepList.map((s, i) => [
      `${i + 1}${s.name ? ` ${s.name}` : ''}`,
      `${100 - s.weight}%`,
      `${s.weight}%`,
      (s.matches ?? []).map(describeMatch).join(' or ') || '-',
      s.mirrorPercentage === undefined ? '-' : `${s.mirrorPercentage}%`,
    ]);
    return [
      `Release of ${this.canary} (from ${this.stable}); the phase is selected by ${this.selector.source}.`,
      '',
      `| phase | ${this.stable} | ${this.canary} | always to ${this.canary} | mirrored to ${this.canary} |`,
      '| --- | --- | --- | --- | --- |',
      ...rows.map(r => `| ${r.map(cell).join(' | ')} |`),
      '',
    ].join('\n');
  }

  /**
   * The CanaryService props of the selected phase: its weights, its matches as a route `phase-<canary>` ahead of
   * the split, its mirroring.
   * @internal
   */
  public _applyTo(scope: IConstruct, props: CanaryServiceProps): CanaryServiceProps {
    if (props.weights) {
      throw configError(scope, 'weights', props.weights, 'give weights or phases, not both: the selected phase sets the weights');
    }
    const versions = (props.versions ?? []).map(v => v.name);
    for (const [prop, version] of [['phases.stable', this.stable], ['phases.canary', this.canary]]) {
      if (!versions.includes(version)) throw configError(scope, prop, version, `use one of the declared versions: ${versions.join(', ')}`);
    }
    if (this.stable === this.canary) throw configError(scope, 'phases.canary', this.canary, 'release a version other than the stable one');
    const step = this.stepList[this.selectedPhase(scope) - 1];
    const matchRoutes: CanaryMatchRoute[] = [...props.matchRoutes ?? []];
    if (step.matches?.length) matchRoutes.push({ version: this.canary, matches: step.matches, name: `phase-${this.canary}` });
    let mirror: CanaryMirror | undefined = props.mirror;
    if (step.mirrorPercentage !== undefined) {
      if (mirror) throw configError(scope, 'mirror', mirror.version, 'the selected phase mirrors to the canary: mirror in the phases or in the service, not both');
      mirror = { version: this.canary, percentage: step.mirrorPercentage };
    }
    return { ...props, phases: undefined, weights: { [this.stable]: 100 - step.weight, [this.canary]: step.weight }, matchRoutes, mirror };
  }

  private validate(scope: IConstruct | undefined): void {
    const problem = this.problem();
    if (!problem) return;
    if (scope) throw configError(scope, `phases.${problem.prop}`, problem.received, problem.fix);
    throw new Error(`ReleasePhases: ${problem.prop} ${JSON.stringify(problem.received)}: ${problem.fix}`);
  }

  private problem(): { prop: string; received: unknown; fix: string } | undefined {
    const weights = this.stepList.map(s => s.weight);
    const weightProblem = weightListProblem(weights, 0, false);
    if (weightProblem) return { prop: 'steps', received: weights, fix: weightProblem };
    for (const [i, s] of this.stepList.entries()) {
      const prop = `steps[${i}]`;
      if (s.mirrorPercentage !== undefined) {
        if (!Number.isFinite(s.mirrorPercentage) || s.mirrorPercentage <= 0 || s.mirrorPercentage > 100) {
          return { prop: `${prop}.mirrorPercentage`, received: s.mirrorPercentage, fix: 'use a percentage above 0, at most 100' };
        }
        if (s.weight > 0) return { prop: `${prop}.mirrorPercentage`, received: s.mirrorPercentage, fix: 'mirror only in a phase with weight 0: a version cannot mirror to itself' };
      }
      if (s.matches && s.matches.length === 0) return { prop: `${prop}.matches`, received: [], fix: 'give at least one match, or leave matches out' };
      if (s.name !== undefined && (!isDnsLabel(s.name) || /^\d+$/.test(s.name))) {
        return { prop: `${prop}.name`, received: s.name, fix: 'use a DNS label that is not a number, so it cannot be taken for a phase number' };
      }
      if (s.name !== undefined && this.stepList.findIndex(o => o.name === s.name) !== i) {
        return { prop: `${prop}.name`, received: s.name, fix: 'give each phase its own name' };
      }
      const before = this.stepList[i - 1];
      if (before && before.weight === s.weight && fingerprint(before) === fingerprint(s)) {
        return { prop: 'steps', received: weights, fix: `phases ${i} and ${i + 1} are the same: the weights must increase, or the phase must change its matches or mirroring` };
      }
    }
    return undefined;
  }
}

/** What a phase sends to the canary besides its weight, comparable between phases. */
function fingerprint(s: ReleaseStep): string {
  return JSON.stringify([s.mirrorPercentage ?? null, (s.matches ?? []).map(m => m._conditions)]);
}

/** A RequestMatch as a reviewer reads it: `header x-canary = always & path ^= /api`. */
function describeMatch(m: RequestMatch): string {
  return m._conditions.flatMap(describeCondition).join(' & ');
}

function describeCondition(c: MatchCondition): string[] {
  const text = (s: StringMatch) => `${{ exact: '=', prefix: '^=', regex: '~' }[s.kind] ?? s.kind} ${s.value}`;
  return [
    ...Object.entries(c.headers ?? {}).map(([name, s]) => describeHeader(name, s, text(s))),
    ...Object.entries(c.queryParams ?? {}).map(([name, s]) => `query ${name} ${text(s)}`),
    ...(c.uri ? [`path ${text(c.uri)}`] : []),
    ...(c.methods ? [`method ${c.methods.join('/')}`] : []),
  ];
}

/** Cookie matches are regular expressions on the cookie header (RequestMatch.cookie): shown as the cookie. */
function describeHeader(name: string, s: StringMatch, text: string): string {
  const cookie = name === 'cookie' && s.kind === 'regex' ? /^\^\(\.\*\?;\\s\*\)\?(.+)=(.+)\(;\.\*\)\?\$$/.exec(s.value) : null;
  const unescape = (v: string) => v.replace(/\\(.)/g, '$1');
  return cookie ? `cookie ${unescape(cookie[1])} = ${unescape(cookie[2])}` : `header ${name} ${text}`;
}
