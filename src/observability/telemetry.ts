import { ApiObject, Chart, Duration, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { appRegistry } from '../_app-registry';
import { istioDuration } from '../_duration';
import { configError } from '../_errors';
import { objectProps } from '../_object-props';
import { compact } from '../_render';
import { isDnsSubdomain, requireDnsLabel, requirePercent } from '../_validate';
import { requireCelExpression } from './_cel';
import * as telemetry from '../imports/istio-telemetry';
import { Mesh, requireIstio } from '../mesh/mesh';
import { WorkloadSelector } from '../mesh/workload-selector';

/**
 * The direction of traffic, relative to the proxied workload, that a tracing, logging or metrics rule applies to.
 * @see https://istio.io/latest/docs/reference/config/telemetry/#WorkloadMode
 */
export enum WorkloadMode {
  /** Both outbound (the workload calls) and inbound (the workload is called) traffic. */
  CLIENT_AND_SERVER = 'CLIENT_AND_SERVER',
  /** Outbound traffic: the workload is the source. */
  CLIENT = 'CLIENT',
  /** Inbound traffic: the workload is the destination. */
  SERVER = 'SERVER',
}

/**
 * A telemetry provider: one of the `extensionProviders` of the mesh configuration, or a built-in one.
 * @see https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#MeshConfig-ExtensionProvider
 */
export class TelemetryProvider {
  /** The built-in access log provider: Envoy's log on the proxy's stdout. */
  public static readonly ENVOY = new TelemetryProvider('envoy');
  /** The built-in metrics provider: Prometheus metrics scraped from the proxy. */
  public static readonly PROMETHEUS = new TelemetryProvider('prometheus');

  /**
   * A provider by the name it has in the mesh configuration's `extensionProviders` (`otel`, `zipkin`, ...).
   * Istio ignores a rule naming a provider the mesh configuration does not define.
   */
  public static of(name: string): TelemetryProvider {
    return new TelemetryProvider(name);
  }

  private constructor(
    /** The provider's name. */
    public readonly name: string,
  ) {}

  /** @internal */
  public _render(scope: IConstruct, prop: string): { name: string } {
    if (!/^\S+$/.test(this.name)) {
      throw configError(scope, prop, this.name, 'name a provider of meshConfig.extensionProviders, or use TelemetryProvider.ENVOY or PROMETHEUS');
    }
    return { name: this.name };
  }
}

/**
 * Where a Telemetry applies: the whole mesh, a namespace, some workloads, or a Gateway API gateway (waypoints
 * included).
 *
 * Istio applies the most specific: workload, then namespace, then mesh. At most one mesh-wide and one
 * namespace-wide Telemetry may exist per namespace, and one per workload; more are refused at synth.
 * @see https://istio.io/latest/docs/reference/config/telemetry/
 */
export class TelemetryScope {
  /** Every workload of the mesh: the Telemetry goes to the Mesh's root namespace, without a selector. */
  public static mesh(): TelemetryScope {
    return new TelemetryScope('mesh');
  }

  /**
   * Every workload of a namespace.
   * @param namespace the namespace
   * @default - the chart's namespace, else `default`
   */
  public static namespace(namespace?: string): TelemetryScope {
    return new TelemetryScope('namespace', namespace);
  }

  /** The pods a selector picks, in the selector's namespace. Waypoint proxies ignore selectors: use `gateway()`. */
  public static workload(selector: WorkloadSelector): TelemetryScope {
    return new TelemetryScope('workload', selector.namespace, selector);
  }

  /**
   * A Gateway API Gateway, such as an ambient waypoint, through `targetRefs`; the Telemetry goes to its namespace.
   * @param name the Gateway's name
   * @param namespace the Gateway's namespace
   * @default - the chart's namespace, else `default`
   */
  public static gateway(name: string, namespace?: string): TelemetryScope {
    return new TelemetryScope('gateway', namespace, undefined, name);
  }

  private constructor(
    /** `mesh`, `namespace`, `workload` or `gateway`. */
    public readonly kind: string,
    private readonly _namespace?: string,
    private readonly _selector?: WorkloadSelector,
    private readonly _gateway?: string,
  ) {}

  /** @internal The namespace the Telemetry is emitted in. */
  public _namespaceFor(scope: IConstruct): string {
    if (this.kind === 'mesh') return Mesh.of(scope).rootNamespace;
    return requireDnsLabel(scope, 'scope.namespace', this._namespace ?? Chart.of(scope).namespace ?? 'default');
  }

  /** @internal The spec fields that select the workloads. */
  public _renderTarget(scope: IConstruct): any {
    if (this._selector) return { selector: { matchLabels: this._selector.labels } };
    if (this._gateway !== undefined) {
      if (!isDnsSubdomain(this._gateway)) throw configError(scope, 'scope.gateway', this._gateway, 'name a Gateway API Gateway in the Telemetry\'s namespace');
      requireIstio(scope, 'scope.gateway', 22, 'targetRefs');
      return { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: this._gateway }] };
    }
    return {};
  }

  /** @internal The labels of a workload scope ({} for the others). */
  public _selectorLabels(): { [key: string]: string } {
    return this._selector?.labels ?? {};
  }

  /** @internal What must be unique among the Telemetries of an app (rendered late: selector labels may change). */
  public _key(scope: IConstruct): string {
    const namespace = this._namespaceFor(scope);
    if (this._selector) return `${namespace} workload ${JSON.stringify(Object.entries(this._selector.labels).sort())}`;
    if (this._gateway !== undefined) return `${namespace} gateway ${this._gateway}`;
    return `${namespace} namespace-wide`;
  }
}

