import { ApiObject, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { Construct, IConstruct } from 'constructs';
import { adapterName, controllerDuration, exposeForController, ownNamespace, requireHttpPorts, weightListProblem } from './_controller';
import { ArgoCdIgnoreDifference } from './argo-cd-ignore-difference';
import { FlaggerMetricTemplate } from './flagger-metric-template';
import { istioDuration } from '../_duration';
import { configError } from '../_errors';
import { objectProps } from '../_object-props';
import { compact } from '../_render';
import { requireDnsLabel, requireInteger, requireUnique } from '../_validate';
import * as flagger from '../imports/flagger';
import { IngressGateway } from '../ingress/ingress-gateway';
import { namespaceDataplane } from '../mesh/_namespace-dataplane';
import { Host } from '../mesh/host';
import { DataplaneMode } from '../mesh/mesh';
import { namespaceOf } from '../mesh/service-identity';
import { ServicePort } from '../mesh/service-port';
import type { CanaryIngress } from '../traffic/canary-service';
import { HostRouting } from '../traffic/host-routing';
import { RequestMatch } from '../traffic/request-match';
import { RetryPolicy } from '../traffic/retry-policy';
import { TrafficPolicy, renderTrafficPolicy } from '../traffic/traffic-policy';

const FLAGGER = 'Flagger';

/** Options of {@link FlaggerStrategy.progressive}. */
export interface FlaggerProgressiveOptions {
  /** The traffic added to the canary at each passing iteration, a whole percentage. */
  readonly stepWeight: number;
  /** The canary's largest share; once reached and passing, the canary is promoted. */
  readonly maxWeight: number;
  /**
   * The traffic moved to the promoted version per iteration during promotion.
   * @default - all at once
   */
  readonly stepWeightPromotion?: number;
  /**
   * Before shifting traffic, copy this percentage of it to the canary for one iteration (responses discarded).
   * @default - no mirroring
   */
  readonly mirrorPercentage?: number;
}

/** Options of {@link FlaggerStrategy.stepWeights}. */
export interface FlaggerStepWeightsOptions {
  /**
   * The traffic moved to the promoted version per iteration during promotion.
   * @default - all at once
   */
  readonly stepWeightPromotion?: number;
  /**
   * Before shifting traffic, copy this percentage of it to the canary for one iteration (responses discarded).
   * @default - no mirroring
   */
  readonly mirrorPercentage?: number;
}

/** Options of {@link FlaggerStrategy.abTesting}. */
export interface FlaggerAbTestingOptions {
  /** How many passing iterations promote the canary. */
  readonly iterations: number;
  /** The requests sent to the canary during the analysis: headers, cookies and query parameters. */
  readonly matches: RequestMatch[];
}

/** Options of {@link FlaggerStrategy.blueGreen}. */
export interface FlaggerBlueGreenOptions {
  /** How many passing iterations (on test or mirrored traffic) before all traffic switches. */
  readonly iterations: number;
  /**
   * Copy this percentage of the traffic to the canary during the analysis (responses discarded).
   * @default - no mirroring: only webhooks (load tests) reach the canary
   */
  readonly mirrorPercentage?: number;
}

/**
 * How Flagger moves traffic to the canary while its analysis passes.
 * @see https://docs.flagger.app/usage/deployment-strategies
 */
export class FlaggerStrategy {
  /** Canary release: `stepWeight` more traffic per passing iteration, up to `maxWeight`. */
  public static progressive(options: FlaggerProgressiveOptions): FlaggerStrategy {
    return new FlaggerStrategy('progressive', { ...options, weights: [] });
  }

  /** Canary release through the given weights, in increasing order (for example 1, 5, 10, 25, 50). */
  public static stepWeights(weights: number[], options: FlaggerStepWeightsOptions = {}): FlaggerStrategy {
    return new FlaggerStrategy('stepWeights', { ...options, weights: [...weights] });
  }

  /** A/B testing: requests matching `matches` go to the canary for `iterations` passing iterations. */
  public static abTesting(options: FlaggerAbTestingOptions): FlaggerStrategy {
    return new FlaggerStrategy('abTesting', { iterations: options.iterations, matches: [...options.matches], weights: [] });
  }

  /** Blue/green: the canary is analysed for `iterations` iterations, then takes all traffic at once. */
  public static blueGreen(options: FlaggerBlueGreenOptions): FlaggerStrategy {
    return new FlaggerStrategy('blueGreen', { ...options, weights: [] });
  }

  private constructor(
    /** `progressive`, `stepWeights`, `abTesting` or `blueGreen`. */
    public readonly kind: string,
    private readonly o: StrategyFields,
  ) {}

  /**
   * The strategy's fields of `spec.analysis`.
   * @internal
   */
  public _render(scope: IConstruct, prop: string): any {
    const o = this.o;
    const weight = (field: string, value: number | undefined) => value === undefined ? undefined : requirePercentStep(scope, `${prop}.${field}`, value);
    const iterations = o.iterations === undefined ? undefined : requireInteger(scope, `${prop}.iterations`, o.iterations, 1);
    const mirror = o.mirrorPercentage === undefined ? {} : { mirror: true, mirrorWeight: weight('mirrorPercentage', o.mirrorPercentage) };
    switch (this.kind) {
      case 'progressive': {
        const stepWeight = weight('stepWeight', o.stepWeight)!;
        const maxWeight = weight('maxWeight', o.maxWeight)!;
        if (maxWeight < stepWeight) throw configError(scope, `${prop}.maxWeight`, maxWeight, `use a maxWeight of at least the stepWeight (${stepWeight})`);
        return compact({ stepWeight, maxWeight, stepWeightPromotion: weight('stepWeightPromotion', o.stepWeightPromotion), ...mirror });
      }
      case 'stepWeights': {
        const problem = weightListProblem(o.weights, 1, true);
        if (problem) throw configError(scope, `${prop}.stepWeights`, o.weights, problem);
        return compact({ stepWeights: o.weights, stepWeightPromotion: weight('stepWeightPromotion', o.stepWeightPromotion), ...mirror });
      }
      case 'abTesting': {
        if (!o.matches?.length) throw configError(scope, `${prop}.matches`, [], 'give the requests the canary takes during the analysis');
        const match = o.matches.flatMap((m, i) => m._render(scope, `${prop}.matches[${i}]`));
        for (const m of match) {
          const other = Object.keys(m).find(k => k !== 'headers' && k !== 'queryParams');
          if (other) throw configError(scope, `${prop}.matches`, other, 'Flagger\'s A/B match takes headers, cookies and query parameters: route paths and methods with the service matches');
        }
        return { iterations, match };
      }
      default:
        return { iterations, ...mirror };
    }
  }
}

interface StrategyFields {
  readonly stepWeight?: number;
  readonly maxWeight?: number;
  readonly stepWeightPromotion?: number;
  readonly mirrorPercentage?: number;
  readonly iterations?: number;
  readonly matches?: RequestMatch[];
  readonly weights: number[];
}

function requirePercentStep(scope: IConstruct, prop: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 100) throw configError(scope, prop, value, 'use a whole percentage from 1 to 100');
  return value;
}

