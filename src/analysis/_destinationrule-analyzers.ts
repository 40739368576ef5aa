// DestinationRule analyzers: server certificate verification, hosts that match no service and subsets that select no
// workload.
import { Analyzer, AnalyzerContext } from './_analyzer';
import { ServiceRegistry, serviceOfHost } from './_hosts';
import { KIND, Labels, Resource, Workload, list, selectorString, selects, stringMap } from './_resource';

const VERIFYING_MODES = new Set(['SIMPLE', 'MUTUAL']);

/** IST0128, IST0129: TLS origination that does not verify the server certificate. */
export const caCertificateAnalyzer: Analyzer = {
  name: 'destinationrule.CaCertificateAnalyzer',
  description: 'Checks that DestinationRules originating TLS verify the server certificate',
  analyze(ctx: AnalyzerContext) {
    for (const dr of ctx.index.of(KIND.DestinationRule)) {
      const policy = dr.spec.trafficPolicy ?? {};
      const gatewayScoped = Object.keys(stringMap(dr.spec.workloadSelector?.matchLabels)).length > 0;
      const unverified = (tls: any) => tls && VERIFYING_MODES.has(String(tls.mode)) && !tls.caCertificates && !tls.insecureSkipVerify
        // A credentialName on a DestinationRule bound to (gateway) workloads carries the CA certificate with it.
        && !(tls.credentialName && gatewayScoped);
      const fix = 'set caCertificates (or credentialName with a workloadSelector on gateways) so that the server identity is verified';
      if (unverified(policy.tls)) {
        ctx.report('NoServerCertificateVerificationDestinationLevel', dr,
          `DestinationRule ${dr.fullName} in namespace ${dr.namespace} has TLS mode set to ${policy.tls.mode} but no caCertificates are set `
          + `to validate server identity for host: ${dr.spec.host}; ${fix}`);
      }
      for (const setting of list(policy.portLevelSettings)) {
        if (!unverified(setting.tls)) continue;
        ctx.report('NoServerCertificateVerificationPortLevel', dr,
          `DestinationRule ${dr.fullName} in namespace ${dr.namespace} has TLS mode set to ${setting.tls.mode} but no caCertificates are set `
          + `to validate server identity for host: ${dr.spec.host} at port number:${setting.port?.number}; ${fix}`);
      }
    }
  },
};

/** IST0174, IST0173: DestinationRules for hosts no service has, and subsets that select no workload. */
export const podNotSelectedAnalyzer: Analyzer = {
  name: 'destinationrule.PodNotSelectedAnalyzer',
  description: 'Checks that DestinationRule hosts are services of the mesh and that their subsets select workloads',
  analyze(ctx: AnalyzerContext) {
    const destinationRules = ctx.index.of(KIND.DestinationRule);
    if (destinationRules.length === 0) return;
    const checkHosts = ctx.has(KIND.Service, KIND.ServiceEntry);
    const checkSubsets = ctx.hasWorkloads();
    if (!checkHosts) ctx.limit('no Service or ServiceEntry in the manifests: DestinationRule hosts and subsets not checked');
    else if (!checkSubsets) ctx.limit('no pod or workload in the manifests: subsets not checked against workloads');
    if (!checkHosts) return;
    const registry = ServiceRegistry.of(ctx.index);
    let foreign = 0;
    for (const dr of destinationRules) {
      const host = typeof dr.spec.host === 'string' ? dr.spec.host : '';
      const service = registry.lookup(dr.namespace, list(dr.spec.exportTo).map(String), host);
      const target = serviceOfHost(dr.namespace, host);
      if (!service && target && ctx.foreign(target.namespace)) {
        foreign++;
        continue;
      }
      if (!service) {
        ctx.report('UnknownDestinationRuleHost', dr,
          `DestinationRule for host "${host}" has no effect: no Service or ServiceEntry visible from namespace ${dr.namespace || '(default)'} `
          + 'has this host; fix the host or define the service');
        continue;
      }
      if (!checkSubsets) continue;
      for (const subset of list(dr.spec.subsets)) {
        const labels = stringMap(subset.labels);
        if (subsetSelectsSomething(ctx, service.resource, service.workloadSelector, labels)) continue;
        ctx.report('DestinationRuleSubsetNotSelectPods', dr,
          `The Subset ${subset.name} defined in the DestinationRule does not select any pods (labels ${selectorString(labels) || 'none'} with `
          + `${service.resource.display}): traffic routed to it fails with 503; fix the subset labels or deploy the version`);
      }
    }
    if (foreign > 0) ctx.limit(`${foreign} DestinationRule${foreign > 1 ? 's' : ''} for services in namespaces the manifests do not hold not checked`);
  },
};

function subsetSelectsSomething(ctx: AnalyzerContext, service: Resource, workloadSelector: Labels | undefined, labels: Labels): boolean {
  if (service.key === KIND.ServiceEntry) {
    const endpoints = list(service.spec.endpoints);
    if (endpoints.length > 0 && !workloadSelector) return endpoints.some((e: any) => selects(labels, stringMap(e.labels)));
    const selector = { ...(workloadSelector ?? {}), ...labels };
    if (ctx.index.of(KIND.WorkloadEntry).some(e => selects(selector, stringMap(e.spec.labels)))) return true;
    return ctx.index.workloads.select(selector, workloadSelector ? service.namespace : undefined).length > 0
      || candidatesWithTopology(ctx, selector, undefined);
  }
  const serviceSelector = stringMap(service.spec.selector);
  const selector = { ...serviceSelector, ...labels };
  return ctx.index.workloads.select(selector, service.namespace).length > 0 || candidatesWithTopology(ctx, selector, service.namespace);
}

const TOPOLOGY_LABELS = ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone'];

/** Whether a scheduled pod matches the selector once Istio adds its node's topology labels to its own. */
function candidatesWithTopology(ctx: AnalyzerContext, selector: Labels, namespace: string | undefined): boolean {
  const nodeLabels = Object.keys(selector).filter(k => TOPOLOGY_LABELS.includes(k) || k === 'kubernetes.io/hostname');
  if (nodeLabels.length === 0) return false;
  const podSelector: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(selector)) if (!nodeLabels.includes(k)) podSelector[k] = v;
  return ctx.index.workloads.select(podSelector, namespace).some((w: Workload) => {
    const nodeName = w.podSpec.nodeName;
    if (!w.isPod || typeof nodeName !== 'string') return false;
    const node = ctx.index.get(KIND.Node, '', nodeName);
    const augmented: { [key: string]: string } = { ...w.labels, 'kubernetes.io/hostname': nodeName };
    for (const k of TOPOLOGY_LABELS) if (node?.labels[k] !== undefined) augmented[k] = node.labels[k];
    return selects(selector, augmented);
  });
}
