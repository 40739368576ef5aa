import { ApiObject, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { configError } from '../_errors';
import { requireDnsLabel, requireInteger, requirePercent, requireUnique, requireWholePercent } from '../_validate';
import { HostRouting, RouteDestination, RoutePriority } from './host-routing';
import { LoadBalancer } from './load-balancer';
import { RequestMatch } from './request-match';
import { RetryPolicy } from './retry-policy';
import { objectProps } from '../_object-props';
import { Waypoint } from '../ambient/waypoint';
import type { ReleasePhases } from '../delivery/release-phases';
import { IngressGateway, IngressTls, PASSTHROUGH_HAS_NO_HTTP } from '../ingress/ingress-gateway';
import { namespaceDataplane } from '../mesh/_namespace-dataplane';
import { serviceObject } from '../mesh/_service-object';
import { Host } from '../mesh/host';
import { DataplaneMode, TrafficApi } from '../mesh/mesh';
import { ServiceIdentity, namespaceOf } from '../mesh/service-identity';
import { ServicePort } from '../mesh/service-port';
import { WorkloadSelector } from '../mesh/workload-selector';

/** One version of a {@link CanaryService}. */
export interface CanaryVersion {
  /** The version's name, a DNS label such as `v1`; it becomes the pods' `version` label and the subset name. */
  readonly name: string;
  /**
   * Container image of this version.
   * @default - required unless `workload` is given
   */
  readonly image?: string;
  /**
   * An existing workload for this version instead of one created here; it gets the `app` and `version` pod labels.
   * @default - a Deployment is created from `image`
   */
  readonly workload?: kplus.Deployment;
  /**
   * Replicas of the created Deployment.
   * @default 2
   */
  readonly replicas?: number;
  /**
   * Resource requests and limits of the created container.
   * @default - the service's `resources`
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * Environment variables of the created container.
   * @default - none
   */
  readonly env?: { [name: string]: string };
}

/** Requests that go to one version ahead of the weighted split (A/B routing). */
export interface CanaryMatchRoute {
  /** The version that takes these requests. */
  readonly version: string;
  /** Matching requests; several are OR-ed, the conditions inside one RequestMatch are AND-ed. */
  readonly matches: RequestMatch[];
  /**
   * The route's name.
   * @default `to-<version>`
   */
  readonly name?: string;
}

/** A copy of live traffic sent to a version whose responses are discarded (shadow release). */
export interface CanaryMirror {
  /** The version receiving the copies; it must take no live traffic. */
  readonly version: string;
  /**
   * Percentage of requests copied.
   * @default 100
   */
  readonly percentage?: number;
}

/**
 * How a caller stays on one version.
 */
export class StickySession {
  /**
   * Pins a caller to the version that first answered it, with a cookie set on the response and matched on later
   * requests; within the version, a second cookie Envoy sets (`<name>-pod`) pins it to one pod. (Envoy hashes a
   * cookie's value, and every caller of a version has the same version cookie: hashing it would send them all to one
   * pod.)
   * @param name the cookie's name
   * @param ttl how long the pin lasts
   */
  public static cookie(name: string, ttl: Duration): StickySession {
    return new StickySession(name, ttl, LoadBalancer.consistentHashByCookie(`${name}-pod`, { ttl, path: '/' }));
  }
  /**
   * Consistent hash on a header: the same value reaches the same pod. Istio picks the version per request before
   * hashing, so this keeps a caller on one pod of a version but not on one version while weights split traffic.
   */
  public static header(name: string): StickySession {
    return new StickySession(undefined, undefined, LoadBalancer.consistentHashByHeader(name));
  }
  /** Consistent hash on the caller's IP; like `header`, it pins a pod within the version chosen per request. */
  public static sourceIp(): StickySession {
    return new StickySession(undefined, undefined, LoadBalancer.consistentHashBySourceIp());
  }

  private constructor(
    /** @internal */ public readonly _cookie: string | undefined,
    /** @internal */ public readonly _ttl: Duration | undefined,
    /** @internal */ public readonly _loadBalancer: LoadBalancer,
  ) {}
}

/** Exposure of the service through the ingress gateway. */
export interface CanaryIngress {
  /** Public hosts, such as `shop.example.com`. */
  readonly hosts: string[];
  /**
   * TLS at the gateway.
   * @default - plain HTTP
   */
  readonly tls?: IngressTls;
  /**
   * An existing gateway to add the hosts to.
   * @default - a Gateway is created for this service
   */
  readonly gateway?: IngressGateway;
}

/** Properties of a {@link CanaryService}. */
export interface CanaryServiceProps {
  /** The versions, in release order; the first takes all traffic unless `weights` says otherwise. */
  readonly versions: CanaryVersion[];
  /**
   * The service's name (Service, ServiceAccount, host).
   * @default - the construct id, lowercased
   */
  readonly name?: string;
  /**
   * The namespace of every object of the service.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * The Service's ports, named for Istio's protocol selection.
   * @default [ServicePort.http(8080)]
   */
  readonly ports?: ServicePort[];
  /**
   * Traffic share per version name, 0-100, summing to 100. Blue/green is a switch from `{v1: 100, v2: 0}` to
   * `{v1: 0, v2: 100}`.
   * @default - 100 to the first version
   */
  readonly weights?: { [version: string]: number };
  /**
   * Release phases (for example 5 → 25 → 50 → 100), of which the pipeline selects one at synth: the selected
   * phase sets the weights, and its matches and mirroring; every phase synthesizes static manifests.
   * Mutually exclusive with `weights`.
   * @default - no phases: `weights` applies
   */
  readonly phases?: ReleasePhases;
  /**
   * Requests sent to a given version ahead of the weighted split (header, cookie, query, path, method matches).
   * @default - none
   */
  readonly matchRoutes?: CanaryMatchRoute[];
  /**
   * Shadow traffic to a version.
   * @default - no mirroring
   */
  readonly mirror?: CanaryMirror;
  /**
   * Session stickiness.
   * @default - none
   */
  readonly stickySession?: StickySession;
  /**
   * Overall timeout of a request.
   * @default - the host's request policy (see ResilientUpstream), else none
   */
  readonly timeout?: Duration;
  /**
   * Retries of the service's routes.
   * @default - the host's request policy (see ResilientUpstream), else Istio's default
   */
  readonly retries?: RetryPolicy;
  /**
   * Exposure through the ingress gateway; the VirtualService is bound to the gateway and to `mesh`.
   * @default - in-mesh only
   */
  readonly ingress?: CanaryIngress;
  /**
   * The traffic API the routes are rendered with. With the Gateway API, each version also gets its own Service
   * (`<name>-<version>`), which the HTTPRoute's weighted backends point at.
   * @default - the Mesh's traffic API
   */
  readonly trafficApi?: TrafficApi;
  /**
   * Ambient mode: the waypoint that applies the routes (ztunnel alone enforces L4 only, so weights and matches
   * would be silently ignored without one).
   * @default - in ambient mode, the namespace's shared waypoint (`Waypoint.forNamespace`); none with sidecars
   */
  readonly waypoint?: Waypoint;
  /**
   * Container resources of every created Deployment.
   * @default - required: each version or the service must set them unless `requireResources` is false
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * Refuse created Deployments without explicit resource requests and limits.
   * @default true
   */
  readonly requireResources?: boolean;
}

/**
 * Versions of one service released side by side, with weighted, matched and mirrored traffic between them.
 *
 * Synthesizes a ServiceAccount, a Service with protocol-named ports, a Deployment per version (labels `app` and
 * `version`), and — through the host's {@link HostRouting} — a DestinationRule with a subset per version and a
 * VirtualService routing to them, the DestinationRule ordered first.
 *
 * @example
 * new CanaryService(chart, 'Reviews', {
 *   versions: [{ name: 'v1', image: 'reviews:1' }, { name: 'v2', image: 'reviews:2' }],
 *   weights: { v1: 90, v2: 10 },
 *   resources: { cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) } },
 * });
 */
export class CanaryService extends Construct {
  /** The service's name. */
  public readonly name: string;
  /** The Service selecting every version. */
  public readonly service: ApiObject;
  /** The ServiceAccount every version runs as. */
  public readonly serviceAccount: ApiObject;
  /** The workload of each version, by version name: a Deployment created here, or the one given. */
  public readonly workloads: { [version: string]: ApiObject };
  /** The host's routing (VirtualService and DestinationRule). */
  public readonly routing: HostRouting;
  /** The in-cluster host. */
  public readonly host: Host;
  /** The gateway, when exposed through ingress. */
  public readonly ingressGateway?: IngressGateway;
  /** With the Gateway API, the Service of each version, by version name. */
  public readonly versionServices: { [version: string]: ApiObject };
  /** The namespace every object of the service lives in. */
  public readonly namespace: string;
  /** Ambient mode: the waypoint the service's traffic goes through. */
  public readonly waypoint?: Waypoint;

  public constructor(scope: Construct, id: string, props: CanaryServiceProps) {
    super(scope, id);
    // The selected release phase becomes plain weights, matches and mirroring.
    if (props.phases) props = props.phases._applyTo(this, props);
    this.name = requireDnsLabel(this, 'name', props.name ?? id.toLowerCase());
    const ports = props.ports ?? [ServicePort.http(8080)];
    const versions = props.versions ?? [];
    const weights = this.validateInput(props, versions, ports);

    // Everything is checked: build. Kubernetes objects are built in their wire form, with the GVKs of cdk8s-plus'
    // low-level k8s bindings (see versionWorkload): the high-level constructs would double the synthesis cost of
    // every service (see the benchmark).
    this.namespace = props.namespace === undefined ? namespaceOf(this) : requireDnsLabel(this, 'namespace', props.namespace);
    const namespace = props.namespace;
    // The namespace's mode (a ZeroTrustNamespace may enroll it in another than the Mesh's): ambient needs a waypoint.
    const ambient = namespaceDataplane(this, this.namespace) === DataplaneMode.AMBIENT;
    if (!ambient && props.waypoint) {
      throw configError(this, 'waypoint', props.waypoint.node.path, `waypoints serve ambient mode, and namespace '${this.namespace}' runs sidecars: drop waypoint`);
    }
    // The binding's props type checks the fields; a ServiceAccount's typed form is its wire form.
    const serviceAccount: kplus.k8s.KubeServiceAccountProps = {
      metadata: { name: this.name, namespace },
      // Istio's sidecar has its own token; the application gets none unless it asks.
      automountServiceAccountToken: false,
    };
    this.serviceAccount = new ApiObject(this, 'ServiceAccount', objectProps(kplus.k8s.KubeServiceAccount.GVK, serviceAccount));
    this.service = serviceObject(this, 'Service', this.name, this.namespace, { app: this.name }, ports);

    this.workloads = {};
    for (const v of versions) this.workloads[v.name] = this.versionWorkload(v, ports, props);

    this.host = Host.service(this, this.name, this.namespace);
    if (ambient) {
      this.waypoint = props.waypoint ?? Waypoint.forNamespace(this, this.namespace);
      this.waypoint.use(this.service);
    }
    this.routing = HostRouting.of(this, this.host);
    this.routing._addRouteBackends(...Object.values(this.workloads));
    if (props.trafficApi) this.routing.useTrafficApi(this, props.trafficApi);
    this.routing.setPorts(this, ports);
    this.versionServices = {};
    for (const v of versions) {
      this.routing.addSubset(this, v.name, { version: v.name });
      if (this.routing.api === TrafficApi.GATEWAY_API) {
        const svc = serviceObject(this, `Service-${v.name}`, `${this.name}-${v.name}`, this.namespace, { app: this.name, version: v.name }, ports);
        this.versionServices[v.name] = svc;
        this.waypoint?.use(svc);
        this.routing.setSubsetBackend(v.name, svc.name);
        this.routing.addRouteDependency(svc);
      }
    }
    if (props.stickySession) this.routing.addTrafficPolicy(this, { loadBalancer: props.stickySession._loadBalancer });

    const sticky = props.stickySession?._cookie ? props.stickySession : undefined;
    for (const r of props.matchRoutes ?? []) {
      this.routing.addRoute(this, {
        name: r.name ?? `to-${r.version}`,
        matches: r.matches,
        destinations: [{ subset: r.version, weight: 100 }],
        timeout: props.timeout,
        retries: props.retries,
      }, RoutePriority.MATCHED);
    }
    if (sticky) {
      // A caller already pinned by the cookie goes back to its version, while the version has a weight: a version taken
      // out of the split (a rollback, blue/green) gets no pinned callers either, and the split re-pins them.
      for (const v of versions.filter(x => weights[x.name] > 0)) {
        this.routing.addRoute(this, {
          name: `sticky-${v.name}`,
          matches: [RequestMatch.cookie(sticky._cookie!, v.name)],
          destinations: [{ subset: v.name, weight: 100 }],
          timeout: props.timeout,
          retries: props.retries,
        }, RoutePriority.MATCHED);
      }
    }
    const destinations: RouteDestination[] = versions.map(v => ({
      subset: v.name,
      weight: weights[v.name],
      ...(sticky ? { responseHeaders: { 'set-cookie': `${sticky._cookie}=${v.name}; Path=/; Max-Age=${sticky._ttl!.toSeconds()}; HttpOnly` } } : {}),
    }));
    this.routing.addRoute(this, {
      name: 'split',
      destinations: destinations.filter(d => d.weight > 0 || versions.length === 1),
      mirrorSubset: props.mirror?.version,
      mirrorPercentage: props.mirror?.percentage,
      timeout: props.timeout,
      retries: props.retries,
    }, RoutePriority.DEFAULT);

    if (props.ingress) {
      this.ingressGateway = props.ingress.gateway ?? new IngressGateway(this, 'Gateway', { trafficApi: this.routing.api, namespace: props.namespace });
      if (this.ingressGateway.trafficApi !== this.routing.api) {
        throw configError(this, 'ingress.gateway', this.ingressGateway.node.path, `the gateway uses ${this.ingressGateway.trafficApi} and the routes ${this.routing.api}: use one traffic API`);
      }
      for (const h of props.ingress.hosts) this.ingressGateway._serveHost(this, h, this.routing.namespace, props.ingress.tls ?? IngressTls.none());
      const listeners = props.ingress.hosts.flatMap(h => this.ingressGateway!._listenersFor(h));
      this.routing.bindGateway(this, this.ingressGateway.ref, props.ingress.hosts, listeners);
    }
  }

  /** The identity the service's workloads run as, for authorization rules. */
  public get identity(): ServiceIdentity {
    return ServiceIdentity.fromName(this.namespace, this.name);
  }

  /** The pods of every version (`app=<name>`), or of one version, for policies that select workloads. */
  public selector(version?: string): WorkloadSelector {
    if (version !== undefined && !this.workloads[version]) {
      throw configError(this, 'version', version, `use one of the declared versions: ${Object.keys(this.workloads).join(', ')}`);
    }
    const labels: { [key: string]: string } = version === undefined ? { app: this.name } : { app: this.name, version };
    return WorkloadSelector.fromLabels(this, this.namespace, labels, this.name);
  }

  private validateInput(props: CanaryServiceProps, versions: CanaryVersion[], ports: ServicePort[]): { [version: string]: number } {
    if (versions.length === 0) throw configError(this, 'versions', [], 'declare at least one version');
    versions.forEach((v, i) => {
      requireDnsLabel(this, `versions[${i}].name`, v.name);
      if (!v.image && !v.workload) throw configError(this, `versions[${i}].image`, undefined, 'give an image, or an existing workload');
      if (v.image && v.workload) throw configError(this, `versions[${i}].workload`, v.workload.node.path, 'give an image or a workload, not both');
      if (v.replicas !== undefined) requireInteger(this, `versions[${i}].replicas`, v.replicas, 0);
      if (v.image && (props.requireResources ?? true) && !v.resources && !props.resources) {
        throw configError(this, `versions[${i}].resources`, undefined, 'set resource requests and limits (or the service\'s resources), or set requireResources: false');
      }
    });
    requireUnique(this, 'versions.name', versions.map(v => v.name));
    if (ports.length === 0) throw configError(this, 'ports', [], 'declare at least one port');
    ports.forEach((p, i) => p._validate(this, `ports[${i}]`));
    requireUnique(this, 'ports.name', ports.map(p => p.name));
    requireUnique(this, 'ports.port', ports.map(p => String(p.port)));

    const known = new Set(versions.map(v => v.name));
    const requireKnown = (prop: string, name: string) => {
      if (!known.has(name)) throw configError(this, prop, name, `use one of the declared versions: ${[...known].join(', ')}`);
    };
    const weights: { [version: string]: number } = props.weights ? { ...props.weights } : { [versions[0].name]: 100 };
    for (const [name, w] of Object.entries(weights)) {
      requireKnown('weights', name);
      requireWholePercent(this, `weights.${name}`, w);
    }
    for (const v of versions) weights[v.name] = weights[v.name] ?? 0;
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    if (total !== 100) throw configError(this, 'weights', props.weights, `the weights must sum to 100 (they sum to ${total})`);

    (props.matchRoutes ?? []).forEach((r, i) => {
      requireKnown(`matchRoutes[${i}].version`, r.version);
      if (r.matches.length === 0) throw configError(this, `matchRoutes[${i}].matches`, [], 'give at least one match');
    });
    if (props.mirror) {
      requireKnown('mirror.version', props.mirror.version);
      if (weights[props.mirror.version] > 0) {
        throw configError(this, 'mirror.version', props.mirror.version, 'mirror to a version that takes no live traffic (weight 0); a version cannot mirror to itself');
      }
      requirePercent(this, 'mirror.percentage', props.mirror.percentage ?? 100);
    }
    if (props.ingress) {
      if (props.ingress.hosts.length === 0) throw configError(this, 'ingress.hosts', [], 'give at least one public host');
      if (props.ingress.tls?.mode === 'PASSTHROUGH') throw configError(this, 'ingress.tls', 'PASSTHROUGH', PASSTHROUGH_HAS_NO_HTTP);
      props.ingress.hosts.forEach(h => Host.parseExternal(this, h));
    }
    return weights;
  }

  private versionWorkload(v: CanaryVersion, ports: ServicePort[], props: CanaryServiceProps): ApiObject {
    const labels = { app: this.name, version: v.name };
    if (v.workload) {
      for (const [k, val] of Object.entries(labels)) v.workload.podMetadata.addLabel(k, val);
      return ApiObject.of(v.workload);
    }
    const resources = v.resources ?? props.resources;
    // Rendered in the wire form, with the k8s binding's GVK, as the Istio objects are: the KubeDeployment class
    // would convert its typed props into that form again at every synthesis, which doubles a Deployment's share of
    // it (see the benchmark). The harness checks these Deployments against the Kubernetes schemas.
    const deployment: WireDeployment = {
      metadata: { name: `${this.name}-${v.name}`, namespace: this.namespace, labels },
      spec: {
        replicas: v.replicas ?? 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: this.name,
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true },
            containers: [{
              name: this.name,
              image: v.image!,
              ports: ports.map(p => ({ containerPort: p.targetPort, name: p.name.slice(0, 15) })),
              ...(resources ? { resources: kubeResources(resources) } : {}),
              ...(v.env ? { env: Object.entries(v.env).map(([name, value]) => ({ name, value })) } : {}),
              // cdk8s-plus' secure container defaults.
              securityContext: { allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true },
            }],
          },
        },
      },
    };
    return new ApiObject(this, `Deployment-${v.name}`, objectProps(kplus.k8s.KubeDeployment.GVK, deployment));
  }
}

