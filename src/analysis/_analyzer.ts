// What an analyzer is and what it may do while it runs.
import { MESSAGE_TYPES } from './_message-codes';
import { Resource } from './_resource';
import { ResourceIndex } from './_resource-index';
import { AnalysisMeshConfig } from './analysis-mesh-config';

/** One check (or group of related checks) over the indexed manifests. */
export interface Analyzer {
  /** Istio's analyzer name where Istio has the check, `cdk8s-istio.*` for this library's own. */
  readonly name: string;
  readonly description: string;
  analyze(ctx: AnalyzerContext): void;
}

/** A finding before suppression and presentation. */
export interface RawFinding {
  readonly analyzer: string;
  readonly type: string;
  readonly resource: Resource;
  readonly message: string;
}

/** Settings every analyzer sees. */
export interface AnalyzerSettings {
  readonly mesh: AnalysisMeshConfig;
  /** The manifests are everything in the cluster: absent kinds are not excused. */
  readonly complete: boolean;
}

/** What an analyzer works with: the index, the settings, and where it reports. */
export class AnalyzerContext {
  /** Why parts of the analyzer did not run. */
  public readonly limits: string[] = [];
  /** Why the analyzer did not run at all, when it did not. */
  public skipped?: string;

  constructor(
    public readonly analyzer: Analyzer,
    public readonly index: ResourceIndex,
    public readonly settings: AnalyzerSettings,
    private readonly sink: RawFinding[],
  ) {}

  public get mesh(): AnalysisMeshConfig {
    return this.settings.mesh;
  }

  /** Reports a finding of a message type (by name) on a resource. */
  public report(type: string, resource: Resource, message: string): void {
    if (!MESSAGE_TYPES[type]) throw new Error(`analyzer ${this.analyzer.name} reported unknown message type ${type}`);
    if (resource.synthetic) return;
    this.sink.push({ analyzer: this.analyzer.name, type, resource, message });
  }

  /**
   * Whether references to a kind can be checked: the manifests hold at least one object of any of the kinds, or
   * the manifests are declared complete.
   */
  public has(...keys: string[]): boolean {
    return this.settings.complete || keys.some(k => this.index.has(k));
  }

  /** Whether selectors can be checked against workloads: the manifests hold pods or workloads, or are complete. */
  public hasWorkloads(): boolean {
    return this.settings.complete || this.index.hasWorkloads();
  }

  /**
   * Whether a namespace belongs to others: the manifests hold nothing in it and are not declared complete, so a
   * reference into it cannot be proved wrong.
   */
  public foreign(namespace: string): boolean {
    return !this.settings.complete && !this.index.knowsNamespace(namespace);
  }

  /** Records that a check did not run, and why. */
  public limit(reason: string): void {
    if (!this.limits.includes(reason)) this.limits.push(reason);
  }

  /** Records that the analyzer could not run at all, and why. */
  public skip(reason: string): void {
    this.skipped = reason;
  }
}

/** Joins names for a message: `a, b and c`. */
export function names(values: string[]): string {
  if (values.length <= 1) return values.join('');
  return `${values.slice(0, -1).join(', ')} and ${values[values.length - 1]}`;
}
