import { ApiObject, Duration, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { Construct, IConstruct } from 'constructs';
import { adapterName, controllerDuration, exposeForController, ownNamespace, requireHttpPorts } from './_controller';
import { ArgoCdIgnoreDifference } from './argo-cd-ignore-difference';
import { configError } from '../_errors';
import { objectProps } from '../_object-props';
import { compact } from '../_render';
import { requireDnsLabel, requireInteger, requireUnique } from '../_validate';
import { Waypoint } from '../ambient/waypoint';
import * as argorollouts from '../imports/argo-rollouts';
import { IngressGateway } from '../ingress/ingress-gateway';
import { namespaceDataplane } from '../mesh/_namespace-dataplane';
import { serviceObject } from '../mesh/_service-object';
import { Host } from '../mesh/host';
import { DataplaneMode, TrafficApi } from '../mesh/mesh';
import { namespaceOf } from '../mesh/service-identity';
import { ServicePort } from '../mesh/service-port';
import type { CanaryIngress } from '../traffic/canary-service';
import { HostRouting, RouteDestination, RoutePriority } from '../traffic/host-routing';
import { RequestMatch } from '../traffic/request-match';
import { RetryPolicy } from '../traffic/retry-policy';
import { TrafficPolicy } from '../traffic/traffic-policy';

const ARGO_ROLLOUTS = 'Argo Rollouts';
/** The label Argo Rollouts adds to subsets and Services to tell the ReplicaSets apart. */
const POD_TEMPLATE_HASH = 'rollouts-pod-template-hash';
/** The annotation Argo Rollouts adds to the DestinationRules and Services it manages. */
const MANAGED_BY = 'argo-rollouts.argoproj.io/managed-by-rollouts';

/**
 * How Argo Rollouts splits traffic between the stable and canary ReplicaSets.
 * @see https://argoproj.github.io/argo-rollouts/features/traffic-management/istio/
 */
export enum RolloutTrafficSplit {
  /**
   * Subset-level: one Service, and a DestinationRule with a stable and a canary subset whose labels Argo Rollouts
   * points at the two ReplicaSets (`rollouts-pod-template-hash`).
   */
  SUBSET = 'subset',
  /** Host-level: Services `<name>-<stable>` and `<name>-<canary>`, whose selectors Argo Rollouts points at the ReplicaSets. */
  HOST = 'host',
}

/** What Argo Rollouts does with a referenced Deployment once the Rollout runs its pods. */
export enum WorkloadScaleDown {
  /** Leave the Deployment running. */
  NEVER = 'never',
  /** Scale it to zero once the Rollout is healthy. */
  ON_SUCCESS = 'onsuccess',
  /** Scale it down as the Rollout scales up. */
  PROGRESSIVELY = 'progressively',
}

/**
 * The pods a Rollout runs: a cdk8s-plus Deployment's pod template.
 * @see https://argoproj.github.io/argo-rollouts/migrating/
 */
export class RolloutWorkload {
  /**
   * The Deployment's pod template, copied into the Rollout at synth; the Deployment itself is not emitted (a
   * Deployment and a Rollout would run the pods twice).
   */
  public static inline(deployment: kplus.Deployment): RolloutWorkload {
    return new RolloutWorkload(deployment, undefined);
  }

  /**
   * A reference to the Deployment (`workloadRef`), which stays and is scaled down as `scaleDown` says: a migration
   * path that leaves the Deployment in place.
   * @default scaleDown WorkloadScaleDown.PROGRESSIVELY
   */
  public static reference(deployment: kplus.Deployment, scaleDown: WorkloadScaleDown = WorkloadScaleDown.PROGRESSIVELY): RolloutWorkload {
    return new RolloutWorkload(deployment, scaleDown);
  }

  private constructor(
    /** The Deployment. */
    public readonly deployment: kplus.Deployment,
    /** With `reference`, how the Deployment is scaled down. */
    public readonly scaleDown: WorkloadScaleDown | undefined,
  ) {}
}

/** Options of {@link RolloutStep.canaryScale}: give exactly one. */
export interface CanaryScaleOptions {
  /**
   * A fixed number of canary pods.
   * @default - not a fixed number
   */
  readonly replicas?: number;
  /**
   * The canary's pods as a percentage of the Rollout's replicas.
   * @default - not a percentage
   */
  readonly weight?: number;
  /**
   * Scale the canary with its traffic weight again (undoing an earlier canaryScale step).
   * @default false
   */
  readonly matchTrafficWeight?: boolean;
}

/**
 * A step of a Rollout's canary strategy.
 * @see https://argoproj.github.io/argo-rollouts/features/canary/
 */
export class RolloutStep {
  /** `setWeight`: send `weight` percent of the traffic of the managed routes to the canary. */
  public static weight(weight: number): RolloutStep {
    return new RolloutStep('setWeight', { weight });
  }

  /**
   * Wait `duration`, or until promoted (`kubectl argo rollouts promote`) when none is given.
   */
  public static pause(duration?: Duration): RolloutStep {
    return new RolloutStep('pause', { duration });
  }

  /**
   * Run the AnalysisTemplates `templates` and wait for their result; a failure aborts the rollout.
   * @param args values of the templates' arguments
   */
  public static analysis(templates: string[], args: { [name: string]: string } = {}): RolloutStep {
    return new RolloutStep('analysis', { templates: [...templates], args: { ...args } });
  }

  /** `setCanaryScale`: scale the canary independently of its traffic weight (for example one pod for header-routed testers). */
  public static canaryScale(options: CanaryScaleOptions): RolloutStep {
    return new RolloutStep('setCanaryScale', { scale: { ...options } });
  }

  /**
   * `setHeaderRoute`: add (or replace) route `name`, ahead of the others, sending requests with one of the given
   * headers to the canary. Each match is one header (`RequestMatch.header`).
   */
  public static headerRoute(name: string, matches: RequestMatch[]): RolloutStep {
    return new RolloutStep('setHeaderRoute', { name, matches: [...matches] });
  }

  /** Remove the route an earlier `headerRoute` step added. */
  public static removeHeaderRoute(name: string): RolloutStep {
    return new RolloutStep('setHeaderRoute', { name });
  }

  /**
   * `setMirrorRoute`: add (or replace) route `name`, ahead of the others, copying `percentage` of the matching
   * requests (headers, path, method) to the canary; responses are discarded.
   * @default percentage 100
   */
  public static mirrorRoute(name: string, matches: RequestMatch[], percentage: number = 100): RolloutStep {
    return new RolloutStep('setMirrorRoute', { name, matches: [...matches], percentage });
  }

  /** Remove the route an earlier `mirrorRoute` step added. */
  public static removeMirrorRoute(name: string): RolloutStep {
    return new RolloutStep('setMirrorRoute', { name });
  }

  private constructor(
    /** The step's field in the Rollout (`setWeight`, `pause`, `setHeaderRoute`, ...). */
    public readonly kind: string,
    private readonly o: StepFields,
  ) {}

  /**
   * The route this step adds or removes, if any.
   * @internal
   */
  public get _route(): { name: string; removes: boolean } | undefined {
    return this.o.name === undefined ? undefined : { name: this.o.name, removes: this.o.matches === undefined };
  }

  /** @internal */
  public _render(scope: IConstruct, prop: string): any {
    const o = this.o;
    switch (this.kind) {
      case 'setWeight':
        return { setWeight: requireWholePercent(scope, `${prop}.setWeight`, o.weight!, 0) };
      case 'pause':
        return { pause: o.duration ? { duration: controllerDuration(scope, `${prop}.pause.duration`, o.duration, 'hms') } : {} };
      case 'analysis':
        if (!o.templates?.length) throw configError(scope, `${prop}.analysis.templates`, [], 'name at least one AnalysisTemplate');
        return { analysis: analysisFields(scope, `${prop}.analysis`, o.templates, o.args ?? {}) };
      case 'setCanaryScale':
        return { setCanaryScale: renderCanaryScale(scope, `${prop}.setCanaryScale`, o.scale!) };
      case 'setHeaderRoute':
        return { setHeaderRoute: compact({ name: o.name, match: o.matches && headerMatches(scope, `${prop}.setHeaderRoute`, o.matches) }) };
      default:
        return {
          setMirrorRoute: compact({
            name: o.name,
            match: o.matches && mirrorMatches(scope, `${prop}.setMirrorRoute`, o.matches),
            percentage: o.matches && requireWholePercent(scope, `${prop}.setMirrorRoute.percentage`, o.percentage!, 1),
          }),
        };
    }
  }
}

interface StepFields {
  readonly weight?: number;
  readonly duration?: Duration;
  readonly templates?: string[];
  readonly args?: { [name: string]: string };
  readonly scale?: CanaryScaleOptions;
  readonly name?: string;
  readonly matches?: RequestMatch[];
  readonly percentage?: number;
}

function requireWholePercent(scope: IConstruct, prop: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min || value > 100) throw configError(scope, prop, value, `use a whole percentage from ${min} to 100`);
  return value;
}

