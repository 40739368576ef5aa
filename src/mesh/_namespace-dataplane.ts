import { IConstruct } from 'constructs';
import { appRegistry } from '../_app-registry';
import { configError } from '../_errors';
import { DataplaneMode } from './mesh';

/**
 * @internal Records how `namespace`'s workloads join the mesh, for the constructs that configure a whole namespace
 * (ZeroTrustNamespace, EgressControl). They must agree: a ZeroTrustNamespace enrolls the namespace in one mode, and
 * an EgressControl built for the other emits objects that do nothing there (a Sidecar in ambient mode) or leaves the
 * egress open (a waypoint no sidecar uses).
 */
export function claimNamespaceDataplane(owner: IConstruct, namespace: string, mode: DataplaneMode): void {
  const claims = appRegistry<{ readonly owner: IConstruct; readonly mode: DataplaneMode }>(owner, 'NamespaceDataplane');
  const claim = claims.get(namespace);
  if (!claim) {
    claims.set(namespace, { owner, mode });
  } else if (claim.mode !== mode) {
    throw configError(owner, 'dataplaneMode', mode,
      `${claim.owner.node.path} configures namespace '${namespace}' for ${claim.mode} mode: use one data plane mode per namespace (the same dataplaneMode on both, or the Mesh's)`);
  }
}
