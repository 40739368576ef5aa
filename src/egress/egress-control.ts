import { ApiObject, Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { appRegistry } from '../_app-registry';
import { configError } from '../_errors';
import { isDnsLabel, requireDnsLabel, requireUnique } from '../_validate';
import { AllowedExternalService, AllowHostOptions } from './allowed-external-service';
import { objectProps } from '../_object-props';
import { Waypoint } from '../ambient/waypoint';
import * as networking from '../imports/istio-networking';
import { namespaceDataplane } from '../mesh/_namespace-dataplane';
import { NamespaceSidecar } from '../mesh/_namespace-sidecar';
import { GatewayWorkload } from '../mesh/gateway-workload';
import { Host } from '../mesh/host';
import { DataplaneMode, Mesh } from '../mesh/mesh';
import { addGatewayDeployment, addNamespaceEgress, addNamespaceProxy, GATEWAY_NAME_LABEL, HBONE_PORT, NetRule, tcp } from '../security/_network-policy';
import { UpstreamTls } from '../traffic/upstream-tls';

/**
 * What a sidecar does with traffic to a host the mesh does not know.
 * @see https://istio.io/latest/docs/reference/config/networking/sidecar/#OutboundTrafficPolicy-Mode
 */
export enum OutboundTrafficPolicy {
  /** Only hosts in the service registry (services and ServiceEntries) are reachable; the rest is blocked. */
  REGISTRY_ONLY = 'REGISTRY_ONLY',
  /** Unknown hosts are passed through: gives up egress control, only for migrating to REGISTRY_ONLY. */
  ALLOW_ANY = 'ALLOW_ANY',
}

/**
 * Properties of an {@link EgressControl}.
 * @see https://istio.io/latest/docs/reference/config/networking/sidecar/
 */
export interface EgressControlProps {
  /**
   * The namespace whose outbound traffic is controlled; the objects of the workloads' side live there.
   * @default - the chart's namespace, else `default`
   */
  readonly namespace?: string;
  /**
   * What the namespace's sidecars do with hosts that are not allowed (sidecar mode only). The mesh-wide default is
   * `meshConfig.outboundTrafficPolicy`, set at install time outside the application's manifests.
   * @default OutboundTrafficPolicy.REGISTRY_ONLY
   */
  readonly outboundTrafficPolicy?: OutboundTrafficPolicy;
  /**
   * Other namespaces whose in-mesh services the workloads call (sidecar mode only); `*` for every namespace, which
   * also makes ServiceEntries other namespaces export reachable.
   * @default - none: this namespace's services and the root namespace's only
   */
  readonly meshNamespaces?: string[];
  /**
   * The egress gateway traffic is routed through, for hosts allowed with an `EgressRoute.viaGateway*()` route.
   * @default - the Mesh's egress gateway
   */
  readonly egressGateway?: GatewayWorkload;
  /**
   * How the namespace's workloads join the mesh.
   * @default - the Mesh's data plane mode
   */
  readonly dataplaneMode?: DataplaneMode;
  /**
   * Ambient mode: the name of an existing waypoint in the namespace that the ServiceEntries use.
   * @default - a waypoint named `egress-waypoint` is created in the namespace
   */
  readonly waypoint?: string;
}

const DEFAULT_WAYPOINT = 'egress-waypoint';

/**
 * Egress control for a namespace: its workloads reach only the external hosts allowed here, in the way declared.
 *
 * In sidecar mode a namespace-wide Sidecar sets `REGISTRY_ONLY` outbound traffic and lists the hosts the
 * sidecars know: this namespace's services, the root namespace's, the allowed external hosts and, when routing
 * through it, the egress gateway. Each allowed host gets a ServiceEntry and, through the egress gateway, a Gateway,
 * a VirtualService, a subset of the gateway's DestinationRule (Istio mutual TLS) and an AuthorizationPolicy on the
 * gateway admitting only the declared callers.
 *
 * In ambient mode there are no sidecars: the ServiceEntries use a waypoint (`istio.io/use-waypoint`), which acts
 * as the egress gateway and enforces an AuthorizationPolicy per host.
 *
 * @example
 * const egress = new EgressControl(chart, 'Egress');
 * egress.allowHost('api.stripe.com');
 * egress.allowHost('legacy.example.com', { route: EgressRoute.viaGatewayTlsOrigination() });
 * @see https://istio.io/latest/docs/tasks/traffic-management/egress/
 */
export class EgressControl extends Construct {
  /** The namespace whose outbound traffic is controlled. */
  public readonly namespace: string;
  /** How the namespace's workloads join the mesh. */
  public readonly dataplaneMode: DataplaneMode;
  /** The egress gateway used by routes through the gateway. */
  public readonly egressGateway: GatewayWorkload;
  /** Sidecar mode: the namespace's Sidecar (`REGISTRY_ONLY` and its egress hosts), shared with a ZeroTrustNamespace. */
  public readonly sidecar?: ApiObject;
  /** Ambient mode: the name of the waypoint the ServiceEntries use. */
  public readonly waypointName?: string;
  /** Ambient mode: the waypoint created for the namespace, unless an existing one was named. */
  public readonly waypoint?: ApiObject;
  private readonly outboundTrafficPolicy: OutboundTrafficPolicy;
  private readonly meshNamespaces: string[];
  private readonly services: AllowedExternalService[] = [];
  /** Ambient: the other namespaces whose callers reach the waypoint, given egress to it. */
  private readonly waypointCallerNamespaces = new Set<string>();
  private readonly gatewaySubsets: { name: string; sni: string }[] = [];
  private _egressGatewayDestinationRule?: ApiObject;

  public constructor(scope: Construct, id: string, props: EgressControlProps = {}) {
    super(scope, id);
    const mesh = Mesh.of(this);
    this.namespace = requireDnsLabel(this, 'namespace', props.namespace ?? Chart.of(this).namespace ?? 'default');
    this.dataplaneMode = props.dataplaneMode ?? mesh.dataplaneMode;
    this.egressGateway = props.egressGateway ?? mesh.egressGateway;
    this.outboundTrafficPolicy = props.outboundTrafficPolicy ?? OutboundTrafficPolicy.REGISTRY_ONLY;
    if (!Object.values(OutboundTrafficPolicy).includes(this.outboundTrafficPolicy)) {
      throw configError(this, 'outboundTrafficPolicy', this.outboundTrafficPolicy, 'use OutboundTrafficPolicy.REGISTRY_ONLY');
    }
    this.meshNamespaces = props.meshNamespaces ?? [];
    this.meshNamespaces.forEach((n, i) => {
      if (n !== '*' && !isDnsLabel(n)) throw configError(this, `meshNamespaces[${i}]`, n, 'use a namespace name or \'*\'');
    });
    requireUnique(this, 'meshNamespaces', this.meshNamespaces);
    const ambient = this.dataplaneMode === DataplaneMode.AMBIENT;
    if (ambient) {
      for (const prop of ['outboundTrafficPolicy', 'meshNamespaces'] as const) {
        if (props[prop] !== undefined) {
          throw configError(this, prop, props[prop], 'ambient mode has no sidecars to configure: set meshConfig.outboundTrafficPolicy mesh-wide, or remove it');
        }
      }
    } else if (props.waypoint !== undefined) {
      throw configError(this, 'waypoint', props.waypoint, 'a waypoint applies to ambient mode only: set dataplaneMode: DataplaneMode.AMBIENT (or in the Mesh), or remove it');
    }
    if (props.waypoint !== undefined) requireDnsLabel(this, 'waypoint', props.waypoint);

    const registry = appRegistry<EgressControl>(this, 'EgressControl');
    const other = registry.get(this.namespace);
    if (other) {
      throw configError(this, 'namespace', this.namespace, `${other.node.path} already controls its egress: define one EgressControl per namespace`);
    }
    namespaceDataplane(this, this.namespace, this.dataplaneMode);
    registry.set(this.namespace, this);

    if (ambient) {
      this.waypointName = props.waypoint ?? DEFAULT_WAYPOINT;
      if (props.waypoint === undefined) {
        this.waypoint = new Waypoint(this, 'Waypoint', { name: this.waypointName, namespace: this.namespace }).gateway;
      }
      // A ZeroTrustNamespace's default-deny NetworkPolicy would isolate the waypoint: it gets one of its own.
      addNamespaceProxy(this, this.namespace, {
        name: this.waypointName,
        podLabels: () => ({ [GATEWAY_NAME_LABEL]: this.waypointName! }),
        ingress: () => {
          const callers = [this.namespace, ...this.services.flatMap(s => s._callerNamespaces)];
          return [{ peers: callers.map(namespace => ({ namespace })), ports: tcp(HBONE_PORT) }];
        },
        egress: () => this.directEgress(),
        waypoint: true,
      });
    } else {
      // A ZeroTrustNamespace of the namespace shares the Sidecar (Istio applies one), adding its declared calls.
      const sidecar = NamespaceSidecar.of(this, this.namespace);
      sidecar.contribute({ hosts: () => this.sidecarHosts(), outboundTrafficPolicy: this.outboundTrafficPolicy });
      this.sidecar = sidecar.ensure(this, 'Resource');
      // A ZeroTrustNamespace's default-deny NetworkPolicy admits what the allowed hosts need.
      addNamespaceEgress(this, this.namespace, () => this.networkEgress());
    }
  }

  /** The hosts allowed so far. */
  public get allowedServices(): AllowedExternalService[] {
    return [...this.services];
  }

  /** The DestinationRule of the hop to the egress gateway (a subset per host), once a host is routed through it. */
  public get egressGatewayDestinationRule(): ApiObject | undefined {
    return this._egressGatewayDestinationRule;
  }

  /**
   * Allows the namespace's workloads to reach an external host.
   * @param host a fully qualified domain name, or a wildcard such as `*.example.com`
   * @param options ports, resolution, route and allowed callers
   * @returns the host's ServiceEntry and routing objects
   * @example
   * egress.allowHost('api.stripe.com', {
   *   route: EgressRoute.viaGatewayTlsPassthrough(),
   *   fromIdentities: [ServiceIdentity.fromName('shop', 'checkout')],
   * });
   */
  public allowHost(host: string, options: AllowHostOptions = {}): AllowedExternalService {
    return new AllowedExternalService(this, host, { ...options, host, egressControl: this });
  }

  /** @internal Throws if the host is already allowed. */
  public _requireNew(host: string): void {
    const existing = this.services.find(s => s.host.name === host);
    if (existing) throw configError(this, 'host', host, `${existing.node.path} already allows it: allow each host once, with all its ports`);
  }

  /**
   * @internal Throws when another host already takes one of `ports` by number only: a sidecar has one listener per such
   * port (0.0.0.0:<port>), and only one host's filter chain wins, so one host's connections would go to the other.
   */
  public _checkPortsByNumberOnly(prop: string, host: string, ports: number[]): void {
    if (this.dataplaneMode !== DataplaneMode.SIDECAR) return;
    for (const port of ports) {
      const other = this.services.find(s => s.host.name !== host && s._portsByNumberOnly.includes(port));
      if (other) {
        throw configError(this, prop, port,
          `${other.node.path} takes port ${port} too, and without addresses sidecars tell such hosts apart by port only (one would get both hosts' connections): give each host its addresses, or use TLS or HTTP`);
      }
    }
  }

  /** @internal */
  public _register(service: AllowedExternalService): void {
    this._requireNew(service.host.name);
    this.services.push(service);
    if (this.dataplaneMode === DataplaneMode.AMBIENT) {
      // ztunnel carries the callers' connections from their own pods to this waypoint (HBONE): their namespaces'
      // default-deny NetworkPolicies must let them out to it.
      for (const namespace of service._callerNamespaces) {
        if (namespace === this.namespace || this.waypointCallerNamespaces.has(namespace)) continue;
        this.waypointCallerNamespaces.add(namespace);
        addNamespaceEgress(this, namespace, () => [{
          peers: [{ namespace: this.namespace, podLabels: () => ({ [GATEWAY_NAME_LABEL]: this.waypointName! }) }],
          ports: tcp(HBONE_PORT),
        }]);
      }
    }
  }

  /** @internal The egress gateway Service's FQDN. */
  public _egressGatewayHost(prop: string): string {
    const gateway = this.egressGateway;
    if (!gateway.serviceName) {
      throw configError(this, prop, 'egressGateway', 'the egress gateway has no Service name: set serviceName in GatewayWorkload.custom()');
    }
    return Host.service(this, gateway.serviceName, gateway.namespace).name;
  }

  /** @internal Adds a host's subset to the egress gateway's DestinationRule, creating it on first use. */
  public _gatewayDestinationRule(subset: string, sni: string): ApiObject {
    // Hosts are unique per EgressControl, and so are their labels: one subset each.
    this.gatewaySubsets.push({ name: subset, sni });
    if (!this._egressGatewayDestinationRule) {
      const host = this._egressGatewayHost('egressGateway');
      this._egressGatewayDestinationRule = new ApiObject(this, 'EgressGatewayRule', objectProps(networking.DestinationRule.GVK, {
        metadata: { name: this.egressGateway.serviceName!, namespace: this.namespace },
        spec: Lazy.any({ produce: () => this.renderGatewayDestinationRule(host) }),
      }));
      this.declareEgressGateway();
    }
    return this._egressGatewayDestinationRule;
  }

  /**
   * Declares the egress gateway's pods to a ZeroTrustNamespace of their namespace (a gateway of your own), whose
   * default-deny NetworkPolicy would otherwise isolate them: the namespaces routing through it connect on every port
   * (its Service maps 443 to a container port this cannot know), and it connects to the hosts it forwards to.
   */
  private declareEgressGateway(): void {
    addGatewayDeployment<EgressControl>(this, 'EgressGatewayDeployment', this.egressGateway, this, sharing => ({
      ingress: () => [{ peers: [...new Set(sharing.map(c => c.namespace))].map(namespace => ({ namespace })) }],
      egress: () => sharing.flatMap(c => c.services.flatMap(s => (s._gatewayEgress ? [s._gatewayEgress] : []))),
    }));
  }

  private renderGatewayDestinationRule(host: string): any {
    // The whole hop is mutual TLS; each host's subset sets the SNI the gateway picks its server by.
    return {
      host,
      exportTo: ['.'],
      trafficPolicy: { tls: UpstreamTls.istioMutual()._render(this, 'trafficPolicy.tls') },
      subsets: this.gatewaySubsets.map(s => ({
        name: s.name,
        trafficPolicy: { tls: UpstreamTls.istioMutual({ sni: s.sni })._render(this, `subsets.${s.name}.trafficPolicy.tls`) },
      })),
    };
  }

  /**
   * Where the pods connect for the allowed hosts: the egress gateway's pods (on every port: its Service maps 443 to a
   * container port this cannot know), and each host reached directly.
   */
  private networkEgress(): NetRule[] {
    const gateway = this.egressGateway;
    const direct = this.directEgress();
    if (!this._egressGatewayDestinationRule) return direct;
    return [{ peers: [{ namespace: gateway.namespace, podLabels: () => gateway.labels }] }, ...direct];
  }

  /** The connections to the hosts reached without the egress gateway. */
  private directEgress(): NetRule[] {
    return this.services.flatMap(s => (s._networkEgress ? [s._networkEgress] : []));
  }

  /** The hosts the Sidecar lists for the allowed hosts (besides the namespace's own and the root namespace's). */
  private sidecarHosts(): string[] {
    return [
      ...this.meshNamespaces.map(n => `${n}/*`),
      ...(this._egressGatewayDestinationRule ? [`${this.egressGateway.namespace}/${this._egressGatewayHost('egressGateway')}`] : []),
      ...this.services.map(s => `./${s.host.name}`),
    ];
  }
}