function analysisFields(scope: IConstruct, prop: string, templates: string[], args: { [name: string]: string }): any {
  templates.forEach((t, i) => requireDnsLabel(scope, `${prop}.templates[${i}]`, t));
  requireUnique(scope, `${prop}.templates`, templates);
  const entries = Object.entries(args);
  return {
    templates: templates.map(templateName => ({ templateName })),
    ...(entries.length ? { args: entries.map(([name, value]) => ({ name, value })) } : {}),
  };
}

function renderCanaryScale(scope: IConstruct, prop: string, o: CanaryScaleOptions): any {
  const given = [o.replicas !== undefined, o.weight !== undefined, o.matchTrafficWeight === true].filter(Boolean).length;
  if (given !== 1) throw configError(scope, prop, o, 'give exactly one of replicas, weight or matchTrafficWeight: true');
  if (o.replicas !== undefined) return { replicas: requireInteger(scope, `${prop}.replicas`, o.replicas, 0) };
  if (o.weight !== undefined) return { weight: requireWholePercent(scope, `${prop}.weight`, o.weight, 0) };
  return { matchTrafficWeight: true };
}

/** Argo Rollouts' header route match: one header per entry. */
function headerMatches(scope: IConstruct, prop: string, matches: RequestMatch[]): any[] {
  if (matches.length === 0) throw configError(scope, `${prop}.match`, [], 'give at least one header match, or use removeHeaderRoute()');
  return matches.flatMap((m, i) => m._render(scope, `${prop}.match[${i}]`)).map(rendered => {
    const headers = Object.entries<any>(rendered.headers ?? {});
    if (headers.length !== 1 || Object.keys(rendered).length !== 1) {
      throw configError(scope, `${prop}.match`, Object.keys(rendered), 'each match of a header route is one header (RequestMatch.header); give several matches for several headers');
    }
    return { headerName: headers[0][0], headerValue: headers[0][1] };
  });
}

