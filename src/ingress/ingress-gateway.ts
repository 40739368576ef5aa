import { ApiObject, Chart, Duration, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { appRegistry } from '../_app-registry';
import { configError } from '../_errors';
import { objectProps } from '../_object-props';
import { requireDnsLabel } from '../_validate';
import * as gatewayapi from '../imports/gateway-api';
import * as networking from '../imports/istio-networking';
import { GatewayWorkload } from '../mesh/gateway-workload';
import { Host } from '../mesh/host';
import { Mesh, TrafficApi, requireGatewayApi, revisionLabel } from '../mesh/mesh';
import { addGatewayDeployment, gatewayDeploymentKey, tcp } from '../security/_network-policy';
import { HostRouting, RoutePriority } from '../traffic/host-routing';
import { RequestMatch } from '../traffic/request-match';

/** Minimum TLS version a gateway accepts. */
export enum TlsVersion {
  /** TLS 1.2. */
  TLS_1_2 = 'TLSV1_2',
  /** TLS 1.3. */
  TLS_1_3 = 'TLSV1_3',
}

/** Options of TLS terminated at the gateway. */
export interface IngressTlsOptions {
  /**
   * The oldest TLS version accepted.
   * @default TlsVersion.TLS_1_2
   */
  readonly minProtocolVersion?: TlsVersion;
  /**
   * Redirect plain HTTP on port 80 to HTTPS.
   * @default true
   */
  readonly httpsRedirect?: boolean;
}

/**
 * How an ingress gateway serves a host.
 * @see https://istio.io/latest/docs/reference/config/networking/gateway/#ServerTLSSettings
 */
export class IngressTls {
  /**
   * TLS terminated at the gateway with the certificate in Secret `credentialName`: in the namespace of the gateway's
   * pods with the Istio API (`istio-system` for the default ingress gateway), in the Gateway's with the Gateway API.
   */
  public static simple(credentialName: string, options: IngressTlsOptions = {}): IngressTls {
    return new IngressTls('SIMPLE', credentialName, options);
  }
  /**
   * TLS passed through to the service by SNI; the gateway does not see HTTP, so the host is routed by a VirtualService
   * `tls` route of your own (`addRoute` and CanaryService's `ingress` route HTTP, and refuse it).
   */
  public static passthrough(): IngressTls {
    return new IngressTls('PASSTHROUGH', undefined, { httpsRedirect: false });
  }
  /** Plain HTTP only: for hosts whose TLS ends before the gateway (a cloud load balancer). */
  public static none(): IngressTls {
    return new IngressTls('NONE', undefined, { httpsRedirect: false });
  }

  private constructor(
    /** The TLS mode, or `NONE`. */
    public readonly mode: string,
    /** The Secret holding the certificate. */
    public readonly credentialName: string | undefined,
    private readonly options: IngressTlsOptions,
  ) {}

  /** Whether port 80 redirects to HTTPS. */
  public get httpsRedirect(): boolean {
    return this.mode === 'SIMPLE' && (this.options.httpsRedirect ?? true);
  }

  /** @internal */
  public get _minProtocolVersion(): TlsVersion {
    return this.options.minProtocolVersion ?? TlsVersion.TLS_1_2;
  }

  /** @internal */
  public _render(): any {
    return {
      mode: this.mode,
      ...(this.credentialName ? { credentialName: this.credentialName } : {}),
      minProtocolVersion: this._minProtocolVersion,
    };
  }
}

/** @internal Why HTTP routes cannot serve a passthrough host. */
export const PASSTHROUGH_HAS_NO_HTTP = 'the gateway passes the host\'s TLS connections through unopened, so HTTP routes never apply to them: '
  + 'terminate TLS at the gateway (IngressTls.simple), or route the host by SNI with a VirtualService tls route of your own';

/** Properties of an {@link IngressGateway}. */
export interface IngressGatewayProps {
  /**
   * The Gateway's name.
   * @default - generated from the construct path
   */
  readonly name?: string;
  /**
   * The Gateway's namespace.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * The gateway deployment to configure (Istio API only: with the Gateway API, Istio deploys the gateway itself).
   * @default - the Mesh's ingress gateway
   */
  readonly workload?: GatewayWorkload;
  /**
   * The traffic API: an Istio Gateway, or a Gateway API Gateway of class `istio`.
   * @default - the Mesh's traffic API
   */
  readonly trafficApi?: TrafficApi;
}

/** Options of {@link IngressGateway.addRoute}. */
export interface IngressRouteOptions {
  /**
   * Requests whose path starts with this prefix take the route.
   * @default '/'
   */
  readonly pathPrefix?: string;
  /**
   * Overall timeout of a request on the route. The route also takes the service's retries, and this timeout when
   * unset, from its request policy (a ResilientUpstream's): the gateway uses none of the service's own routes.
   * @default - the service's request policy, else no timeout
   */
  readonly timeout?: Duration;
}

/** Where Istio's gateways report readiness, for the load balancer's health checks. */
const GATEWAY_STATUS_PORT = 15021;

interface ServedHost {
  readonly host: string;
  readonly routeNamespace: string;
  readonly tls: IngressTls;
}

/**
 * An ingress gateway with one server (Istio) or listener (Gateway API) per host.
 *
 * With the Istio API, server hosts are qualified with the namespace allowed to route them (`ns/host`); with the
 * Gateway API, each listener admits routes from that namespace only. Either way a route in another namespace
 * cannot take over a host.
 * @see https://istio.io/latest/docs/reference/config/networking/gateway/
 * @see https://istio.io/latest/docs/tasks/traffic-management/ingress/gateway-api/
 */
export class IngressGateway extends Construct {
  /** The Gateway object. */
  public readonly gateway: ApiObject;
  /**
   * The gateway deployment it configures: with the Gateway API, the one Istio deploys for the Gateway (`<name>-istio`
   * in its namespace), which `Source.ingressGateway({ gateway: workload })` admits.
   */
  public readonly workload: GatewayWorkload;
  /** The traffic API of the gateway. */
  public readonly trafficApi: TrafficApi;
  private _redirectRoute?: ApiObject;
  private readonly hosts: ServedHost[] = [];
  private readonly prefixes = new Map<string, string[]>();
  private readonly backendNamespaces = new Set<string>();

  public constructor(scope: Construct, id: string, props: IngressGatewayProps = {}) {
    super(scope, id);
    this.trafficApi = props.trafficApi ?? Mesh.of(this).trafficApi;
    const gatewayApi = this.trafficApi === TrafficApi.GATEWAY_API;
    if (gatewayApi) requireGatewayApi(this, 'trafficApi');
    if (gatewayApi && props.workload) {
      throw configError(this, 'workload', props.workload.labels, 'with the Gateway API, Istio deploys the gateway for the Gateway object: drop workload');
    }
    this.gateway = new ApiObject(this, 'Resource', objectProps(gatewayApi ? gatewayapi.Gateway.GVK : networking.Gateway.GVK, {
      metadata: {
        ...(props.name === undefined ? {} : { name: requireDnsLabel(this, 'name', props.name) }),
        ...(props.namespace === undefined ? {} : { namespace: requireDnsLabel(this, 'namespace', props.namespace) }),
        ...(gatewayApi ? { labels: revisionLabel(this) } : {}),
      },
      spec: Lazy.any({ produce: () => gatewayApi ? this.renderGatewayApiSpec() : this.renderSpec() }),
    }));
    if (gatewayApi && this.gateway.name.length > 57) {
      // Istio names the Deployment and Service `<name>-istio`, which must stay a DNS label (istio#58941).
      this.node.tryRemoveChild(this.gateway.node.id);
      throw configError(this, 'name', this.gateway.name, 'Istio deploys a Gateway API gateway as <name>-istio, so the name has at most 57 characters: give a shorter name');
    }
    this.workload = gatewayApi
      ? GatewayWorkload.forGatewayApi(this.gateway.name, this.gateway.metadata.namespace ?? Chart.of(this).namespace ?? 'default')
      : props.workload ?? Mesh.of(this).ingressGateway;
    this.node.addValidation({ validate: () => this.hosts.length ? [] : [`${this.node.path}: the gateway serves no host: call addHost()`] });
    this.declareDeployment(gatewayApi);
  }

  /**
   * Declares the gateway's pods to a ZeroTrustNamespace of their namespace, whose default-deny NetworkPolicy would
   * otherwise isolate them: clients come from anywhere, and the gateway connects to its backends' namespaces.
   */
  private declareDeployment(gatewayApi: boolean): void {
    addGatewayDeployment<IngressGateway>(this, 'IngressGatewayDeployment', this.workload, this, sharing => ({
      // Istio deploys a Gateway API gateway listening on the listener ports, with its status port for the load
      // balancer's health checks; an Istio API gateway's target ports are its own deployment's.
      ingress: () => [{ peers: [], ports: gatewayApi ? tcp(...new Set(sharing.flatMap(g => g.listenerPorts())), GATEWAY_STATUS_PORT) : undefined }],
      egress: () => {
        const namespaces = [...new Set(sharing.flatMap(g => [...g.backendNamespaces]))];
        return namespaces.length ? [{ peers: namespaces.map(namespace => ({ namespace })) }] : [];
      },
    }));
  }

  private listenerPorts(): number[] {
    return [
      ...this.hosts.some(h => h.tls.mode === 'NONE' || h.tls.httpsRedirect) ? [80] : [],
      ...this.hosts.some(h => h.tls.mode !== 'NONE') ? [443] : [],
    ];
  }

  /** The reference a VirtualService uses: `namespace/name`. */
  public get ref(): string {
    return `${this.gateway.metadata.namespace ?? Chart.of(this).namespace ?? 'default'}/${this.gateway.name}`;
  }

  /**
   * Serves `host` with `tls`, for VirtualServices in `routeNamespace`.
   * @param host a public FQDN or wildcard
   * @param routeNamespace the namespace whose VirtualServices may route this host
   * @param tls how TLS is handled
   */
  public addHost(host: string, routeNamespace: string, tls: IngressTls): void {
    Host.parseExternal(this, host);
    if (this.hosts.some(h => h.host === host)) throw configError(this, 'host', host, 'serve each host once per gateway');
    if (tls.mode === 'SIMPLE' && !tls.credentialName) throw configError(this, 'tls.credentialName', undefined, 'name the Secret holding the certificate');
    if (this.trafficApi === TrafficApi.GATEWAY_API) {
      if (tls.mode === 'PASSTHROUGH') throw configError(this, 'tls', 'PASSTHROUGH', 'TLS passthrough needs a TLSRoute, which the Gateway API has only in its Experimental channel: use the Istio traffic API');
      if (tls._minProtocolVersion !== TlsVersion.TLS_1_2) {
        throw configError(this, 'tls.minProtocolVersion', tls._minProtocolVersion, 'the Gateway API has no field for the minimum TLS version: use the Istio traffic API');
      }
    }
    if (this.trafficApi === TrafficApi.GATEWAY_API) {
      // The CRDs' limits: 64 listeners per Gateway, 16 hostnames per HTTPRoute (the redirect route lists every
      // redirected host).
      const listeners = this.hosts.reduce((n, h) => n + (h.tls.httpsRedirect ? 2 : 1), 0) + (tls.httpsRedirect ? 2 : 1);
      const redirected = this.hosts.filter(h => h.tls.httpsRedirect).length + (tls.httpsRedirect ? 1 : 0);
      if (listeners > 64 || redirected > 16) {
        throw configError(this, 'host', host,
          'a Gateway API Gateway takes at most 64 listeners (a redirected HTTPS host takes 2) and its redirect route 16 hosts: serve more hosts from another IngressGateway');
      }
    }
    const namespace = requireDnsLabel(this, 'routeNamespace', routeNamespace);
    if (this.trafficApi === TrafficApi.ISTIO) this.claimServers(host, tls);
    this.hosts.push({ host, routeNamespace: namespace, tls });
    this.backendNamespaces.add(namespace);
    if (tls.httpsRedirect && this.trafficApi === TrafficApi.GATEWAY_API) this.ensureRedirectRoute();
  }

  /**
   * Serves `host` for a construct exposing a service (CanaryService's ingress option), unless it is served already
   * the same way (for routes added to the gateway first): the routes then meet as when added the other way round.
   * @internal
   */
  public _serveHost(owner: IConstruct, host: string, routeNamespace: string, tls: IngressTls): void {
    const served = this.hosts.find(h => h.host === host);
    if (!served) return this.addHost(host, routeNamespace, tls);
    const settings = (namespace: string, t: IngressTls) => JSON.stringify({ namespace, ...t._render(), httpsRedirect: t.httpsRedirect });
    if (settings(served.routeNamespace, served.tls) !== settings(routeNamespace, tls)) {
      throw configError(owner, 'ingress.hosts', host,
        `${this.node.path} already serves it with other settings (${settings(served.routeNamespace, served.tls)}): give the same TLS and namespace, or serve another host`);
    }
  }

  /**
   * Routes requests for `host` whose path starts with `pathPrefix` to a service port, at this gateway only (the
   * host exists at the edge, not in the mesh). Add longer prefixes before shorter ones.
   * @param host a host served with `addHost`
   * @param service the Kubernetes service to send to
   * @param port the service port
   * @example
   * gateway.addHost('shop.example.com', 'shop', IngressTls.simple('shop-cert'));
   * gateway.addRoute('shop.example.com', Host.service(chart, 'api', 'shop'), 8080, { pathPrefix: '/api' });
   * gateway.addRoute('shop.example.com', Host.service(chart, 'web', 'shop'), 8080);
   * @returns the routing of the public host
   */
  public addRoute(host: string, service: Host, port: number, options: IngressRouteOptions = {}): HostRouting {
    const served = this.hosts.find(h => h.host === host);
    if (!served) throw configError(this, 'host', host, 'serve the host with addHost() before routing it');
    if (served.tls.mode === 'PASSTHROUGH') throw configError(this, 'host', host, PASSTHROUGH_HAS_NO_HTTP);
    if (!service.serviceName) throw configError(this, 'service', service.name, 'route to a Kubernetes service (Host.service or Host.fromService)');
    const prefix = options.pathPrefix ?? '/';
    if (!prefix.startsWith('/')) throw configError(this, 'pathPrefix', prefix, 'start the path prefix with /');
    const earlier = this.prefixes.get(host) ?? [];
    const shadow = earlier.find(p => prefix.startsWith(p));
    if (shadow) throw configError(this, 'pathPrefix', prefix, `the earlier prefix '${shadow}' takes these requests first: add longer prefixes before shorter ones`);
    this.prefixes.set(host, [...earlier, prefix]);

    if (service.namespace) this.backendNamespaces.add(service.namespace);
    const routing = HostRouting.of(this, Host.parseExternal(this, host));
    routing.useTrafficApi(this, this.trafficApi);
    if (routing.namespace !== served.routeNamespace) {
      throw configError(this, 'host', host, `the gateway admits routes for it from namespace '${served.routeNamespace}', but they would be created in '${routing.namespace}'`);
    }
    routing.bindGateway(this, this.ref, [], this._listenersFor(host), false);
    // Checked at synth: the service's own routing may be declared after this route.
    this.node.addValidation({
      validate: () => {
        const owner = appRegistry<HostRouting>(this, 'HostRouting').get(service.name)?._versionRoutingOwner;
        return owner ? [`${this.node.path}: the route for ${host}${prefix === '/' ? '' : prefix} goes to ${service.name}, whose versions and routes ${owner.node.path} sets, and a gateway uses only the routes bound to it, so they would be skipped: expose the service through ${owner.node.path} (its ingress option) instead`] : [];
      },
    });
    const name = prefix === '/' ? 'root' : `prefix${prefix.replace(/[^a-zA-Z0-9]+/g, '-')}`.replace(/-+$/, '').toLowerCase();
    routing.addRoute(this, {
      name,
      matches: prefix === '/' ? undefined : [RequestMatch.pathPrefix(prefix)],
      destinations: [{ host: service, port, weight: 100 }],
      timeout: options.timeout,
    }, prefix === '/' ? RoutePriority.DEFAULT : RoutePriority.MATCHED);
    return routing;
  }

  /**
   * Istio merges the servers of every Gateway selecting one deployment, and of two servers for one host and port it
   * keeps one: so each host and port belongs to one IngressGateway per deployment.
   */
  private claimServers(host: string, tls: IngressTls): void {
    const ports = tls.mode === 'NONE' ? [80] : tls.httpsRedirect ? [80, 443] : [443];
    const deployment = gatewayDeploymentKey(this.workload);
    const servers = appRegistry<IngressGateway>(this, 'GatewayServer');
    for (const port of ports) {
      const other = servers.get(`${deployment}|${port}|${host}`);
      if (other && other !== this) {
        throw configError(this, 'host', host,
          `${other.node.path} already serves it on port ${port} of the same gateway deployment (${deployment}), and Istio would keep only one of the two servers: add the routes to that gateway (the ingress option's gateway)`);
      }
    }
    for (const port of ports) servers.set(`${deployment}|${port}|${host}`, this);
  }

  /**
   * The Gateway API listeners that routes for `host` attach to (its HTTPS listener, or HTTP for plain hosts).
   * @internal
   */
  public _listenersFor(host: string): string[] {
    if (this.trafficApi !== TrafficApi.GATEWAY_API) return [];
    const i = this.hosts.findIndex(h => h.host === host);
    return i < 0 ? [] : [this.hosts[i].tls.mode === 'NONE' ? `http-${i}` : `https-${i}`];
  }

  /** With the Gateway API, the HTTPRoute that redirects HTTP to HTTPS, once a host asks for it. */
  public get redirectRoute(): ApiObject | undefined {
    return this._redirectRoute;
  }

  private ensureRedirectRoute(): void {
    if (this._redirectRoute) return;
    this._redirectRoute = new ApiObject(this, 'Redirect', objectProps(gatewayapi.HttpRoute.GVK, {
      metadata: this.gateway.metadata.namespace ? { namespace: this.gateway.metadata.namespace } : {},
      spec: Lazy.any({ produce: () => this.renderRedirect() }),
    }));
    this._redirectRoute.node.addDependency(this.gateway);
  }

  private renderRedirect(): any {
    const redirected = this.hosts.map((h, i) => ({ h, i })).filter(({ h }) => h.tls.httpsRedirect);
    return {
      parentRefs: redirected.map(({ i }) => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: this.gateway.name, sectionName: `http-${i}` })),
      hostnames: redirected.map(({ h }) => h.host),
      rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
    };
  }

  private renderGatewayApiSpec(): any {
    const allowFrom = (namespace: string) => ({
      namespaces: { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } },
    });
    const listeners = this.hosts.flatMap((h, i) => {
      const http = { name: `http-${i}`, hostname: h.host, port: 80, protocol: 'HTTP' };
      if (h.tls.mode === 'NONE') return [{ ...http, allowedRoutes: allowFrom(h.routeNamespace) }];
      const https = {
        name: `https-${i}`,
        hostname: h.host,
        port: 443,
        protocol: 'HTTPS',
        tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: h.tls.credentialName }] },
        allowedRoutes: allowFrom(h.routeNamespace),
      };
      // The plain-HTTP listener only carries this gateway's own redirect route.
      return h.tls.httpsRedirect ? [{ ...http, allowedRoutes: { namespaces: { from: 'Same' } } }, https] : [https];
    });
    return { gatewayClassName: 'istio', listeners };
  }

  private renderSpec(): any {
    const servers: any[] = [];
    const qualified = (h: ServedHost) => `${h.routeNamespace}/${h.host}`;
    const plain = this.hosts.filter(h => h.tls.mode === 'NONE');
    const redirected = this.hosts.filter(h => h.tls.httpsRedirect);
    if (plain.length) servers.push({ name: 'http', port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: plain.map(qualified) });
    if (redirected.length) {
      servers.push({ name: 'http-redirect', port: { number: 80, name: 'http-redirect', protocol: 'HTTP' }, hosts: redirected.map(qualified), tls: { httpsRedirect: true } });
    }
    this.hosts.filter(h => h.tls.mode !== 'NONE').forEach((h, i) => {
      const protocol = h.tls.mode === 'PASSTHROUGH' ? 'TLS' : 'HTTPS';
      const name = `${protocol.toLowerCase()}-${i}`;
      servers.push({ name, port: { number: 443, name, protocol }, hosts: [qualified(h)], tls: h.tls._render() });
    });
    return { selector: { ...this.workload.labels }, servers };
  }
}
