import { loadAll } from 'js-yaml';
import { AnalyzerContext, RawFinding } from './_analyzer';
import { ANALYZERS } from './_analyzers';
import { MESSAGE_TYPES } from './_message-codes';
import { Resource } from './_resource';
import { ResourceIndex } from './_resource-index';
import { AnalysisMeshConfig } from './analysis-mesh-config';
import { AnalysisReport } from './analysis-report';
import { AnalysisFinding, AnalysisMessageType, AnalysisSuppression, AnalyzerRun, AnalyzerStatus } from './finding';
import { GatewayWorkload } from '../mesh/gateway-workload';

const SUPPRESS_ANNOTATION = 'galley.istio.io/analyze-suppress';

/**
 * Options of an analysis.
 */
export interface AnalyzeOptions {
  /**
   * The mesh configuration the manifests are applied to.
   * @default - Istio's default mesh configuration
   */
  readonly meshConfig?: AnalysisMeshConfig;

  /**
   * The namespace of objects whose manifest sets none.
   * @default 'default'
   */
  readonly defaultNamespace?: string;

  /**
   * Findings to leave out, like `istioctl analyze --suppress`. Resources can also carry the
   * `galley.istio.io/analyze-suppress` annotation with a comma-separated list of codes, or `*`.
   * @default - none
   */
  readonly suppressions?: AnalysisSuppression[];

  /**
   * Whether the manifests are everything the cluster holds, as `istioctl analyze` assumes for files. When false, an
   * analyzer that needs a kind absent from the manifests (no Secrets, no pods, no DestinationRules...) skips the
   * checks that need it and says so in the report, instead of reporting every reference to it as missing.
   * @default false
   */
  readonly inputsAreComplete?: boolean;

  /**
   * Gateway deployments installed outside the manifests, which Gateways may select (Istio's default ingress gateway
   * is installed by `istioctl install`, not by your app). Each is assumed to expose ports 80, 443, 31400 and 15443.
   * @default - the ingress gateway of the mesh config: pods labelled `istio=ingressgateway` and the Service
   * `istio-ingressgateway` in the root namespace, as `istioctl analyze` assumes
   */
  readonly gatewayWorkloads?: GatewayWorkload[];

  /**
   * The analyzers to run, by name (see `MeshAnalyzer.analyzerNames()`).
   * @default - all
   */
  readonly analyzers?: string[];
}

/**
 * Offline analysis of Istio configuration, `istioctl analyze` grade, with no cluster: references that do not
 * resolve, conflicts, unreachable rules, insecure or ineffective settings.
 *
 * @see https://istio.io/latest/docs/reference/config/analysis/
 * @example
 * const report = MeshAnalyzer.analyze(manifests);
 * for (const f of report.findingsAtOrAbove(AnalysisLevel.WARNING)) console.log(AnalysisReport.formatFinding(f));
 */
export class MeshAnalyzer {
  /**
   * Analyzes Kubernetes manifests (plain objects; `List` objects are expanded).
   * @param manifests the objects, e.g. every `toJson()` of a cdk8s app or the documents of YAML files
   * @param options how to analyze them
   */
  public static analyze(manifests: any[], options: AnalyzeOptions = {}): AnalysisReport {
    return MeshAnalyzer._analyze(manifests, options);
  }

  /**
   * Analyzes the documents of a YAML stream.
   * @param yaml one or more YAML documents
   * @param options how to analyze them
   */
  public static analyzeYaml(yaml: string, options: AnalyzeOptions = {}): AnalysisReport {
    return MeshAnalyzer._analyze(loadAll(yaml) as any[], options);
  }

  /** The names of every analyzer, Istio's (`virtualservice.GatewayAnalyzer`) and this library's (`cdk8s-istio.*`). */
  public static analyzerNames(): string[] {
    return ANALYZERS.map(a => a.name);
  }

  /** Every kind of finding the analyzers report: code, name, level and meaning. */
  public static messageTypes(): AnalysisMessageType[] {
    return Object.values(MESSAGE_TYPES).sort((a, b) => a.code.localeCompare(b.code));
  }