/** Argo Rollouts' mirror route match: headers, path and method. */
function mirrorMatches(scope: IConstruct, prop: string, matches: RequestMatch[]): any[] {
  if (matches.length === 0) throw configError(scope, `${prop}.match`, [], 'give at least one match, or use removeMirrorRoute()');
  return matches.flatMap((m, i) => m._render(scope, `${prop}.match[${i}]`)).map(rendered => {
    const other = Object.keys(rendered).find(k => !['headers', 'uri', 'method'].includes(k));
    if (other) throw configError(scope, `${prop}.match`, other, 'a mirror route matches headers, path and method only');
    return compact({ headers: rendered.headers, path: rendered.uri, method: rendered.method });
  });
}

/** A route of the Rollout's VirtualService ahead of the default `split` route. */
export interface RolloutRoute {
  /** The route's name, unique in the VirtualService. */
  readonly name: string;
  /** The requests it takes; several are OR-ed. */
  readonly matches: RequestMatch[];
  /**
   * Overall timeout of its requests.
   * @default - the Rollout's timeout
   */
  readonly timeout?: Duration;
  /**
   * Its retries.
   * @default - the Rollout's retries
   */
  readonly retries?: RetryPolicy;
}

/** Background analysis: AnalysisTemplates run for the whole rollout. */
export interface RolloutAnalysis {
  /** The AnalysisTemplates' names. */
  readonly templates: string[];
  /**
   * Values of the templates' arguments.
   * @default - none
   */
  readonly args?: { [name: string]: string };
  /**
   * The step (index from 0) at which the analysis starts.
   * @default - the first step
   */
  readonly startingStep?: number;
}

