import { ApiObject, Chart, Duration, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { istioDuration } from '../_duration';
import { configError } from '../_errors';
import { requirePercent } from '../_validate';
import * as networking from '../imports/istio-networking';
import { Host } from '../mesh/host';
import { ServicePort } from '../mesh/service-port';
import { FaultInjection } from './fault-injection';
import { RequestMatch } from './request-match';
import { RetryPolicy } from './retry-policy';
import { TRAFFIC_POLICY_FIELDS, TrafficPolicy, renderTrafficPolicy } from './traffic-policy';

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

interface RouteEntry {
  readonly route: HttpRoute;
  readonly priority: RoutePriority;
  readonly owner: IConstruct;
  readonly fault?: FaultInjection;
}

const REGISTRY = Symbol.for('cdk8s-istio.HostRouting');

/**
 * The single VirtualService and DestinationRule of one host.
 *
 * Istio merges nothing: two VirtualServices for the same host conflict, and a route to a subset that no
 * DestinationRule defines returns 503. So every construct that configures a host (canary, resilience, fault
 * injection, ingress exposure) contributes to the one HostRouting of that host in the app, found with
 * `HostRouting.of()`, and conflicting contributions fail at synth naming both constructs.
 */
export class HostRouting extends Construct {
  /**
   * The routing of `host` in this app, created in `scope`'s chart on first use.
   * @param scope any construct of the app
   * @param host the host
   */
  public static of(scope: IConstruct, host: Host): HostRouting {
    const root = scope.node.root as any;
    const registry: Map<string, HostRouting> = root[REGISTRY] ?? new Map();
    if (!root[REGISTRY]) Object.defineProperty(root, REGISTRY, { value: registry, enumerable: false });
    let routing = registry.get(host.name);
    if (!routing) {
      routing = new HostRouting(Chart.of(scope), `Routing-${host.name.replace(/[^a-zA-Z0-9-]/g, '-')}`, host);
      registry.set(host.name, routing);
    }
    return routing;
  }

  /** The host routed. */
  public readonly host: Host;
  /** The namespace the VirtualService and DestinationRule live in: the service's own, else the chart's. */
  public readonly namespace: string;

  private _virtualService?: ApiObject;
  private _destinationRule?: ApiObject;
  private readonly subsets = new Map<string, SubsetEntry>();
  private readonly policy: PolicyFields = new Map();
  // Per-subset policies may be declared before the subset (a resilience policy created before the canary).
  private readonly subsetPolicies = new Map<string, PolicyFields>();
  private readonly routes: RouteEntry[] = [];
  private readonly gateways = new Set<string>();
  private readonly extraHosts = new Set<string>();
  private requestPolicy?: Contribution<RequestPolicy>;
  private ports?: Contribution<ServicePort[]>;
  private renderedVs?: any;
  private renderedDr?: any;

  private constructor(scope: Construct, id: string, host: Host) {
    super(scope, id);
    this.host = host;
    this.namespace = host.namespace ?? Chart.of(this).namespace ?? 'default';
    // Render in validation, so bad combinations fail synth with the construct path rather than inside a Lazy.
    this.node.addValidation({
      validate: () => {
        try {
          this.renderedVs = this._virtualService ? this.renderVirtualService() : undefined;
          this.renderedDr = this._destinationRule ? this.renderDestinationRule() : undefined;
          return [];
        } catch (e) {
          return [(e as Error).message];
        }
      },
    });
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
    if (this.ports && this.ports.owner !== owner) {
      throw configError(owner, 'ports', ports.map(p => p.port), `${this.ports.owner.node.path} already declared the ports of ${this.host.name}`);
    }
    this.ports = { value: [...ports], owner };
  }

  /** Adds a subset (a version) selected by `labels`, with its own traffic policy if given. */
  public addSubset(owner: IConstruct, name: string, labels: { [key: string]: string }, policy: TrafficPolicy = {}): void {
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
    const weights = route.destinations.map(d => requirePercent(owner, `${route.name}.weight`, d.weight));
    if (route.destinations.length === 0 || weights.reduce((a, b) => a + b, 0) !== 100) {
      throw configError(owner, `${route.name}.weights`, weights, 'the destination weights of a route must sum to 100');
    }
    if (route.mirrorPercentage !== undefined) requirePercent(owner, `${route.name}.mirrorPercentage`, route.mirrorPercentage);
    if (route.timeout) istioDuration(owner, `${route.name}.timeout`, route.timeout);
    route.retries?._validate(owner, `${route.name}.retries`, route.timeout);
    this.routes.push({ route, priority, owner });
    this.ensureVirtualService();
  }

  /**
   * Injects a fault into the traffic of `matches` (ahead of every other route, copying the default route's
   * destinations). Without matches the fault applies to every route of the host.
   */
  public addFault(owner: IConstruct, name: string, rule: FaultRule): void {
    const matches = rule.matches ?? [];
    if (this.routes.some(r => r.route.name === name)) throw configError(owner, 'fault', name, `${this.host.name} already has a route with this name`);
    this.routes.push({ route: { name, matches, destinations: [] }, priority: RoutePriority.FAULT, owner, fault: rule.fault });
    this.ensureVirtualService();
  }

  /**
   * Binds the VirtualService to a gateway for `hosts`, keeping the `mesh` gateway so in-mesh callers get the same
   * routing.
   * @param gateway `namespace/name` of the Gateway
   * @param hosts the public hosts the gateway serves for this service
   */
  public bindGateway(gateway: string, hosts: string[]): void {
    this.gateways.add(gateway);
    for (const h of hosts) this.extraHosts.add(h);
    this.ensureVirtualService();
  }

  private ensureVirtualService(): void {
    if (this._virtualService) return;
    this._virtualService = new ApiObject(this, 'VirtualService', {
      ...networking.VirtualService.GVK,
      metadata: { namespace: this.namespace, name: this.objectName() },
      spec: Lazy.any({ produce: () => this.renderedVs ?? this.renderVirtualService() }),
    });
    // Make-before-break: subsets must exist before routes use them (istio#6705).
    if (this._destinationRule) this._virtualService.node.addDependency(this._destinationRule);
  }

  private ensureDestinationRule(): void {
    if (this._destinationRule) return;
    this._destinationRule = new ApiObject(this, 'DestinationRule', {
      ...networking.DestinationRule.GVK,
      metadata: { namespace: this.namespace, name: this.objectName() },
      spec: Lazy.any({ produce: () => this.renderedDr ?? this.renderDestinationRule() }),
    });
    this._virtualService?.node.addDependency(this._destinationRule);
  }

  private objectName(): string {
    return this.host.serviceName ?? this.host.name.replace(/^\*\./, 'wildcard.');
  }

  private renderDestinationRule(): any {
    for (const [name, fields] of this.subsetPolicies) {
      if (!this.subsets.has(name)) {
        const owner = [...fields.values()][0].owner;
        throw configError(owner, 'subset', name, `no construct declares subset '${name}' of ${this.host.name} (known: ${[...this.subsets.keys()].join(', ') || 'none'})`);
      }
    }
    const subsets = [...this.subsets.entries()].map(([name, s]) => ({
      name,
      labels: s.labels,
      ...this.renderPolicy(this.subsetPolicies.get(name) ?? new Map(), `subsets.${name}.trafficPolicy`),
    }));
    return {
      host: this.host.name,
      ...this.renderPolicy(this.policy, 'trafficPolicy'),
      ...(subsets.length ? { subsets } : {}),
    };
  }

  private renderPolicy(fields: PolicyFields, prop: string): any {
    if (fields.size === 0) return {};
    const owner = [...fields.values()][0].owner;
    const policy: any = {};
    for (const [k, c] of fields) policy[k] = c.value;
    const rendered = renderTrafficPolicy(owner, prop, policy, this.host.name);
    return rendered ? { trafficPolicy: rendered } : {};
  }

  private renderVirtualService(): any {
    const ordered = [...this.routes].sort((a, b) => a.priority - b.priority);
    const defaultRoute = ordered.find(r => r.priority === RoutePriority.DEFAULT)?.route
      ?? { name: 'default', destinations: [{ weight: 100 }] };
    if (!ordered.some(r => r.priority === RoutePriority.DEFAULT)) ordered.push({ route: defaultRoute, priority: RoutePriority.DEFAULT, owner: this });
    for (const r of ordered) this.checkSubsets(r, defaultRoute);

    const ports = this.ports?.value ?? [];
    const httpPorts = ports.filter(p => p.isHttp);
    const tcpPorts = ports.filter(p => !p.isHttp);
    // One port: routes need not name it. Several: every route and destination names its port.
    const named = ports.length > 1;
    const unscopedFaults = ordered.filter(r => r.fault && !r.route.matches?.length);
    const http: any[] = [];
    for (const port of named ? httpPorts : [undefined]) {
      for (const entry of ordered) {
        if (entry.fault && !entry.route.matches?.length) continue;
        const route = entry.fault ? { ...defaultRoute, name: entry.route.name, matches: entry.route.matches } : entry.route;
        const fault = entry.fault ?? unscopedFaults[0]?.fault;
        http.push(...this.renderHttpRoute(entry.owner, route, port, fault));
      }
    }
    const spec: any = {
      hosts: [this.host.name, ...this.extraHosts],
      ...(this.gateways.size ? { gateways: [...this.gateways, 'mesh'] } : {}),
    };
    if (http.length && (!named || httpPorts.length)) spec.http = http;
    if (named && tcpPorts.length) {
      spec.tcp = tcpPorts.map(p => ({
        match: [{ port: p.port }],
        route: defaultRoute.destinations.map(d => ({ destination: this.destination(d.subset, p), weight: d.weight })),
      }));
    }
    return spec;
  }

  private checkSubsets(entry: RouteEntry, defaultRoute: HttpRoute): void {
    const route = entry.fault ? defaultRoute : entry.route;
    const used = [...route.destinations.map(d => d.subset), route.mirrorSubset].filter((s): s is string => s !== undefined);
    for (const s of used) {
      if (!this.subsets.has(s)) {
        throw configError(entry.owner, `${route.name}.subset`, s, `declare subset '${s}' of ${this.host.name} (known: ${[...this.subsets.keys()].join(', ') || 'none'})`);
      }
    }
  }

  private destination(subset: string | undefined, port: ServicePort | undefined): any {
    return {
      host: this.host.name,
      ...(subset ? { subset } : {}),
      ...(port ? { port: { number: port.port } } : {}),
    };
  }

  private renderHttpRoute(owner: IConstruct, route: HttpRoute, port: ServicePort | undefined, fault?: FaultInjection): any[] {
    const prop = route.name;
    const matches = (route.matches ?? []).flatMap((m, i) => m._render(owner, `${prop}.matches[${i}]`));
    const timeout = route.timeout ?? this.requestPolicy?.value.timeout;
    const retries = route.retries ?? this.requestPolicy?.value.retries;
    const suffix = port ? `-${port.name}` : '';
    const base: any = {
      name: `${route.name}${suffix}`,
      route: route.destinations.map(d => ({
        destination: this.destination(d.subset, port),
        weight: d.weight,
        ...(d.responseHeaders ? { headers: { response: { add: { ...d.responseHeaders } } } } : {}),
      })),
      ...(timeout ? { timeout: istioDuration(owner, `${prop}.timeout`, timeout) } : {}),
    };
    if (route.mirrorSubset) {
      base.mirror = this.destination(route.mirrorSubset, port);
      base.mirrorPercentage = { value: route.mirrorPercentage ?? 100 };
    }
    const withMatches = (extra: any[] | undefined): any[] | undefined => {
      const ms = matches.length ? matches : [{}];
      // A match that already names a method combines only with the same method.
      const combined = extra ? ms.flatMap(m => extra.filter(e => !m.method || m.method.exact === e.method.exact).map(e => ({ ...m, ...e }))) : ms;
      const scoped = port ? combined.map(m => ({ ...m, port: port.port })) : combined;
      return scoped.length === 1 && Object.keys(scoped[0]).length === 0 ? undefined : scoped;
    };
    if (fault) {
      // Envoy does not retry a faulted route; say so explicitly rather than imply retries that never happen.
      const m = withMatches(undefined);
      return [{ ...base, ...(m ? { match: m } : {}), fault: fault._render(owner, `${prop}.fault`) }];
    }
    const out: any[] = [];
    if (retries?._needsNonIdempotentRoute) {
      // POST and PATCH get their own route that only retries when the request cannot have reached the upstream.
      const m = withMatches(['POST', 'PATCH'].map(method => ({ method: { exact: method } })));
      if (m?.length) out.push({ ...base, name: `${base.name}-non-idempotent`, match: m, retries: retries._safeSubset()._render(owner, `${prop}.retries`) });
    }
    const m = withMatches(undefined);
    out.push({ ...base, ...(m ? { match: m } : {}), ...(retries ? { retries: retries._render(owner, `${prop}.retries`) } : {}) });
    return out;
  }
}
