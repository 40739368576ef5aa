import { ApiObject, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { appSingleton } from '../_app-registry';
import { Mesh } from './mesh';
import { objectProps } from '../_object-props';
import * as networking from '../imports/istio-networking';

/** @internal What a construct needs from its namespace's Sidecar. */
export interface SidecarContribution {
  /** Egress hosts (`namespace/host`) beyond the namespace's own services and the root namespace's. */
  readonly hosts: () => string[];
  /**
   * What the sidecars do with hosts outside the registry.
   * @default - the mesh-wide setting
   */
  readonly outboundTrafficPolicy?: string;
}

/**
 * @internal The namespace-wide Sidecar of a namespace. Istio applies only one, so the constructs that limit a
 * namespace's egress (ZeroTrustNamespace: what its workloads call; EgressControl: REGISTRY_ONLY and the allowed
 * external hosts) share it: the first that needs it creates it, and each adds what its workloads reach.
 */
export class NamespaceSidecar {
  /** The Sidecar of `namespace` in the app of `scope`. */
  public static of(scope: IConstruct, namespace: string): NamespaceSidecar {
    return appSingleton(scope, 'NamespaceSidecar', namespace, () => new NamespaceSidecar(namespace));
  }

  private readonly contributions: SidecarContribution[] = [];
  private object?: ApiObject;

  private constructor(private readonly namespace: string) {}

  /** Adds what a construct's workloads reach, whether or not it creates the object. */
  public contribute(contribution: SidecarContribution): void {
    this.contributions.push(contribution);
  }

  /** The Sidecar object, created under `owner` as `id` unless another construct created it already. */
  public ensure(owner: Construct, id: string): ApiObject {
    this.object ??= new ApiObject(owner, id, objectProps(networking.Sidecar.GVK, {
      metadata: { name: 'default', namespace: this.namespace },
      spec: Lazy.any({ produce: () => this.render(Mesh.of(owner)) }),
    }));
    return this.object;
  }

  private render(mesh: Mesh): any {
    // One EgressControl per namespace sets the mode; nothing else does.
    const mode = this.contributions.find(c => c.outboundTrafficPolicy)?.outboundTrafficPolicy;
    const hosts = ['./*', `${mesh.rootNamespace}/*`, ...this.contributions.flatMap(c => c.hosts())];
    return {
      ...(mode ? { outboundTrafficPolicy: { mode } } : {}),
      egress: [{ hosts: [...new Set(hosts)] }],
    };
  }
}
