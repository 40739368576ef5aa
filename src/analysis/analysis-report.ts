import { AnalysisFinding, AnalysisLevel, AnalyzerRun, AnalyzerStatus } from './finding';

const RANK: { [level: string]: number } = { [AnalysisLevel.ERROR]: 3, [AnalysisLevel.WARNING]: 2, [AnalysisLevel.INFO]: 1 };

/**
 * The result of an analysis: the findings, and what each analyzer could check.
 */
export class AnalysisReport {
  /** @internal */
  public static _of(findings: AnalysisFinding[], analyzers: AnalyzerRun[]): AnalysisReport {
    return new AnalysisReport(findings, analyzers);
  }

  /** Whether a level is at least as serious as another. */
  public static isAtLeast(level: AnalysisLevel, threshold: AnalysisLevel): boolean {
    return RANK[level] >= RANK[threshold];
  }

  /**
   * One finding on one line, as `istioctl analyze` prints it: `Error [IST0101] (Kind ns/name) message`, then the
   * construct path in brackets when there is one.
   */
  public static formatFinding(finding: AnalysisFinding): string {
    const f = finding;
    return `${f.level} [${f.code}] (${f.resource}) ${f.message}${f.constructPath ? ` [${f.constructPath}]` : ''}`;
  }

  /** The findings, errors first, then by resource and code. */
  public readonly findings: AnalysisFinding[];
  /** Every analyzer that was asked to run, and whether it could check everything. */
  public readonly analyzers: AnalyzerRun[];

  private constructor(findings: AnalysisFinding[], analyzers: AnalyzerRun[]) {
    this.findings = [...findings].sort((a, b) => RANK[b.level] - RANK[a.level]
      || a.resource.localeCompare(b.resource) || a.code.localeCompare(b.code) || a.message.localeCompare(b.message));
    this.analyzers = analyzers;
  }

  /**
   * The findings at or above a level.
   * @param level the least serious level to include
   */
  public findingsAtOrAbove(level: AnalysisLevel): AnalysisFinding[] {
    return this.findings.filter(f => AnalysisReport.isAtLeast(f.level, level));
  }

  /** The analyzers that were limited or skipped because the kinds they need are absent from the manifests. */
  public incompleteAnalyzers(): AnalyzerRun[] {
    return this.analyzers.filter(a => a.status !== AnalyzerStatus.RAN);
  }

  /**
   * The findings as JSON: an array of `{ code, name, level, resource, message }`, with `constructPath` when the
   * resource came from a cdk8s app.
   */
  public toJson(): any {
    return this.findings.map(f => ({
      code: f.code,
      name: f.name,
      level: f.level,
      resource: f.resource,
      message: f.message,
      ...(f.constructPath ? { constructPath: f.constructPath } : {}),
    }));
  }

  /** The findings as text, one per line as `istioctl analyze` prints them, then the limited and skipped analyzers. */
  public toText(): string {
    const lines = this.findings.map(f => AnalysisReport.formatFinding(f));
    if (lines.length === 0) lines.push('No validation issues found.');
    const incomplete = this.incompleteAnalyzers();
    if (incomplete.length > 0) {
      lines.push('', 'Not every check could run (give the missing kinds, or declare the manifests complete):');
      for (const a of incomplete) lines.push(`  ${a.name} ${a.status}: ${a.reason}`);
    }
    return lines.join('\n') + '\n';
  }
}
