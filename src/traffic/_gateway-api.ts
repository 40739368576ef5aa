// Renders the routing model (routes, matches, retries) as Gateway API HTTPRoute fields. What the Gateway API cannot
// express throws, naming the field, rather than being dropped.
import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { configError } from '../_errors';
import { compact } from '../_render';
import { RankedRule, keepRouteOrder } from './_gateway-api-order';
import { GatewayBinding, RoutingModel } from './_routing-model';
import { RequestMatch, StringMatch } from './request-match';
import { RetryPolicy } from './retry-policy';
import { Host } from '../mesh/host';
import { GatewayApiChannel, Mesh } from '../mesh/mesh';
import { ServicePort } from '../mesh/service-port';

/** @internal A Gateway API duration (GEP-2257): whole milliseconds, in units of at most 5 digits (`1m40s500ms`). */
export function gatewayApiDuration(scope: IConstruct, prop: string, duration: Duration): string {
  const ms = duration.toMilliseconds({ integral: false });
  if (!Number.isInteger(ms) || ms < 1) throw configError(scope, prop, `${ms}ms`, 'use a whole number of milliseconds, at least 1ms');
  const units: [string, number][] = [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];
  let rest = ms;
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  if (parts.some(p => /^\d{6}/.test(p))) throw configError(scope, prop, `${ms}ms`, 'the Gateway API takes durations up to 99999h');
  return parts.join('');
}

