// Ambient mode analyzers: L7 policies and routes that need a waypoint to take effect.
import { namespaceInAmbient, waypointExists, waypointOf, workloadInAmbient } from './_ambient';
import { Analyzer, AnalyzerContext } from './_analyzer';
import { serviceOfHost } from './_hosts';
import { KIND, Resource, entries, list, stringMap } from './_resource';
import { USE_WAYPOINT } from '../ambient/_waypoint-binding';

/** The L7 attributes an authorization policy uses: only a waypoint (or sidecar) can evaluate them. */
function l7Attributes(policy: Resource): string[] {
  const found = new Set<string>();
  for (const rule of entries(policy.spec.rules)) {
    for (const to of entries(rule?.to)) {
      for (const field of ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths']) {
        if (list(to?.operation?.[field]).length > 0) found.add(`to.operation.${field}`);
      }
    }
    for (const from of entries(rule?.from)) {
      for (const field of ['requestPrincipals', 'notRequestPrincipals']) {
        if (list(from?.source?.[field]).length > 0) found.add(`from.source.${field}`);
      }
    }
    for (const when of entries(rule?.when)) {
      const key = String(when?.key ?? '');
      if (key.startsWith('request.') || key.startsWith('experimental.')) found.add(`when ${key}`);
    }
  }
  return [...found];
}

const WAYPOINT_FIX = 'deploy a waypoint, label the Service or namespace istio.io/use-waypoint=<waypoint>';

/** CIS0003, CIS0004, IST0101: L7 policies and mesh routes in ambient namespaces without a waypoint to apply them. */
export const ambientWaypointAnalyzer: Analyzer = {
  name: 'cdk8s-istio.AmbientWaypointAnalyzer',
  description: 'Checks that L7 authorization and mesh routing in ambient namespaces have a waypoint to enforce them',
  analyze(ctx: AnalyzerContext) {
    const ambient = (ns: string) => namespaceInAmbient(ctx.index.namespace(ns));
    const checkWaypoints = ctx.has(KIND.KubernetesGateway);
    const servedBy = (svc: Resource): string | undefined => {
      const waypoint = waypointOf(ctx.index, svc);
      if (!waypoint) return undefined;
      if (checkWaypoints && !waypointExists(ctx.index, waypoint)) {
        ctx.report('ReferencedResourceNotFound', svc,
          `Referenced waypoint not found: "${waypoint.namespace}/${waypoint.name}" (label ${USE_WAYPOINT}): no Gateway of that name `
          + 'exists; create the waypoint Gateway (gatewayClassName istio-waypoint) or fix the label');
      }
      return `${waypoint.namespace}/${waypoint.name}`;
    };

    for (const policy of ctx.index.of(KIND.AuthorizationPolicy)) {
      if (!ambient(policy.namespace)) continue;
      const l7 = l7Attributes(policy);
      if (l7.length === 0) continue;
      const refs = [policy.spec.targetRef, ...list(policy.spec.targetRefs)].filter(Boolean);
      // Workloads that keep a sidecar in an ambient namespace enforce L7 rules themselves.
      const selector = policy.spec.selector ? stringMap(policy.spec.selector.matchLabels) : undefined;
      const selected = refs.length ? [] : ctx.index.workloads.select(selector, policy.namespace);
      if (selected.length && !selected.some(w => workloadInAmbient(ctx.index, w))) continue;
      if (refs.length === 0) {
        ctx.report('AmbientL7PolicyWithoutWaypoint', policy,
          `The policy uses L7 attributes (${l7.join(', ')}) but binds to ambient workloads with ${policy.spec.selector ? 'a selector' : 'no targetRefs'}: `
          + 'ztunnel enforces only L4, so its ALLOW rules never match and its DENY rules deny everything they select; bind it to a '
          + `waypoint with targetRefs (kind Service or Gateway) instead, and ${WAYPOINT_FIX}`);
        continue;
      }
      for (const ref of refs) {
        if (ref.kind !== 'Service') continue;
        const svc = ctx.index.get(KIND.Service, policy.namespace, String(ref.name));
        if (!svc || servedBy(svc)) continue;
        ctx.report('AmbientL7PolicyWithoutWaypoint', policy,
          `The policy targets ${svc.display} with L7 attributes (${l7.join(', ')}), but no waypoint serves that Service, so nothing `
          + `enforces the policy: ${WAYPOINT_FIX}`);
      }
    }

    const routeWithoutWaypoint = (route: Resource, svc: Resource) => {
      if (!ambient(svc.namespace) || servedBy(svc)) return;
      ctx.report('AmbientRouteWithoutWaypoint', route,
        `The route applies to mesh traffic for ${svc.display}, but namespace ${svc.namespace} is in ambient mode and no waypoint serves the `
        + `Service, so in-mesh clients bypass the route: ${WAYPOINT_FIX}`);
    };
    for (const vs of ctx.index.of(KIND.VirtualService)) {
      const gateways = list(vs.spec.gateways);
      if (gateways.length > 0 && !gateways.includes('mesh')) continue;
      const seen = new Set<Resource>();
      for (const host of list(vs.spec.hosts).map(String)) {
        const ref = serviceOfHost(vs.namespace, host);
        const svc = ref && ctx.index.get(KIND.Service, ref.namespace, ref.name);
        if (svc && !seen.has(svc)) {
          seen.add(svc);
          routeWithoutWaypoint(vs, svc);
        }
      }
    }
    for (const key of [KIND.HTTPRoute, KIND.GRPCRoute]) {
      for (const route of ctx.index.of(key)) {
        for (const parent of list(route.spec.parentRefs)) {
          if (parent.kind !== 'Service') continue;
          const svc = ctx.index.get(KIND.Service, parent.namespace ?? route.namespace, String(parent.name));
          if (svc) routeWithoutWaypoint(route, svc);
        }
      }
    }
  },
};
