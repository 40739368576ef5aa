// Which waypoint a Service's traffic goes through, read from manifests' labels: the views, the authorization
// evaluator and the analyzer all ask it of objects they did not build.

/** The label that binds a Service (or every Service of a Namespace) to a waypoint; `none` opts out. */
export const USE_WAYPOINT = 'istio.io/use-waypoint';
/** The waypoint's namespace, when it is not the Service's. */
export const USE_WAYPOINT_NAMESPACE = 'istio.io/use-waypoint-namespace';

type Labels = { readonly [key: string]: string };

/**
 * @internal The waypoint a Service is bound to: by its own labels when it has the label (`none` opting out), else
 * by its Namespace's; undefined when neither binds it.
 * @param namespace the Service's namespace, where the waypoint is unless the binding names another
 */
export function boundWaypoint(serviceLabels: Labels | undefined, namespaceLabels: Labels | undefined, namespace: string):
{ name: string; namespace: string } | undefined {
  for (const labels of [serviceLabels ?? {}, namespaceLabels ?? {}]) {
    const name = labels[USE_WAYPOINT];
    if (name === undefined) continue;
    return name === '' || name === 'none' ? undefined : { name, namespace: labels[USE_WAYPOINT_NAMESPACE] ?? namespace };
  }
  return undefined;
}