/** The CRD's mirror `percent` is an integer. */
function wholePercent(scope: IConstruct, prop: string, percent: number): number {
  if (!Number.isInteger(percent)) throw configError(scope, prop, percent, 'the Gateway API mirrors a whole percentage: round it, or use the Istio traffic API');
  return percent;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Istio's string match as a Gateway API header or query value; a prefix becomes a regular expression. */
function stringValue(scope: IConstruct, prop: string, m: StringMatch): { type: string; value: string } {
  m._render(scope, prop); // the same checks as the Istio rendering (RE2 syntax)
  if (m.kind === 'exact') return { type: 'Exact', value: m.value };
  if (m.kind === 'prefix') return { type: 'RegularExpression', value: `^${escapeRegex(m.value)}.*` };
  return { type: 'RegularExpression', value: m.value };
}

/**
 * The path of a match. Istio orders an HTTPRoute's rules by path kind first (exact, then prefix, then regular
 * expression) and the rule without matches is a prefix `/`, so a regular-expression path would never be reached: a
 * prefix is a PathPrefix (whole path segments), and a regular expression is refused.
 */
function pathValue(scope: IConstruct, prop: string, m: StringMatch): { type: string; value: string } {
  m._render(scope, prop);
  if (m.kind === 'exact') return { type: 'Exact', value: m.value };
  if (m.kind === 'prefix') return { type: 'PathPrefix', value: m.value };
  throw configError(scope, prop, m.value,
    'Istio ranks regular-expression paths of an HTTPRoute below every prefix, the catch-all route\'s included, so the rule would never match: use an exact or prefix path, or the Istio traffic API');
}

/** @internal HTTPRouteMatch entries of one RequestMatch (one per method when several are allowed). */
export function httpRouteMatches(scope: IConstruct, prop: string, match: RequestMatch): any[] {
  const base: any = {};
  let methods: string[] | undefined;
  for (const c of match._conditions) {
    for (const [name, m] of Object.entries(c.headers ?? {})) {
      base.headers = [...(base.headers ?? []), { name, ...stringValue(scope, `${prop}.headers.${name}`, m) }];
    }
    for (const [name, m] of Object.entries(c.queryParams ?? {})) {
      base.queryParams = [...(base.queryParams ?? []), { name, ...stringValue(scope, `${prop}.queryParams.${name}`, m) }];
    }
    if (c.uri) base.path = pathValue(scope, `${prop}.uri`, c.uri);
    if (c.methods) methods = methods ? methods.filter(m => c.methods!.includes(m)) : [...c.methods];
  }
  // Reuse the Istio rendering's method checks (valid methods, non-empty intersection).
  match._render(scope, prop);
  return methods ? methods.map(method => ({ ...base, method })) : [base];
}

/**
 * @internal The HTTPRoute `retry` of a policy: Experimental, and limited to status codes.
 */
export function httpRouteRetry(scope: IConstruct, prop: string, retries: RetryPolicy): any {
  if (Mesh.of(scope).gatewayApiChannel !== GatewayApiChannel.EXPERIMENTAL) {
    throw configError(scope, prop, retries.attempts, 'HTTPRoute retry is an Experimental Gateway API field: set the Mesh gatewayApiChannel to EXPERIMENTAL, or use the Istio traffic API');
  }
  if (retries.attempts === 0) return { attempts: 0 };
  const codes = retries.retryOn.flatMap(r => r.codes);
  const other = retries.retryOn.filter(r => r.codes.length === 0).map(r => r.value);
  if (other.length) {
    throw configError(scope, `${prop}.retryOn`, other, 'the Gateway API retries on status codes only: use RetryOn.statusCodes(...), or the Istio traffic API');
  }
  return { attempts: retries.attempts, codes };
}

interface RouteTarget {
  readonly subset?: string;
  readonly host?: Host;
  readonly port?: number;
}

/** @internal Gateway API parents: a Gateway by `namespace/name`, one per listener when listeners are named. */
export function gatewayParentRefs(binding: GatewayBinding): any[] {
  const [namespace, name] = binding.ref.split('/');
  const ref = { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace, name };
  return binding.sections.length ? binding.sections.map(sectionName => ({ ...ref, sectionName })) : [ref];
}

/**
 * @internal The HTTPRoute spec of a host's routing model for one Service port: a rule per route, backends being the
 * per-version Services.
 */
export function renderHttpRoute(model: RoutingModel, port: ServicePort | undefined, withGateways: boolean): any {
  const service = model.host.serviceName;
  const backend = (owner: IConstruct, d: RouteTarget): any => {
    const number = d.port ?? port?.port;
    if (!number) throw configError(owner, 'port', undefined, 'Gateway API backends need a port: declare the Service\'s ports or the destination port');
    if (d.host) {
      if (!d.host.serviceName) throw configError(owner, 'host', d.host.name, 'the Gateway API routes to Kubernetes Services: use the Istio traffic API for external hosts');
      return { name: d.host.serviceName, ...(d.host.namespace !== model.namespace ? { namespace: d.host.namespace } : {}), port: number };
    }
    if (!d.subset) {
      if (!service) throw configError(owner, 'host', model.host.name, 'the Gateway API routes to Kubernetes Services: use the Istio traffic API for external hosts');
      return { name: service, port: number };
    }
    const name = model.subsetBackends.get(d.subset);
    if (!name) throw configError(owner, 'subset', d.subset, 'the Gateway API routes to Services: give the version its own Service');
    return { name, port: number };
  };
  const parentRefs: any[] = model.includeMesh && service && port ? [{ group: '', kind: 'Service', name: service, port: port.port }] : [];
  if (withGateways) parentRefs.push(...model.gateways.flatMap(gatewayParentRefs));
  if (parentRefs.length === 0) {
    throw configError(model.routes[0].owner, 'host', model.host.name, 'the route has no parent: bind it to a gateway, or route a Kubernetes Service');
  }
  const hostnames = [...(service ? [] : [model.host.name]), ...model.extraHosts];
  // Routes and the per-version DestinationRules cover HTTP ports only: connections to another port would reach the
  // bare Service, every version's pods and no traffic policy.
  const opaque = model.ports.find(p => !p.isHttp);
  if (opaque && model.subsetBackends.size > 0) {
    throw configError(model.routes[0].owner, 'ports', `${opaque.name} ${opaque.port}`,
      `with the Gateway API the versions of ${model.host.name} are routed on HTTP ports only, and connections to this port would reach every version with no traffic policy: use the Istio traffic API, or serve the port from another Service`);
  }
  for (const entry of [model.unscopedFault, ...model.routes]) {
    if (entry?.fault) {
      throw configError(entry.owner, `${entry.route.name}.fault`, entry.route.name, 'the Gateway API has no fault injection: use the Istio traffic API for fault tests');
    }
  }
  const ranked = model.routes.flatMap((entry, index): RankedRule[] => {
    const { route, owner, timeout, retries } = entry;
    const rankedRule = (r: any): RankedRule => ({ rule: r, route: index, name: route.name, owner });
    const prop = route.name;
    const matches = (route.matches ?? []).flatMap((m, i) => httpRouteMatches(owner, `${prop}.matches[${i}]`, m));
    const rule: any = {
      name: route.name,
      ...(matches.length ? { matches } : {}),
      backendRefs: route.destinations.map(d => ({
        ...backend(owner, d),
        weight: d.weight,
        ...(d.responseHeaders ? {
          filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: Object.entries(d.responseHeaders).map(([name, value]) => ({ name, value })) } }],
        } : {}),
      })),
    };
    if (route.mirrorSubset) {
      rule.filters = [{
        type: 'RequestMirror',
        requestMirror: { backendRef: backend(owner, { subset: route.mirrorSubset }), percent: wholePercent(owner, `${prop}.mirrorPercentage`, route.mirrorPercentage ?? 100) },
      }];
    }
    const timeouts = compact({
      request: timeout && gatewayApiDuration(owner, `${prop}.timeout`, timeout),
      backendRequest: retries?.perTryTimeout && retries.attempts > 0 ? gatewayApiDuration(owner, `${prop}.retries.perTryTimeout`, retries.perTryTimeout) : undefined,
    });
    if (timeouts) rule.timeouts = timeouts;
    if (!retries) return [rankedRule(rule)];
    const out: RankedRule[] = [];
    if (retries._needsNonIdempotentRoute) {
      // POST and PATCH get a rule of their own with only the retries that cannot re-send a processed request.
      const base = matches.length ? matches : [{}];
      const methodMatches = base.flatMap((m: any) => ['POST', 'PATCH'].filter(x => !m.method || m.method === x).map(method => ({ ...m, method })));
      if (methodMatches.length) {
        out.push(rankedRule({ ...rule, name: `${route.name}-non-idempotent`, matches: methodMatches, retry: httpRouteRetry(owner, `${prop}.retries`, retries._safeSubset()) }));
      }
    }
    out.push(rankedRule({ ...rule, retry: httpRouteRetry(owner, `${prop}.retries`, retries) }));
    return out;
  });
  const rules = keepRouteOrder(ranked);
  // The CRD's limits: 16 rules, and 128 matches over all of them.
  const matchCount = rules.reduce((n: number, r: any) => n + Math.max(r.matches?.length ?? 0, 1), 0);
  if (rules.length > 16 || matchCount > 128) {
    throw configError(model.routes[0].owner, 'routes', `${rules.length} rules, ${matchCount} matches`,
      `an HTTPRoute for ${model.host.name} takes at most 16 rules and 128 matches: route fewer paths or versions on the host, or use the Istio traffic API`);
  }
  return {
    parentRefs,
    ...(withGateways && hostnames.length ? { hostnames } : {}),
    rules,
  };
}
