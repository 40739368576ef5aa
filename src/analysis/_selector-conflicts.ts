// Namespace-scoped workload selectors (Sidecar, Telemetry): selectors that match nothing, workloads more than one
// resource selects, and more than one selector-less resource per namespace.
import { AnalyzerContext } from './_analyzer';
import { Labels, Resource, Workload, selectorString } from './_resource';

export interface SelectorMessages {
  /** The plural of the kind, for messages: `Sidecars`, `Telemetries`. */
  readonly plural: string;
  readonly conflicting: string;
  readonly multipleWithoutSelector: string;
}

/** Reports selectors that match no workload and workloads selected more than once. */
export function checkSelectors(ctx: AnalyzerContext, resources: Resource[], selectorOf: (r: Resource) => Labels | undefined,
  messages: SelectorMessages): void {
  const selected = new Map<Workload, Resource[]>();
  const withSelector = resources.filter(r => Object.keys(selectorOf(r) ?? {}).length > 0);
  if (withSelector.length === 0) return;
  if (!ctx.hasWorkloads()) {
    ctx.limit(`no pod or workload in the manifests: ${withSelector.length} workload selector${withSelector.length > 1 ? 's' : ''} not checked`);
    return;
  }
  for (const r of withSelector) {
    const selector = selectorOf(r)!;
    const workloads = ctx.index.workloads.select(selector, r.namespace);
    if (workloads.length === 0) {
      ctx.report('ReferencedResourceNotFound', r,
        `Referenced selector not found: "${selectorString(selector)}": no pod or workload in namespace ${r.namespace || '(default)'} has these `
        + 'labels, so this resource applies to nothing; fix the selector');
    }
    for (const w of workloads) {
      const found = selected.get(w);
      if (found) found.push(r);
      else selected.set(w, [r]);
    }
  }
  for (const [w, list] of selected) {
    if (list.length < 2) continue;
    const names = list.map(r => r.name).sort();
    for (const r of list) {
      ctx.report(messages.conflicting, r,
        `The ${messages.plural} [${names.join(' ')}] in namespace "${w.namespace}" select the same workload ${w.isPod ? 'pod ' : ''}"${w.isPod ? w.resource.name : w.description}", `
        + 'which can lead to undefined behavior: make their selectors disjoint or merge them');
    }
  }
}

/** Reports namespaces with more than one selector-less resource. */
export function checkSelectorless(ctx: AnalyzerContext, resources: Resource[], selectorless: (r: Resource) => boolean,
  messages: SelectorMessages): void {
  const byNamespace = new Map<string, Resource[]>();
  for (const r of resources) {
    if (!selectorless(r)) continue;
    const found = byNamespace.get(r.namespace);
    if (found) found.push(r);
    else byNamespace.set(r.namespace, [r]);
  }
  for (const [ns, list] of byNamespace) {
    if (list.length < 2) continue;
    const names = list.map(r => r.name).sort();
    for (const r of list) {
      ctx.report(messages.multipleWithoutSelector, r,
        `The ${messages.plural} [${names.join(' ')}] in namespace "${ns}" have no workload selector, which can lead to undefined behavior: `
        + 'keep one namespace-wide resource and give the others a workload selector');
    }
  }
}
