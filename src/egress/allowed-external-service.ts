import { isIP } from 'net';
import { ApiObject, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { appRegistry, appSingleton } from '../_app-registry';
import { configError } from '../_errors';
import { isDnsLabel, isDnsSubdomain, requireInteger, requireUnique } from '../_validate';
import { allowPolicySpec } from './_authorization';
import { EgressRouteMode } from './_mode';
import { hostLabel } from './_names';
import type { EgressControl } from './egress-control';
import { EgressRoute } from './egress-route';
import { objectProps } from '../_object-props';
import * as networking from '../imports/istio-networking';
import * as security from '../imports/istio-security';
import { Host } from '../mesh/host';
import { DataplaneMode, requireIstio } from '../mesh/mesh';
import { IServiceIdentity } from '../mesh/service-identity';
import { PortProtocol, ServicePort } from '../mesh/service-port';
import { NetRule, tcp } from '../security/_network-policy';
import { HostRouting } from '../traffic/host-routing';
import { UpstreamTls } from '../traffic/upstream-tls';

/**
 * How the mesh finds the addresses of an external host.
 * @see https://istio.io/latest/docs/reference/config/networking/service-entry/#ServiceEntry-Resolution
 */
export enum ServiceEntryResolution {
  /** The proxy resolves the host (or the endpoints' names) in DNS and connects to every address returned. */
  DNS = 'DNS',
  /** The proxy resolves the host in DNS and connects to the first address only, for hosts with many addresses. */
  DNS_ROUND_ROBIN = 'DNS_ROUND_ROBIN',
  /** The endpoints are fixed IP addresses. */
  STATIC = 'STATIC',
  /** No resolution: the connection goes to the address the workload resolved itself (required for wildcards). */
  NONE = 'NONE',
}

/**
 * A fixed endpoint of an external host.
 * @see https://istio.io/latest/docs/reference/config/networking/workload-entry/#WorkloadEntry
 */
export interface ExternalEndpoint {
  /** An IP address (STATIC resolution) or a DNS name (DNS resolution). */
  readonly address: string;
  /**
   * Port numbers on this endpoint, by the name of the allowed port they serve.
   * @default - the port's own target port
   */
  readonly ports?: { [portName: string]: number };
}

/**
 * Options of {@link EgressControl.allowHost}.
 * @see https://istio.io/latest/docs/reference/config/networking/service-entry/
 */
export interface AllowHostOptions {
  /**
   * The ports the workloads call, each with its protocol.
   * @default - `ServicePort.https(443)`; `ServicePort.http(80)` for TLS origination and HTTP through the gateway,
   * `ServicePort.tls(443)` for TLS passthrough through the gateway
   */
  readonly ports?: ServicePort[];
  /**
   * How the mesh finds the host's addresses.
   * @default ServiceEntryResolution.DNS, or ServiceEntryResolution.NONE for a wildcard host
   */
  readonly resolution?: ServiceEntryResolution;
  /**
   * Fixed endpoints: IP addresses with STATIC resolution, DNS names with DNS resolution.
   * @default - none: the host itself is resolved
   */
  readonly endpoints?: ExternalEndpoint[];
  /**
   * Virtual IP addresses or CIDR blocks of the host, for TCP ports that cannot be told apart by host name.
   * @default - none
   */
  readonly addresses?: string[];
  /**
   * How the traffic leaves the mesh.
   * @default EgressRoute.direct()
   */
  readonly route?: EgressRoute;
  /**
   * Identities allowed to reach the host, enforced by the egress gateway (identities of this namespace) or, in
   * ambient mode, the waypoint. Refused for direct routes in sidecar mode, where nothing could enforce it.
   * @default - none beyond `fromNamespaces`
   * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#Source
   */
  readonly fromIdentities?: IServiceIdentity[];
  /**
   * Namespaces whose workloads may reach the host, enforced by the egress gateway (this namespace only) or, in
   * ambient mode, the waypoint. Refused for direct routes in sidecar mode, where `exportTo` scopes the host instead.
   * @default - the EgressControl's namespace, unless `fromIdentities` is given
   */
  readonly fromNamespaces?: string[];
  /**
   * Namespaces the ServiceEntry (and the routing objects) are visible to: `.` for their own, `*` for all.
   * @default - their own namespace, plus the egress gateway's and those of the allowed callers
   * @see https://istio.io/latest/docs/reference/config/networking/service-entry/#ServiceEntry-export_to
   */
  readonly exportTo?: string[];
}

/** Properties of an {@link AllowedExternalService}. */
export interface AllowedExternalServiceProps extends AllowHostOptions {
  /** The EgressControl of the namespace the workloads run in. */
  readonly egressControl: EgressControl;
  /** The external host: a fully qualified domain name or a wildcard such as `*.example.com`. */
  readonly host: string;
}

/** The egress gateway Service port the sidecars reach the gateway on (mutual TLS); default installs expose it. */
const GATEWAY_PORT = 443;

interface Plan {
  readonly host: Host;
  readonly ports: ServicePort[];
  readonly targetPort?: number;
  readonly resolution: ServiceEntryResolution;
  readonly endpoints: ExternalEndpoint[];
  readonly addresses: string[];
  readonly route: EgressRoute;
  readonly principals: string[];
  readonly namespaces: string[];
  readonly callerNamespaces: string[];
  readonly exportTo: string[];
  readonly tls?: UpstreamTls;
  readonly servingHost?: Host;
  readonly gatewayService?: string;
  /** How the host is defined and routed (route, ports, TLS origination, resolution, endpoints), as one string. */
  readonly upstream: string;
}

/**
 * One external host the workloads of a namespace may reach: its ServiceEntry and, depending on the route, the
 * egress gateway's Gateway, VirtualService and DestinationRules, the TLS origination policy, and the
 * AuthorizationPolicy admitting only the declared callers. Create it with {@link EgressControl.allowHost}.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/service-entry/
 */
export class AllowedExternalService extends Construct {
  /** The external host. */
  public readonly host: Host;
  /** How the traffic leaves the mesh. */
  public readonly route: EgressRoute;
  /** The ports the workloads call. */
  public readonly ports: ServicePort[];
  /** The host's ServiceEntry. */
  public readonly serviceEntry: ApiObject;
  /** For a wildcard host through the gateway: the ServiceEntry of the server the gateway connects to. */
  public readonly servingServiceEntry?: ApiObject;
  /** Through the egress gateway: the Gateway server for the host on the egress gateway workload. */
  public readonly gateway?: ApiObject;
  /** Through the egress gateway: routes from the sidecars to the gateway and from the gateway to the host. */
  public readonly virtualService?: ApiObject;
  /** The AuthorizationPolicy admitting the declared callers, at the egress gateway or the ambient waypoint. */
  public readonly authorizationPolicy?: ApiObject;
  /**
   * @internal Not through the gateway: where the sidecars (ambient: the waypoint) connect for the host, for a
   * ZeroTrustNamespace's NetworkPolicy.
   */
  public readonly _networkEgress?: NetRule;
  /** @internal Through the gateway: where the egress gateway connects for the host. */
  public readonly _gatewayEgress?: NetRule;
  /** @internal The namespaces of the callers admitted to the host. */
  public readonly _callerNamespaces: string[];
  /** @internal Ports that sidecars tell apart by number only: neither HTTP nor TLS, and the host has no addresses. */
  public readonly _portsByNumberOnly: number[];
  private readonly egressControl: EgressControl;
  private readonly routing?: HostRouting;

  public constructor(scope: Construct, id: string, props: AllowedExternalServiceProps) {
    // Everything is checked before anything is added to the tree, so bad input leaves nothing behind.
    const plan = planService(props.egressControl, props);
    super(scope, id);
    const control = props.egressControl;
    this.egressControl = control;
    this.host = plan.host;
    this.route = plan.route;
    this.ports = plan.ports;
    const mode = plan.route._mode;
    const label = hostLabel(plan.host.name);
    const ambient = control.dataplaneMode === DataplaneMode.AMBIENT;

    if (plan.tls || plan.route.viaEgressGateway) {
      this.routing = HostRouting.of(this, plan.host);
      if (plan.tls) this.routing.addTrafficPolicy(this, { tls: plan.tls });
    }
    if (plan.route.viaEgressGateway) this._gatewayEgress = directEgress(plan);
    else this._networkEgress = directEgress(plan);
    this._callerNamespaces = plan.callerNamespaces;
    this._portsByNumberOnly = portsByNumberOnly(plan.ports, plan.addresses);
    control._register(this);
    if (ambient) appRegistry<EgressControl>(control, 'AmbientEgressHost').set(plan.host.name, control);

    this.serviceEntry = new ApiObject(this, 'Resource', objectProps(networking.ServiceEntry.GVK, {
      metadata: {
        name: label,
        namespace: control.namespace,
        ...(ambient ? { labels: { 'istio.io/use-waypoint': control.waypointName! } } : {}),
      },
      spec: renderServiceEntry(plan, plan.host, plan.exportTo),
    }));
    if (control.waypoint) this.serviceEntry.node.addDependency(control.waypoint);

    if (plan.servingHost) {
      // The gateway's destination for the wildcard: visible to the gateway only, so workloads cannot bypass it.
      this.servingServiceEntry = new ApiObject(this, 'ServingHost', objectProps(networking.ServiceEntry.GVK, {
        metadata: { name: hostLabel(plan.host.name, 'serving'), namespace: control.namespace },
        spec: renderServiceEntry({ ...plan, resolution: ServiceEntryResolution.DNS, endpoints: [], addresses: [] }, plan.servingHost,
          [control.egressGateway.namespace === control.namespace ? '.' : control.egressGateway.namespace]),
      }));
    }

    if (plan.route.viaEgressGateway) {
      const passthrough = mode === EgressRouteMode.GATEWAY_TLS_PASSTHROUGH;
      const upstream = plan.servingHost ?? plan.host;
      const server = sharedGatewayServer(control, plan);
      if (!server.gateway) {
        server.gateway = new ApiObject(this, 'Gateway', objectProps(networking.Gateway.GVK, {
          metadata: { name: hostLabel(plan.host.name, 'egress'), namespace: control.namespace },
          spec: Lazy.any({
            produce: () => ({
              selector: { ...control.egressGateway.labels },
              // One server for every namespace routing the host: two servers with the same SNI on port 443 of the
              // same pods make Envoy reject the gateway's listener, for every host on it.
              servers: [{
                port: { number: GATEWAY_PORT, name: passthrough ? 'tls' : 'https', protocol: passthrough ? 'TLS' : 'HTTPS' },
                // Qualified with the namespaces, so only their routes can bind to the host at the gateway.
                hosts: server.namespaces.flatMap(n => server.hosts.map(h => `${n}/${h}`)),
                tls: { mode: 'ISTIO_MUTUAL' },
              }],
            }),
          }),
        }));
      }
      server.namespaces.push(control.namespace);
      this.gateway = server.gateway;
      const gatewayRef = `${server.gateway.metadata.namespace}/${server.gateway.name}`;
      const appPort = plan.ports[0];
      const toGateway = { destination: { host: plan.gatewayService!, subset: label, port: { number: GATEWAY_PORT } }, weight: 100 };
      const toExternal = { destination: { host: upstream.name, port: { number: appPort.port } }, weight: 100 };
      const destinationRule = control._gatewayDestinationRule(label, sniOf(plan));
      this.virtualService = new ApiObject(this, 'VirtualService', objectProps(networking.VirtualService.GVK, {
        metadata: { name: label, namespace: control.namespace },
        spec: {
          hosts: [plan.host.name],
          gateways: [gatewayRef, 'mesh'],
          exportTo: [...plan.exportTo],
          ...(passthrough ? {
            tls: [{ match: [{ gateways: ['mesh'], port: appPort.port, sniHosts: [plan.host.name] }], route: [toGateway] }],
            // The gateway ends the mutual TLS; what is inside is the workload's TLS, forwarded as TCP.
            tcp: [{ match: [{ gateways: [gatewayRef], port: GATEWAY_PORT }], route: [toExternal] }],
          } : {
            http: [
              { name: 'to-egress-gateway', match: [{ gateways: ['mesh'], port: appPort.port }], route: [toGateway] },
              { name: 'to-external-host', match: [{ gateways: [gatewayRef], port: GATEWAY_PORT }], route: [toExternal] },
            ],
          }),
        },
      }));
      // Make-before-break: the subset and the gateway server exist before routes use them.
      this.virtualService.node.addDependency(destinationRule, this.gateway, this.serviceEntry);
      if (this.servingServiceEntry) this.virtualService.node.addDependency(this.servingServiceEntry);

      this.authorizationPolicy = new ApiObject(this, 'AuthorizationPolicy', objectProps(security.AuthorizationPolicy.GVK, {
        // A dot cannot be in a namespace, so namespace and host cannot run into another pair's name ('shop-api' + 'x',
        // 'shop' + 'api-x').
        metadata: { name: `${control.namespace}.${label}`, namespace: control.egressGateway.namespace },
        spec: allowPolicySpec({ selector: control.egressGateway.labels }, plan, passthrough
          ? { serverNames: [sniOf(plan)] }
          : { hosts: [plan.host.name, `${plan.host.name}:${appPort.port}`] }),
      }));
      this.node.addValidation({ validate: () => this.checkSingleVirtualService() });
    } else if (ambient) {
      this.authorizationPolicy = new ApiObject(this, 'AuthorizationPolicy', objectProps(security.AuthorizationPolicy.GVK, {
        metadata: { name: label, namespace: control.namespace },
        spec: allowPolicySpec({ serviceEntryName: label }, plan),
      }));
      this.authorizationPolicy.node.addDependency(this.serviceEntry);
    }
  }

  /**
   * The DestinationRules this host uses: the egress gateway's (with this host's subset) and the host's own (TLS
   * origination).
   */
  public get destinationRules(): ApiObject[] {
    const gatewayRule = this.route.viaEgressGateway ? this.egressControl.egressGatewayDestinationRule : undefined;
    const hostRule = this.route.originatesTls ? this.routing?.destinationRule : undefined;
    return [gatewayRule, hostRule].filter((r): r is ApiObject => r !== undefined);
  }

  private checkSingleVirtualService(): string[] {
    const routing = this.routing!;
    const other = routing.virtualService ?? routing.httpRoutes[0];
    if (!other) return [];
    return [`${this.node.path}: route got '${this.route._mode}': ${this.host.name} also has routes from HostRouting (${other.node.path}), ` +
      'and a host can have only one VirtualService: route it through the egress gateway or give it routes (retries, timeouts, canaries), not both'];
  }
}

/**
 * The connections a sidecar opens for a host it reaches directly. A NetworkPolicy cannot name hosts: fixed addresses
 * are admitted as such, a resolved host on its ports from anywhere (the sidecar's REGISTRY_ONLY keeps to the host).
 */
function directEgress(plan: Plan): NetRule {
  const ports = new Set(plan.ports.map(p => plan.targetPort ?? p.targetPort));
  for (const endpoint of plan.endpoints) Object.values(endpoint.ports ?? {}).forEach(p => ports.add(p));
  const fixed = plan.resolution === ServiceEntryResolution.STATIC ? plan.endpoints.map(e => e.address)
    : plan.resolution === ServiceEntryResolution.NONE ? plan.addresses : [];
  return { peers: fixed.length ? fixed.map(cidr => ({ cidr })) : [{ anywhere: true }], ports: tcp(...ports) };
}

/** The SNI of the hop to the gateway, which picks the gateway server and is what the gateway's policy checks. */
function sniOf(plan: Plan): string {
  return (plan.servingHost ?? plan.host).name;
}

/** Whether wildcard `pattern` (or the host itself) covers `name`. */
function covers(pattern: string, name: string): boolean {
  return pattern === name || (pattern.startsWith('*.') && name.endsWith(pattern.slice(1)));
}

function renderServiceEntry(plan: Plan, host: Host, exportTo: string[]): any {
  return {
    hosts: [host.name],
    ...(plan.addresses.length ? { addresses: [...plan.addresses] } : {}),
    ports: plan.ports.map(p => {
      const targetPort = plan.targetPort ?? p.targetPort;
      return { number: p.port, name: p.name, protocol: p.istioProtocol, ...(targetPort !== p.port ? { targetPort } : {}) };
    }),
    location: 'MESH_EXTERNAL',
    resolution: plan.resolution,
    ...(plan.endpoints.length ? { endpoints: plan.endpoints.map(e => ({ address: e.address, ...(e.ports ? { ports: { ...e.ports } } : {}) })) } : {}),
    exportTo: [...exportTo],
  };
}

const DEFAULT_PORTS: { [mode: string]: () => ServicePort } = {
  [EgressRouteMode.DIRECT]: () => ServicePort.https(443),
  [EgressRouteMode.TLS_ORIGINATION]: () => ServicePort.http(80),
  [EgressRouteMode.GATEWAY_HTTP]: () => ServicePort.http(80),
  [EgressRouteMode.GATEWAY_TLS_PASSTHROUGH]: () => ServicePort.tls(443),
  [EgressRouteMode.GATEWAY_TLS_ORIGINATION]: () => ServicePort.http(80),
};

/** Validates the options of one allowed host against its EgressControl and resolves every default. */
function planService(control: EgressControl, props: AllowedExternalServiceProps): Plan {
  const host = Host.parseExternal(control, props.host);
  const at = (prop: string) => `allowHost('${host.name}').${prop}`;
  control._requireNew(host.name);
  const route = props.route ?? EgressRoute.direct();
  const mode = route._mode;
  const ambient = control.dataplaneMode === DataplaneMode.AMBIENT;
  if (ambient && route.viaEgressGateway) {
    throw configError(control, at('route'), mode, 'in ambient mode the waypoint is the egress gateway: use EgressRoute.direct() or EgressRoute.tlsOrigination()');
  }
  if (ambient && host.isWildcard) {
    throw configError(control, 'host', host.name,
      'in ambient mode ztunnel cannot send a wildcard host (a ServiceEntry without addresses) to the waypoint, which would then check no caller: allow each host by name');
  }
  if (ambient) {
    // ztunnel ignores a ServiceEntry's exportTo: the host's ServiceEntry and waypoint apply to every ambient namespace.
    const owner = appRegistry<EgressControl>(control, 'AmbientEgressHost').get(host.name);
    if (owner && owner !== control) {
      throw configError(control, 'host', host.name,
        `${owner.node.path} allows it already, and in ambient mode its ServiceEntry sends every namespace's calls to its waypoint (ztunnel ignores exportTo): allow it once, with fromNamespaces for the callers`);
    }
  }

  const ports = props.ports ?? [DEFAULT_PORTS[mode]()];
  validatePorts(control, at('ports'), ports);
  if (route.viaEgressGateway && ports.length !== 1) {
    throw configError(control, at('ports'), ports.map(p => p.port), 'route exactly one port through the egress gateway');
  }

  const resolution = props.resolution ?? (host.isWildcard ? ServiceEntryResolution.NONE : ServiceEntryResolution.DNS);
  const endpoints = props.endpoints ?? [];
  const addresses = props.addresses ?? [];
  validateResolution(control, at, host, resolution, endpoints, addresses, ports);
  if (resolution === ServiceEntryResolution.NONE && ports.some(p => p.targetPort !== p.port)) {
    // Before 1.22 the proxy ignored a NONE ServiceEntry's targetPort and dialled the port itself.
    requireIstio(control, at('ports'), 22, 'a targetPort with NONE resolution');
  }
  control._checkPortsByNumberOnly(at('ports'), host.name, portsByNumberOnly(ports, addresses));

  let targetPort: number | undefined;
  let tls: UpstreamTls | undefined;
  const origination = route._tlsOrigination;
  if (origination) {
    const notHttp = ports.find(p => !p.isHttp);
    if (notHttp) {
      throw configError(control, at('ports'), `${notHttp.port}/${notHttp.istioProtocol}`,
        'TLS origination needs a port the workload speaks plain HTTP on, such as ServicePort.http(80); a TCP or TLS port cannot be upgraded');
    }
    if (host.isWildcard) {
      throw configError(control, at('route'), mode, 'TLS origination needs one host to connect to: allow each host under the wildcard separately');
    }
    if (resolution === ServiceEntryResolution.NONE) {
      throw configError(control, at('resolution'), resolution, 'TLS origination connects to the host\'s TLS port: use DNS or STATIC resolution');
    }
    // The workload's plain port maps to the host's TLS port: a targetPort on the port says which, as the option does.
    const mapped = ports.filter(p => p.targetPort !== p.port);
    targetPort = requirePort(control, at('route.targetPort'), origination.targetPort ?? mapped[0]?.targetPort ?? 443);
    const conflicting = mapped.find(p => p.targetPort !== targetPort);
    if (conflicting) {
      throw configError(control, at('ports'), `${conflicting.port}->${conflicting.targetPort}`,
        `TLS origination connects to port ${targetPort} of the host: give the port no targetPort, or the same one as TlsOriginationOptions.targetPort`);
    }
    const sni = origination.sni ?? host.name;
    if (!isDnsSubdomain(sni)) throw configError(control, at('route.sni'), sni, 'use a domain name such as api.example.com');
    tls = UpstreamTls.simple({ sni, subjectAltNames: origination.subjectAltNames, caCertificates: origination.caCertificates });
    tls._validate(control, at('route'));
    const routing = HostRouting.of(control, host);
    if (routing.namespace !== control.namespace) {
      throw configError(control, at('route'), mode,
        `the TLS policy goes to the host's DestinationRule in namespace '${routing.namespace}' (its chart's), not '${control.namespace}': put the EgressControl in a chart of namespace '${control.namespace}'`);
    }
  }

  let servingHost: Host | undefined;
  let gatewayService: string | undefined;
  if (route.viaEgressGateway) {
    const port = ports[0];
    if (mode === EgressRouteMode.GATEWAY_TLS_PASSTHROUGH) {
      if (port.protocol !== PortProtocol.TLS && port.protocol !== PortProtocol.HTTPS) {
        throw configError(control, at('ports'), `${port.port}/${port.istioProtocol}`, 'TLS passthrough routes by SNI: use a TLS or HTTPS port such as ServicePort.tls(443)');
      }
      if (host.isWildcard && !route._servingHost) {
        throw configError(control, at('route.servingHost'), undefined,
          'the egress gateway cannot connect to a wildcard: name the server that serves every host under it, such as EgressRoute.viaGatewayTlsPassthrough({ servingHost: \'www.example.com\' })');
      }
      if (!host.isWildcard && route._servingHost) {
        throw configError(control, at('route.servingHost'), route._servingHost, 'servingHost is only for wildcard hosts: remove it');
      }
      if (route._servingHost) servingHost = Host.external(control, route._servingHost);
    } else {
      if (host.isWildcard) {
        throw configError(control, at('route'), mode,
          'a wildcard host through the egress gateway needs SNI passthrough: use EgressRoute.viaGatewayTlsPassthrough({ servingHost }) with a TLS port');
      }
      if (!port.isHttp) {
        throw configError(control, at('ports'), `${port.port}/${port.istioProtocol}`, 'HTTP through the egress gateway needs an HTTP port such as ServicePort.http(80); for TLS use EgressRoute.viaGatewayTlsPassthrough()');
      }
    }
    if (!host.isWildcard && resolution === ServiceEntryResolution.NONE) {
      throw configError(control, at('resolution'), resolution,
        'through the egress gateway the host needs DNS or STATIC resolution: with NONE the gateway forwards to its own address in a loop');
    }
    gatewayService = control._egressGatewayHost(at('route'));
  }

  const enforced = route.viaEgressGateway || ambient;
  if (!enforced && (props.fromIdentities !== undefined || props.fromNamespaces !== undefined)) {
    throw configError(control, at(props.fromIdentities !== undefined ? 'fromIdentities' : 'fromNamespaces'), (props.fromIdentities ?? []).map(i => `${i.namespace}/${i.serviceAccountName}`).concat(props.fromNamespaces ?? []),
      'a sidecar cannot tell callers apart on the way out: route the host through the egress gateway (EgressRoute.viaGateway*) to admit only these callers, or leave them unset to scope the host to this namespace');
  }
  const identities = props.fromIdentities ?? [];
  const namespaces = props.fromNamespaces ?? (identities.length ? [] : [control.namespace]);
  namespaces.forEach((n, i) => {
    if (!isDnsLabel(n)) throw configError(control, at(`fromNamespaces[${i}]`), n, 'use a namespace name');
  });
  requireUnique(control, at('fromNamespaces'), namespaces);
  if (enforced && identities.length === 0 && namespaces.length === 0) {
    throw configError(control, at('fromNamespaces'), [], 'admit at least one namespace or identity, or the host is unreachable');
  }
  const principals = identities.map(i => i.principal(control));
  requireUnique(control, at('fromIdentities'), principals);
  const callers = [...namespaces, ...identities.map(i => i.namespace)];
  if (route.viaEgressGateway) {
    // The route and the DestinationRule subset to the gateway are this namespace's; other namespaces' sidecars lack them.
    const outside = callers.filter(n => n !== control.namespace);
    if (outside.length) {
      throw configError(control, at(props.fromNamespaces?.some(n => n !== control.namespace) ? 'fromNamespaces' : 'fromIdentities'), outside,
        `through the egress gateway only callers in namespace '${control.namespace}' can be admitted: allow the host in the EgressControl of the other namespace too`);
    }
  }

  const upstream = JSON.stringify({
    mode,
    servingHost: servingHost?.name,
    ports: ports.map(p => [p.port, p.protocol, p.targetPort]),
    targetPort,
    resolution,
    endpoints,
    addresses,
    tls,
  });
  if (route.viaEgressGateway) {
    // The gateway has one server per host, and keeps one ServiceEntry per host (the oldest, whichever namespace's) with
    // that namespace's TLS rule: another namespace's definition would apply to this one's traffic, or the reverse.
    const server = appRegistry<GatewayServer>(control, 'EgressGatewayServer').get(gatewayServerKey(control, host));
    if (server && server.upstream !== upstream) {
      throw configError(control, at('route'), mode,
        `${server.owner.node.path} routes ${host.name} through the same egress gateway defined otherwise (route, serving host, ports, TLS origination, `
        + 'resolution or endpoints), and the gateway keeps one definition per host for every namespace: define it the same way');
    }
  }

  // Who must see the ServiceEntry and routes: this namespace, the gateway that forwards, the callers' namespaces.
  const needed = new Set<string>([control.namespace]);
  if (route.viaEgressGateway) needed.add(control.egressGateway.namespace);
  if (enforced) callers.forEach(n => needed.add(n));
  const exportTo = props.exportTo === undefined
    ? [...needed].map(n => (n === control.namespace ? '.' : n))
    : checkExportTo(control, at('exportTo'), props.exportTo, needed);
  if (route.viaEgressGateway && props.exportTo !== undefined) {
    // Other namespaces would take the route to the gateway's subset without its DestinationRule (exported to '.' only),
    // and the gateway admits none of their callers.
    const wider = exportTo.filter(e => e !== '.' && !needed.has(e));
    if (wider.length) {
      throw configError(control, at('exportTo'), wider,
        `through the egress gateway the host serves namespace '${control.namespace}' only (the gateway's namespace sees it too): allow it in the other namespaces' EgressControls instead`);
    }
  }

  return {
    host,
    ports,
    targetPort,
    resolution,
    endpoints,
    addresses,
    route,
    principals,
    namespaces,
    exportTo,
    tls,
    servingHost,
    gatewayService,
    callerNamespaces: [...new Set(callers)],
    upstream,
  };
}

/** The egress gateway's server for one host: shared by every namespace that routes the host through the gateway. */
interface GatewayServer {
  gateway?: ApiObject;
  readonly owner: IConstruct;
  /** How the host is defined and routed, which every namespace sharing the server must agree on. */
  readonly upstream: string;
  /** The hosts the server serves (the host, and the serving host of a wildcard), unqualified. */
  readonly hosts: string[];
  /** The namespaces whose routes bind to it. */
  readonly namespaces: string[];
}

function gatewayServerKey(control: EgressControl, host: Host): string {
  const gateway = control.egressGateway;
  return `${gateway.namespace}/${JSON.stringify(gateway.labels)}/${host.name}`;
}

function gatewayServerHosts(host: Host, servingHost: Host | undefined): string[] {
  return [host.name, ...(servingHost && !covers(host.name, servingHost.name) ? [servingHost.name] : [])];
}

function sharedGatewayServer(control: EgressControl, plan: Plan): GatewayServer {
  return appSingleton<GatewayServer>(control, 'EgressGatewayServer', gatewayServerKey(control, plan.host), () => ({
    owner: control,
    upstream: plan.upstream,
    hosts: gatewayServerHosts(plan.host, plan.servingHost),
    namespaces: [],
  }));
}

function requirePort(scope: IConstruct, prop: string, port: number): number {
  requireInteger(scope, prop, port, 1);
  if (port > 65535) throw configError(scope, prop, port, 'use a port from 1 to 65535');
  return port;
}

function validatePorts(scope: IConstruct, prop: string, ports: ServicePort[]): void {
  if (ports.length === 0) throw configError(scope, prop, [], 'give at least one port, such as ServicePort.https(443)');
  const protocols = Object.values(PortProtocol) as string[];
  ports.forEach((p, i) => {
    if (!protocols.includes(p?.protocol)) {
      throw configError(scope, `${prop}[${i}].protocol`, p?.protocol, 'give every port its protocol, for example ServicePort.https(443) or ServicePort.of(5432, PortProtocol.TCP)');
    }
    p._validate(scope, `${prop}[${i}]`);
  });
  requireUnique(scope, `${prop}.port`, ports.map(p => String(p.port)));
  requireUnique(scope, `${prop}.name`, ports.map(p => p.name));
}

function validateResolution(
  scope: IConstruct, at: (prop: string) => string, host: Host, resolution: ServiceEntryResolution,
  endpoints: ExternalEndpoint[], addresses: string[], ports: ServicePort[],
): void {
  if (!Object.values(ServiceEntryResolution).includes(resolution)) {
    throw configError(scope, at('resolution'), resolution, 'use a ServiceEntryResolution');
  }
  const dns = resolution === ServiceEntryResolution.DNS || resolution === ServiceEntryResolution.DNS_ROUND_ROBIN;
  if (host.isWildcard && dns) {
    throw configError(scope, at('resolution'), resolution, 'a wildcard host cannot be resolved in DNS: use ServiceEntryResolution.NONE (or STATIC with endpoints)');
  }
  if (resolution === ServiceEntryResolution.STATIC && endpoints.length === 0) {
    throw configError(scope, at('endpoints'), [], 'STATIC resolution needs the endpoints\' IP addresses');
  }
  if (resolution === ServiceEntryResolution.NONE && endpoints.length > 0) {
    throw configError(scope, at('endpoints'), endpoints.map(e => e.address), 'endpoints need STATIC or DNS resolution');
  }
  // Without addresses, a port that is neither HTTP nor TLS is told apart by its number only, and with NONE the proxy
  // forwards it to whatever IP the caller dialled: REGISTRY_ONLY would then admit every destination on that port.
  const opaque = ports.filter(isOpaque);
  if (resolution === ServiceEntryResolution.NONE && addresses.length === 0 && opaque.length > 0) {
    throw configError(scope, at('resolution'), resolution,
      `port ${opaque[0].port} (${opaque[0].protocol}) would be forwarded to any IP address the caller dials, so every destination on it would be allowed: give the host's addresses, or use DNS (or STATIC) resolution`);
  }
  if (resolution === ServiceEntryResolution.DNS_ROUND_ROBIN && endpoints.length > 1) {
    throw configError(scope, at('endpoints'), endpoints.map(e => e.address), 'DNS_ROUND_ROBIN takes at most one endpoint: use DNS resolution for several');
  }
  const portNames = ports.map(p => p.name);
  endpoints.forEach((e, i) => {
    const ok = resolution === ServiceEntryResolution.STATIC ? isIP(e.address) !== 0 : isIP(e.address) !== 0 || isDnsSubdomain(e.address);
    if (!ok) {
      throw configError(scope, at(`endpoints[${i}].address`), e.address,
        resolution === ServiceEntryResolution.STATIC ? 'STATIC endpoints are IP addresses' : 'use an IP address or a domain name');
    }
    for (const [name, port] of Object.entries(e.ports ?? {})) {
      if (!portNames.includes(name)) {
        throw configError(scope, at(`endpoints[${i}].ports`), name, `name one of the allowed ports (${portNames.join(', ')})`);
      }
      requirePort(scope, at(`endpoints[${i}].ports.${name}`), port);
    }
  });
  requireUnique(scope, at('endpoints'), endpoints.map(e => e.address));
  addresses.forEach((a, i) => {
    const [ip, bits, extra] = a.split('/');
    const family = isIP(ip);
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (family === 0 || !validBits || extra !== undefined) {
      throw configError(scope, at(`addresses[${i}]`), a, 'use an IP address or a CIDR block such as 10.0.0.0/24');
    }
    if (bits !== undefined && resolution !== ServiceEntryResolution.NONE && resolution !== ServiceEntryResolution.STATIC) {
      throw configError(scope, at(`addresses[${i}]`), a, 'CIDR blocks need NONE or STATIC resolution');
    }
  });
  requireUnique(scope, at('addresses'), addresses);
}

function checkExportTo(scope: IConstruct, prop: string, exportTo: string[], needed: Set<string>): string[] {
  exportTo.forEach((e, i) => {
    if (e !== '.' && e !== '*' && !isDnsLabel(e)) throw configError(scope, `${prop}[${i}]`, e, 'use \'.\', \'*\' or a namespace name');
  });
  const [own] = needed;
  // As istiod validates it: '.' is the own namespace, and '*' stands alone.
  requireUnique(scope, prop, exportTo.map(e => (e === own ? '.' : e)));
  if (exportTo.includes('*')) {
    if (exportTo.length > 1) throw configError(scope, prop, exportTo, 'istiod refuses \'*\' beside other values: export to \'*\' alone, or to namespaces');
    return [...exportTo];
  }
  const missing = [...needed].filter(n => !exportTo.includes(n) && !(n === own && exportTo.includes('.')));
  if (missing.length) {
    throw configError(scope, prop, exportTo, `also export to ${missing.map(n => (n === own ? '\'.\'' : `'${n}'`)).join(', ')}: the workloads, the egress gateway and the allowed callers must see the host`);
  }
  return [...exportTo];
}

function isOpaque(port: ServicePort): boolean {
  return !port.isHttp && port.protocol !== PortProtocol.TLS && port.protocol !== PortProtocol.HTTPS;
}

/** The ports a sidecar tells apart by number only (it binds them on 0.0.0.0 when the host has no addresses). */
function portsByNumberOnly(ports: ServicePort[], addresses: string[]): number[] {
  return addresses.length ? [] : ports.filter(isOpaque).map(p => p.port);
}