/**
 * A tag added to every trace span.
 * @see https://istio.io/latest/docs/reference/config/telemetry/#Tracing-CustomTag
 */
export class CustomTag {
  /** The same fixed value on every span. */
  public static literal(value: string): CustomTag {
    return new CustomTag('literal', { value });
  }

  /**
   * The value of an environment variable of the proxy.
   * @param name the variable
   * @param defaultValue the value when the variable is unset
   * @default - no default: the tag is left out when the variable is unset
   */
  public static environment(name: string, defaultValue?: string): CustomTag {
    return new CustomTag('environment', { name, defaultValue });
  }

  /**
   * The value of a request header.
   * @param name the header
   * @param defaultValue the value when the request has no such header
   * @default - no default: the tag is left out when the header is missing
   */
  public static header(name: string, defaultValue?: string): CustomTag {
    return new CustomTag('header', { name: name.toLowerCase(), defaultValue });
  }

  private constructor(
    /** `literal`, `environment` or `header`. */
    public readonly kind: string,
    private readonly fields: { value?: string; name?: string; defaultValue?: string },
  ) {}

  /** @internal */
  public _render(scope: IConstruct, prop: string): any {
    if (this.kind === 'literal') {
      if (!this.fields.value) throw configError(scope, prop, this.fields.value, 'give the literal tag a non-empty value');
      return { literal: { value: this.fields.value } };
    }
    const pattern = this.kind === 'header' ? /^[!#$%&'*+\-.^_`|~0-9a-z]+$/ : /^[A-Za-z_][A-Za-z0-9_]*$/;
    if (!pattern.test(this.fields.name ?? '')) {
      const what = this.kind === 'header' ? 'an HTTP header name' : 'an environment variable name such as POD_NAME';
      throw configError(scope, `${prop}.name`, this.fields.name, `use ${what}`);
    }
    return { [this.kind]: compact({ name: this.fields.name, defaultValue: this.fields.defaultValue }) };
  }
}

/**
 * A standard Istio metric, all of them, or a custom metric by name.
 * @see https://istio.io/latest/docs/reference/config/metrics/#metrics
 */
export class IstioMetric {
  /** Every standard Istio metric. */
  public static readonly ALL_METRICS = new IstioMetric('ALL_METRICS', false);
  /** Requests (`istio_requests_total`). */
  public static readonly REQUEST_COUNT = new IstioMetric('REQUEST_COUNT', false);
  /** Request durations (`istio_request_duration_milliseconds`). */
  public static readonly REQUEST_DURATION = new IstioMetric('REQUEST_DURATION', false);
  /** Request body sizes (`istio_request_bytes`). */
  public static readonly REQUEST_SIZE = new IstioMetric('REQUEST_SIZE', false);
  /** Response body sizes (`istio_response_bytes`). */
  public static readonly RESPONSE_SIZE = new IstioMetric('RESPONSE_SIZE', false);
  /** TCP connections opened (`istio_tcp_connections_opened_total`). */
  public static readonly TCP_OPENED_CONNECTIONS = new IstioMetric('TCP_OPENED_CONNECTIONS', false);
  /** TCP connections closed (`istio_tcp_connections_closed_total`). */
  public static readonly TCP_CLOSED_CONNECTIONS = new IstioMetric('TCP_CLOSED_CONNECTIONS', false);
  /** Bytes sent on TCP connections (`istio_tcp_sent_bytes_total`). */
  public static readonly TCP_SENT_BYTES = new IstioMetric('TCP_SENT_BYTES', false);
  /** Bytes received on TCP connections (`istio_tcp_received_bytes_total`). */
  public static readonly TCP_RECEIVED_BYTES = new IstioMetric('TCP_RECEIVED_BYTES', false);
  /** gRPC messages sent by clients (`istio_request_messages_total`). */
  public static readonly GRPC_REQUEST_MESSAGES = new IstioMetric('GRPC_REQUEST_MESSAGES', false);
  /** gRPC messages sent by servers (`istio_response_messages_total`). */
  public static readonly GRPC_RESPONSE_MESSAGES = new IstioMetric('GRPC_RESPONSE_MESSAGES', false);

