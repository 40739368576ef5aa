import { ApiObject } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { configError } from '../_errors';
import { HostRouting } from '../traffic/host-routing';

/** The route kinds whose targets must exist first. */
const ROUTE_KINDS = new Set(['VirtualService', 'HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute']);
/** Controllers that look up routes and workloads when they start: Argo Rollouts' Rollout, Flagger's Canary. */
const CONTROLLER_KINDS = new Set(['argoproj.io/Rollout', 'flagger.app/Canary']);

/** Properties of {@link ArgoCdSyncWaves}. */
export interface ArgoCdSyncWavesProps {
  /**
   * The wave of what routes send traffic to: every DestinationRule, every object a route depends on (per-version
   * Services, ReferenceGrants) and a CanaryService's version workloads.
   * @default -1
   */
  readonly routeTargets?: number;
  /**
   * The wave of routes: VirtualServices and Gateway API routes.
   * @default 0
   */
  readonly routes?: number;
  /**
   * The wave of Argo Rollouts' Rollouts and Flagger's Canaries, which read the routes and workloads they manage.
   * @default 1
   */
  readonly controllers?: number;
}

/**
 * Argo CD sync waves that apply make-before-break: the subsets and backends a route sends to are synced (and
 * healthy) before the route, and the routes before the progressive-delivery controllers that rewrite them.
 *
 * Within one `cdk8s synth` the same order already holds through cdk8s dependencies (a DestinationRule is written
 * before the VirtualService that uses it); an Argo CD sync does not follow file order, so the waves carry it over.
 * Annotates every API object below the scope it is added to (add it to the App to cover every chart); an object
 * that already has a sync wave keeps it.
 *
 * @example
 * new ArgoCdSyncWaves(app, 'SyncWaves');
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/
 */
export class ArgoCdSyncWaves extends Construct {
  /** The annotation Argo CD orders a sync by: lower waves are applied, and healthy, before higher ones. */
  public static readonly ANNOTATION = 'argocd.argoproj.io/sync-wave';

  /** The wave of DestinationRules and other route targets. */
  public readonly routeTargets: number;
  /** The wave of routes. */
  public readonly routes: number;
  /** The wave of Rollouts and Canaries. */
  public readonly controllers: number;
  private readonly annotated: IConstruct;
  private targets?: Set<IConstruct>;

  public constructor(scope: Construct, id: string, props: ArgoCdSyncWavesProps = {}) {
    super(scope, id);
    this.routeTargets = requireWave(this, 'routeTargets', props.routeTargets ?? -1);
    this.routes = requireWave(this, 'routes', props.routes ?? 0);
    this.controllers = requireWave(this, 'controllers', props.controllers ?? 1);
    if (!(this.routeTargets < this.routes && this.routes < this.controllers)) {
      throw configError(this, 'routes', [this.routeTargets, this.routes, this.controllers],
        'order the waves routeTargets < routes < controllers, or the make-before-break order is lost');
    }
    // Annotate at synth, after every object exists; cdk8s validates the app before it writes any chart.
    this.annotated = scope;
    this.node.addValidation({ validate: () => this.annotate() });
  }

  /** The wave this construct gives `apiObject`, or `undefined` when it leaves it in Argo CD's default wave. */
  public waveOf(apiObject: ApiObject): number | undefined {
    if (ROUTE_KINDS.has(apiObject.kind)) return this.routes;
    if (CONTROLLER_KINDS.has(`${apiObject.apiGroup}/${apiObject.kind}`)) return this.controllers;
    if (apiObject.kind === 'DestinationRule' || this.routeTargetSet().has(apiObject)) return this.routeTargets;
    return undefined;
  }

  private routeTargetSet(): Set<IConstruct> {
    if (!this.targets) {
      const objects = this.annotated.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
      // What a route depends on, and the workloads behind it: Argo CD waits for a wave to be healthy, so a new version
      // is up before a route gives it traffic (Istio answers 503 for a subset without endpoints).
      const backends = (o: ApiObject) => (o.node.scope instanceof HostRouting ? o.node.scope._routeBackends : []);
      this.targets = new Set(objects.filter(o => ROUTE_KINDS.has(o.kind)).flatMap(o => [...o.node.dependencies, ...backends(o)]));
    }
    return this.targets;
  }

  private annotate(): string[] {
    this.targets = undefined;
    for (const object of this.annotated.node.findAll()) {
      if (!(object instanceof ApiObject)) continue;
      const wave = this.waveOf(object);
      if (wave === undefined || object.metadata.toJson().annotations?.[ArgoCdSyncWaves.ANNOTATION] !== undefined) continue;
      object.metadata.addAnnotation(ArgoCdSyncWaves.ANNOTATION, String(wave));
    }
    return [];
  }
}

function requireWave(scope: IConstruct, prop: string, wave: number): number {
  if (!Number.isInteger(wave)) throw configError(scope, prop, wave, 'use a whole number (Argo CD waves may be negative)');
  return wave;
}