/** Options of every {@link FlaggerMetric}. */
export interface FlaggerMetricOptions {
  /**
   * The query's time window.
   * @default - 1m for the built-in metrics (Flagger's default); the analysis interval for template metrics, which Flagger
   * leaves without one (an empty `{{ interval }}`, which breaks the query)
   */
  readonly interval?: Duration;
}

/** Options of a {@link FlaggerMetric} from a MetricTemplate. */
export interface FlaggerTemplateMetricOptions extends FlaggerMetricOptions {
  /**
   * The lowest passing value.
   * @default - no lower bound (give `min`, `max` or both)
   */
  readonly min?: number;
  /**
   * The highest passing value.
   * @default - no upper bound (give `min`, `max` or both)
   */
  readonly max?: number;
  /**
   * The metric's name in the analysis.
   * @default - the template's name
   */
  readonly name?: string;
  /**
   * Values of the template's `{{ variables.<name> }}`.
   * @default - none
   */
  readonly variables?: { [name: string]: string };
}

/** Options of {@link FlaggerMetric.fromTemplateName}. */
export interface FlaggerTemplateRefOptions extends FlaggerTemplateMetricOptions {
  /**
   * The template's namespace.
   * @default - the Canary's namespace
   */
  readonly namespace?: string;
}

/**
 * A check of the canary's analysis: a metric and the range it must stay in.
 * @see https://docs.flagger.app/usage/metrics
 */