  /** A metric outside the standard set, by the name the provider knows it under; Istio does not check it. */
  public static custom(name: string): IstioMetric {
    return new IstioMetric(name, true);
  }

  private constructor(
    /** The metric's name. */
    public readonly name: string,
    /** Whether this is a custom metric (`customMetric`) rather than a standard one (`metric`). */
    public readonly isCustom: boolean,
  ) {}

  /** @internal */
  public _render(scope: IConstruct, prop: string): any {
    if (this.isCustom && !/^\S+$/.test(this.name)) {
      throw configError(scope, prop, this.name, 'name the custom metric without whitespace, or use a standard IstioMetric');
    }
    return this.isCustom ? { customMetric: this.name } : { metric: this.name };
  }
}

/**
 * What to do with one tag (label) of a metric.
 * @see https://istio.io/latest/docs/reference/config/telemetry/#MetricsOverrides-TagOverride
 */
export class TagOverride {
  /**
   * Adds the tag, or replaces its value, with a CEL expression over request attributes, such as `request.host`
   * or `string(destination.port)`.
   * @see https://istio.io/latest/docs/tasks/observability/metrics/customize-metrics/#use-expressions-for-values
   */
  public static upsert(expression: string): TagOverride {
    return new TagOverride('UPSERT', expression);
  }

  /** Leaves the tag out of the metric, to cut cardinality. */
  public static remove(): TagOverride {
    return new TagOverride('REMOVE', undefined);
  }

  private constructor(
    /** `UPSERT` or `REMOVE`. */
    public readonly operation: string,
    /** The CEL expression of an upsert. */
    public readonly value?: string,
  ) {}

  /** @internal */
  public _render(scope: IConstruct, prop: string): any {
    if (this.operation === 'REMOVE') return { operation: 'REMOVE' };
    return { operation: 'UPSERT', value: requireCelExpression(scope, `${prop}.value`, this.value ?? '') };
  }
}

/**
 * Requests worth an access log line: a CEL expression over request attributes.
 * @see https://istio.io/latest/docs/reference/config/telemetry/#AccessLogging-Filter
 */
export class AccessLogFilter {
  /**
   * Requests for which a CEL expression holds, such as `response.code >= 400` or
   * `connection.mtls && request.url_path.contains('admin')`.
   * @see https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/advanced/attributes
   */
  public static expression(expression: string): AccessLogFilter {
    return new AccessLogFilter(expression);
  }

  /**
   * Requests answered with a status code of at least `code`: `AccessLogFilter.responseCodeAtLeast(400)` logs errors
   * only.
   */
  public static responseCodeAtLeast(code: number): AccessLogFilter {
    return new AccessLogFilter(`response.code >= ${code}`, code);
  }

