// Telemetry analyzers: workload selectors, providers, and deprecated providers.
import { Analyzer, AnalyzerContext } from './_analyzer';
import { KIND, Resource, list, stringMap } from './_resource';
import { checkSelectorless, checkSelectors } from './_selector-conflicts';

const MESSAGES = {
  plural: 'Telemetries',
  conflicting: 'ConflictingTelemetryWorkloadSelectors',
  multipleWithoutSelector: 'MultipleTelemetriesWithoutWorkloadSelectors',
};

const selectorOf = (r: Resource) => stringMap(r.spec.selector?.matchLabels);
const targeted = (r: Resource) => r.spec.targetRef !== undefined || list(r.spec.targetRefs).length > 0;

/** IST0101, IST0159: Telemetry selectors that match nothing or overlap. */
export const telemetrySelectorAnalyzer: Analyzer = {
  name: 'telemetry.SelectorAnalyzer',
  description: 'Checks that Telemetry selectors match workloads and do not select the same workload',
  analyze(ctx: AnalyzerContext) {
    checkSelectors(ctx, ctx.index.of(KIND.Telemetry).filter(t => !targeted(t)), selectorOf, MESSAGES);
  },
};

/** IST0160: more than one namespace-wide Telemetry in a namespace. */
export const telemetryDefaultSelectorAnalyzer: Analyzer = {
  name: 'telemetry.DefaultSelectorAnalyzer',
  description: 'Checks that a namespace has at most one Telemetry without a selector',
  analyze(ctx: AnalyzerContext) {
    checkSelectorless(ctx, ctx.index.of(KIND.Telemetry), t => !targeted(t) && Object.keys(selectorOf(t)).length === 0, MESSAGES);
  },
};

/** Providers Istio's default mesh configuration defines. */
const BUILT_IN_PROVIDERS = ['prometheus', 'stackdriver', 'envoy'];

/** IST0157: access logging without providers when the mesh has no default. */
export const telemetryProviderAnalyzer: Analyzer = {
  name: 'telemetry.ProviderAnalyzer',
  description: 'Checks that Telemetry access logging has a provider',
  analyze(ctx: AnalyzerContext) {
    if (ctx.mesh.defaultAccessLoggingProviders.length > 0) return;
    for (const t of ctx.index.of(KIND.Telemetry)) {
      for (const entry of list(t.spec.accessLogging)) {
        if (entry.disabled === true || list(entry.providers).length > 0) continue;
        ctx.report('InvalidTelemetryProvider', t,
          `The Telemetry ${t.name} in namespace "${t.namespace}" with empty providers will be ignored: name a provider in accessLogging, or `
          + 'set defaultProviders.accessLogging in the mesh config');
      }
    }
  },
};

/** IST0101: Telemetry providers the mesh config does not define. */
export const telemetryProviderReferenceAnalyzer: Analyzer = {
  name: 'cdk8s-istio.TelemetryProviderReferenceAnalyzer',
  description: 'Checks that the providers Telemetries name are defined in the mesh config',
  analyze(ctx: AnalyzerContext) {
    const telemetries = ctx.index.of(KIND.Telemetry);
    if (telemetries.length === 0) return;
    if (!ctx.mesh._explicit) {
      ctx.skip('no mesh config given: extension provider names not checked');
      return;
    }
    const known = new Set([...BUILT_IN_PROVIDERS, ...ctx.mesh._extensionProviders.map((p: any) => String(p?.name))]);
    for (const t of telemetries) {
      for (const section of ['accessLogging', 'tracing', 'metrics']) {
        for (const entry of list(t.spec[section])) {
          for (const p of list(entry.providers)) {
            if (known.has(String(p.name))) continue;
            ctx.report('ReferencedResourceNotFound', t,
              `Referenced provider not found: "${p.name}" (${section}): the mesh config's extensionProviders do not define it; add it there or `
              + `use one of ${[...known].sort().join(', ')}`);
          }
        }
      }
    }
  },
};

/** IST0002: tracing through the removed Lightstep provider. */
export const lightstepAnalyzer: Analyzer = {
  name: 'telemetry.LightstepAnalyzer',
  description: 'Checks that Telemetries do not trace through the deprecated Lightstep provider',
  analyze(ctx: AnalyzerContext) {
    const lightstep = new Set(ctx.mesh._extensionProviders.filter((p: any) => p?.lightstep !== undefined).map((p: any) => String(p.name)));
    if (lightstep.size === 0) return;
    for (const t of ctx.index.of(KIND.Telemetry)) {
      for (const tracing of list(t.spec.tracing)) {
        for (const p of list(tracing.providers)) {
          if (!lightstep.has(String(p.name))) continue;
          ctx.report('Deprecated', t, `Deprecated: The Lightstep provider ${p.name} is deprecated; trace through an OpenTelemetry provider instead`);
        }
      }
    }
  },
};