export class FlaggerMetric {
  /**
   * Flagger's built-in `request-success-rate`: the percentage of non-5xx responses must stay at or above `minPercent`.
   */
  public static requestSuccessRate(minPercent: number, options: FlaggerMetricOptions = {}): FlaggerMetric {
    return new FlaggerMetric('request-success-rate', options, undefined, (scope, prop) => {
      if (!Number.isFinite(minPercent) || minPercent < 0 || minPercent > 100) throw configError(scope, `${prop}.minPercent`, minPercent, 'use a percentage from 0 to 100');
      return { thresholdRange: { min: minPercent } };
    });
  }

  /** Flagger's built-in `request-duration`: the 99th percentile of request durations must stay at or under `maxP99`. */
  public static requestDuration(maxP99: Duration, options: FlaggerMetricOptions = {}): FlaggerMetric {
    return new FlaggerMetric('request-duration', options, undefined, (scope, prop) => {
      const ms = maxP99.toMilliseconds({ integral: false });
      if (!(ms >= 1)) throw configError(scope, `${prop}.maxP99`, `${ms}ms`, 'use a duration of at least 1ms');
      return { thresholdRange: { max: ms } };
    });
  }

  /** A check of a MetricTemplate defined in this app, which must give every variable the template's query uses. */
  public static fromTemplate(template: FlaggerMetricTemplate, options: FlaggerTemplateMetricOptions): FlaggerMetric {
    return new FlaggerMetric(options.name ?? template.name, options, template, (scope, prop) => {
      const missing = template.variables.filter(v => options.variables?.[v] === undefined);
      if (missing.length) throw configError(scope, `${prop}.variables`, options.variables ?? {}, `give the variables the template's query uses: ${missing.join(', ')}`);
      return templateCheck(scope, prop, template.name, template.namespace ?? Chart.of(template).namespace, options);
    });
  }

  /** A check of a MetricTemplate defined elsewhere, by name. */
  public static fromTemplateName(templateName: string, options: FlaggerTemplateRefOptions): FlaggerMetric {
    return new FlaggerMetric(options.name ?? templateName, options, undefined, (scope, prop) =>
      templateCheck(scope, prop, requireDnsLabel(scope, `${prop}.templateName`, templateName), options.namespace, options));
  }

  private constructor(
    /** The metric's name in the analysis. */
    public readonly name: string,
    private readonly options: FlaggerMetricOptions,
    /** @internal The MetricTemplate of this app it checks, if any. */
    public readonly _template: FlaggerMetricTemplate | undefined,
    private readonly check: (scope: IConstruct, prop: string) => any,
  ) {}

  /**
   * @internal
   * @param analysisInterval the analysis interval, the window of a template metric that gives none
   */
  public _render(scope: IConstruct, prop: string, analysisInterval: string): any {
    const check = this.check(scope, prop);
    const interval = this.options.interval ? controllerDuration(scope, `${prop}.interval`, this.options.interval, 'ms')
      : check.templateRef ? analysisInterval : undefined;
    return { name: this.name, ...check, ...(interval ? { interval } : {}) };
  }
}

function templateCheck(scope: IConstruct, prop: string, name: string, namespace: string | undefined, options: FlaggerTemplateMetricOptions): any {
  if (options.min === undefined && options.max === undefined) throw configError(scope, `${prop}.min`, undefined, 'give the passing range: min, max or both');
  if (options.min !== undefined && options.max !== undefined && options.min > options.max) {
    throw configError(scope, `${prop}.min`, options.min, `use a min no higher than max (${options.max})`);
  }
  return compact({
    templateRef: compact({ name, namespace }),
    thresholdRange: compact({ min: options.min, max: options.max }),
    templateVariables: options.variables && Object.keys(options.variables).length ? { ...options.variables } : undefined,
  });
}