  private constructor(
    /** The CEL expression. */
    public readonly cel: string,
    private readonly code?: number,
  ) {}

  /** @internal */
  public _render(scope: IConstruct, prop: string): any {
    if (this.code !== undefined && !(Number.isInteger(this.code) && this.code >= 100 && this.code <= 599)) {
      throw configError(scope, prop, this.code, 'use an HTTP status code from 100 to 599');
    }
    return { expression: requireCelExpression(scope, prop, this.cel) };
  }
}

/**
 * How traces are sampled and reported.
 * @see https://istio.io/latest/docs/reference/config/telemetry/#Tracing
 */
export interface TracingOptions {
  /**
   * Where spans are reported; Istio takes a single provider per tracing rule.
   * @default - the mesh's default tracing provider
   */
  readonly provider?: TelemetryProvider;
  /**
   * Percentage of requests sampled when no upstream decision was made, 0-100 in steps of 0.01.
   * @default - inherited from the enclosing scope, else the mesh configuration's sampling rate (1% by default)
   */
  readonly randomSamplingPercentage?: number;
  /**
   * Tags added to every span; they replace, not extend, the tags of an enclosing scope.
   * @default - inherited from the enclosing scope
   */
  readonly customTags?: { [name: string]: CustomTag };
  /**
   * Report no spans; trace context is still propagated and sampled.
   * @default false
   */
  readonly disableSpanReporting?: boolean;
  /**
   * Let Envoy sample on the value of `x-request-id`; set false when the first proxy to see a request is not Envoy,
   * whose request ids Envoy cannot read.
   * @default true
   */
  readonly useRequestIdForTraceSampling?: boolean;
  /**
   * The traffic direction this rule applies to.
   * @default WorkloadMode.CLIENT_AND_SERVER
   */
  readonly mode?: WorkloadMode;
}

/**
 * Which requests are logged, and where.
 * @see https://istio.io/latest/docs/reference/config/telemetry/#AccessLogging
 */
export interface AccessLoggingOptions {
  /**
   * Where the log lines go.
   * @default - the mesh's default access log provider
   */
  readonly providers?: TelemetryProvider[];
  /**
   * Log only the requests the filter selects.
   * @default - every request
   */
  readonly filter?: AccessLogFilter;
  /**
   * Turn access logging off for these providers (`false` turns it back on below a scope that disabled it).
   * @default - on, unless an enclosing scope disabled it
   */
  readonly disabled?: boolean;
  /**
   * The traffic direction this rule applies to.
   * @default WorkloadMode.CLIENT_AND_SERVER
   */
  readonly mode?: WorkloadMode;
}

/**
 * A change to one metric, or every metric, in one traffic direction.
 * @see https://istio.io/latest/docs/reference/config/telemetry/#MetricsOverrides
 */
export interface MetricOverride {
  /**
   * The metric changed.
   * @default IstioMetric.ALL_METRICS
   */
  readonly metric?: IstioMetric;
  /**
   * The traffic direction changed.
   * @default WorkloadMode.CLIENT_AND_SERVER
   */
  readonly mode?: WorkloadMode;
  /**
   * Stop reporting the metric (`false` turns it back on below a scope that disabled it).
   * @default - reported, unless an enclosing scope disabled it
   */
  readonly disabled?: boolean;
  /**
   * Tags (labels) added, changed or removed, by tag name.
   * @default - the standard tags
   */
  readonly tagOverrides?: { [tag: string]: TagOverride };
}

/**
 * Which metrics are generated, with which tags.
 * @see https://istio.io/latest/docs/reference/config/telemetry/#Metrics
 */
export interface MetricsOptions {
  /**
   * The providers this configuration applies to.
   * @default - the mesh's default metrics provider
   */
  readonly providers?: TelemetryProvider[];
  /**
   * Changes, applied in order after those of enclosing scopes: list general ones before specific ones.
   * @default - none
   */
  readonly overrides?: MetricOverride[];
  /**
   * How often metrics of long-lived connections are reported (TCP only, for now).
   * @default - 5s
   */
  readonly reportingInterval?: Duration;
}

/** Properties of a {@link Telemetry}. */
export interface TelemetryProps {
  /**
   * Where the configuration applies.
   * @default TelemetryScope.namespace() - the chart's namespace
   */
  readonly scope?: TelemetryScope;
  /**
   * The Telemetry's name.
   * @default - the construct id, lowercased
   */
  readonly name?: string;
  /**
   * Tracing rules.
   * @default - inherited from the enclosing scope
   */
  readonly tracing?: TracingOptions[];
  /**
   * Access logging rules.
   * @default - inherited from the enclosing scope
   */
  readonly accessLogging?: AccessLoggingOptions[];
  /**
   * Metrics rules.
   * @default - inherited from the enclosing scope
   */
  readonly metrics?: MetricsOptions[];
}

const METRIC_TAG = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TAG_NAME = /^\S+$/;

/**
 * Tracing, access logging and metrics of the mesh, a namespace, some workloads or a gateway: an Istio Telemetry.
 *
 * @example
 * new Telemetry(chart, 'MeshDefault', {
 *   scope: TelemetryScope.mesh(),
 *   tracing: [{ provider: TelemetryProvider.of('otel'), randomSamplingPercentage: 1 }],
 *   accessLogging: [{ providers: [TelemetryProvider.ENVOY], filter: AccessLogFilter.responseCodeAtLeast(400) }],
 * });
 * @see https://istio.io/latest/docs/reference/config/telemetry/
 */
export class Telemetry extends Construct {
  /** Where the configuration applies. */
  public readonly scope: TelemetryScope;
  /** The namespace the Telemetry is emitted in. */
  public readonly namespace: string;
  /** The Telemetry object. */
  public readonly resource: ApiObject;

