// The analysis' view of one Kubernetes object: its kind (qualified by API group), where it lives and what it says.

/** Kind keys: `group/Kind`, or `Kind` for the core group. Istio's and Gateway API's `Gateway` differ by group. */
export const KIND = {
  Namespace: 'Namespace',
  Service: 'Service',
  Pod: 'Pod',
  Secret: 'Secret',
  ConfigMap: 'ConfigMap',
  ServiceAccount: 'ServiceAccount',
  Node: 'Node',
  ReplicationController: 'ReplicationController',
  Deployment: 'apps/Deployment',
  StatefulSet: 'apps/StatefulSet',
  DaemonSet: 'apps/DaemonSet',
  ReplicaSet: 'apps/ReplicaSet',
  Job: 'batch/Job',
  CronJob: 'batch/CronJob',
  Rollout: 'argoproj.io/Rollout',
  CustomResourceDefinition: 'apiextensions.k8s.io/CustomResourceDefinition',
  VirtualService: 'networking.istio.io/VirtualService',
  DestinationRule: 'networking.istio.io/DestinationRule',
  Gateway: 'networking.istio.io/Gateway',
  ServiceEntry: 'networking.istio.io/ServiceEntry',
  Sidecar: 'networking.istio.io/Sidecar',
  EnvoyFilter: 'networking.istio.io/EnvoyFilter',
  WorkloadEntry: 'networking.istio.io/WorkloadEntry',
  AuthorizationPolicy: 'security.istio.io/AuthorizationPolicy',
  PeerAuthentication: 'security.istio.io/PeerAuthentication',
  RequestAuthentication: 'security.istio.io/RequestAuthentication',
  Telemetry: 'telemetry.istio.io/Telemetry',
  WasmPlugin: 'extensions.istio.io/WasmPlugin',
  KubernetesGateway: 'gateway.networking.k8s.io/Gateway',
  HTTPRoute: 'gateway.networking.k8s.io/HTTPRoute',
  GRPCRoute: 'gateway.networking.k8s.io/GRPCRoute',
} as const;

/** Kinds that carry a pod template, and where it is. */
export const WORKLOAD_TEMPLATE_KINDS: { readonly [key: string]: (spec: any) => any } = {
  [KIND.Deployment]: spec => spec?.template,
  [KIND.StatefulSet]: spec => spec?.template,
  [KIND.DaemonSet]: spec => spec?.template,
  [KIND.ReplicaSet]: spec => spec?.template,
  [KIND.ReplicationController]: spec => spec?.template,
  [KIND.Job]: spec => spec?.template,
  [KIND.CronJob]: spec => spec?.jobTemplate?.spec?.template,
  [KIND.Rollout]: spec => spec?.template,
};

const CLUSTER_SCOPED = new Set<string>([
  KIND.Namespace, KIND.Node, KIND.CustomResourceDefinition, 'PersistentVolume', 'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding', 'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration', 'storage.k8s.io/StorageClass',
  'scheduling.k8s.io/PriorityClass', 'networking.k8s.io/IngressClass', 'gateway.networking.k8s.io/GatewayClass',
  'apiregistration.k8s.io/APIService',
]);

/** Namespaces Istio's analysis ignores (and never injects). */
export const IGNORED_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

export type Labels = { readonly [key: string]: string };

/** The kind key of a manifest. */
export function kindKey(obj: any): string {
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return group ? `${group}/${obj.kind}` : String(obj.kind);
}

/** One object of the manifests. */
export class Resource {
  /** The kind, e.g. `VirtualService`. */
  public readonly kind: string;
  /** The qualified kind, e.g. `networking.istio.io/VirtualService`. */
  public readonly key: string;
  public readonly name: string;
  /** The namespace it lives in: the declared one, else the default; '' for cluster-scoped kinds. */
  public readonly namespace: string;
  public readonly labels: Labels;
  public readonly annotations: Labels;
  /** `Kind name` or `Kind namespace/name`, the namespace only when the manifest sets one. */
  public readonly display: string;

