import { IConstruct } from 'constructs';
import { appRegistry } from '../_app-registry';
import { configError } from '../_errors';
import { DataplaneMode, Mesh } from './mesh';

interface Claim {
  readonly owner: IConstruct;
  readonly mode: DataplaneMode;
  /** Whether the owner chose the mode (ZeroTrustNamespace, EgressControl), rather than taking the Mesh's. */
  readonly chosen: boolean;
}

/**
 * @internal The data plane mode `owner` builds `namespace`'s objects for, recorded so every construct of the
 * namespace builds for the same one. A ZeroTrustNamespace enrolls the namespace in one mode; a construct built for
 * the other emits objects that do nothing there (a Sidecar in ambient mode, routes without the waypoint ztunnel needs
 * for L7) or leaves the egress open (a waypoint no sidecar uses).
 * @param chosen the mode the owner was given (ZeroTrustNamespace, EgressControl): it must agree with the namespace's.
 *   Without it the owner takes the namespace's mode, else the Mesh's.
 */
export function namespaceDataplane(owner: IConstruct, namespace: string, chosen?: DataplaneMode): DataplaneMode {
  const claims = appRegistry<Claim>(owner, 'NamespaceDataplane');
  const claim = claims.get(namespace);
  if (!claim) {
    const mode = chosen ?? Mesh.of(owner).dataplaneMode;
    claims.set(namespace, { owner, mode, chosen: chosen !== undefined });
    return mode;
  }
  if (chosen === undefined || chosen === claim.mode) return claim.mode;
  const fix = claim.chosen
    ? 'use one data plane mode per namespace (the same dataplaneMode on both, or the Mesh\'s)'
    : `use one data plane mode per namespace: define this construct before ${claim.owner.node.path} (which took the Mesh's mode), or set the mode on the Mesh`;
  throw configError(owner, 'dataplaneMode', chosen, `${claim.owner.node.path} builds namespace '${namespace}' for ${claim.mode} mode: ${fix}`);
}

/** @internal The data plane mode `namespace`'s constructs are built for (else the Mesh's), without recording one. */
export function dataplaneOfNamespace(scope: IConstruct, namespace: string): DataplaneMode {
  return appRegistry<Claim>(scope, 'NamespaceDataplane').get(namespace)?.mode ?? Mesh.of(scope).dataplaneMode;
}
