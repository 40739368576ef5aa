import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { AnalysisMeshConfig } from './analysis-mesh-config';
import { AnalysisReport } from './analysis-report';
import { AnalysisLevel, AnalysisSuppression } from './finding';
import { MeshAnalyzer } from './mesh-analyzer';
import { GatewayWorkload } from '../mesh/gateway-workload';
import { Mesh } from '../mesh/mesh';

/**
 * Properties of a {@link MeshAnalysis}.
 */
export interface MeshAnalysisProps {
  /**
   * The least serious level that fails synthesis.
   * @default AnalysisLevel.ERROR
   */
  readonly failOn?: AnalysisLevel;

  /**
   * The least serious level of the findings that are printed (to standard error) without failing synthesis.
   * @default AnalysisLevel.INFO
   */
  readonly printFrom?: AnalysisLevel;

  /**
   * Findings to leave out, like `istioctl analyze --suppress`.
   * @default - none
   */
  readonly suppressions?: AnalysisSuppression[];

  /**
   * The mesh configuration the app is deployed to.
   * @default - Istio's defaults, with the root namespace of the app's `Mesh` when it has one
   */
  readonly meshConfig?: AnalysisMeshConfig;

  /**
   * Gateway deployments installed outside the app, which its Gateways may select.
   * @default - the ingress and egress gateways of the app's `Mesh`, else Istio's default ingress and egress gateways
   */
  readonly gatewayWorkloads?: GatewayWorkload[];

  /**
   * Whether the app holds everything the cluster will run, so that kinds it lacks (Secrets, DestinationRules...)
   * are reported as missing rather than left unchecked.
   * @default false
   */
  readonly inputsAreComplete?: boolean;

  /**
   * The namespace of objects that set none (charts without a namespace).
   * @default 'default'
   */
  readonly defaultNamespace?: string;
}

/**
 * Runs the mesh analysis over every object of the app when it is synthesized: findings at or above `failOn` fail
 * `cdk8s synth`, each naming the construct that produced the resource; the others are printed.
 *
 * @see https://istio.io/latest/docs/reference/config/analysis/
 * @example
 * const app = new App();
 * new MeshAnalysis(app, 'MeshAnalysis', { failOn: AnalysisLevel.WARNING });
 */
export class MeshAnalysis extends Construct {
  /** The least serious level that fails synthesis. */
  public readonly failOn: AnalysisLevel;
  /** The least serious level printed. */
  public readonly printFrom: AnalysisLevel;

  private readonly props: MeshAnalysisProps;
  private lastReport?: AnalysisReport;
  private lastPrinted?: string;

  constructor(scope: Construct, id: string, props: MeshAnalysisProps = {}) {
    super(scope, id);
    this.props = props;
    this.failOn = props.failOn ?? AnalysisLevel.ERROR;
    this.printFrom = props.printFrom ?? AnalysisLevel.INFO;
    for (const s of props.suppressions ?? []) {
      if (!s.code) throw new Error(`${this.node.path}: suppressions got ${JSON.stringify(s)}: give each suppression a code (IST0102) or name`);
    }
    this.node.addValidation({ validate: () => this.validateApp() });
  }

  /** The report of the latest synthesis, or undefined before the app is synthesized. */
  public get report(): AnalysisReport | undefined {
    return this.lastReport;
  }

  /** Analyzes every API object of the app, as of now. */
  public analyze(): AnalysisReport {
    const root = this.node.root;
    const manifests: any[] = [];
    const paths = new Map<any, string>();
    for (const c of root.node.findAll()) {
      if (!ApiObject.isApiObject(c)) continue;
      let json: any;
      try {
        json = c.toJson();
      } catch {
        continue; // synthesis reports the object's own error
      }
      manifests.push(json);
      paths.set(json, c.node.path);
    }
    const meshes = root.node.findAll().filter((c): c is Mesh => c instanceof Mesh);
    const mesh = meshes[0];
    const meshConfig = this.props.meshConfig
      ?? (mesh ? AnalysisMeshConfig._assumed({ rootNamespace: mesh.rootNamespace, trustDomain: mesh.trustDomain }) : undefined);
    const gatewayWorkloads = this.props.gatewayWorkloads
      ?? (mesh ? [mesh.ingressGateway, mesh.egressGateway] : [GatewayWorkload.defaultIngress(), GatewayWorkload.defaultEgress()]);
    this.lastReport = MeshAnalyzer._analyze(manifests, {
      meshConfig,
      gatewayWorkloads,
      suppressions: this.props.suppressions,
      inputsAreComplete: this.props.inputsAreComplete,
      defaultNamespace: this.props.defaultNamespace,
    }, paths);
    return this.lastReport;
  }

  private validateApp(): string[] {
    const report = this.analyze();
    const failing = report.findingsAtOrAbove(this.failOn);
    const printed = report.findingsAtOrAbove(this.printFrom).filter(f => !AnalysisReport.isAtLeast(f.level, this.failOn));
    const incomplete = report.incompleteAnalyzers();
    if (printed.length > 0 || incomplete.length > 0) {
      const lines = printed.map(f => `  ${AnalysisReport.formatFinding(f)}`);
      for (const a of incomplete) lines.push(`  (${a.name} ${a.status}: ${a.reason})`);
      const counts = [
        `${printed.length} finding${printed.length === 1 ? '' : 's'} below ${this.failOn}`,
        `${incomplete.length} analyzer${incomplete.length === 1 ? '' : 's'} limited or skipped`,
      ];
      const text = `mesh analysis (${this.node.path}): ${counts.join(', ')}\n${lines.join('\n')}\n`;
      // cdk8s validates the app once per chart it synthesizes: say the same thing once.
      if (text !== this.lastPrinted) process.stderr.write(text);
      this.lastPrinted = text;
    }
    return failing.map(f =>
      `${f.constructPath ?? f.resource}: ${f.level} [${f.code}] ${f.name} (${f.resource}) ${f.message}`);
  }
}
