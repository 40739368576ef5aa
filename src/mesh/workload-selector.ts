import * as kplus from 'cdk8s-plus-33';
import { IConstruct } from 'constructs';
import { configError } from '../_errors';
import { ServiceIdentity, namespaceOf } from './service-identity';

/**
 * The pods a policy or rule applies to: a cdk8s-plus workload or a label selector, with the namespace it lives in
 * and, when known, the identity it runs as.
 */
export class WorkloadSelector {
  /**
   * The pods of a cdk8s-plus workload (Deployment, StatefulSet, DaemonSet, Job). Its labels are read when the
   * manifest is rendered, so selectors added later still count; its ServiceAccount, if set, is its identity.
   */
  public static fromWorkload(workload: kplus.Workload): WorkloadSelector {
    const identity = workload.serviceAccount ? ServiceIdentity.fromServiceAccount(workload.serviceAccount) : undefined;
    return new WorkloadSelector(() => workload.matchLabels, namespaceOf(workload), identity);
  }

  /** Pods with these labels in `namespace`, optionally running as `serviceAccountName`. */
  public static fromLabels(scope: IConstruct, namespace: string, labels: { [key: string]: string }, serviceAccountName?: string): WorkloadSelector {
    if (Object.keys(labels).length === 0) {
      throw configError(scope, 'labels', labels, 'give at least one label; an empty selector selects every pod in the namespace');
    }
    const identity = serviceAccountName ? ServiceIdentity.fromName(namespace, serviceAccountName) : undefined;
    const copy = { ...labels };
    return new WorkloadSelector(() => copy, namespace, identity);
  }

  private constructor(
    private readonly _labels: () => { [key: string]: string },
    /** The namespace the pods run in. */
    public readonly namespace: string,
    /** The identity the pods run as, when known. */
    public readonly identity?: ServiceIdentity,
  ) {}

  /** The labels that select the pods. */
  public get labels(): { [key: string]: string } {
    return { ...this._labels() };
  }
}
