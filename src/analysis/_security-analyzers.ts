// Security analyzers: authorization policies (workloads, namespaces, principals, deny-by-default), JWKS fetching,
// and mTLS modes that DestinationRules and PeerAuthentications disagree on.
import { workloadInAmbient } from './_ambient';
import { Analyzer, AnalyzerContext, names } from './_analyzer';
import { serviceOfHost } from './_hosts';
import { sidecarInjected } from './_injection';
import { KIND, Labels, Resource, Workload, entries, list, selectorString, selects, stringMap } from './_resource';


/** Whether a workload is in the mesh (a sidecar, or ambient); undefined when the manifests do not say. */
function inMesh(ctx: AnalyzerContext, w: Workload): boolean | undefined {
  return workloadInAmbient(ctx.index, w) || sidecarInjected(ctx.index, w);
}

/** The mesh workloads, by namespace, built once per analysis. */
function meshWorkloads(ctx: AnalyzerContext): Map<string, Workload[]> {
  return ctx.index.memo('mesh-workloads', () => {
    const out = new Map<string, Workload[]>();
    for (const w of ctx.index.workloads.all) {
      const member = inMesh(ctx, w);
      if (member === false || (member === undefined && ctx.settings.complete)) continue;
      const found = out.get(w.namespace);
      if (found) found.push(w);
      else out.set(w.namespace, [w]);
    }
    return out;
  });
}

function targeted(policy: Resource): boolean {
  return policy.spec.targetRef !== undefined || list(policy.spec.targetRefs).length > 0;
}

/** Whether a namespace name matches an authorization namespace expression (`*`, `prefix*`, `*suffix`, exact). */
function namespaceMatches(ns: string, expression: string): boolean {
  if (expression === '*') return true;
  if (expression.startsWith('*')) return ns.endsWith(expression.slice(1));
  if (expression.endsWith('*')) return ns.startsWith(expression.slice(0, -1));
  return ns.toLowerCase() === expression.toLowerCase();
}

/** IST0127, IST0101: policies that select no workload, and source namespaces that do not exist. */
export const authorizationPoliciesAnalyzer: Analyzer = {
  name: 'authz.AuthorizationPoliciesAnalyzer',
  description: 'Checks that AuthorizationPolicies select workloads and name existing namespaces',
  analyze(ctx: AnalyzerContext) {
    const policies = ctx.index.of(KIND.AuthorizationPolicy);
    if (policies.length === 0) return;
    const root = ctx.mesh.rootNamespace;
    const checkWorkloads = ctx.hasWorkloads();
    if (!checkWorkloads) ctx.limit('no pod or workload in the manifests: policy selectors not checked');
    const mesh = checkWorkloads ? meshWorkloads(ctx) : new Map<string, Workload[]>();
    const all = [...mesh.values()].flat();
    const checkNamespaces = ctx.has(KIND.Namespace);
    if (!checkNamespaces) ctx.limit('no Namespace in the manifests: source namespaces not checked');
    const namespaceNames = [...new Set([
      root,
      ...ctx.index.of(KIND.Namespace).map(n => n.name),
      ...(ctx.settings.complete ? [] : ctx.index.all.filter(r => !r.synthetic && r.namespace).map(r => r.namespace)),
    ])];
    let foreign = 0;

    for (const policy of policies) {
      if (checkWorkloads && !targeted(policy)) {
        const selector = policy.spec.selector ? stringMap(policy.spec.selector.matchLabels) : undefined;
        const candidates = policy.namespace === root ? all : mesh.get(policy.namespace) ?? [];
        if (selector === undefined) {
          if (policy.namespace !== root && candidates.length === 0) {
            ctx.report('NoMatchingWorkloadsFound', policy,
              `No matching workloads for this resource with the following labels: (namespace-wide): namespace ${policy.namespace} has no `
              + 'workload in the mesh; deploy the workloads or remove the policy');
          }
        } else if (!candidates.some(w => selects(selector, w.labels))) {
          ctx.report('NoMatchingWorkloadsFound', policy,
            `No matching workloads for this resource with the following labels: ${selectorString(selector)}: no workload in the mesh `
            + `${policy.namespace === root ? '' : `in namespace ${policy.namespace} `}has them; fix the selector`);
        }
      }
      if (!checkNamespaces) continue;
      entries(policy.spec.rules).forEach((rule: any, i: number) => {
        entries(rule?.from).forEach((from: any, j: number) => {
          for (const field of ['namespaces', 'notNamespaces']) {
            for (const expression of list(from?.source?.[field]).map(String)) {
              if (namespaceNames.some(ns => namespaceMatches(ns, expression))) continue;
              // Other apps' namespaces exist without being in the manifests: only complete manifests prove one does not.
              if (!ctx.settings.complete) {
                foreign++;
                continue;
              }
              ctx.report('ReferencedResourceNotFound', policy,
                `Referenced namespace not found: "${expression}" (rules[${i}].from[${j}].source.${field}): no namespace matches it; fix `
                + 'the name or pattern');
            }
          }
        });
      });
    }
    if (foreign > 0) ctx.limit(`${foreign} source namespace${foreign > 1 ? 's' : ''} the manifests do not hold not checked`);
  },
};

