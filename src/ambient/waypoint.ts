import { ApiObject, Chart, JsonPatch, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { appSingleton } from '../_app-registry';
import { configError } from '../_errors';
import { requireDnsLabel } from '../_validate';
import { USE_WAYPOINT, USE_WAYPOINT_NAMESPACE } from './_waypoint-binding';
import { objectProps } from '../_object-props';
import * as gatewayapi from '../imports/gateway-api';
import { requireIstio, revisionLabel } from '../mesh/mesh';
import { ServiceIdentity } from '../mesh/service-identity';

/** Which traffic a waypoint handles (`istio.io/waypoint-for`). */
export enum WaypointFor {
  /** Traffic addressed to services (the default). */
  SERVICE = 'service',
  /** Traffic addressed to pods directly. */
  WORKLOAD = 'workload',
  /** Both. */
  ALL = 'all',
}

/** Properties of a {@link Waypoint}. */
export interface WaypointProps {
  /**
   * The waypoint's name (its Gateway and ServiceAccount).
   * @default 'waypoint'
   */
  readonly name?: string;
  /**
   * The namespace it serves.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * Which traffic it handles.
   * @default WaypointFor.SERVICE
   */
  readonly trafficFor?: WaypointFor;
}

/** The label that sends a namespace's, service's or pod's traffic through a waypoint. */
export const USE_WAYPOINT_LABEL = USE_WAYPOINT;

/** Kinds whose traffic is addressed to a service, which only a service (or `all`) waypoint handles. */
const SERVICE_KINDS = ['Service', 'ServiceEntry'];

/** Kinds Istio reads the label on itself: a Namespace, services and workloads. */
const LABELLED_KINDS = ['Namespace', 'Pod', 'WorkloadEntry', ...SERVICE_KINDS];

/**
 * Owners of a pod template whose labels always exist (they match the owner's selector): the label goes on the template,
 * since Istio reads it on pods and a Deployment's own labels never reach them.
 */
const TEMPLATE_OWNERS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Rollout'];

/** The waypoint each object was sent through, as `namespace/name`, to refuse a second one. */
const usedWaypoint = new WeakMap<ApiObject, string>();

/**
 * An ambient-mode waypoint proxy: a Gateway API Gateway of class `istio-waypoint` that enforces L7 routing and
 * policy for the services (or workloads) that use it. Without one, ambient mode enforces L4 only.
 * @see https://istio.io/latest/docs/ambient/usage/waypoint/
 */
export class Waypoint extends Construct {
  /**
   * The namespace's waypoint named `name` in this app, created in `scope`'s chart on first use, so every construct
   * of the namespace shares it.
   */
  public static forNamespace(scope: IConstruct, namespace: string, name: string = 'waypoint'): Waypoint {
    return appSingleton(scope, 'Waypoint', `${namespace}/${name}`,
      () => new Waypoint(Chart.of(scope), `Waypoint-${namespace}-${name}`, { namespace, name }));
  }

  /** The waypoint's Gateway. */
  public readonly gateway: ApiObject;
  /** The waypoint's name. */
  public readonly name: string;
  /** The namespace it serves. */
  public readonly namespace: string;
  /** Which traffic it handles. */
  public readonly trafficFor: WaypointFor;
  /** Other namespaces whose objects use the waypoint, which its listener must admit. */
  private readonly foreignNamespaces = new Set<string>();

  public constructor(scope: Construct, id: string, props: WaypointProps = {}) {
    super(scope, id);
    requireIstio(this, 'scope', 22, 'a waypoint (istio.io/use-waypoint)');
    this.name = requireDnsLabel(this, 'name', props.name ?? 'waypoint');
    this.namespace = requireDnsLabel(this, 'namespace', props.namespace ?? Chart.of(this).namespace ?? 'default');
    this.trafficFor = props.trafficFor ?? WaypointFor.SERVICE;
    this.gateway = new ApiObject(this, 'Resource', objectProps(gatewayapi.Gateway.GVK, {
      metadata: { name: this.name, namespace: this.namespace, labels: { 'istio.io/waypoint-for': this.trafficFor, ...revisionLabel(this) } },
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    }));
  }

  /** The identity the waypoint's proxies run as: Istio creates a ServiceAccount named after the Gateway. */
  public get identity(): ServiceIdentity {
    return ServiceIdentity.fromName(this.namespace, this.name);
  }

  /**
   * Sends the traffic of `target` (a Service, ServiceEntry, Namespace or, for workload waypoints, a Pod, WorkloadEntry
   * or the owner of a pod template: Deployment, StatefulSet, DaemonSet, ReplicaSet, Rollout) through this waypoint by
   * labelling it (a template owner's pod template) `istio.io/use-waypoint`; an object of another namespace also gets
   * `istio.io/use-waypoint-namespace`, and the waypoint admits that namespace.
   */
  public use(target: ApiObject): void {
    const templated = TEMPLATE_OWNERS.includes(target.kind);
    if (!templated && !LABELLED_KINDS.includes(target.kind)) {
      throw configError(this, 'target', target.node.path,
        `Istio reads istio.io/use-waypoint on Namespaces, Services, ServiceEntries, Pods and WorkloadEntries, and on a ${target.kind} it has no effect: label its pod template yourself, or use the waypoint for its Service`);
    }
    const namespace = target.kind === 'Namespace' ? target.name : target.metadata.namespace ?? Chart.of(target).namespace ?? 'default';
    const label = target.metadata.getLabel(USE_WAYPOINT_LABEL);
    const existing = usedWaypoint.get(target)
      ?? (label === undefined ? undefined : `${target.metadata.getLabel(USE_WAYPOINT_NAMESPACE) ?? namespace}/${label}`);
    if (existing !== undefined && existing !== `${this.namespace}/${this.name}`) {
      throw configError(this, 'target', target.node.path, `it already uses waypoint '${existing}'`);
    }
    // Istio ignores a waypoint for traffic it is not for, and then applies none of its routes or policies.
    const forServices = SERVICE_KINDS.includes(target.kind);
    const handled = target.kind === 'Namespace' || this.trafficFor === WaypointFor.ALL
      || this.trafficFor === (forServices ? WaypointFor.SERVICE : WaypointFor.WORKLOAD);
    if (!handled) {
      throw configError(this, 'target', target.node.path,
        `the waypoint is for ${this.trafficFor} traffic, and Istio sends ${forServices ? 'service' : 'workload'} traffic of a ${target.kind} through ${forServices ? 'service' : 'workload'} (or all) waypoints only: use such a waypoint (trafficFor)`);
    }
    if (existing !== undefined) return;
    if (namespace !== this.namespace) requireIstio(this, 'target', 23, 'a waypoint of another namespace (istio.io/use-waypoint-namespace)');
    usedWaypoint.set(target, `${this.namespace}/${this.name}`);
    const labels: { [key: string]: string } = {
      [USE_WAYPOINT_LABEL]: this.name,
      ...(namespace !== this.namespace ? { [USE_WAYPOINT_NAMESPACE]: this.namespace } : {}),
    };
    for (const [key, value] of Object.entries(labels)) {
      if (templated) target.addJsonPatch(JsonPatch.add(`/spec/template/metadata/labels/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, value));
      else target.metadata.addLabel(key, value);
    }
    if (namespace !== this.namespace) this.foreignNamespaces.add(namespace);
  }

  /** The policy target reference of the waypoint, for AuthorizationPolicy `targetRefs`. */
  public get targetRef(): { [key: string]: string } {
    return { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: this.name };
  }

  private renderSpec(): any {
    // A waypoint admits objects of its own namespace only, unless its listener names the others that use it.
    const namespaces = [...this.foreignNamespaces].sort();
    const allowedRoutes = namespaces.length ? {
      allowedRoutes: {
        namespaces: {
          from: 'Selector',
          selector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [this.namespace, ...namespaces] }] },
        },
      },
    } : {};
    return { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE', ...allowedRoutes }] };
  }
}