/** Properties of an {@link ArgoRollout}. */
export interface ArgoRolloutProps {
  /** The pods the Rollout runs. */
  readonly workload: RolloutWorkload;
  /** The canary steps. */
  readonly steps: RolloutStep[];
  /**
   * The name of the Rollout, the Service, the VirtualService and the DestinationRule.
   * @default - the Deployment's name
   */
  readonly name?: string;
  /**
   * The Service's ports (HTTP, HTTP/2 or gRPC).
   * @default [ServicePort.http(8080)]
   */
  readonly ports?: ServicePort[];
  /**
   * How the traffic is split.
   * @default RolloutTrafficSplit.SUBSET
   */
  readonly trafficSplit?: RolloutTrafficSplit;
  /**
   * The name of the stable subset (subset-level) or the suffix of the stable Service (host-level).
   * @default 'stable'
   */
  readonly stableName?: string;
  /**
   * The name of the canary subset (subset-level) or the suffix of the canary Service (host-level).
   * @default 'canary'
   */
  readonly canaryName?: string;
  /**
   * Routes ahead of the default `split` route, each with its own matches (and timeout or retries).
   * @default - the `split` route only
   */
  readonly routes?: RolloutRoute[];
  /**
   * The VirtualService routes whose weights the steps set, by their exact names in the VirtualService (with the port
   * suffix when the Service has several ports, and the `-non-idempotent` routes of retries that split POST and
   * PATCH off). A route not listed stays on the stable version.
   * @default - every route of the VirtualService
   */
  readonly trafficRoutes?: string[];
  /**
   * Overall timeout of a request.
   * @default - none
   */
  readonly timeout?: Duration;
  /**
   * Retries.
   * @default - Istio's default
   */
  readonly retries?: RetryPolicy;
  /**
   * The host's traffic policy (with host-level splitting, applied to the stable and canary hosts).
   * @default - Istio's defaults
   */
  readonly trafficPolicy?: TrafficPolicy;
  /**
   * Exposure through an Istio ingress gateway; in-mesh callers keep the same routing.
   * @default - in-mesh only
   */
  readonly ingress?: CanaryIngress;
  /**
   * Analysis running in the background through the rollout.
   * @default - none (analysis steps may still run)
   */
  readonly analysis?: RolloutAnalysis;
}

/**
 * A service released by Argo Rollouts with Istio traffic routing: a `Rollout` (argoproj.io/v1alpha1) and, created
 * up front, the VirtualService and DestinationRule it rewrites, with the route names it manages.
 *
 * The host is claimed for Argo Rollouts: no other construct may configure it, since the controller rewrites the
 * route weights and subset labels at run time. The VirtualService starts with every route at 100% stable, so
 * syncing it again is harmless; `argoCdIgnoreDifferences()` lists what Argo CD must leave to the controller.
 * Synthesis fails when a managed route name is missing from the VirtualService or a step removes a route no
 * earlier step added.
 *
 * @example
 * new ArgoRollout(chart, 'Payments', {
 *   workload: RolloutWorkload.inline(deployment),
 *   steps: [RolloutStep.weight(10), RolloutStep.pause(Duration.minutes(5)), RolloutStep.weight(50), RolloutStep.pause()],
 * });
 * @see https://argoproj.github.io/argo-rollouts/features/traffic-management/istio/
 */
export class ArgoRollout extends Construct {
  /** The Rollout object. */
  public readonly resource: ApiObject;
  /** The name of the Rollout, Service, VirtualService and DestinationRule. */
  public readonly name: string;
  /** The namespace of every object (the Deployment's). */
  public readonly namespace: string;
  /** The Service of the host. */
  public readonly service: ApiObject;
  /** With host-level splitting, the stable and canary Services. */
  public readonly splitServices: ApiObject[];
  /** The in-cluster host. */
  public readonly host: Host;
  /** The host's routing (VirtualService and DestinationRule), claimed for Argo Rollouts. */
  public readonly routing: HostRouting;
  /** The gateway, when exposed through ingress. */
  public readonly ingressGateway?: IngressGateway;
  /** How the traffic is split. */
  public readonly trafficSplit: RolloutTrafficSplit;
  private readonly workload: RolloutWorkload;
  /** The Deployment's object, whose pod template the Rollout copies (inline) or whose replicas it takes. */
  private readonly source: ApiObject;
  private readonly stableName: string;
  private readonly canaryName: string;
  private readonly managedRoutes: string[];
  private readonly trafficRoutes?: string[];
  private readonly splitRoutings: HostRouting[] = [];

