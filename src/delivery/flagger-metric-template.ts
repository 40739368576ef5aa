import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { configError } from '../_errors';
import { objectProps } from '../_object-props';
import { compact } from '../_render';
import { requireDnsLabel } from '../_validate';
import * as flagger from '../imports/flagger';

/**
 * Where a Flagger MetricTemplate queries its metric.
 * @see https://docs.flagger.app/usage/metrics
 */
export enum FlaggerMetricProvider {
  /** Prometheus (PromQL). */
  PROMETHEUS = 'prometheus',
  /** Datadog. */
  DATADOG = 'datadog',
  /** Amazon CloudWatch (GetMetricData queries). */
  CLOUDWATCH = 'cloudwatch',
  /** New Relic (NRQL). */
  NEW_RELIC = 'newrelic',
  /** Graphite. */
  GRAPHITE = 'graphite',
  /** Google Cloud Monitoring (MQL). */
  STACKDRIVER = 'stackdriver',
  /** InfluxDB (Flux). */
  INFLUXDB = 'influxdb',
  /** Dynatrace. */
  DYNATRACE = 'dynatrace',
  /** Keptn. */
  KEPTN = 'keptn',
  /** Splunk. */
  SPLUNK = 'splunk',
  /** The Kubernetes external metrics API. */
  EXTERNAL_METRICS = 'externalmetrics',
}

/** Providers whose client Flagger builds from the template's address alone. */
const ADDRESS_REQUIRED = [FlaggerMetricProvider.PROMETHEUS, FlaggerMetricProvider.GRAPHITE, FlaggerMetricProvider.INFLUXDB];

/** Properties of a {@link FlaggerMetricTemplate}. */
export interface FlaggerMetricTemplateProps {
  /**
   * The query, returning one number. Flagger fills in `{{ namespace }}`, `{{ target }}` (the Deployment),
   * `{{ service }}`, `{{ interval }}` and `{{ variables.<name> }}` (from the metric that references the template).
   */
  readonly query: string;
  /**
   * The metric provider.
   * @default FlaggerMetricProvider.PROMETHEUS
   */
  readonly provider?: FlaggerMetricProvider;
  /**
   * The provider's API URL, such as `http://prometheus.istio-system:9090`. Prometheus, Graphite and InfluxDB need one
   * (Flagger refuses the template without it).
   * @default - the provider's default (for CloudWatch, the region's endpoint)
   */
  readonly address?: string;
  /**
   * Secret (in the template's namespace) holding the provider's credentials.
   * @default - no credentials
   */
  readonly secretName?: string;
  /**
   * The region (CloudWatch).
   * @default - none
   */
  readonly region?: string;
  /**
   * Skip verification of the provider's TLS certificate.
   * @default false
   */
  readonly insecureSkipVerify?: boolean;
  /**
   * The template's name.
   * @default - generated from the construct path
   */
  readonly name?: string;
  /**
   * The template's namespace.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
}

/**
 * A Flagger MetricTemplate: a query that a canary analysis checks against a threshold range, referenced with
 * `FlaggerMetric.fromTemplate()`.
 * @see https://docs.flagger.app/usage/metrics#custom-metrics
 */
export class FlaggerMetricTemplate extends Construct {
  /** The MetricTemplate object. */
  public readonly resource: ApiObject;
  /** The query. */
  public readonly query: string;

  public constructor(scope: Construct, id: string, props: FlaggerMetricTemplateProps) {
    super(scope, id);
    if (!props.query?.trim()) throw configError(this, 'query', props.query, 'give the query that returns the metric');
    if (props.address !== undefined && !/^https?:\/\/[^\s/]+/.test(props.address)) {
      throw configError(this, 'address', props.address, 'give the provider\'s http:// or https:// URL');
    }
    const provider = props.provider ?? FlaggerMetricProvider.PROMETHEUS;
    if (props.address === undefined && ADDRESS_REQUIRED.includes(provider)) {
      throw configError(this, 'address', undefined, `give the ${provider} API's URL (such as http://prometheus.istio-system:9090): Flagger has no default for it`);
    }
    this.query = props.query;
    this.resource = new ApiObject(this, 'Resource', objectProps(flagger.MetricTemplate.GVK, {
      metadata: compact({
        name: props.name === undefined ? undefined : requireDnsLabel(this, 'name', props.name),
        namespace: props.namespace === undefined ? undefined : requireDnsLabel(this, 'namespace', props.namespace),
      }) ?? {},
      spec: {
        provider: compact({
          type: provider,
          address: props.address,
          secretRef: props.secretName === undefined ? undefined : { name: requireDnsLabel(this, 'secretName', props.secretName) },
          region: props.region,
          insecureSkipVerify: props.insecureSkipVerify,
        }),
        query: props.query,
      },
    }));
  }

  /** The template's name. */
  public get name(): string {
    return this.resource.name;
  }

  /** The template's namespace. */
  public get namespace(): string | undefined {
    return this.resource.metadata.namespace;
  }

  /** The names of the variables the query uses (`{{ variables.<name> }}`), which every metric must give. */
  public get variables(): string[] {
    return [...new Set([...this.query.matchAll(/\{\{\s*variables\.([A-Za-z0-9_]+)\s*\}\}/g)].map(m => m[1]))];
  }
}
