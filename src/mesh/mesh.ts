import { ApiObject, JsonPatch } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { configError } from '../_errors';
import { requireDnsLabel } from '../_validate';
import { GatewayWorkload } from './gateway-workload';

/** The Gateway API objects are emitted at v1, which Istio reads from 1.20 (Gateway API v1.0). */
const GATEWAY_API_V1_ISTIO_MINOR = 20;

/**
 * How workloads join the mesh.
 * @see https://istio.io/latest/docs/ambient/overview/
 */
export enum DataplaneMode {
  /** An Envoy sidecar injected into every pod. */
  SIDECAR = 'sidecar',
  /** Ambient mode: ztunnel for L4, waypoint proxies for L7. */
  AMBIENT = 'ambient',
}

/**
 * Which traffic API routes and gateways are rendered with.
 * @see https://istio.io/latest/docs/tasks/traffic-management/ingress/gateway-api/
 */
export enum TrafficApi {
  /** Istio's own Gateway, VirtualService and DestinationRule. */
  ISTIO = 'istio',
  /** Kubernetes Gateway API: Gateway, HTTPRoute, GRPCRoute. */
  GATEWAY_API = 'gateway-api',
}

/**
 * Which Gateway API release channel the cluster has installed.
 * @see https://gateway-api.sigs.k8s.io/concepts/versioning/#release-channels
 */
export enum GatewayApiChannel {
  /** Standard: GA and beta fields only. */
  STANDARD = 'standard',
  /** Experimental: also fields such as HTTPRoute `retry` and `sessionPersistence`. */
  EXPERIMENTAL = 'experimental',
}

/** Properties of a {@link Mesh}. */
export interface MeshProps {
  /**
   * The trust domain of workload identities (`<trust-domain>/ns/<ns>/sa/<sa>`).
   * @default 'cluster.local'
   */
  readonly trustDomain?: string;
  /**
   * The cluster's DNS domain, used in service FQDNs (`name.ns.svc.<domain>`).
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * Istio's root namespace, where mesh-wide policy lives.
   * @default 'istio-system'
   */
  readonly rootNamespace?: string;
  /**
   * Control-plane revision to enrol namespaces in (`istio.io/rev`) instead of `istio-injection=enabled`.
   * @default - the default revision, through `istio-injection=enabled`
   */
  readonly revision?: string;
  /**
   * How workloads join the mesh.
   * @default DataplaneMode.SIDECAR
   */
  readonly dataplaneMode?: DataplaneMode;
  /**
   * The ingress gateway deployment that Gateways bind to.
   * @default GatewayWorkload.defaultIngress()
   */
  readonly ingressGateway?: GatewayWorkload;
  /**
   * The egress gateway deployment that egress traffic is routed through.
   * @default GatewayWorkload.defaultEgress()
   */
  readonly egressGateway?: GatewayWorkload;
  /**
   * Which traffic API routes are rendered with; constructs may override it.
   * @default TrafficApi.ISTIO
   */
  readonly trafficApi?: TrafficApi;
  /**
   * The Istio version of the cluster, `major.minor`. Istio APIs are emitted as `v1` from 1.22 on, as `v1beta1`
   * before it.
   * @default '1.30'
   */
  readonly istioVersion?: string;
  /**
   * The Gateway API channel installed; Experimental fields are refused on Standard.
   * @default GatewayApiChannel.STANDARD
   */
  readonly gatewayApiChannel?: GatewayApiChannel;
}

const MESH = Symbol.for('cdk8s-istio.Mesh');

/**
 * Mesh-wide settings, visible to every construct below the scope it is defined in.
 *
 * Define one in the App (or a Chart) before the patterns; a scope with none in its ancestry gets Istio's defaults.
 *
 * @example
 * new Mesh(app, 'Mesh', { trustDomain: 'prod.example.com', revision: '1-30' });
 */
export class Mesh extends Construct {
  /**
   * The settings in force for `scope`: the nearest Mesh defined on it or an ancestor, otherwise the defaults.
   */
  public static of(scope: IConstruct): Mesh {
    for (let s: IConstruct | undefined = scope; s; s = s.node.scope) {
      const found = (s as any)[MESH] as Mesh | undefined;
      if (found) return found;
    }
    // No Mesh declared: one with Istio's defaults, attached to the root so every later lookup finds the same one.
    return new Mesh(scope.node.root as Construct, 'IstioMesh');
  }

  /** The trust domain of workload identities. */
  public readonly trustDomain: string;
  /** The cluster's DNS domain. */
  public readonly clusterDomain: string;
  /** Istio's root namespace. */
  public readonly rootNamespace: string;
  /** The control-plane revision, if any. */
  public readonly revision?: string;
  /** How workloads join the mesh. */
  public readonly dataplaneMode: DataplaneMode;
  /** The ingress gateway deployment. */
  public readonly ingressGateway: GatewayWorkload;
  /** @internal Whether the ingress gateway was given, rather than the default installation's assumed. */
  public readonly _ingressGatewayGiven: boolean;
  /** The egress gateway deployment. */
  public readonly egressGateway: GatewayWorkload;
  /** The default traffic API. */
  public readonly trafficApi: TrafficApi;
  /** The Istio version, `major.minor`. */
  public readonly istioVersion: string;
  /** @internal The minor version, which the version-dependent features are gated on. */
  public readonly _istioMinor: number;
  /** The Gateway API channel installed. */
  public readonly gatewayApiChannel: GatewayApiChannel;

