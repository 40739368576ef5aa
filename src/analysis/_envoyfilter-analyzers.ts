// EnvoyFilter analyzers: patch operations that Istio ignores or that depend on the order filters are applied in.
import { Analyzer, AnalyzerContext } from './_analyzer';
import { KIND, Resource, entries } from './_resource';

const ROUTE_LEVEL = new Set(['ROUTE_CONFIGURATION', 'HTTP_ROUTE']);
const REPLACEABLE = new Set(['HTTP_FILTER', 'NETWORK_FILTER']);

/** IST0151-IST0155: relative patches without a priority, and operations ignored for their applyTo. */
export const envoyPatchAnalyzer: Analyzer = {
  name: 'envoyfilter.EnvoyPatchAnalyzer',
  description: 'Checks EnvoyFilter patch operations',
  analyze(ctx: AnalyzerContext) {
    // Names of patched filters that some earlier patch pins to a proxy version.
    const versioned = new Set<string>();
    for (const ef of ctx.index.of(KIND.EnvoyFilter)) {
      const priority = Number(ef.spec.priority ?? 0);
      entries(ef.spec.configPatches).every((patch: any, i: number) => {
        if (!patch?.patch) return false;
        const name = filterName(patch);
        const operation = patch.patch.operation;
        const applyTo = patch.applyTo;
        const relative = () => relativeOperation(ctx, ef, i, priority, versioned.has(name));
        if (operation === 'ADD') {
          if (ROUTE_LEVEL.has(applyTo)) {
            ctx.report('EnvoyFilterUsesAddOperationIncorrectly', ef,
              `The ADD operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE (configPatches[${i}]): use MERGE`);
          }
        } else if (operation === 'REMOVE') {
          if (ROUTE_LEVEL.has(applyTo)) {
            ctx.report('EnvoyFilterUsesRemoveOperationIncorrectly', ef,
              `The REMOVE operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE (configPatches[${i}])`);
          } else {
            relative();
          }
        } else if (operation === 'REPLACE') {
          if (!REPLACEABLE.has(applyTo)) {
            ctx.report('EnvoyFilterUsesReplaceOperationIncorrectly', ef,
              `The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER (configPatches[${i}] applies to ${applyTo}): use MERGE`);
          } else {
            relative();
          }
        } else if (operation === 'INSERT_BEFORE' || operation === 'INSERT_AFTER') {
          relative();
        }
        if (patch.match?.proxy?.proxyVersion) versioned.add(name);
        return true;
      });
    }
  },
};

function relativeOperation(ctx: AnalyzerContext, ef: Resource, index: number, priority: number, versioned: boolean): void {
  if (priority !== 0) return;
  if (versioned) {
    ctx.report('EnvoyFilterUsesRelativeOperationWithProxyVersion', ef,
      `This EnvoyFilter does not have a priority and has a relative patch operation (configPatches[${index}]) and proxyVersion set, which `
      + 'can cause the EnvoyFilter not to be applied during an upgrade: use INSERT_FIRST or ADD, or set the priority');
  } else {
    ctx.report('EnvoyFilterUsesRelativeOperation', ef,
      `This EnvoyFilter does not have a priority and has a relative patch operation set (configPatches[${index}]), which can cause the `
      + 'EnvoyFilter not to be applied: use INSERT_FIRST or ADD, or set the priority');
  }
}

/** The name of the filter a patch adds, or else of the filter it matches. */
function filterName(patch: any): string {
  const value = patch.patch?.value;
  if (value && typeof value === 'object' && value.name !== undefined) return String(value.name);
  return String(patch.match?.listener?.filterChain?.filter?.name ?? '');
}