  public constructor(scope: Construct, id: string, props: ArgoRolloutProps) {
    super(scope, id);
    const deployment = props.workload.deployment;
    this.workload = props.workload;
    this.name = adapterName(this, props.name, deployment);
    this.namespace = namespaceOf(deployment);
    this.trafficSplit = props.trafficSplit ?? RolloutTrafficSplit.SUBSET;
    this.stableName = requireDnsLabel(this, 'stableName', props.stableName ?? 'stable');
    this.canaryName = requireDnsLabel(this, 'canaryName', props.canaryName ?? 'canary');
    if (this.stableName === this.canaryName) throw configError(this, 'canaryName', this.canaryName, 'give the canary a name other than the stable one');
    const ports = props.ports ?? [ServicePort.http(8080)];
    requireHttpPorts(this, 'ports', ports);
    if (props.steps.length === 0) throw configError(this, 'steps', [], 'give at least one step, such as RolloutStep.weight(10)');
    const steps = props.steps.map((s, i) => s._render(this, `steps[${i}]`));
    this.managedRoutes = this.checkManagedRoutes(props.steps);
    if (ports.length > 1 && this.managedRoutes.length) {
      throw configError(this, 'steps', this.managedRoutes,
        'Argo Rollouts adds header and mirror routes without a port match, sending every port\'s matching requests to the first route\'s port: use weight steps only with several ports, or one port');
    }
    const analysis = props.analysis && this.renderAnalysis(props.analysis, props.steps.length);
    const routes = props.routes ?? [];
    requireUnique(this, 'routes.name', [...routes.map(r => r.name), 'split']);
    if (props.trafficRoutes) {
      if (props.trafficRoutes.length === 0) throw configError(this, 'trafficRoutes', [], 'list at least one route, or leave trafficRoutes out to manage them all');
      requireUnique(this, 'trafficRoutes', props.trafficRoutes);
      this.trafficRoutes = [...props.trafficRoutes];
    }
    // The namespace's mode (a ZeroTrustNamespace may enroll it in another than the Mesh's): ambient needs a waypoint.
    const ambient = namespaceDataplane(this, this.namespace) === DataplaneMode.AMBIENT;

    // The pods: every Service, subset and the Rollout select them by `app`.
    const labels = { app: this.name };
    deployment.podMetadata.addLabel('app', this.name);
    if (Object.keys(deployment.matchLabels).length === 0 && deployment.matchExpressions.length === 0) {
      // A Deployment created with `select: false` still needs a selector (a referenced one is applied as is).
      deployment.select(kplus.LabelSelector.of({ labels }));
    }
    const namespace = ownNamespace(this, this.namespace);
    this.service = serviceObject(this, 'Service', this.name, namespace, labels, ports);
    this.host = Host.service(this, this.name, this.namespace);
    this.routing = HostRouting.of(this, this.host);
    this.routing.claimForController(this, ARGO_ROLLOUTS);
    // Argo Rollouts rewrites Istio VirtualServices (its Gateway API support is a plugin): this host uses Istio's API.
    this.routing.useTrafficApi(this, TrafficApi.ISTIO);
    this.routing.setPorts(this, ports);

    let destinations: RouteDestination[];
    if (this.trafficSplit === RolloutTrafficSplit.SUBSET) {
      this.splitServices = [];
      this.routing.addSubset(this, this.stableName, labels);
      this.routing.addSubset(this, this.canaryName, labels);
      if (props.trafficPolicy) this.routing.addTrafficPolicy(this, props.trafficPolicy);
      destinations = [{ subset: this.stableName, weight: 100 }, { subset: this.canaryName, weight: 0 }];
    } else {
      this.splitServices = [this.stableName, this.canaryName].map(n => serviceObject(this, `Service-${n}`, `${this.name}-${n}`, namespace, labels, ports));
      const hosts = this.splitServices.map(s => Host.service(this, s.name, this.namespace));
      for (const h of props.trafficPolicy ? hosts : []) {
        const routing = HostRouting.of(this, h);
        routing.claimForController(this, ARGO_ROLLOUTS);
        routing.useTrafficApi(this, TrafficApi.ISTIO);
        routing.addTrafficPolicy(this, props.trafficPolicy!);
        this.splitRoutings.push(routing);
      }
      this.routing.addRouteDependency(...this.splitServices, ...this.splitRoutings.flatMap(r => r.destinationRules));
      destinations = [{ host: hosts[0], weight: 100 }, { host: hosts[1], weight: 0 }];
    }
    if (ambient) {
      const waypoint = Waypoint.forNamespace(this, this.namespace);
      for (const s of [this.service, ...this.splitServices]) waypoint.use(s);
    }
    for (const r of routes) {
      const route = { name: r.name, matches: r.matches, destinations, timeout: r.timeout ?? props.timeout, retries: r.retries ?? props.retries };
      this.routing.addRoute(this, route, RoutePriority.MATCHED);
    }
    this.routing.addRoute(this, { name: 'split', destinations, timeout: props.timeout, retries: props.retries }, RoutePriority.DEFAULT);
    if (props.ingress) {
      this.ingressGateway = exposeForController(this, props.ingress, this.routing.namespace, ARGO_ROLLOUTS);
      this.routing.bindGateway(this, this.ingressGateway.ref, props.ingress.hosts);
    }

    this.resource = new ApiObject(this, 'Resource', objectProps(argorollouts.Rollout.GVK, {
      metadata: { name: this.name, ...(namespace ? { namespace } : {}) },
      spec: Lazy.any({ produce: () => this.renderSpec(steps, analysis) }),
    }));
    // Make-before-break: the Services, subsets and routes the Rollout rewrites exist before it starts.
    this.resource.node.addDependency(this.service, ...this.splitServices, ...this.routing.destinationRules, this.routing.virtualService!);
    this.source = ApiObject.of(deployment);
    if (this.workload.scaleDown === undefined) {
      // Inline: the Rollout runs the pods, the Deployment is not emitted (it would run them twice); its labels and
      // annotations (a sync wave set by hand) go to the Rollout, read when synthesized.
      deployment.node.tryRemoveChild(this.source.node.id);
      this.node.addValidation({ validate: () => this.takeSourceMetadata() });
    } else {
      this.resource.node.addDependency(deployment);
    }
    this.node.addValidation({ validate: () => this.validateRoutes() });
  }

