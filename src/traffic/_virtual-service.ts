// Renders a host's routing model as an Istio VirtualService spec.
import { istioDuration } from '../_duration';
import { configError } from '../_errors';
import { ModelRoute, RoutingModel } from './_routing-model';
import { FaultInjection } from './fault-injection';
import { Host } from '../mesh/host';
import { ServicePort } from '../mesh/service-port';

/**
 * Which requests a rendering of the routes serves: those to one port of the service (several ports: in-mesh callers
 * name the port they call), and those arriving through some gateways.
 */
interface RouteScope {
  /** The service port the routes send to, when the service has several. */
  readonly port?: ServicePort;
  /** Whether the routes match the port: in-mesh traffic does, a gateway's arrives on the gateway's own port. */
  readonly matchPort: boolean;
  /** The gateways (or `mesh`) the routes apply to, when the VirtualService is bound to gateways. */
  readonly gateways?: string[];
}

/** @internal */
export function renderVirtualService(model: RoutingModel): any {
  const httpPorts = model.ports.filter(p => p.isHttp);
  const tcpPorts = model.ports.filter(p => !p.isHttp);
  // One port: routes need not name it. Several: every route and destination names its port (IST0112).
  const named = model.ports.length > 1;
  const gatewayRefs = model.gateways.map(g => g.ref);
  const spec: any = {
    hosts: [model.host.name, ...model.extraHosts],
    ...(gatewayRefs.length ? { gateways: [...gatewayRefs, ...(model.includeMesh ? ['mesh'] : [])] } : {}),
  };
  if (model.ports.length && !httpPorts.length) {
    // A TCP service has no requests: only the default route's weights apply to it.
    const entry = model.unscopedFault ?? model.routes.find(e => e.route.matches?.length || e.fault || e.route.mirrorSubset)
      ?? (gatewayRefs.length ? model.routes[0] : undefined);
    if (entry) {
      throw configError(entry.owner, entry.route.name, model.host.name,
        `${model.host.name} has no HTTP port, and TCP connections carry no requests to match, mirror, fault or expose through an HTTP gateway: route by weight only, or declare the HTTP port`);
    }
  }
  // A gateway's requests arrive on its own port, never the service's: with several ports, they go to the first
  // HTTP one (as the Gateway API renderer's routes do), matched by gateway instead of port.
  const scopes: RouteScope[] = !named
    ? (httpPorts.length || !model.ports.length ? [{ matchPort: false }] : [])
    : [
      ...(model.includeMesh ? httpPorts.map(port => ({ port, matchPort: true, gateways: gatewayRefs.length ? ['mesh'] : undefined })) : []),
      ...(gatewayRefs.length && httpPorts.length ? [{ port: httpPorts[0], matchPort: false, gateways: gatewayRefs }] : []),
    ];
  const http = scopes.flatMap(scope => model.routes.flatMap(entry => renderRoute(model, entry, scope, entry.fault ?? model.unscopedFault?.fault)));
  if (http.length) spec.http = http;
  if (tcpPorts.length) {
    spec.tcp = tcpPorts.map(p => ({
      ...(named ? { match: [{ port: p.port, ...(gatewayRefs.length ? { gateways: ['mesh'] } : {}) }] } : {}),
      route: model.defaultRoute.destinations.map(d => ({ destination: destination(model, d, named ? p : undefined), weight: d.weight })),
    }));
  }
  return spec;
}

function destination(model: RoutingModel, d: { subset?: string; host?: Host; port?: number }, port: ServicePort | undefined): any {
  const number = d.port ?? port?.port;
  return {
    host: d.host?.name ?? model.host.name,
    ...(d.subset ? { subset: d.subset } : {}),
    ...(number ? { port: { number } } : {}),
  };
}

function renderRoute(model: RoutingModel, entry: ModelRoute, scope: RouteScope, fault?: FaultInjection): any[] {
  const { route, owner, timeout, retries } = entry;
  const port = scope.port;
  const prop = route.name;
  const matches = (route.matches ?? []).flatMap((m, i) => m._render(owner, `${prop}.matches[${i}]`));
  const base: any = {
    name: `${route.name}${scope.matchPort ? `-${port!.name}` : scope.gateways ? '-gateway' : ''}`,
    route: route.destinations.map(d => ({
      destination: destination(model, d, port),
      weight: d.weight,
      ...(d.responseHeaders ? { headers: { response: { add: { ...d.responseHeaders } } } } : {}),
    })),
    ...(timeout ? { timeout: istioDuration(owner, `${prop}.timeout`, timeout) } : {}),
  };
  if (route.mirrorSubset) {
    base.mirror = destination(model, { subset: route.mirrorSubset }, port);
    base.mirrorPercentage = { value: route.mirrorPercentage ?? 100 };
  }
  const withMatches = (extra: any[] | undefined): any[] | undefined => {
    const ms = matches.length ? matches : [{}];
    // A match that already names a method combines only with the same method.
    const combined = extra ? ms.flatMap(m => extra.filter(e => !m.method || m.method.exact === e.method.exact).map(e => ({ ...m, ...e }))) : ms;
    const scoped = combined.map(m => ({
      ...m, ...(scope.matchPort ? { port: port!.port } : {}), ...(scope.gateways ? { gateways: scope.gateways } : {}),
    }));
    return scoped.length === 1 && Object.keys(scoped[0]).length === 0 ? undefined : scoped;
  };
  const m = withMatches(undefined);
  if (fault) {
    // Istio documents no retries on a faulted route, but gives a route without `retries` its default policy (2
    // attempts): they are switched off explicitly, so the test sees the fault as written.
    return [{ ...base, ...(m ? { match: m } : {}), retries: { attempts: 0 }, fault: fault._render(owner, `${prop}.fault`) }];
  }
  const out: any[] = [];
  if (retries?._needsNonIdempotentRoute) {
    // POST and PATCH get their own route that only retries when the request cannot have reached the upstream.
    const methodMatches = withMatches(['POST', 'PATCH'].map(method => ({ method: { exact: method } })));
    if (methodMatches?.length) out.push({ ...base, name: `${base.name}-non-idempotent`, match: methodMatches, retries: retries._safeSubset()._render(owner, `${prop}.retries`) });
  }
  out.push({ ...base, ...(m ? { match: m } : {}), ...(retries ? { retries: retries._render(owner, `${prop}.retries`) } : {}) });
  return out;
}
