// The routing of one host as data: what HostRouting collected, ordered and checked, ready for a renderer
// (Istio VirtualService or Gateway API HTTPRoute).
import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { configError } from '../_errors';
import { FaultInjection } from './fault-injection';
import { HttpRoute, RequestPolicy, RoutePriority } from './host-routing';
import { RetryPolicy } from './retry-policy';
import { Host } from '../mesh/host';
import { PortProtocol, ServicePort } from '../mesh/service-port';

/** @internal A route with who added it, its priority and, for fault routes, the fault. */
export interface RouteEntry {
  readonly route: HttpRoute;
  readonly priority: RoutePriority;
  readonly owner: IConstruct;
  readonly fault?: FaultInjection;
}

/** @internal A route of the model, with the timeout and retries in force on it (its own, else the host's). */
export interface ModelRoute extends RouteEntry {
  readonly timeout?: Duration;
  /** Undefined when Istio's default applies (none declared, or `RetryPolicy.meshDefault()`). */
  readonly retries?: RetryPolicy;
}

/** @internal */
export interface GatewayBinding {
  readonly ref: string;
  readonly sections: string[];
}

/** @internal */
export interface RoutingModel {
  readonly host: Host;
  /** The namespace the routes live in. */
  readonly namespace: string;
  /** Routes in priority order, ending with the default route. */
  readonly routes: ModelRoute[];
  readonly defaultRoute: HttpRoute;
  /** A fault route added without matches: its fault applies to every route. */
  readonly unscopedFault?: RouteEntry;
  readonly ports: ServicePort[];
  /** Gateways (`namespace/name`, with Gateway API listener names) and the public hosts they serve. */
  readonly gateways: GatewayBinding[];
  readonly extraHosts: string[];
  readonly requestPolicy?: RequestPolicy;
  /** The construct that set the request policy. */
  readonly requestPolicyOwner?: IConstruct;
  /** For a host without a request policy: the one in force on a route's destination, with the construct that set it. */
  readonly destinationPolicy?: (route: HttpRoute, owner: IConstruct) => { readonly value: RequestPolicy; readonly owner: IConstruct } | undefined;
  /** Per-version Service of each subset (Gateway API backends). */
  readonly subsetBackends: Map<string, string>;
  /** Whether in-mesh callers use these routes too, or only the gateways. */
  readonly includeMesh: boolean;
}

/** @internal Orders the routes, adds the default route when none was declared, and checks subset references. */
export function buildRoutingModel(scope: IConstruct, fields: Omit<RoutingModel, 'routes' | 'defaultRoute' | 'unscopedFault'>,
  entries: RouteEntry[], subsets: Set<string>): RoutingModel {
  const ordered = [...entries].sort((a, b) => a.priority - b.priority);
  const declared = ordered.find(r => r.priority === RoutePriority.DEFAULT);
  const defaultRoute = declared?.route ?? { name: 'default', destinations: [{ weight: 100 }] };
  // Istio routes a TLS port (HTTPS included) by SNI only, with tls routes: a tcp route's weights and subsets are
  // ignored, and every version's pods would get its connections.
  const tls = fields.ports.find(p => p.protocol === PortProtocol.TLS || p.protocol === PortProtocol.HTTPS);
  if (tls && subsets.size > 1 && defaultRoute.destinations.some(d => d.subset !== undefined)) {
    throw configError(declared?.owner ?? scope, 'ports', `${tls.name} ${tls.port}`,
      `Istio ignores weights and subsets on a TLS port (it routes TLS by SNI), so every version of ${fields.host.name} would get its connections: serve the versions on an HTTP port (the mesh encrypts it with mutual TLS), or keep one version`);
  }
  // An edge-only host routes what its routes match and nothing else; a mesh host falls through to itself.
  if (!declared && fields.includeMesh) ordered.push({ route: defaultRoute, priority: RoutePriority.DEFAULT, owner: scope });
  const routes: ModelRoute[] = [];
  let unscopedFault: RouteEntry | undefined;
  for (const entry of ordered) {
    if (entry.fault && !entry.route.matches?.length) {
      unscopedFault = entry;
      continue;
    }
    // A fault route for test traffic sends it where the default route does.
    const route = entry.fault ? { ...defaultRoute, name: entry.route.name, matches: entry.route.matches } : entry.route;
    const used = [...route.destinations.map(d => d.subset), route.mirrorSubset].filter((s): s is string => s !== undefined);
    for (const s of used) {
      if (!subsets.has(s)) {
        throw configError(entry.owner, `${route.name}.subset`, s, `declare subset '${s}' of ${fields.host.name} (known: ${[...subsets].join(', ') || 'none'})`);
      }
    }
    routes.push({ ...entry, route, ...inForce(fields, entry.owner, route) });
  }
  return { ...fields, routes, defaultRoute, unscopedFault };
}

/**
 * The timeout and retries in force on a route: its own, else the host's, else (a host without a request policy) its
 * destination's. Each was checked against its own construct's timeout when declared; a route's timeout with another
 * construct's retries (or the reverse) meets only here, and Envoy's route timeout bounds every retry, so retries that
 * cannot fit are refused rather than silently cut short.
 */
function inForce(fields: Omit<RoutingModel, 'routes' | 'defaultRoute' | 'unscopedFault'>, owner: IConstruct, route: HttpRoute):
{ timeout?: Duration; retries?: RetryPolicy } {
  const policy = fields.requestPolicy ? { value: fields.requestPolicy, owner: fields.requestPolicyOwner! }
    : route.timeout && route.retries ? undefined : fields.destinationPolicy?.(route, owner);
  const timeout = route.timeout ?? policy?.value.timeout;
  const declared = route.retries ?? policy?.value.retries;
  const retries = declared?._isMeshDefault ? undefined : declared;
  if (timeout && retries && !retries._fitsTimeout(timeout)) {
    const retriesFrom = route.retries ? owner : policy!.owner;
    const timeoutFrom = route.timeout ? owner : policy!.owner;
    throw configError(owner, `${route.name}.retries`, `${retries.attempts + 1} x ${retries.perTryTimeout!.toMilliseconds()}ms`,
      `the retries of ${retriesFrom.node.path} do not fit the timeout of ${timeoutFrom.node.path} (${timeout.toMilliseconds()}ms), which bounds them all: lower the attempts or per-try timeout, or raise the timeout`);
  }
  return { timeout, retries };
}
