// What the static phases and the controller adapters (Flagger, Argo Rollouts) share: weight lists, the duration
// strings controllers parse, the ports they route and ingress exposure.
import { Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { Construct, IConstruct } from 'constructs';
import { configError } from '../_errors';
import { requireDnsLabel } from '../_validate';
import { IngressGateway, IngressTls } from '../ingress/ingress-gateway';
import { Host } from '../mesh/host';
import { TrafficApi } from '../mesh/mesh';
import { ServicePort } from '../mesh/service-port';
import type { CanaryIngress } from '../traffic/canary-service';

/**
 * @internal What is wrong with a list of traffic weights, each a whole percentage from `min` to 100, that increase
 * (`strict`) or never decrease; `undefined` when nothing is.
 */
export function weightListProblem(weights: number[], min: number, strict: boolean): string | undefined {
  if (weights.length === 0) return 'give at least one weight';
  const bad = weights.find(w => !Number.isInteger(w) || w < min || w > 100);
  if (bad !== undefined) return `each weight is a whole percentage from ${min} to 100 (got ${bad})`;
  const i = weights.findIndex((w, j) => j > 0 && (strict ? w <= weights[j - 1] : w < weights[j - 1]));
  if (i > 0) return `the weights must ${strict ? 'increase' : 'not decrease'} (${weights[i - 1]} is followed by ${weights[i]})`;
  return undefined;
}

/**
 * @internal A duration as a controller parses it: a whole number of the largest unit that divides it exactly,
 * among `units` (`h`, `m`, `s`), such as `1m` or `90s`.
 */
export function controllerDuration(scope: IConstruct, prop: string, duration: Duration, units: string): string {
  const ms = duration.toMilliseconds({ integral: false });
  const size: { [unit: string]: number } = { h: 3_600_000, m: 60_000, s: 1000 };
  for (const unit of ['h', 'm', 's'].filter(u => units.includes(u))) {
    if (ms >= size[unit] && ms % size[unit] === 0) return `${ms / size[unit]}${unit}`;
  }
  throw configError(scope, prop, `${ms}ms`, 'use a whole number of seconds, at least 1s');
}

/**
 * @internal Checks the ports of a controller-routed service: valid, unique and HTTP (controllers shift HTTP routes).
 */
export function requireHttpPorts(scope: IConstruct, prop: string, ports: ServicePort[]): void {
  if (ports.length === 0) throw configError(scope, prop, [], 'declare at least one port');
  ports.forEach((p, i) => {
    p._validate(scope, `${prop}[${i}]`);
    if (!p.isHttp) {
      throw configError(scope, `${prop}[${i}]`, p.name, 'progressive delivery shifts HTTP routes: use HTTP, HTTP/2 or gRPC ports (a CanaryService splits TCP by weight)');
    }
  });
  const names = new Set(ports.map(p => p.name));
  if (names.size !== ports.length) throw configError(scope, `${prop}.name`, ports.map(p => p.name), 'each port name may appear only once');
}

/**
 * @internal The namespace to write on an object that must live in `namespace`: none when the chart's namespace is
 * that one already, so the chart's namespace flows through.
 */
export function ownNamespace(scope: IConstruct, namespace: string): string | undefined {
  return namespace === (Chart.of(scope).namespace ?? 'default') ? undefined : namespace;
}

/** @internal The name a controller adapter gives its objects: the prop, else the Deployment's name. */
export function adapterName(scope: IConstruct, name: string | undefined, deployment: kplus.Deployment): string {
  return requireDnsLabel(scope, 'name', name ?? deployment.name);
}

/**
 * @internal Exposes public hosts through an Istio ingress gateway (the one given, or one created in `scope`), for
 * routes in `routeNamespace`. Controllers rewrite Istio VirtualServices, so the gateway must be an Istio Gateway.
 */
export function exposeForController(scope: Construct, ingress: CanaryIngress, routeNamespace: string, controller: string): IngressGateway {
  if (ingress.hosts.length === 0) throw configError(scope, 'ingress.hosts', [], 'give at least one public host');
  ingress.hosts.forEach(h => Host.parseExternal(scope, h));
  const gateway = ingress.gateway ?? new IngressGateway(scope, 'Gateway', { trafficApi: TrafficApi.ISTIO });
  if (gateway.trafficApi !== TrafficApi.ISTIO) {
    throw configError(scope, 'ingress.gateway', gateway.node.path, `${controller} routes Istio VirtualServices, which bind to Istio Gateways: give a gateway with trafficApi: TrafficApi.ISTIO`);
  }
  for (const h of ingress.hosts) gateway.addHost(h, routeNamespace, ingress.tls ?? IngressTls.none());
  return gateway;
}