/** A container's resource quantities, in the wire form. */
interface ResourceQuantities {
  readonly requests?: { [name: string]: string };
  readonly limits?: { [name: string]: string };
}

/** A container in the wire form: plain quantities where the binding has Quantity objects. */
type WireContainer = Omit<kplus.k8s.Container, 'resources'> & { readonly resources?: ResourceQuantities };

/** A Deployment's props in the wire form, checked by the binding's types down to its containers. */
type WireDeployment = Omit<kplus.k8s.KubeDeploymentProps, 'spec'> & {
  readonly spec: Omit<kplus.k8s.DeploymentSpec, 'template'> & {
    readonly template: Omit<kplus.k8s.PodTemplateSpec, 'spec'> & {
      readonly spec: Omit<kplus.k8s.PodSpec, 'containers'> & { readonly containers: WireContainer[] };
    };
  };
};

/** cdk8s-plus container resources as Kubernetes quantities. */
function kubeResources(r: kplus.ContainerResources): ResourceQuantities {
  const quantities = (pick: 'request' | 'limit') => {
    const out: { [name: string]: string } = {};
    const cpu = r.cpu?.[pick];
    if (cpu) out.cpu = cpu.amount;
    const memory = r.memory?.[pick];
    if (memory) out.memory = `${memory.toMebibytes()}Mi`;
    const storage = r.ephemeralStorage?.[pick];
    if (storage) out['ephemeral-storage'] = `${storage.toMebibytes()}Mi`;
    return Object.keys(out).length ? out : undefined;
  };
  const requests = quantities('request');
  const limits = quantities('limit');
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}