/**
 * When Flagger calls a webhook during a release.
 * @see https://docs.flagger.app/usage/webhooks
 */
export enum FlaggerWebhookType {
  /** Before scaling up the canary: a non-2xx answer holds the release (manual gating). */
  CONFIRM_ROLLOUT = 'confirm-rollout',
  /** Before routing traffic to the canary: a failure counts against the threshold (acceptance tests). */
  PRE_ROLLOUT = 'pre-rollout',
  /** At every iteration of the analysis (load tests). */
  ROLLOUT = 'rollout',
  /** Before each traffic increase: a non-2xx answer holds it. */
  CONFIRM_TRAFFIC_INCREASE = 'confirm-traffic-increase',
  /** Before promotion: a non-2xx answer holds it. */
  CONFIRM_PROMOTION = 'confirm-promotion',
  /** After promotion or rollback (notifications). */
  POST_ROLLOUT = 'post-rollout',
  /** Polled during the analysis: a 2xx answer rolls the canary back (manual rollback). */
  ROLLBACK = 'rollback',
  /** On every Flagger event. */
  EVENT = 'event',
}

/** A webhook of the canary analysis. */
export interface FlaggerWebhook {
  /** The hook's name, unique in the analysis. */
  readonly name: string;
  /** The URL Flagger posts to, such as the load tester's `http://flagger-loadtester.test/`. */
  readonly url: string;
  /**
   * When it is called.
   * @default FlaggerWebhookType.ROLLOUT
   */
  readonly type?: FlaggerWebhookType;
  /**
   * How long a call may take.
   * @default - Flagger's default (10s)
   */
  readonly timeout?: Duration;
  /**
   * Data posted with the call, such as the load tester's `cmd`.
   * @default - none
   */
  readonly metadata?: { [key: string]: string };
  /**
   * Retries of a failed call.
   * @default - none
   */
  readonly retries?: number;
  /**
   * Send no alert when the hook fails.
   * @default false
   */
  readonly muteAlert?: boolean;
}

/** The analysis that decides whether Flagger promotes or rolls back the canary. */
export interface FlaggerAnalysis {
  /** How traffic moves to the canary. */
  readonly strategy: FlaggerStrategy;
  /**
   * How often the analysis runs (each run is one iteration or step).
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
  /**
   * Failed checks after which the canary is rolled back.
   * @default 5
   */
  readonly threshold?: number;
  /**
   * The checks.
   * @default [FlaggerMetric.requestSuccessRate(99), FlaggerMetric.requestDuration(Duration.millis(500))]
   */
  readonly metrics?: FlaggerMetric[];
  /**
   * Webhooks: acceptance and load tests, gates, notifications.
   * @default - none
   */
  readonly webhooks?: FlaggerWebhook[];
}

/** Properties of a {@link FlaggerCanary}. */
export interface FlaggerCanaryProps {
  /**
   * The Deployment Flagger releases. Flagger needs it selected by one label (`app`, `name` or
   * `app.kubernetes.io/name`): create it with `select: false`, and it is selected by `app: <deployment name>`.
   */
  readonly deployment: kplus.Deployment;
  /** How the canary is analysed and promoted. */
  readonly analysis: FlaggerAnalysis;
  /**
   * The name of the Canary and of the Services Flagger creates (`<name>`, `<name>-primary`, `<name>-canary`).
   * @default - the Deployment's name
   */
  readonly name?: string;
  /**
   * The service port (its `targetPort` is the container port).
   * @default ServicePort.http(8080)
   */
  readonly port?: ServicePort;
  /**
   * Exposure through an Istio ingress gateway; in-mesh callers keep the same routing.
   * @default - in-mesh only
   */
  readonly ingress?: CanaryIngress;
  /**
   * The requests the service's route takes (for example a path prefix at the gateway).
   * @default - every request
   */
  readonly matches?: RequestMatch[];
  /**
   * Overall timeout of a request.
   * @default - none
   */
  readonly timeout?: Duration;
  /**
   * Retries. Flagger renders one route, so the policy must be safe for every method: `retryNonIdempotent`, or only
   * conditions under which the request never reached the upstream.
   * @default - Istio's default
   */
  readonly retries?: RetryPolicy;
  /**
   * The traffic policy of the primary and canary DestinationRules Flagger creates.
   * @default - Istio's defaults
   */
  readonly trafficPolicy?: TrafficPolicy;
  /**
   * How long the canary may make no progress before it is rolled back.
   * @default - Flagger's default (10 minutes)
   */
  readonly progressDeadline?: Duration;
  /**
   * Promote without analysis (emergency releases).
   * @default false
   */
  readonly skipAnalysis?: boolean;
  /**
   * When the Canary is deleted, give the Deployment its traffic back.
   * @default false
   */
  readonly revertOnDeletion?: boolean;
}