const PRINCIPAL = /^(.+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

/** IST0101: principals naming namespaces or service accounts that do not exist. */
export const principalAnalyzer: Analyzer = {
  name: 'cdk8s-istio.PrincipalAnalyzer',
  description: "Checks that AuthorizationPolicy principals name existing namespaces and workloads' service accounts",
  analyze(ctx: AnalyzerContext) {
    const identities = ctx.index.memo('service-accounts', () => {
      const out = new Set<string>();
      for (const sa of ctx.index.of(KIND.ServiceAccount)) out.add(`${sa.namespace}/${sa.name}`);
      for (const w of ctx.index.workloads.all) out.add(`${w.namespace}/${w.serviceAccountName}`);
      // Istio's deployment controller runs a Gateway API Gateway as <name>-<class>, a waypoint as <name>.
      for (const g of ctx.index.of(KIND.KubernetesGateway)) {
        const cls = String(g.spec.gatewayClassName ?? '');
        out.add(`${g.namespace}/${g.annotations['gateway.istio.io/service-account'] ?? (cls === 'istio-waypoint' ? g.name : `${g.name}-${cls}`)}`);
      }
      return out;
    });
    let unchecked = 0;
    for (const policy of ctx.index.of(KIND.AuthorizationPolicy)) {
      entries(policy.spec.rules).forEach((rule: any, i: number) => {
        entries(rule?.from).forEach((from: any, j: number) => {
          for (const field of ['principals', 'notPrincipals']) {
            for (const principal of list(from?.source?.[field]).map(String)) {
              const m = PRINCIPAL.exec(principal);
              if (!m || principal.includes('*')) continue;
              const [, , ns, sa] = m;
              const at = `rules[${i}].from[${j}].source.${field}`;
              const workloadsThere = ctx.index.workloads.in(ns);
              if (!ctx.index.knowsNamespace(ns) && ns !== ctx.mesh.rootNamespace && workloadsThere.length === 0) {
                // Callers often live in namespaces other apps own: only complete manifests prove one does not exist.
                if (!ctx.settings.complete) {
                  unchecked++;
                  continue;
                }
                ctx.report('ReferencedResourceNotFound', policy,
                  `Referenced namespace not found: "${ns}" in principal "${principal}" (${at}): no Namespace or workload of the manifests is `
                  + 'there; fix the principal');
                continue;
              }
              if (sa === 'default' || identities.has(`${ns}/${sa}`)) continue;
              if (!ctx.settings.complete && !workloadsThere.some(w => !w.resource.synthetic)) {
                unchecked++;
                continue;
              }
              ctx.report('ReferencedResourceNotFound', policy,
                `Referenced service account not found: "${principal}" (${at}): no ServiceAccount or workload in namespace ${ns} runs as `
                + `${sa}; fix the principal or the workload's serviceAccountName`);
            }
          }
        });
      });
    }
    if (unchecked > 0) {
      ctx.limit(`${unchecked} principal${unchecked > 1 ? 's' : ''} of namespaces without workloads in the manifests not checked`);
    }
  },
};

/** CIS0005: workloads behind a Service that only allow-nothing ALLOW policies apply to. */
export const denyByDefaultAnalyzer: Analyzer = {
  name: 'cdk8s-istio.DenyByDefaultAnalyzer',
  description: 'Checks that workloads behind Services in deny-by-default namespaces are admitted by some ALLOW policy',
  analyze(ctx: AnalyzerContext) {
    const root = ctx.mesh.rootNamespace;
    const allowPolicies = ctx.index.of(KIND.AuthorizationPolicy)
      .filter(p => !targeted(p) && (p.spec.action === undefined || p.spec.action === 'ALLOW'));
    if (allowPolicies.length === 0) return;
    const byNamespace = new Map<string, Resource[]>();
    for (const p of allowPolicies) byNamespace.set(p.namespace, [...(byNamespace.get(p.namespace) ?? []), p]);
    const services = ctx.index.memo('services-selecting', () => {
      const out = new Map<Workload, Resource>();
      for (const svc of ctx.index.of(KIND.Service)) {
        const selector = stringMap(svc.spec.selector);
        if (Object.keys(selector).length === 0) continue;
        for (const w of ctx.index.workloads.select(selector, svc.namespace)) if (!out.has(w)) out.set(w, svc);
      }
      return out;
    });
    const applies = (p: Resource, labels: Labels) => !p.spec.selector || selects(stringMap(p.spec.selector.matchLabels), labels);
    for (const w of ctx.index.workloads.all) {
      const svc = services.get(w);
      if (!svc || w.resource.synthetic) continue;
      const labels = w.isPod ? w.resource.labels : w.labels;
      const applicable = [...(byNamespace.get(w.namespace) ?? []), ...(w.namespace === root ? [] : byNamespace.get(root) ?? [])]
        .filter(p => applies(p, labels));
      if (applicable.length === 0 || applicable.some(p => list(p.spec.rules).length > 0)) continue;
      ctx.report('WorkloadDeniedByDefault', w.resource,
        `${w.description} is behind ${svc.display}, but the only ALLOW policies that apply to it (${names(applicable.map(p => p.fullName))}) `
        + 'allow nothing, so every request to it is denied: add an AuthorizationPolicy that allows its callers');
    }
  },
};

/** IST0175: RequestAuthentications while istiod may fetch JWKS from internal addresses. */
export const blockedCidrsAnalyzer: Analyzer = {
  name: 'authn.BlockedCIDRsAnalyzer',
  description: 'Checks that istiod blocks internal addresses for JWKS fetching when RequestAuthentications exist',
  analyze(ctx: AnalyzerContext) {
    const requestAuthns = ctx.index.of(KIND.RequestAuthentication);
    if (requestAuthns.length === 0) return;
    const istiods = ctx.index.of(KIND.Deployment).filter(d => d.labels.app === 'istiod');
    if (istiods.length === 0 && !ctx.settings.complete) {
      ctx.skip('istiod is not in the manifests: BLOCKED_CIDRS_IN_JWKS_URIS not checked');
      return;
    }
    const raNames = requestAuthns.map(r => r.fullName);
    const shown = raNames.length <= 5 ? raNames.join(', ') : `${raNames.slice(0, 5).join(', ')}, and ${raNames.length - 5} more`;
    for (const istiod of istiods) {
      const containers = list(istiod.spec.template?.spec?.containers);
      if (containers.some((c: any) => list(c.env).some((e: any) => e.name === 'BLOCKED_CIDRS_IN_JWKS_URIS' && e.value))) continue;
      ctx.report('JwksUriFetchUnrestricted', istiod,
        `${raNames.length} RequestAuthentication resource${raNames.length > 1 ? 's' : ''} (${shown}) make istiod fetch JWKS URIs, but `
        + 'BLOCKED_CIDRS_IN_JWKS_URIS is not set: set it on istiod to block fetches from internal address ranges');
    }
  },
};

/** The PeerAuthentication mode for a workload and container port, and the policy that sets it. */
function peerAuthenticationMode(ctx: AnalyzerContext, w: Workload, port: number | undefined): { mode: string; policy?: Resource } {
  const root = ctx.mesh.rootNamespace;
  const policies = ctx.index.in(KIND.PeerAuthentication, w.namespace);
  const labels = w.isPod ? w.resource.labels : w.labels;
  const workloadLevel = policies.find(p => p.spec.selector && selects(stringMap(p.spec.selector.matchLabels), labels));
  const namespaceLevel = policies.find(p => !p.spec.selector);
  const meshLevel = ctx.index.in(KIND.PeerAuthentication, root).find(p => !p.spec.selector);
  if (workloadLevel && port !== undefined) {
    const portMode = workloadLevel.spec.portLevelMtls?.[String(port)]?.mode;
    if (portMode && portMode !== 'UNSET') return { mode: portMode, policy: workloadLevel };
  }
  for (const p of [workloadLevel, namespaceLevel, meshLevel]) {
    const mode = p?.spec.mtls?.mode;
    if (p && mode && mode !== 'UNSET') return { mode, policy: p };
  }
  return { mode: 'PERMISSIVE' };
}

/** CIS0001: DestinationRules whose TLS mode the destination's PeerAuthentication refuses. */
export const mtlsConflictAnalyzer: Analyzer = {
  name: 'cdk8s-istio.MtlsConflictAnalyzer',
  description: 'Checks that DestinationRule TLS modes agree with the PeerAuthentication modes of their destinations',
  analyze(ctx: AnalyzerContext) {
    const destinationRules = ctx.index.of(KIND.DestinationRule);
    let assumed = false;
    for (const dr of destinationRules) {
      const host = typeof dr.spec.host === 'string' ? dr.spec.host : '';
      const ref = serviceOfHost(dr.namespace, host);
      const svc = ref && ctx.index.get(KIND.Service, ref.namespace, ref.name);
      if (!svc) continue;
      const selector = stringMap(svc.spec.selector);
      if (Object.keys(selector).length === 0) continue;
      const workloads = ctx.index.workloads.select(selector, svc.namespace);
      const policy = dr.spec.trafficPolicy ?? {};
      const settings: { mode: string; servicePort?: number }[] = [];
      if (policy.tls?.mode) settings.push({ mode: policy.tls.mode });
      for (const s of list(policy.portLevelSettings)) if (s.tls?.mode) settings.push({ mode: s.tls.mode, servicePort: Number(s.port?.number) });
      for (const { mode, servicePort } of settings) {
        if (mode !== 'DISABLE' && mode !== 'ISTIO_MUTUAL') continue;
        if (!ctx.has(KIND.PeerAuthentication)) {
          assumed = true;
          continue;
        }
        const target = servicePort === undefined ? undefined : targetPort(svc, servicePort);
        for (const w of workloads) {
          const effective = peerAuthenticationMode(ctx, w, target);
          const conflict = (mode === 'DISABLE' && effective.mode === 'STRICT') || (mode === 'ISTIO_MUTUAL' && effective.mode === 'DISABLE');
          if (!conflict) continue;
          const at = servicePort === undefined ? '' : ` port ${servicePort}`;
          ctx.report('MtlsModeConflict', dr,
            `DestinationRule ${dr.fullName} sets TLS mode ${mode} for ${host}${at}, but PeerAuthentication ${effective.policy!.fullName} sets `
            + `mTLS mode ${effective.mode} on ${w.description}, so its connections fail: `
            + (mode === 'DISABLE' ? 'use ISTIO_MUTUAL (or drop the tls setting) or make the PeerAuthentication PERMISSIVE'
              : 'drop the tls setting or make the PeerAuthentication PERMISSIVE or STRICT'));
          break;
        }
      }
    }
    if (assumed) ctx.limit('no PeerAuthentication in the manifests: destinations assumed PERMISSIVE');
  },
};

/** The container port a Service port targets, when it is a number. */
function targetPort(svc: Resource, servicePort: number): number | undefined {
  const p = list(svc.spec.ports).find((x: any) => Number(x.port) === servicePort);
  if (!p) return undefined;
  const target = p.targetPort ?? p.port;
  return Number.isInteger(Number(target)) ? Number(target) : undefined;
}
