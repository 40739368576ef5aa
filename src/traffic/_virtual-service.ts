// Renders a host's routing model as an Istio VirtualService spec.
import { istioDuration } from '../_duration';
import { ModelRoute, RoutingModel } from './_routing-model';
import { FaultInjection } from './fault-injection';
import { Host } from '../mesh/host';
import { ServicePort } from '../mesh/service-port';

/** @internal */
export function renderVirtualService(model: RoutingModel): any {
  const httpPorts = model.ports.filter(p => p.isHttp);
  const tcpPorts = model.ports.filter(p => !p.isHttp);
  // One port: routes need not name it. Several: every route and destination names its port (IST0112).
  const named = model.ports.length > 1;
  const spec: any = {
    hosts: [model.host.name, ...model.extraHosts],
    ...(model.gateways.length ? { gateways: [...model.gateways.map(g => g.ref), ...(model.includeMesh ? ['mesh'] : [])] } : {}),
  };
  const http = (named ? httpPorts : [undefined]).flatMap(port =>
    model.routes.flatMap(entry => renderRoute(model, entry, port, entry.fault ?? model.unscopedFault?.fault)));
  if (http.length) spec.http = http;
  if (named && tcpPorts.length) {
    spec.tcp = tcpPorts.map(p => ({
      match: [{ port: p.port }],
      route: model.defaultRoute.destinations.map(d => ({ destination: destination(model, d, p), weight: d.weight })),
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

function renderRoute(model: RoutingModel, entry: ModelRoute, port: ServicePort | undefined, fault?: FaultInjection): any[] {
  const { route, owner, timeout, retries } = entry;
  const prop = route.name;
  const matches = (route.matches ?? []).flatMap((m, i) => m._render(owner, `${prop}.matches[${i}]`));
  const base: any = {
    name: `${route.name}${port ? `-${port.name}` : ''}`,
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
    const scoped = port ? combined.map(m => ({ ...m, port: port.port })) : combined;
    return scoped.length === 1 && Object.keys(scoped[0]).length === 0 ? undefined : scoped;
  };
  const m = withMatches(undefined);
  if (fault) {
    // Envoy does not retry a faulted route; no retries are rendered rather than implied.
    return [{ ...base, ...(m ? { match: m } : {}), fault: fault._render(owner, `${prop}.fault`) }];
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