/**
 * A service released by Flagger: a `Canary` (flagger.app/v1beta1, Istio provider) built from typed settings.
 *
 * Flagger creates and owns the host's Services (`<name>`, `-primary`, `-canary`), VirtualService and
 * DestinationRules, and rewrites them during a release; this construct therefore emits none of them and claims the
 * host, so no other construct (CanaryService, ResilientUpstream, fault injection) configures it: what they set would
 * be overwritten (flagger#703). The route settings go in the Canary's `service` instead.
 *
 * @example
 * new FlaggerCanary(chart, 'Checkout', {
 *   deployment,
 *   port: ServicePort.http(8080),
 *   analysis: {
 *     strategy: FlaggerStrategy.progressive({ stepWeight: 10, maxWeight: 50 }),
 *     webhooks: [{ name: 'load-test', url: 'http://flagger-loadtester.test/', metadata: { cmd: 'hey -z 1m http://checkout-canary.shop:8080/' } }],
 *   },
 * });
 * @see https://docs.flagger.app/tutorials/istio-progressive-delivery
 */
export class FlaggerCanary extends Construct {
  /** The Canary object. */
  public readonly resource: ApiObject;
  /** The name of the Canary and of the Services Flagger creates. */
  public readonly name: string;
  /** The namespace of the Canary (the Deployment's). */
  public readonly namespace: string;
  /** The in-cluster host Flagger routes. */
  public readonly host: Host;
  /** The host's routing, claimed for Flagger. */
  public readonly routing: HostRouting;
  /** The gateway, when exposed through ingress. */
  public readonly ingressGateway?: IngressGateway;

  private readonly deploymentName: string;