  /**
   * @internal
   * @param constructPaths the construct path of each manifest object that a cdk8s app synthesized
   */
  public static _analyze(manifests: any[], options: AnalyzeOptions, constructPaths?: Map<any, string>): AnalysisReport {
    if (!Array.isArray(manifests)) throw new Error(`manifests got ${typeof manifests}: give an array of Kubernetes objects`);
    const mesh = options.meshConfig ?? AnalysisMeshConfig.defaults();
    const selected = options.analyzers ? new Set(options.analyzers) : undefined;
    if (selected) {
      const unknown = [...selected].filter(n => !ANALYZERS.some(a => a.name === n));
      if (unknown.length > 0) {
        throw new Error(`analyzers got unknown ${unknown.map(n => `'${n}'`).join(', ')}: use names from MeshAnalyzer.analyzerNames()`);
      }
    }
    const index = new ResourceIndex({
      manifests,
      defaultNamespace: options.defaultNamespace ?? 'default',
      synthetic: syntheticGateways(mesh, options.gatewayWorkloads),
      constructPaths,
    });
    const settings = { mesh, complete: options.inputsAreComplete ?? false };
    const suppressed = suppressionFilter(options.suppressions ?? []);

    const findings: AnalysisFinding[] = [];
    const runs: AnalyzerRun[] = [];
    for (const analyzer of ANALYZERS) {
      if (selected && !selected.has(analyzer.name)) continue;
      const raw: RawFinding[] = [];
      const ctx = new AnalyzerContext(analyzer, index, settings, raw);
      try {
        analyzer.analyze(ctx);
      } catch (e) {
        // A defect of an analyzer must not hide the others' findings, nor pass silently.
        ctx.skip(`the analyzer failed (${(e as Error).message}); please report this with the manifests that caused it`);
      }
      // Identical findings on one resource are reported once, as istioctl does.
      const seen = new Map<Resource, Set<string>>();
      let count = 0;
      for (const r of raw) {
        const key = `${r.type}|${r.message}`;
        let keys = seen.get(r.resource);
        if (!keys) seen.set(r.resource, keys = new Set());
        if (keys.has(key)) continue;
        keys.add(key);
        const type = MESSAGE_TYPES[r.type];
        const finding: AnalysisFinding = {
          code: type.code,
          name: type.name,
          level: type.level,
          resource: r.resource.display,
          message: r.message,
          analyzer: analyzer.name,
          constructPath: r.resource.constructPath,
        };
        if (suppressed(finding, r.resource.obj)) continue;
        findings.push(finding);
        count++;
      }
      runs.push({
        name: analyzer.name,
        description: analyzer.description,
        status: ctx.skipped ? AnalyzerStatus.SKIPPED : ctx.limits.length ? AnalyzerStatus.LIMITED : AnalyzerStatus.RAN,
        reason: ctx.skipped ?? (ctx.limits.length ? ctx.limits.join('; ') : undefined),
        findings: count,
      });
    }
    return AnalysisReport._of(findings, runs);
  }

  private constructor() {}
}

/** The Pod and Service of each gateway deployment the manifests do not hold. */
function syntheticGateways(mesh: AnalysisMeshConfig, workloads: GatewayWorkload[] | undefined): any[] {
  const gateways = workloads ?? (mesh.ingressGatewayInstalled ? [GatewayWorkload.custom({
    labels: { istio: mesh.ingressSelector },
    namespace: mesh.rootNamespace,
    serviceAccountName: 'istio-ingressgateway-service-account',
    serviceName: mesh.ingressService,
  })] : []);
  return gateways.flatMap(g => {
    const name = g.serviceName ?? `gateway-${Object.values(g.labels).join('-')}`;
    return [
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${name}-dummypod`, namespace: g.namespace, labels: { ...g.labels } },
        spec: { serviceAccountName: g.identity.serviceAccountName, containers: [{ name: 'istio-proxy' }] },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: g.namespace },
        spec: {
          selector: { ...g.labels },
          ports: [
            { name: 'http2', port: 80, protocol: 'TCP', targetPort: 80 },
            { name: 'https', port: 443, protocol: 'TCP', targetPort: 443 },
            { name: 'tcp', port: 31400, protocol: 'TCP', targetPort: 31400 },
            { name: 'tls', port: 15443, protocol: 'TCP', targetPort: 15443 },
          ],
        },
      },
    ];
  });
}

/** A glob (`*` any text) as a regular expression. */
function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map(p => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** The resource names a suppression may match: `Kind ns/name`, `Kind name.ns` and the construct path. */
function suppressionFilter(suppressions: AnalysisSuppression[]): (f: AnalysisFinding, obj: any) => boolean {
  const compiled = suppressions.map(s => {
    if (!s.code) throw new Error(`suppression got ${JSON.stringify(s)}: give the code (IST0102) or name of the message to suppress`);
    return { code: s.code, resource: glob(s.resource ?? '*') };
  });
  return (f, obj) => {
    const annotation = obj?.metadata?.annotations?.[SUPPRESS_ANNOTATION];
    if (typeof annotation === 'string' && annotation.split(',').map(c => c.trim()).some(c => c === '*' || c === f.code || c === f.name)) {
      return true;
    }
    const slash = f.resource.indexOf('/');
    const dotted = slash < 0 ? f.resource : `${f.resource.slice(0, f.resource.indexOf(' '))} ${f.resource.slice(slash + 1)}.${f.resource.slice(f.resource.indexOf(' ') + 1, slash)}`;
    const candidates = [f.resource, dotted, ...(f.constructPath ? [f.constructPath] : [])];
    return compiled.some(s => (s.code === f.code || s.code === f.name) && candidates.some(c => s.resource.test(c)));
  };
}