  private readonly tracing: any[] = [];
  private readonly accessLogging: any[] = [];
  private readonly metrics: any[] = [];

  public constructor(scope: Construct, id: string, props: TelemetryProps = {}) {
    super(scope, id);
    this.scope = props.scope ?? TelemetryScope.namespace();
    this.namespace = this.scope._namespaceFor(this);
    const name = props.name ?? id.toLowerCase();
    if (!isDnsSubdomain(name)) throw configError(this, 'name', name, 'use a lowercase DNS name such as mesh-default');
    appRegistry<Telemetry>(this, 'Telemetry').set(this.node.path, this);

    for (const t of props.tracing ?? []) this.addTracing(t);
    for (const a of props.accessLogging ?? []) this.addAccessLogging(a);
    for (const m of props.metrics ?? []) this.addMetrics(m);

    this.resource = new ApiObject(this, 'Resource', objectProps(telemetry.Telemetry.GVK, {
      metadata: { name, namespace: this.namespace },
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    }));

    if (this.scope.kind !== 'workload') this.requireUnique();
    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        if (this.scope.kind === 'workload') {
          this.requireUnique();
          if (Object.keys(this.scope._selectorLabels()).length === 0) {
            errors.push(`${this.node.path}: scope selects pods by no label, which is every pod of namespace ${this.namespace}: give the workload a selector, or use TelemetryScope.namespace()`);
          }
        }
        if (this.tracing.length + this.accessLogging.length + this.metrics.length === 0) {
          errors.push(`${this.node.path}: the Telemetry configures nothing: give tracing, accessLogging or metrics, or remove it`);
        }
        return errors;
      },
    });
  }

  /** Adds a tracing rule. */
  public addTracing(options: TracingOptions): void {
    const prop = `tracing[${this.tracing.length}]`;
    const tags: { [name: string]: any } = {};
    for (const [name, tag] of Object.entries(options.customTags ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      if (!TAG_NAME.test(name)) throw configError(this, `${prop}.customTags`, name, 'name the tag without whitespace');
      tags[name] = tag._render(this, `${prop}.customTags.${name}`);
    }
    const pct = options.randomSamplingPercentage;
    if (pct !== undefined) {
      requirePercent(this, `${prop}.randomSamplingPercentage`, pct);
      if (Math.abs(Math.round(pct * 100) - pct * 100) > 1e-9) {
        throw configError(this, `${prop}.randomSamplingPercentage`, pct, 'Istio samples in steps of 0.01%: round the percentage to two decimals');
      }
    }
    this.tracing.push(compact({
      match: renderMode(options.mode),
      providers: options.provider ? [options.provider._render(this, `${prop}.provider`)] : undefined,
      randomSamplingPercentage: pct,
      disableSpanReporting: options.disableSpanReporting,
      customTags: Object.keys(tags).length ? tags : undefined,
      useRequestIdForTraceSampling: options.useRequestIdForTraceSampling,
    }) ?? {});
  }

  /** Adds an access logging rule. */
  public addAccessLogging(options: AccessLoggingOptions): void {
    const prop = `accessLogging[${this.accessLogging.length}]`;
    if (options.disabled && options.filter) {
      throw configError(this, `${prop}.filter`, options.filter.cel, 'a disabled rule logs nothing to filter: remove the filter or disabled');
    }
    this.accessLogging.push(compact({
      match: renderMode(options.mode),
      providers: renderProviders(this, `${prop}.providers`, options.providers),
      filter: options.filter?._render(this, `${prop}.filter`),
      disabled: options.disabled,
    }) ?? {});
  }

  /** Adds a metrics rule. */
  public addMetrics(options: MetricsOptions): void {
    const prop = `metrics[${this.metrics.length}]`;
    const overrides = (options.overrides ?? []).map((o, i) => this.renderOverride(`${prop}.overrides[${i}]`, o));
    this.metrics.push(compact({
      providers: renderProviders(this, `${prop}.providers`, options.providers),
      overrides: overrides.length ? overrides : undefined,
      reportingInterval: options.reportingInterval && istioDuration(this, `${prop}.reportingInterval`, options.reportingInterval),
    }) ?? {});
  }

  private renderOverride(prop: string, o: MetricOverride): any {
    const tags = Object.entries(o.tagOverrides ?? {}).sort(([a], [b]) => a.localeCompare(b));
    if (o.disabled === undefined && tags.length === 0) {
      throw configError(this, prop, o.metric?.name ?? 'ALL_METRICS', 'an override changes nothing without disabled or tagOverrides: set one');
    }
    if (o.disabled && tags.length) {
      throw configError(this, `${prop}.tagOverrides`, tags.map(([t]) => t), 'a disabled metric has no tags to change: remove tagOverrides or disabled');
    }
    const tagOverrides: { [tag: string]: any } = {};
    for (const [tag, override] of tags) {
      if (!METRIC_TAG.test(tag)) throw configError(this, `${prop}.tagOverrides`, tag, 'name the tag as a metric label: letters, digits and \'_\', not starting with a digit');
      tagOverrides[tag] = override._render(this, `${prop}.tagOverrides.${tag}`);
    }
    return compact({
      match: compact({ ...o.metric?._render(this, `${prop}.metric`), mode: o.mode }),
      disabled: o.disabled,
      tagOverrides: tags.length ? tagOverrides : undefined,
    });
  }

  private renderSpec(): any {
    return compact({
      ...this.scope._renderTarget(this),
      tracing: this.tracing.length ? this.tracing : undefined,
      accessLogging: this.accessLogging.length ? this.accessLogging : undefined,
      metrics: this.metrics.length ? this.metrics : undefined,
    }) ?? {};
  }

  private requireUnique(): void {
    const key = this.scope._key(this);
    const other = [...appRegistry<Telemetry>(this, 'Telemetry').values()].find(t => t !== this && t.scope._key(t) === key);
    if (other) {
      const what = this.scope.kind === 'mesh' ? 'the mesh' : this.scope.kind === 'workload' ? 'these workloads' : `${this.scope.kind} ${key.split(' ')[0]}`;
      throw configError(this, 'scope', key, `${other.node.path} already configures ${what}, and Istio takes only one: merge the rules into it`);
    }
  }
}

function renderMode(mode: WorkloadMode | undefined): any {
  return mode === undefined ? undefined : { mode };
}

function renderProviders(scope: IConstruct, prop: string, providers: TelemetryProvider[] | undefined): any[] | undefined {
  if (!providers?.length) return undefined;
  const names = providers.map((p, i) => p._render(scope, `${prop}[${i}]`));
  const seen = new Set<string>();
  for (const { name } of names) {
    if (seen.has(name)) throw configError(scope, prop, name, 'list each provider once');
    seen.add(name);
  }
  return names;
}