  /** The VirtualService's HTTP route names, as synthesized. */
  public get routeNames(): string[] {
    return (this.routing.virtualService!.toJson().spec?.http ?? []).map((r: any) => r.name);
  }

  /**
   * What Argo CD must not diff, since Argo Rollouts changes it during a rollout: the managed route weights and the
   * routes the steps add, the subset labels (or Service selectors) and the controller's annotations, and with
   * `RolloutWorkload.reference` the Deployment's replicas. Put the entries in the Application's
   * `spec.ignoreDifferences`, with the sync option `RespectIgnoreDifferences=true` so a sync does not undo them.
   * @see https://argo-cd.readthedocs.io/en/stable/user-guide/diffing/
   */
  public argoCdIgnoreDifferences(): ArgoCdIgnoreDifference[] {
    const namespace = this.namespace;
    const managedBy = `/metadata/annotations/${MANAGED_BY.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const out: ArgoCdIgnoreDifference[] = [{
      group: 'networking.istio.io',
      kind: 'VirtualService',
      name: this.routing.virtualService!.name,
      namespace,
      jqPathExpressions: [
        ...this.shiftedRoutes().map(r => `.spec.http[] | select(.name == ${JSON.stringify(r)}) | .route[].weight`),
        ...this.managedRoutes.map(r => `.spec.http[] | select(.name == ${JSON.stringify(r)})`),
      ],
    }];
    if (this.trafficSplit === RolloutTrafficSplit.SUBSET) {
      out.push({
        group: 'networking.istio.io',
        kind: 'DestinationRule',
        name: this.routing.destinationRule!.name,
        namespace,
        jsonPointers: [managedBy],
        jqPathExpressions: [`.spec.subsets[].labels[${JSON.stringify(POD_TEMPLATE_HASH)}]`],
      });
    } else {
      for (const s of this.splitServices) {
        out.push({ group: '', kind: 'Service', name: s.name, namespace, jsonPointers: [`/spec/selector/${POD_TEMPLATE_HASH}`, managedBy] });
      }
    }
    if (this.workload.scaleDown !== undefined) {
      out.push({ group: 'apps', kind: 'Deployment', name: this.workload.deployment.name, namespace, jsonPointers: ['/spec/replicas'] });
    }
    return out;
  }

  /** The routes whose weights the steps set. */
  private shiftedRoutes(): string[] {
    return this.trafficRoutes ?? this.routeNames;
  }

  /** Managed routes: the routes the steps add, in order of first use (Argo Rollouts puts them first, in this order). */
  private checkManagedRoutes(steps: RolloutStep[]): string[] {
    const kinds = new Map<string, string>();
    steps.forEach((s, i) => {
      const route = s._route;
      if (!route) return;
      requireDnsLabel(this, `steps[${i}].${s.kind}.name`, route.name);
      const kind = kinds.get(route.name);
      if (kind !== undefined && kind !== s.kind) {
        throw configError(this, `steps[${i}].${s.kind}.name`, route.name, `an earlier step uses it for ${kind}: give each managed route one purpose`);
      }
      if (route.removes && kind === undefined) {
        throw configError(this, `steps[${i}].${s.kind}.name`, route.name, `no earlier step adds managed route '${route.name}' (known: ${[...kinds.keys()].join(', ') || 'none'})`);
      }
      kinds.set(route.name, s.kind);
    });
    return [...kinds.keys()];
  }

  private renderAnalysis(analysis: RolloutAnalysis, stepCount: number): any {
    if (analysis.templates.length === 0) throw configError(this, 'analysis.templates', [], 'name at least one AnalysisTemplate');
    const startingStep = analysis.startingStep;
    if (startingStep !== undefined && (!Number.isInteger(startingStep) || startingStep < 0 || startingStep >= stepCount)) {
      throw configError(this, 'analysis.startingStep', startingStep, `use the index of a step, from 0 to ${stepCount - 1}`);
    }
    return { ...analysisFields(this, 'analysis', analysis.templates, analysis.args ?? {}), ...(startingStep === undefined ? {} : { startingStep }) };
  }

  /** The route names the Rollout names must exist in the VirtualService, and the routes it adds must not. */
  private validateRoutes(): string[] {
    let names: string[];
    try {
      names = this.routeNames;
    } catch {
      return []; // the routing reports its own errors
    }
    const errors: string[] = [];
    const missing = (this.trafficRoutes ?? []).filter(r => !names.includes(r));
    if (missing.length) {
      errors.push(configError(this, 'trafficRoutes', missing, `the VirtualService ${this.routing.virtualService!.name} has no route so named: use its route names (${names.join(', ')})`).message);
    }
    const taken = this.managedRoutes.filter(r => names.includes(r));
    if (taken.length) {
      errors.push(configError(this, 'steps', taken, 'a route that a step adds must not already be a route of the VirtualService: rename it').message);
    }
    return errors;
  }

  private takeSourceMetadata(): string[] {
    const metadata = this.source.toJson().metadata ?? {};
    for (const [key, value] of Object.entries<string>(metadata.labels ?? {})) {
      if (this.resource.metadata.getLabel(key) === undefined) this.resource.metadata.addLabel(key, value);
    }
    for (const [key, value] of Object.entries<string>(metadata.annotations ?? {})) this.resource.metadata.addAnnotation(key, value);
    return [];
  }

  private renderSpec(steps: any[], analysis: any): any {
    const deployment = this.workload.deployment;
    const source = this.source.toJson().spec ?? {};
    const inline = this.workload.scaleDown === undefined;
    const subsetLevel = this.trafficSplit === RolloutTrafficSplit.SUBSET;
    return compact({
      replicas: source.replicas,
      minReadySeconds: inline ? source.minReadySeconds : undefined,
      revisionHistoryLimit: inline ? source.revisionHistoryLimit : undefined,
      progressDeadlineSeconds: inline ? source.progressDeadlineSeconds : undefined,
      selector: { matchLabels: { app: this.name } },
      template: inline ? source.template : undefined,
      workloadRef: inline ? undefined : { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.name, scaleDown: this.workload.scaleDown },
      strategy: {
        canary: compact({
          stableService: subsetLevel ? undefined : this.splitServices[0].name,
          canaryService: subsetLevel ? undefined : this.splitServices[1].name,
          trafficRouting: compact({
            istio: compact({
              virtualService: { name: this.routing.virtualService!.name, routes: this.shiftedRoutes() },
              destinationRule: subsetLevel
                ? { name: this.routing.destinationRule!.name, stableSubsetName: this.stableName, canarySubsetName: this.canaryName }
                : undefined,
            }),
            managedRoutes: this.managedRoutes.length ? this.managedRoutes.map(name => ({ name })) : undefined,
          }),
          steps,
          analysis,
        }),
      },
    });
  }
}

