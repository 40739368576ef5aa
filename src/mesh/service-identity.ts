import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { IConstruct } from 'constructs';
import { Mesh } from './mesh';

/**
 * A workload identity: the ServiceAccount a workload runs as, which Istio turns into the SPIFFE principal of its
 * mTLS certificate.
 */
export interface IServiceIdentity {
  /** The namespace of the ServiceAccount. */
  readonly namespace: string;
  /** The ServiceAccount's name. */
  readonly serviceAccountName: string;
  /**
   * The principal in authorization policies, `<trust-domain>/ns/<namespace>/sa/<name>`.
   * @param scope a construct whose {@link Mesh} supplies the trust domain
   */
  principal(scope: IConstruct): string;
}

/**
 * A workload identity from a ServiceAccount or from its namespace and name.
 * @see https://istio.io/latest/docs/concepts/security/#istio-identity
 */
export class ServiceIdentity implements IServiceIdentity {
  /**
   * The identity of a cdk8s-plus ServiceAccount; its namespace is its own, else its chart's, else `default`.
   */
  public static fromServiceAccount(serviceAccount: kplus.IServiceAccount): ServiceIdentity {
    return new ServiceIdentity(namespaceOf(serviceAccount), serviceAccount.name);
  }

  /** The identity of ServiceAccount `serviceAccountName` in `namespace`. */
  public static fromName(namespace: string, serviceAccountName: string): ServiceIdentity {
    return new ServiceIdentity(namespace, serviceAccountName);
  }

  private constructor(public readonly namespace: string, public readonly serviceAccountName: string) {}

  public principal(scope: IConstruct): string {
    return `${Mesh.of(scope).trustDomain}/ns/${this.namespace}/sa/${this.serviceAccountName}`;
  }
}

/**
 * The namespace a cdk8s-plus resource lands in: its own metadata, else its chart's, else `default`.
 * @internal
 */
export function namespaceOf(resource: kplus.IResource | IConstruct): string {
  const own = (resource as any).metadata?.namespace as string | undefined;
  return own ?? Chart.of(resource).namespace ?? 'default';
}
