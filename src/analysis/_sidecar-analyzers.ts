// Sidecar analyzers: workload selectors and Sidecars that ambient workloads ignore.
import { namespaceInAmbient, workloadInAmbient } from './_ambient';
import { Analyzer, AnalyzerContext } from './_analyzer';
import { KIND, Resource, stringMap } from './_resource';
import { checkSelectorless, checkSelectors } from './_selector-conflicts';

const MESSAGES = {
  plural: 'Sidecars',
  conflicting: 'ConflictingSidecarWorkloadSelectors',
  multipleWithoutSelector: 'MultipleSidecarsWithoutWorkloadSelectors',
};

const selectorOf = (r: Resource) => stringMap(r.spec.workloadSelector?.labels);
const selectorless = (r: Resource) => Object.keys(selectorOf(r)).length === 0;

/** IST0101, IST0110, IST0111, IST0167: Sidecar selectors, overlaps, and Sidecars in ambient mode. */
export const sidecarSelectorAnalyzer: Analyzer = {
  name: 'sidecar.SelectorAnalyzer',
  description: 'Checks that Sidecar workload selectors match workloads, do not overlap, and do not target ambient workloads',
  analyze(ctx: AnalyzerContext) {
    const sidecars = ctx.index.of(KIND.Sidecar);
    checkSelectors(ctx, sidecars, selectorOf, MESSAGES);
    checkSelectorless(ctx, sidecars, selectorless, MESSAGES);
    const ineffective = (r: Resource, why: string) => ctx.report('IneffectivePolicy', r,
      `The policy has no impact: ${why}; Sidecar resources only configure sidecar proxies, so remove it or configure the waypoint instead`);
    for (const sidecar of sidecars) {
      if (selectorless(sidecar)) {
        if (namespaceInAmbient(ctx.index.namespace(sidecar.namespace))) ineffective(sidecar, `namespace ${sidecar.namespace} is in ambient mode`);
        continue;
      }
      const ambient = ctx.index.workloads.select(selectorOf(sidecar), sidecar.namespace).find(w => workloadInAmbient(ctx.index, w));
      if (ambient) ineffective(sidecar, `it selects ${ambient.description}, which runs in ambient mode`);
    }
  },
};
