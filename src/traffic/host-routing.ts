import { ApiObject, Chart, Duration, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { appRegistry, appSingleton } from '../_app-registry';
import { appScan } from '../_app-scan';
import { istioDuration } from '../_duration';
import { configError } from '../_errors';
import { registerSpecSource, synthesizedSpec } from '../_spec-source';
import { requirePercent, requireWholePercent } from '../_validate';
import { renderHttpRoute } from './_gateway-api';
import { RouteEntry, RoutingModel, buildRoutingModel } from './_routing-model';
import { renderVirtualService } from './_virtual-service';
import { FaultInjection } from './fault-injection';
import { RequestMatch } from './request-match';
import { RetryPolicy } from './retry-policy';
import { TRAFFIC_POLICY_FIELDS, TrafficPolicy, renderTrafficPolicy } from './traffic-policy';
import { objectProps } from '../_object-props';
import { USE_WAYPOINT_LABEL } from '../ambient/waypoint';
import * as gatewayapi from '../imports/gateway-api';
import * as networking from '../imports/istio-networking';
import { dataplaneOfNamespace } from '../mesh/_namespace-dataplane';
import { Host } from '../mesh/host';
import { DataplaneMode, Mesh, TrafficApi, requireGatewayApi } from '../mesh/mesh';
import { ServicePort, servicePortOfSpec } from '../mesh/service-port';

/** One weighted destination of a route. */
export interface RouteDestination {
  /**
   * The subset (version) to send to.
   * @default - every endpoint of the host
   */
  readonly subset?: string;
  /** Share of the route's traffic, 0-100; the weights of a route sum to 100. */
  readonly weight: number;
  /**
   * Another host to send to (an ingress host's route to a service).
   * @default - the routed host itself
   */
  readonly host?: Host;
  /**
   * The destination port.
   * @default - the port the request came in on, named when the Service has several
   */
  readonly port?: number;
  /**
   * Response headers added when this destination answers (for example a cookie pinning the caller to it).
   * @default - none
   */
  readonly responseHeaders?: { [name: string]: string };
}

/** An HTTP route of a host: which requests it takes and where they go. */
export interface HttpRoute {
  /** The route's name, unique within the host; it shows in access logs and metrics. */
  readonly name: string;
  /**
   * The requests this route takes; several matches are OR-ed.
   * @default - every request
   */
  readonly matches?: RequestMatch[];
  /** Where the requests go. */
  readonly destinations: RouteDestination[];
  /**
   * Subset that receives a copy of the route's traffic; its responses are discarded.
   * @default - no mirroring
   */
  readonly mirrorSubset?: string;
  /**
   * Percentage of the route's requests mirrored.
   * @default 100
   */
  readonly mirrorPercentage?: number;
  /**
   * Overall timeout of a request on this route.
   * @default - the host's request policy
   */
  readonly timeout?: Duration;
  /**
   * Retries on this route.
   * @default - the host's request policy
   */
  readonly retries?: RetryPolicy;
}

/** Timeouts and retries applied to every route of a host that does not set its own. */
export interface RequestPolicy {
  /**
   * Overall timeout of a request, retries included.
   * @default - no timeout
   */
  readonly timeout?: Duration;
  /**
   * Retries.
   * @default - Istio's default (2 attempts)
   */
  readonly retries?: RetryPolicy;
}

/** A fault injected into a host's traffic. */
export interface FaultRule {
  /** The fault. */
  readonly fault: FaultInjection;
  /**
   * Requests that get the fault; normally a test header so only test traffic is affected.
   * @default - every request (requires `allowUnscoped`)
   */
  readonly matches?: RequestMatch[];
}

/** Where a route goes among a host's routes. */
export enum RoutePriority {
  /** Fault-injection routes for test traffic: first. */
  FAULT = 0,
  /** Routes with matches (A/B, header routing): ahead of the default. */
  MATCHED = 1,
  /** The catch-all route: last. */
  DEFAULT = 2,
}

interface Contribution<T> {
  readonly value: T;
  readonly owner: IConstruct;
}

interface SubsetEntry {
  readonly labels: { [key: string]: string };
  readonly owner: IConstruct;
}

type PolicyFields = Map<string, Contribution<unknown>>;

/**
 * The routing of one host: its single VirtualService and DestinationRule (or, with the Gateway API, its HTTPRoute
 * per port and the DestinationRules of its per-version Services).
 *
 * Istio merges nothing: two VirtualServices for the same host conflict, and a route to a subset that no
 * DestinationRule defines returns 503. So every construct that configures a host (canary, resilience, fault
 * injection, ingress exposure) contributes to the one HostRouting of that host in the app, found with
 * `HostRouting.of()`, and conflicting contributions fail at synth naming both constructs. The routes are kept as
 * data and rendered for the traffic API in force.
 */
export class HostRouting extends Construct {
  /**
   * The routing of `host` in this app, created in `scope`'s chart on first use.
   * @param scope any construct of the app
   * @param host the host
   */
  public static of(scope: IConstruct, host: Host): HostRouting {
    return appSingleton(scope, 'HostRouting', host.name,
      () => new HostRouting(Chart.of(scope), `Routing-${host.name.replace(/[^a-zA-Z0-9-]/g, '-')}`, host));
  }

  /** The host routed. */
  public readonly host: Host;
  /** The namespace the VirtualService and DestinationRule live in: the service's own, else the chart's. */
  public readonly namespace: string;

  private _virtualService?: ApiObject;
  private _destinationRule?: ApiObject;
  // Gateway API: one HTTPRoute per HTTP port ('' when the port need not be named), one DestinationRule per backend.
  private readonly httpRouteObjects = new Map<string, ApiObject>();
  private readonly backendRules = new Map<string, ApiObject>();
  private readonly subsetBackends = new Map<string, string>();
  private readonly routeDependencies: IConstruct[] = [];
  private readonly backends: IConstruct[] = [];
  private trafficApi?: Contribution<TrafficApi>;
  private edgeOnly = false;
  private readonly referenceGrants = new Map<string, ApiObject>();
  private readonly renderFns = new Map<ApiObject, () => any>();
  /** Bumped by every change, so a validation renders again only when something changed. */
  private revision = 0;
  private renderedRevision = '';
  private renderErrors: string[] = [];
  private rendered = new Map<ApiObject, any>();
  private readonly subsets = new Map<string, SubsetEntry>();
  private readonly policy: PolicyFields = new Map();
  // Per-subset policies may be declared before the subset (a resilience policy created before the canary).
  private readonly subsetPolicies = new Map<string, PolicyFields>();
  private readonly routes: RouteEntry[] = [];
  private readonly gateways = new Map<string, string[]>();
  private readonly extraHosts = new Set<string>();
  private requestPolicy?: Contribution<RequestPolicy>;
  private ports?: Contribution<ServicePort[]>;
  private controller?: Contribution<string>;

  private constructor(scope: Construct, id: string, host: Host) {
    super(scope, id);
    this.host = host;
    this.namespace = host.namespace ?? Chart.of(this).namespace ?? 'default';
    // Render in validation, so bad combinations fail synth with the construct path rather than inside a Lazy.
    this.node.addValidation({ validate: () => [...this.renderAll(), ...this.waypointErrors()] });
  }

  /** The traffic API the host is rendered with. */
  public get api(): TrafficApi {
    return this.trafficApi?.value ?? Mesh.of(this).trafficApi;
  }

  /**
   * Chooses the traffic API for this host, overriding the Mesh's; every construct configuring the host must agree.
   */
  public useTrafficApi(owner: IConstruct, api: TrafficApi): void {
    this.revision++;
    this.checkClaim(owner, 'trafficApi');
    if (api === TrafficApi.GATEWAY_API) requireGatewayApi(owner, 'trafficApi');
    if (this.trafficApi && this.trafficApi.value !== api) {
      throw configError(owner, 'trafficApi', api, `${this.trafficApi.owner.node.path} renders ${this.host.name} with ${this.trafficApi.value}: use one traffic API per host`);
    }
    if (!this.trafficApi && api !== this.api && (this._virtualService || this._destinationRule || this.httpRouteObjects.size)) {
      throw configError(owner, 'trafficApi', api, `${this.host.name} is already configured with ${this.api}: choose the traffic API before adding routes or policies`);
    }
    this.trafficApi = { value: api, owner };
  }

  /**
   * Hands the host's routing to a progressive-delivery controller (Flagger, Argo Rollouts), which rewrites it at run
   * time. From then on only `owner` may configure the host: a construct that configured it before, or tries to
   * after, fails naming both, since the controller would overwrite (or fight over) what it set.
   * @param owner the adapter construct that emits what the controller expects
   * @param controller the controller's name, for error messages
   */
  public claimForController(owner: IConstruct, controller: string): void {
    this.revision++;
    if (this.controller && this.controller.owner !== owner) {
      throw configError(owner, 'host', this.host.name, `${this.controller.owner.node.path} already hands this host to ${this.controller.value}: one controller per host`);
    }
    const contributions = [this.trafficApi, this.ports, this.requestPolicy, ...this.routes, ...this.subsets.values(), ...this.policy.values(),
      ...[...this.subsetPolicies.values()].flatMap(fields => [...fields.values()])];
    const other = contributions.find(c => c !== undefined && c.owner !== owner);
    if (other) {
      throw configError(owner, 'host', this.host.name,
        `${other.owner.node.path} already configures the routing of this host, which ${controller} owns: remove that configuration, or give its settings to ${owner.node.path}`);
    }
    this.controller = { value: controller, owner };
  }

  /** The progressive-delivery controller the host is handed to, if any. */
  public get claimedBy(): string | undefined {
    return this.controller?.value;
  }

  /**
   * Names the per-version Service of a subset, which Gateway API routes send its traffic to.
   */
  public setSubsetBackend(subset: string, serviceName: string): void {
    this.revision++;
    this.subsetBackends.set(subset, serviceName);
    if (this.backendRules.size || this._destinationRule) this.ensureDestinationRule();
  }

  /**
   * Orders the host's routes after `dependencies` (for example per-version Services), so nothing routes to a
   * backend that does not exist yet.
   */
  public addRouteDependency(...dependencies: IConstruct[]): void {
    this.revision++;
    this.routeDependencies.push(...dependencies);
    for (const route of this.routeObjects()) route.node.addDependency(...dependencies);
  }

  /**
   * @internal Records the workloads the routes send to, for deployment tools that apply in stages (Argo CD sync
   * waves): they should be up before a route sends them traffic. No cdk8s dependency: the objects that define them
   * already come first.
   */
  public _addRouteBackends(...workloads: IConstruct[]): void {
    this.backends.push(...workloads);
  }

  /** @internal The workloads the routes send to. */
  public get _routeBackends(): IConstruct[] {
    return [...this.backends];
  }

  /**
   * @internal The construct whose routing of this host (versions, match routes, a controller) a gateway route to the
   * bare host would skip: a gateway uses only the routes bound to it.
   */
  public get _versionRoutingOwner(): IConstruct | undefined {
    return this.controller?.owner ?? this.routes.find(r => r.route.matches?.length || r.route.mirrorSubset
      || r.route.destinations.some(d => d.subset !== undefined))?.owner;
  }

  /** The host's HTTPRoutes (Gateway API), one per HTTP port. */
  public get httpRoutes(): ApiObject[] {
    return [...this.httpRouteObjects.values()];
  }

  /** Every DestinationRule of the host (with the Gateway API, one per per-version Service). */
  public get destinationRules(): ApiObject[] {
    return this._destinationRule ? [this._destinationRule] : [...this.backendRules.values()];
  }

  /** The host's VirtualService, once a route or request policy exists. */
  public get virtualService(): ApiObject | undefined {
    return this._virtualService;
  }

  /** The host's DestinationRule, once a subset or traffic policy exists. */
  public get destinationRule(): ApiObject | undefined {
    return this._destinationRule;
  }

  /**
   * Declares the Service's ports. With more than one, every route names its port, as Istio requires (IST0112).
   */
  public setPorts(owner: IConstruct, ports: ServicePort[]): void {
    this.revision++;
    this.checkClaim(owner, 'ports');
    if (this.ports && this.ports.owner !== owner) {
      throw configError(owner, 'ports', ports.map(p => p.port), `${this.ports.owner.node.path} already declared the ports of ${this.host.name}`);
    }
    this.ports = { value: [...ports], owner };
    if (this.httpRouteObjects.size) this.ensureVirtualService();
  }

  /** Adds a subset (a version) selected by `labels`, with its own traffic policy if given. */
  public addSubset(owner: IConstruct, name: string, labels: { [key: string]: string }, policy: TrafficPolicy = {}): void {
    this.revision++;
    this.checkClaim(owner, 'subset');
    const existing = this.subsets.get(name);
    if (existing) {
      throw configError(owner, 'subset', name, `${existing.owner.node.path} already defines subset '${name}' of ${this.host.name}; use another version name`);
    }
    this.subsets.set(name, { labels: { ...labels }, owner });
    this.addTrafficPolicy(owner, policy, name);
  }

  /** Whether the subset exists. */
  public hasSubset(name: string): boolean {
    return this.subsets.has(name);
  }

  /**
   * Sets traffic policy fields for the host, or for one subset (which must be declared by synth time). Fields
   * merge; a field set twice by different constructs is an error naming both.
   */
  public addTrafficPolicy(owner: IConstruct, policy: TrafficPolicy, subset?: string): void {
    this.revision++;
    this.checkClaim(owner, 'trafficPolicy');
    let target = this.policy;
    if (subset !== undefined) {
      target = this.subsetPolicies.get(subset) ?? new Map();
      this.subsetPolicies.set(subset, target);
    }
    for (const field of TRAFFIC_POLICY_FIELDS) {
      const value = policy[field];
      if (value === undefined) continue;
      const prior = target.get(field);
      if (prior && prior.owner !== owner) {
        throw configError(owner, `trafficPolicy.${field}`, subset ?? this.host.name, `${prior.owner.node.path} already sets it; configure it in one place`);
      }
      target.set(field, { value, owner });
    }
    this.ensureDestinationRule();
  }

  /** Sets the timeout and retries of every route that does not set its own. */
  public setRequestPolicy(owner: IConstruct, policy: RequestPolicy): void {
    this.revision++;
    this.checkClaim(owner, 'requestPolicy');
    if (this.requestPolicy && this.requestPolicy.owner !== owner) {
      throw configError(owner, 'requestPolicy', this.host.name, `${this.requestPolicy.owner.node.path} already sets the request policy of this host`);
    }
    policy.retries?._validate(owner, 'retries', policy.timeout);
    if (policy.timeout) istioDuration(owner, 'timeout', policy.timeout);
    this.requestPolicy = { value: policy, owner };
    this.ensureVirtualService();
  }

  /** Adds a route; routes are ordered by priority, then in the order added. */
  public addRoute(owner: IConstruct, route: HttpRoute, priority: RoutePriority): void {
    this.revision++;
    this.checkClaim(owner, 'route');
    if (this.routes.some(r => r.route.name === route.name)) {
      throw configError(owner, 'route', route.name, `${this.host.name} already has a route with this name`);
    }
    if (priority === RoutePriority.DEFAULT && this.routes.some(r => r.priority === RoutePriority.DEFAULT)) {
      const other = this.routes.find(r => r.priority === RoutePriority.DEFAULT)!;
      throw configError(owner, 'route', route.name, `${other.owner.node.path} already defines the default route of ${this.host.name}`);
    }
    if (priority !== RoutePriority.DEFAULT && !(route.matches?.length)) {
      throw configError(owner, 'matches', [], 'a route ahead of the default route needs at least one match, or it hides the routes after it');
    }
    const weights = route.destinations.map(d => requireWholePercent(owner, `${route.name}.weight`, d.weight));
    if (route.destinations.length === 0 || weights.reduce((a, b) => a + b, 0) !== 100) {
      throw configError(owner, `${route.name}.weights`, weights, 'the destination weights of a route must sum to 100');
    }
    if (route.mirrorPercentage !== undefined) requirePercent(owner, `${route.name}.mirrorPercentage`, route.mirrorPercentage);
    if (route.timeout) istioDuration(owner, `${route.name}.timeout`, route.timeout);
    route.retries?._validate(owner, `${route.name}.retries`, route.timeout);
    this.routes.push({ route, priority, owner });
    this.ensureVirtualService();
    for (const d of route.destinations) {
      const crossNamespace = d.host?.namespace && d.host.namespace !== this.namespace;
      if (crossNamespace && this.api === TrafficApi.GATEWAY_API) this.ensureReferenceGrant(d.host!.namespace!);
    }
  }

  /** With the Gateway API, a route to a Service in another namespace needs that namespace's consent. */
  private ensureReferenceGrant(namespace: string): void {
    if (this.referenceGrants.has(namespace)) return;
    const grant = new ApiObject(this, `ReferenceGrant-${namespace}`, objectProps(gatewayapi.ReferenceGrant.GVK, {
      metadata: { namespace, name: `${this.objectName()}-from-${this.namespace}`.slice(0, 63).replace(/[-.]+$/, '') },
      spec: {
        from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: this.namespace }],
        to: [{ group: '', kind: 'Service' }],
      },
    }));
    this.referenceGrants.set(namespace, grant);
    this.routeDependencies.push(grant);
    this.orderRoutes();
  }

  /**
   * Injects a fault into the traffic of `matches` (ahead of every other route, copying the default route's
   * destinations). Without matches the fault applies to every route of the host.
   */
  public addFault(owner: IConstruct, name: string, rule: FaultRule): void {
    this.revision++;
    this.checkClaim(owner, 'fault');
    const matches = rule.matches ?? [];
    if (this.routes.some(r => r.route.name === name)) throw configError(owner, 'fault', name, `${this.host.name} already has a route with this name`);
    this.routes.push({ route: { name, matches, destinations: [] }, priority: RoutePriority.FAULT, owner, fault: rule.fault });
    this.ensureVirtualService();
  }

  /**
   * Binds the VirtualService to a gateway for `hosts`, keeping the `mesh` gateway so in-mesh callers get the same
   * routing.
   * @param owner the construct exposing the host, named in errors
   * @param gateway `namespace/name` of the Gateway
   * @param hosts the public hosts the gateway serves for this service
   * @param sections with the Gateway API, the listeners to attach to
   * @param includeMesh whether in-mesh callers get the same routing (false for a host that exists only at the edge)
   */
  public bindGateway(owner: IConstruct, gateway: string, hosts: string[], sections: string[] = [], includeMesh: boolean = true): void {
    if (!/^[a-z0-9-]+\/[a-z0-9.-]+$/.test(gateway)) throw configError(owner, 'gateway', gateway, 'name the gateway as namespace/name');
    const other = [...this.gateways.keys()].find(g => g !== gateway);
    if (!includeMesh && other) {
      throw configError(owner, 'host', this.host.name,
        `its routes are already bound to ${other}, and a host's routes apply at every gateway it is bound to, so each gateway would take the other's routes: serve it from one gateway`);
    }
    this.claimGatewayHosts(owner, gateway, includeMesh ? hosts : [this.host.name]);
    this.revision++;
    if (!includeMesh) this.edgeOnly = true;
    this.gateways.set(gateway, [...new Set([...(this.gateways.get(gateway) ?? []), ...sections])]);
    for (const h of hosts) this.extraHosts.add(h);
    this.ensureVirtualService();
  }

  /**
   * With the Istio API, one VirtualService per public host at a gateway: Istio merges a gateway host's VirtualServices
   * in creation order, so which one's routes came first (a catch-all split before a path route) would be left to chance.
   * Gateway API routes for one hostname merge by path precedence instead.
   */
  private claimGatewayHosts(owner: IConstruct, gateway: string, hosts: string[]): void {
    if (this.api !== TrafficApi.ISTIO) return;
    const claims = appRegistry<{ routing: HostRouting; owner: IConstruct }>(this, 'GatewayHost');
    for (const h of hosts) {
      const claim = claims.get(`${gateway}|${h}`);
      if (claim && claim.routing !== this) {
        throw configError(owner, 'host', h,
          `${claim.owner.node.path} already routes it at ${gateway}, and Istio would merge the two VirtualServices in creation order: route the host from one construct (another host for this service), or use TrafficApi.GATEWAY_API, whose routes for one host merge by path`);
      }
      claims.set(`${gateway}|${h}`, { routing: this, owner: claim?.owner ?? owner });
    }
  }

  /** Refuses a contribution from any construct but the adapter the host is handed to. */
  private checkClaim(owner: IConstruct, prop: string): void {
    if (this.controller && this.controller.owner !== owner) {
      const adapter = this.controller.owner.node.path;
      throw configError(owner, 'host', this.host.name,
        `${adapter} hands this host to ${this.controller.value}, which rewrites its routing, so the ${prop} set here would be lost: configure it on ${adapter}, or drop that adapter`);
    }
  }

  private ensureVirtualService(): void {
    if (this.api === TrafficApi.GATEWAY_API) {
      this.syncHttpRoutes();
    } else if (!this._virtualService) {
      this._virtualService = this.object('VirtualService', networking.VirtualService.GVK, this.objectName(), () => renderVirtualService(this.model()));
    }
    this.orderRoutes();
  }

  private ensureDestinationRule(): void {
    if (this.api === TrafficApi.GATEWAY_API && this.subsetBackends.size) {
      // Routes go to per-version Services, so each gets the host's policy merged with its subset's; a rule for the
      // host itself, made before the backends were known, would apply to no route.
      if (this._destinationRule) {
        this.node.tryRemoveChild(this._destinationRule.node.id);
        this.renderFns.delete(this._destinationRule);
        this._destinationRule = undefined;
      }
      for (const [subset, service] of this.subsetBackends) {
        if (this.backendRules.has(subset)) continue;
        this.backendRules.set(subset, this.object(`DestinationRule-${subset}`, networking.DestinationRule.GVK, service,
          () => this.renderBackendRule(subset, service)));
      }
    } else if (!this._destinationRule) {
      this._destinationRule = this.object('DestinationRule', networking.DestinationRule.GVK, this.objectName(), () => this.renderDestinationRule());
    }
    this.orderRoutes();
  }

  private syncHttpRoutes(): void {
    const ports = this.ports?.value ?? [];
    const keys = ports.length > 1 ? ports.filter(p => p.isHttp).map(p => p.name) : [''];
    for (const [key, route] of this.httpRouteObjects) {
      if (!keys.includes(key)) {
        this.node.tryRemoveChild(route.node.id);
        this.httpRouteObjects.delete(key);
        this.renderFns.delete(route);
      }
    }
    for (const key of keys) {
      if (this.httpRouteObjects.has(key)) continue;
      this.httpRouteObjects.set(key, this.object(key ? `HTTPRoute-${key}` : 'HTTPRoute', gatewayapi.HttpRoute.GVK,
        key ? `${this.objectName()}-${key}` : this.objectName(), () => this.renderGatewayRoute(key)));
    }
  }

  private object(id: string, gvk: { apiVersion: string; kind: string }, name: string, render: () => any): ApiObject {
    const produce = () => this.renderAll().length ? render() : this.rendered.get(obj);
    const obj: ApiObject = new ApiObject(this, id, objectProps(gvk, { metadata: { namespace: this.namespace, name }, spec: Lazy.any({ produce }) }));
    registerSpecSource(obj, produce);
    this.renderFns.set(obj, render);
    return obj;
  }

  /**
   * Renders every object, once per change: cdk8s validates the whole app once per chart it synthesizes, and then
   * resolves each object. Returns the errors (an object whose render fails renders again to throw its own error).
   */
  private renderAll(): string[] {
    // An edge-only host's routes also carry their destinations' request policies; a host without declared ports
    // under the Gateway API takes its Service's, which the app may define after a synthesis.
    const portsFromService = !this.ports && !this.edgeOnly && this.api === TrafficApi.GATEWAY_API;
    const revision = [
      this.revision,
      ...(this.edgeOnly ? this.destinationRoutings().map(r => r.revision) : []),
      ...(portsFromService && this.appService() ? ['service'] : []),
    ].join(',');
    if (this.renderedRevision === revision) return this.renderErrors;
    this.renderedRevision = revision;
    try {
      this.rendered = new Map([...this.renderFns].map(([o, render]) => [o, render()]));
      this.renderErrors = [];
    } catch (e) {
      this.renderErrors = [(e as Error).message];
    }
    return this.renderErrors;
  }

  /**
   * Ambient mode: ztunnel applies neither routes nor traffic policies, only a waypoint does. A Service of the app
   * that uses no waypoint (itself or through its Namespace) would silently get none of them; a Service defined
   * outside the app cannot be checked.
   */
  private waypointErrors(): string[] {
    const { serviceName, namespace } = this.host;
    if (this.edgeOnly || serviceName === undefined || namespace === undefined) return [];
    if (dataplaneOfNamespace(this, namespace) !== DataplaneMode.AMBIENT || this.node.children.length === 0) return [];
    const service = this.appService();
    if (!service) return [];
    const waypoint = service.metadata.getLabel(USE_WAYPOINT_LABEL)
      ?? appScan(this).namespaces.find(n => n.name === namespace)?.metadata.getLabel(USE_WAYPOINT_LABEL);
    if (waypoint !== undefined && waypoint !== 'none') return [];
    const owners = [this.requestPolicy, ...this.routes, ...this.policy.values(), ...[...this.subsetPolicies.values()].flatMap(f => [...f.values()])]
      .flatMap(c => (c ? [c.owner.node.path] : []));
    return [`${this.host.name} is routed for in-mesh callers (by ${[...new Set(owners)].join(', ') || this.node.path}), but in ambient mode only a waypoint applies routes and traffic policies, and Service ${namespace}/${serviceName} uses none: send it through one (Waypoint.forNamespace(scope, '${namespace}').use(service)), or make '${namespace}' a ZeroTrustNamespace, whose waypoint serves the namespace`];
  }

  /** The Service object of the host in the app, if the app defines it. */
  private appService(): ApiObject | undefined {
    const { serviceName, namespace } = this.host;
    if (serviceName === undefined || namespace === undefined) return undefined;
    return (appScan(this).byNamespace.get(namespace) ?? []).find(o => o.kind === 'Service' && o.apiVersion === 'v1' && o.name === serviceName);
  }

  private routeObjects(): ApiObject[] {
    return this._virtualService ? [this._virtualService] : this.httpRoutes;
  }

  // Make-before-break: subsets and backends must exist before routes use them (istio#6705). cdk8s writes
  // independent objects in tree order, so an object of this routing created before a route comes first without a
  // dependency (one costs cdk8s graph work on every synthesis). Whatever depends on a route lists its targets first.
  private orderRoutes(): void {
    const children = this.node.children;
    const before = (target: IConstruct, route: IConstruct) => target.node.scope === this && children.indexOf(target) < children.indexOf(route);
    for (const route of this.routeObjects()) {
      const targets = [...this.destinationRules, ...this.routeDependencies].filter(t => !before(t, route));
      if (targets.length) route.node.addDependency(...targets);
    }
  }

  private model(): RoutingModel {
    return buildRoutingModel(this, {
      host: this.host,
      namespace: this.namespace,
      ports: this.ports?.value ?? [],
      gateways: [...this.gateways.entries()].map(([ref, sections]) => ({ ref, sections })),
      extraHosts: [...this.extraHosts],
      requestPolicy: this.requestPolicy?.value,
      requestPolicyOwner: this.requestPolicy?.owner,
      destinationPolicy: this.edgeOnly ? (route, owner) => this.destinationPolicy(route, owner) : undefined,
      subsetBackends: this.subsetBackends,
      includeMesh: !this.edgeOnly,
    }, this.routes, new Set(this.subsets.keys()));
  }

  /**
   * A gateway uses only the routes bound to it, so an edge-only host's route to a service would skip the service's
   * own timeout and retries (a ResilientUpstream's): the route takes them, unless it sets its own.
   */
  private destinationPolicy(route: HttpRoute, owner: IConstruct): Contribution<RequestPolicy> | undefined {
    const registry = appRegistry<HostRouting>(this, 'HostRouting');
    const hosts = [...new Set(route.destinations.map(d => d.host?.name ?? this.host.name))];
    const policies = [...new Set(hosts.map(h => registry.get(h)?.requestPolicy))];
    if (policies.length > 1) {
      throw configError(owner, `${route.name}.destinations`, hosts,
        'they have different request policies (timeouts, retries), and a route has one of each: set timeout and retries on the route');
    }
    return policies[0];
  }

  /** The routings of the services an edge-only host's routes send to. */
  private destinationRoutings(): HostRouting[] {
    const registry = appRegistry<HostRouting>(this, 'HostRouting');
    return this.routes.flatMap(r => r.route.destinations.flatMap(d => {
      const routing = d.host && registry.get(d.host.name);
      return routing ? [routing] : [];
    }));
  }

  private renderGatewayRoute(key: string): any {
    const declared = this.model();
    // A Service no construct declared the ports of (one of your own): the ports of its object in the app. The route
    // serves its first HTTP port, as the gateway does.
    const service = !declared.ports.length && !this.edgeOnly ? this.appService() : undefined;
    const found: ServicePort[] = service ? (synthesizedSpec(service)?.ports ?? []).map(servicePortOfSpec) : [];
    const model = found.length ? { ...declared, ports: found } : declared;
    const http = model.ports.filter(p => p.isHttp);
    const port = key ? http.find(p => p.name === key) : found.length ? http[0] : model.ports[0];
    // An edge-only host (ingress routes to services) has no ports of its own: each destination names one.
    const edgeRoutes = this.edgeOnly && !model.ports.length;
    const owner = this.requestPolicy?.owner ?? this.routes[0]?.owner ?? this;
    if (!this.edgeOnly && this.host.serviceName === undefined) {
      throw configError(owner, 'host', this.host.name, 'the Gateway API routes only Kubernetes Services in the mesh: use the Istio traffic API for external hosts');
    }
    if (!edgeRoutes && (!port || !port.isHttp)) {
      throw configError(owner, 'ports', model.ports.map(p => p.name),
        `Gateway API routes need an HTTP port of the Service (declared by a CanaryService for ${this.host.name}, or named for Istio's protocol selection on a Service of the app); TCP ports need the Istio traffic API`);
    }
    if (!key && !found.length && model.ports.length > 1) throw configError(this, 'ports', model.ports.map(p => p.name), 'internal: several ports need one route each');
    // The gateway serves the service's first HTTP port.
    return renderHttpRoute(model, port, edgeRoutes || port === http[0]);
  }

  private renderBackendRule(subset: string, service: string): any {
    this.checkSubsetPolicies();
    const fields: PolicyFields = new Map([...this.policy, ...(this.subsetPolicies.get(subset) ?? new Map())]);
    const host = Host.service(this, service, this.namespace).name;
    return { host, ...this.renderPolicy(fields, `subsets.${subset}.trafficPolicy`, host, this.policy) };
  }

  private objectName(): string {
    return this.host.serviceName ?? this.host.name.replace(/^\*\./, 'wildcard.');
  }

  private checkSubsetPolicies(): void {
    for (const [name, fields] of this.subsetPolicies) {
      if (!this.subsets.has(name)) {
        const owner = [...fields.values()][0].owner;
        throw configError(owner, 'subset', name, `no construct declares subset '${name}' of ${this.host.name} (known: ${[...this.subsets.keys()].join(', ') || 'none'})`);
      }
    }
  }

  private renderDestinationRule(): any {
    this.checkSubsetPolicies();
    const subsets = [...this.subsets.entries()].map(([name, s]) => ({
      name,
      labels: s.labels,
      ...this.renderPolicy(this.subsetPolicies.get(name) ?? new Map(), `subsets.${name}.trafficPolicy`, this.host.name, this.policy),
    }));
    return {
      host: this.host.name,
      ...this.renderPolicy(this.policy, 'trafficPolicy', this.host.name),
      ...(subsets.length ? { subsets } : {}),
    };
  }

  private renderPolicy(fields: PolicyFields, prop: string, host: string, inherited?: PolicyFields): any {
    if (fields.size === 0) return {};
    const owner = [...fields.values()][0].owner;
    const values = (f: PolicyFields) => Object.fromEntries([...f].map(([k, c]) => [k, c.value])) as TrafficPolicy;
    const rendered = renderTrafficPolicy(owner, prop, values(fields), host, inherited && values(inherited));
    return rendered ? { trafficPolicy: rendered } : {};
  }
}
