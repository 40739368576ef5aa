// Which namespaces and workloads run in ambient mode, and which waypoint serves them.
import { KIND, Resource, Workload } from './_resource';
import { ResourceIndex } from './_resource-index';
import { boundWaypoint } from '../ambient/_waypoint-binding';

export const DATAPLANE_MODE = 'istio.io/dataplane-mode';

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
  return boundWaypoint(service.labels, index.namespace(service.namespace)?.labels, service.namespace);
}

/** Whether a waypoint Gateway of that name exists in the manifests. */
export function waypointExists(index: ResourceIndex, waypoint: { name: string; namespace: string }): boolean {
  return index.get(KIND.KubernetesGateway, waypoint.namespace, waypoint.name) !== undefined;
}