  public constructor(scope: Construct, id: string, props: MeshProps = {}) {
    super(scope, id);
    if ((scope as any)[MESH]) {
      throw configError(this, 'scope', scope.node.path, 'define at most one Mesh per scope');
    }
    this.trustDomain = props.trustDomain ?? 'cluster.local';
    if (!/^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$/.test(this.trustDomain)) {
      throw configError(this, 'trustDomain', this.trustDomain, 'use a domain name such as cluster.local');
    }
    this.clusterDomain = props.clusterDomain ?? 'cluster.local';
    this.rootNamespace = requireDnsLabel(this, 'rootNamespace', props.rootNamespace ?? 'istio-system');
    this.revision = props.revision === undefined ? undefined : requireDnsLabel(this, 'revision', props.revision);
    this.dataplaneMode = props.dataplaneMode ?? DataplaneMode.SIDECAR;
    this.ingressGateway = props.ingressGateway ?? GatewayWorkload.defaultIngress();
    this._ingressGatewayGiven = props.ingressGateway !== undefined;
    this.egressGateway = props.egressGateway ?? GatewayWorkload.defaultEgress();
    this.trafficApi = props.trafficApi ?? TrafficApi.ISTIO;
    this.istioVersion = props.istioVersion ?? '1.30';
    const version = /^1\.(\d+)$/.exec(this.istioVersion);
    if (!version || Number(version[1]) < 18) {
      throw configError(this, 'istioVersion', this.istioVersion, 'use a supported Istio version as major.minor, 1.18 or later');
    }
    this._istioMinor = Number(version[1]);
    this.gatewayApiChannel = props.gatewayApiChannel ?? GatewayApiChannel.STANDARD;
    if (this.dataplaneMode === DataplaneMode.AMBIENT && this._istioMinor < 22) {
      // Ambient before 1.22 had another waypoint model (no istio.io/use-waypoint, no policy targetRefs).
      throw configError(this, 'dataplaneMode', this.istioVersion, 'ambient mode as this library builds it (waypoints, targetRefs) needs Istio 1.22 or later: upgrade, or use sidecars');
    }
    if (this.trafficApi === TrafficApi.GATEWAY_API) requireGatewayApi(this, 'trafficApi', this);
    Object.defineProperty(scope, MESH, { value: this, enumerable: false });
    if (this.istioApiVersion('networking.istio.io/v1') !== 'networking.istio.io/v1') {
      // Older meshes: every Istio object under this scope is emitted at the version they serve.
      const patched = new WeakSet<ApiObject>();
      this.node.addValidation({
        validate: () => {
          for (const c of scope.node.findAll()) {
            if (!(c instanceof ApiObject) || patched.has(c)) continue;
            const downgraded = this.istioApiVersion(c.apiVersion);
            if (downgraded !== c.apiVersion) c.addJsonPatch(JsonPatch.replace('/apiVersion', downgraded));
            patched.add(c);
          }
          return [];
        },
      });
    }
  }

  /**
   * The apiVersion to emit for an Istio kind whose current version is `v1` (networking, security, telemetry):
   * `v1` from Istio 1.22, `v1beta1` (networking, security) or `v1alpha1` (telemetry) before.
   * @param apiVersion the `group/v1` apiVersion
   */
  public istioApiVersion(apiVersion: string): string {
    const [group, version] = apiVersion.split('/');
    if (version !== 'v1' || !group.endsWith('.istio.io') || this._istioMinor >= 22) return apiVersion;
    return `${group}/${group.startsWith('telemetry.') ? 'v1alpha1' : 'v1beta1'}`;
  }
}

/**
 * @internal The control-plane revision label of a Gateway Istio deploys (a waypoint, a Gateway API gateway): only that
 * revision's istiod provisions it; without the label, only the default revision's does.
 */
export function revisionLabel(scope: IConstruct): { [key: string]: string } {
  const revision = Mesh.of(scope).revision;
  return revision ? { 'istio.io/rev': revision } : {};
}

/**
 * @internal Throws unless the Mesh's Istio version reads the Gateway API objects this library emits.
 * @param mesh the scope's Mesh (given by the Mesh itself, which `Mesh.of` does not find yet)
 */
export function requireGatewayApi(scope: IConstruct, prop: string, mesh: Mesh = Mesh.of(scope)): void {
  if (mesh._istioMinor < GATEWAY_API_V1_ISTIO_MINOR) {
    throw configError(scope, prop, mesh.istioVersion, 'the Gateway API at v1 (Gateway, HTTPRoute) needs Istio 1.20 or later: upgrade, or use TrafficApi.ISTIO');
  }
}

/**
 * @internal Throws unless the Mesh's Istio version has `feature` (from 1.`minor`): what an older Istio lacks is refused at
 * synth, never emitted for it to refuse or ignore.
 */
export function requireIstio(scope: IConstruct, prop: string, minor: number, feature: string): void {
  const mesh = Mesh.of(scope);
  if (mesh._istioMinor < minor) {
    throw configError(scope, prop, mesh.istioVersion, `${feature} needs Istio 1.${minor} or later: upgrade (Mesh istioVersion), or do without it`);
  }
}
