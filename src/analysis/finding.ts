/**
 * How serious a finding is, in Istio's words.
 * @see https://istio.io/latest/docs/reference/config/analysis/
 */
export enum AnalysisLevel {
  /** The configuration is broken: traffic fails or the resource is ignored. */
  ERROR = 'Error',
  /** The configuration works, but probably not as intended. */
  WARNING = 'Warning',
  /** Worth knowing; nothing is broken. */
  INFO = 'Info',
}

/**
 * One problem the analysis found in the manifests.
 */
export interface AnalysisFinding {
  /** The message code, `IST0101` for Istio's messages and `CIS0001` for the checks this library adds. */
  readonly code: string;
  /** The message name, e.g. `ReferencedResourceNotFound`. */
  readonly name: string;
  /** How serious it is. */
  readonly level: AnalysisLevel;
  /**
   * The resource the finding is about, as `Kind name` or `Kind namespace/name` (the namespace only when the manifest
   * sets one), as `istioctl analyze` prints it.
   */
  readonly resource: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
  /** The analyzer that reported it, e.g. `virtualservice.DestinationRuleAnalyzer`. */
  readonly analyzer: string;
  /**
   * The construct path that produced the resource.
   * @default - none: the resource was not synthesized by a cdk8s app (read from a file)
   */
  readonly constructPath?: string;
}

/**
 * A kind of finding: its code, name, level and meaning.
 */
export interface AnalysisMessageType {
  /** The message code, e.g. `IST0101`. */
  readonly code: string;
  /** The message name, e.g. `ReferencedResourceNotFound`. */
  readonly name: string;
  /** Its level. */
  readonly level: AnalysisLevel;
  /** What it means. */
  readonly description: string;
}

/**
 * How much of its work an analyzer could do.
 */
export enum AnalyzerStatus {
  /** Every check of the analyzer ran. */
  RAN = 'ran',
  /** Some checks did not run because the kinds they need are absent from the manifests. */
  LIMITED = 'limited',
  /** No check ran because the kinds the analyzer needs are absent from the manifests. */
  SKIPPED = 'skipped',
}

/**
 * What one analyzer did during an analysis.
 */
export interface AnalyzerRun {
  /** The analyzer's name, e.g. `destinationrule.PodNotSelectedAnalyzer`. */
  readonly name: string;
  /** What it checks. */
  readonly description: string;
  /** Whether it ran fully, partly or not at all. */
  readonly status: AnalyzerStatus;
  /**
   * Why it was limited or skipped.
   * @default - none: it ran fully
   */
  readonly reason?: string;
  /** How many findings it reported (after suppressions). */
  readonly findings: number;
}

/**
 * A finding to leave out, like `istioctl analyze --suppress CODE=RESOURCE`.
 */
export interface AnalysisSuppression {
  /** The message code (`IST0102`) or name (`NamespaceNotInjected`) to suppress. */
  readonly code: string;
  /**
   * The resources to suppress it on: a glob (`*` matches anything) over `Kind namespace/name`, `Kind name.namespace`
   * or the construct path.
   * @default '*' - every resource
   */
  readonly resource?: string;
}
