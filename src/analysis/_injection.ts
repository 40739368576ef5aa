import { Workload, hasProxy } from './_resource';
import { ResourceIndex } from './_resource-index';

/**
 * @internal Whether a workload gets a sidecar, as the injection webhook decides; undefined when the manifests do not
 * say (no Namespace object).
 */
export function sidecarInjected(index: ResourceIndex, w: Workload): boolean | undefined {
  if (hasProxy(w.podSpec)) return true;
  const labels = w.isPod ? w.resource.labels : w.labels;
  const annotations = w.isPod ? w.resource.annotations : w.annotations;
  const explicit = labels['sidecar.istio.io/inject'] ?? annotations['sidecar.istio.io/inject'];
  if (explicit !== undefined) return explicit === 'true';
  const ns = index.namespace(w.namespace);
  const revision = labels['istio.io/rev'] !== undefined || ns?.labels['istio.io/rev'] !== undefined;
  if (!ns) return revision ? true : undefined;
  // A revision label (on the namespace or the pod) selects that revision's injector, unless injection is switched off.
  const injection = ns.labels['istio-injection'];
  return injection !== undefined ? injection === 'enabled' : revision;
}