  public constructor(scope: Construct, id: string, props: FlaggerCanaryProps) {
    super(scope, id);
    const deployment = props.deployment;
    this.deploymentName = deployment.name;
    this.name = adapterName(this, props.name, deployment);
    this.namespace = namespaceOf(deployment);
    if (namespaceDataplane(this, this.namespace) === DataplaneMode.AMBIENT) {
      throw configError(this, 'dataplaneMode', DataplaneMode.AMBIENT,
        'Flagger creates the routed Services itself, so they cannot be enrolled in a waypoint here: use the Argo Rollouts adapter or ReleasePhases in ambient mode');
    }
    const port = props.port ?? ServicePort.http(8080);
    requireHttpPorts(this, 'port', [port]);
    this.host = Host.service(this, this.name, this.namespace);
    this.routing = HostRouting.of(this, this.host);
    this.routing.claimForController(this, FLAGGER);

    if (props.ingress) this.ingressGateway = exposeForController(this, props.ingress, this.namespace, FLAGGER);
    const service = compact({
      name: this.name,
      port: port.port,
      targetPort: port.targetPort,
      portName: port.name,
      appProtocol: port.protocol,
      // Flagger binds only the gateways listed: keep `mesh` so in-mesh callers get the same routing.
      gateways: this.ingressGateway ? [this.ingressGateway.ref, 'mesh'] : undefined,
      hosts: props.ingress?.hosts,
      match: props.matches?.length ? props.matches.flatMap((m, i) => m._render(this, `matches[${i}]`)) : undefined,
      retries: this.renderRetries(props),
      timeout: props.timeout && istioDuration(this, 'timeout', props.timeout),
      trafficPolicy: props.trafficPolicy && this.renderTrafficPolicy(props.trafficPolicy),
    });

    this.resource = new ApiObject(this, 'Resource', objectProps(flagger.Canary.GVK, {
      metadata: compact({ name: this.name, namespace: ownNamespace(this, this.namespace) }),
      spec: compact({
        provider: 'istio',
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.name },
        progressDeadlineSeconds: props.progressDeadline && Number(controllerDuration(this, 'progressDeadline', props.progressDeadline, 's').slice(0, -1)),
        service,
        analysis: this.renderAnalysis(props.analysis, service.match),
        skipAnalysis: props.skipAnalysis,
        revertOnDeletion: props.revertOnDeletion,
      }),
    }));
    // Flagger reads the Deployment and the MetricTemplates when it starts the Canary: make them exist first.
    this.resource.node.addDependency(deployment);
    for (const m of props.analysis.metrics ?? []) if (m._template) this.resource.node.addDependency(m._template);
    this.selectForFlagger(deployment);
  }
  /**
   * What Argo CD must not diff: Flagger scales the target Deployment (to 0 once the primary runs the release, up
   * again for the next analysis), so `/spec/replicas` in Git is never what runs. Put the entry in the Application's
   * `spec.ignoreDifferences`, with the sync option `RespectIgnoreDifferences=true`, or a sync (or self-heal) starts
   * the canary's pods again beside the primary.
   * @see https://docs.flagger.app/tutorials/argocd
   */
  public argoCdIgnoreDifferences(): ArgoCdIgnoreDifference[] {
    return [{ group: 'apps', kind: 'Deployment', name: this.deploymentName, namespace: this.namespace, jsonPointers: ['/spec/replicas'] }];
  }


  /** Flagger copies the Deployment as `<name>-primary` and tells them apart by one selector label. */
  private selectForFlagger(deployment: kplus.Deployment): void {
    const keys = ['app', 'name', 'app.kubernetes.io/name'];
    if (Object.keys(deployment.matchLabels).length === 0 && deployment.matchExpressions.length === 0) {
      deployment.select(kplus.LabelSelector.of({ labels: { app: deployment.name } }));
      deployment.podMetadata.addLabel('app', deployment.name);
    }
    this.node.addValidation({
      validate: () => {
        const labels = Object.keys(deployment.matchLabels);
        if (labels.length === 1 && keys.includes(labels[0]) && deployment.matchExpressions.length === 0) return [];
        return [configError(this, 'deployment', labels, `Flagger needs a Deployment selected by exactly one of the labels ${keys.join(', ')}: create ${deployment.node.path} with select: false`).message];
      },
    });
  }

  private renderRetries(props: FlaggerCanaryProps): any {
    const retries = props.retries;
    if (!retries) return undefined;
    retries._validate(this, 'retries', props.timeout);
    if (retries._isMeshDefault) return undefined;
    if (retries._needsNonIdempotentRoute) {
      throw configError(this, 'retries', retries.retryOn.map(r => r.value),
        'Flagger renders one route, so POST and PATCH cannot get safer retries: set retryNonIdempotent: true, or retry only on connect-failure, refused-stream and reset-before-request');
    }
    return retries._render(this, 'retries');
  }

  private renderTrafficPolicy(policy: TrafficPolicy): any {
    // No host: Flagger's DestinationRules are for `<name>-primary` and `<name>-canary`, so TLS names no default SNI.
    const rendered = renderTrafficPolicy(this, 'trafficPolicy', policy, '');
    const unsupported = unsupportedField(rendered, FLAGGER_TRAFFIC_POLICY, 'trafficPolicy');
    if (unsupported) {
      throw configError(this, unsupported.path, unsupported.value,
        'Flagger\'s Canary has no such traffic policy field, so it would be lost: leave it out, or release this service with ReleasePhases');
    }
    const cookie = rendered?.loadBalancer?.consistentHash?.httpCookie;
    if (cookie && cookie.ttl === undefined) {
      throw configError(this, 'trafficPolicy.loadBalancer.consistentHash.httpCookie.ttl', undefined,
        'Flagger copies the cookie into its DestinationRules with an empty ttl when none is set, which Istio cannot read as a duration: give the cookie a ttl');
    }
    return rendered;
  }

  private renderAnalysis(analysis: FlaggerAnalysis, serviceMatch: any[] | undefined): any {
    const strategy = analysis.strategy._render(this, 'analysis.strategy');
    // Flagger builds the canary's route from each service match with only the A/B match's headers put in: its query
    // parameters are dropped (the canary would take every request), and its headers replace the service match's.
    for (const m of serviceMatch?.length ? strategy.match ?? [] : []) {
      if (m.queryParams) {
        throw configError(this, 'analysis.strategy.matches', Object.keys(m.queryParams),
          'Flagger drops an A/B match\'s query parameters when the service has matches, and would send it every request: match on headers or cookies');
      }
      if (m.headers && serviceMatch!.some(sm => sm.headers)) {
        throw configError(this, 'analysis.strategy.matches', Object.keys(m.headers),
          'Flagger replaces the service matches\' headers with the A/B match\'s: move those header conditions into the A/B match');
      }
    }
    const metrics = analysis.metrics ?? [FlaggerMetric.requestSuccessRate(99), FlaggerMetric.requestDuration(Duration.millis(500))];
    const webhooks = analysis.webhooks ?? [];
    requireUnique(this, 'analysis.metrics.name', metrics.map(m => m.name));
    requireUnique(this, 'analysis.webhooks.name', webhooks.map(w => w.name));
    const interval = controllerDuration(this, 'analysis.interval', analysis.interval ?? Duration.minutes(1), 'ms');
    return compact({
      interval,
      threshold: requireInteger(this, 'analysis.threshold', analysis.threshold ?? 5, 1),
      ...strategy,
      metrics: metrics.length ? metrics.map((m, i) => m._render(this, `analysis.metrics[${i}]`, interval)) : undefined,
      webhooks: webhooks.length ? webhooks.map((w, i) => this.renderWebhook(w, `analysis.webhooks[${i}]`)) : undefined,
    });
  }

  private renderWebhook(w: FlaggerWebhook, prop: string): any {
    let url: URL | undefined;
    try {
      url = new URL(w.url);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol)) throw configError(this, `${prop}.url`, w.url, 'give an http:// or https:// URL');
    return compact({
      name: w.name,
      type: w.type ?? FlaggerWebhookType.ROLLOUT,
      url: w.url,
      timeout: w.timeout && controllerDuration(this, `${prop}.timeout`, w.timeout, 'ms'),
      retries: w.retries === undefined ? undefined : requireInteger(this, `${prop}.retries`, w.retries, 0),
      metadata: w.metadata && Object.keys(w.metadata).length ? { ...w.metadata } : undefined,
      muteAlert: w.muteAlert,
    });
  }
}

/** The fields of Istio's traffic policy that Flagger's Canary carries (`true`: the whole subtree). */
const FLAGGER_TRAFFIC_POLICY: Allowed = {
  connectionPool: { http: true },
  // Flagger decodes consistentHash into a struct of these fields only (a query parameter hash would become `{}`).
  loadBalancer: {
    simple: true,
    consistentHash: { httpHeaderName: true, httpCookie: true, useSourceIp: true, minimumRingSize: true },
    localityLbSetting: true,
  },
  outlierDetection: true,
  tls: { mode: true, sni: true, subjectAltNames: true },
};

interface Allowed {
  readonly [field: string]: Allowed | true;
}

/** The first field of `value` outside `allowed`, if any. */
function unsupportedField(value: any, allowed: Allowed, path: string): { path: string; value: unknown } | undefined {
  for (const [k, v] of Object.entries(value ?? {})) {
    const rule = allowed[k];
    if (rule === undefined) return { path: `${path}.${k}`, value: v };
    if (rule !== true) {
      const inner = unsupportedField(v, rule, `${path}.${k}`);
      if (inner) return inner;
    }
  }
  return undefined;
}
