// Which namespaces and workloads run in ambient mode, and which waypoint serves them.
import { KIND, Resource, Workload } from './_resource';
import { ResourceIndex } from './_resource-index';

export const DATAPLANE_MODE = 'istio.io/dataplane-mode';
export const USE_WAYPOINT = 'istio.io/use-waypoint';
export const USE_WAYPOINT_NAMESPACE = 'istio.io/use-waypoint-namespace';

/** Whether a Namespace enrolls its workloads in ambient mode (sidecar injection labels take precedence). */
export function namespaceInAmbient(ns: Resource | undefined): boolean {
  if (!ns) return false;
  if (ns.labels['istio-injection'] === 'enabled') return false;
  if (ns.labels['istio.io/rev']) return false;
  return ns.labels[DATAPLANE_MODE] === 'ambient';
}

/**
 * Whether a workload runs in ambient mode: a pod Istio redirected, or a pod template in an ambient namespace that
 * neither opts out nor asks for a sidecar.
 */
export function workloadInAmbient(index: ResourceIndex, w: Workload): boolean {
  const annotations = w.isPod ? w.resource.annotations : w.annotations;
  if (annotations['ambient.istio.io/redirection'] === 'enabled') return true;
  if (w.isPod) return false;
  if (w.labels[DATAPLANE_MODE] === 'none' || w.labels['sidecar.istio.io/inject'] === 'true') return false;
  return w.labels[DATAPLANE_MODE] === 'ambient' || namespaceInAmbient(index.namespace(w.namespace));
}

/** The waypoint a Service (or else its namespace) is bound to, or undefined when none is. */
export function waypointOf(index: ResourceIndex, service: Resource): { name: string; namespace: string } | undefined {
  for (const r of [service, index.namespace(service.namespace)]) {
    const name = r?.labels[USE_WAYPOINT];
    if (name && name !== 'none') return { name, namespace: r!.labels[USE_WAYPOINT_NAMESPACE] ?? service.namespace };
    if (name === 'none') return undefined;
  }
  return undefined;
}

/** Whether a waypoint Gateway of that name exists in the manifests. */
export function waypointExists(index: ResourceIndex, waypoint: { name: string; namespace: string }): boolean {
  return index.get(KIND.KubernetesGateway, waypoint.namespace, waypoint.name) !== undefined;
}