  constructor(
    public readonly obj: any,
    defaultNamespace: string,
    /** Added by the analysis (the default ingress gateway), not part of the manifests. */
    public readonly synthetic: boolean,
    public readonly constructPath?: string,
  ) {
    this.kind = String(obj.kind);
    this.key = kindKey(obj);
    const metadata = obj.metadata ?? {};
    this.name = typeof metadata.name === 'string' ? metadata.name : '';
    const declared = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : undefined;
    this.namespace = CLUSTER_SCOPED.has(this.key) ? '' : declared ?? defaultNamespace;
    this.labels = stringMap(metadata.labels);
    this.annotations = stringMap(metadata.annotations);
    this.display = declared && !CLUSTER_SCOPED.has(this.key) ? `${this.kind} ${declared}/${this.name}` : `${this.kind} ${this.name}`;
  }

  /** The spec, never undefined. */
  public get spec(): any {
    const spec = this.obj.spec;
    return spec !== null && typeof spec === 'object' ? spec : {};
  }

  /** `namespace/name`, as Istio names resources in messages. */
  public get fullName(): string {
    return this.namespace ? `${this.namespace}/${this.name}` : this.name;
  }
}

/** A pod, or the pod template of a workload: what selectors select. */
export class Workload {
  public readonly labels: Labels;
  public readonly annotations: Labels;
  public readonly podSpec: any;

  constructor(public readonly resource: Resource, template: any) {
    this.labels = stringMap(template?.metadata?.labels);
    this.annotations = stringMap(template?.metadata?.annotations);
    const spec = template?.spec;
    this.podSpec = spec !== null && typeof spec === 'object' ? spec : {};
  }

  public get namespace(): string {
    return this.resource.namespace;
  }

  public get isPod(): boolean {
    return this.resource.key === KIND.Pod;
  }

  /** How messages name it: `Pod ns/name` or `Deployment ns/name`. */
  public get description(): string {
    return `${this.resource.kind} ${this.resource.fullName}`;
  }

  /** The service account the pods run as. */
  public get serviceAccountName(): string {
    const sa = this.podSpec.serviceAccountName ?? this.podSpec.serviceAccount;
    return typeof sa === 'string' && sa !== '' ? sa : 'default';
  }
}

/** Whether every label of the selector is on the labels (an empty selector selects everything). */
export function selects(selector: Labels | undefined, labels: Labels): boolean {
  if (!selector) return true;
  for (const key of Object.keys(selector)) {
    if (labels[key] !== selector[key]) return false;
  }
  return true;
}

/** A selector as Kubernetes prints it: `app=reviews,version=v1`, keys sorted. */
export function selectorString(selector: Labels | undefined): string {
  if (!selector) return '';
  return Object.keys(selector).sort().map(k => `${k}=${selector[k]}`).join(',');
}

/** A string map from a manifest field, dropping non-string values' types. */
export function stringMap(value: any): Labels {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && v !== undefined) out[k] = String(v);
  }
  return out;
}

/** Kubernetes Lists (`List`, `VirtualServiceList`, ...) replaced by their items, nested ones too; the rest as it is. */
export function flattenLists(values: any[]): any[] {
  return values.flatMap(v => {
    const kind = v !== null && typeof v === 'object' && !Array.isArray(v) ? v.kind : undefined;
    const isList = typeof kind === 'string' && (kind === 'List' || (kind.endsWith('List') && Array.isArray(v.items)));
    return isList ? flattenLists(Array.isArray(v.items) ? v.items : []) : [v];
  });
}

/** A field that should be an array, as an array. */
export function list(value: any): any[] {
  return Array.isArray(value) ? value.filter(v => v !== null && v !== undefined) : [];
}

/** The name of the sidecar proxy's container. */
export const PROXY_CONTAINER = 'istio-proxy';

/**
 * Whether a pod spec runs the sidecar proxy: as a container, or as a native sidecar (an init container that keeps
 * running), as injection does on Kubernetes 1.29+.
 */
export function hasProxy(podSpec: any): boolean {
  return [...list(podSpec?.containers), ...list(podSpec?.initContainers)].some((c: any) => c.name === PROXY_CONTAINER && c.image);
}

/** A field that should be an array, as an array, keeping null entries (their position matters). */
export function entries(value: any): any[] {
  return Array.isArray(value) ? value : [];
}
