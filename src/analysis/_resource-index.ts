// Every object of the analysis, indexed once by kind, namespace, name and label, so analyzers never scan inside scans.
import { IGNORED_NAMESPACES, KIND, Labels, Resource, WORKLOAD_TEMPLATE_KINDS, Workload, flattenLists, selects } from './_resource';

/** The manifests to index, with where each came from. */
export interface IndexInput {
  readonly manifests: any[];
  readonly defaultNamespace: string;
  /** Objects the analysis adds (the default ingress gateway); they do not count as present kinds. */
  readonly synthetic: any[];
  /** The construct path of each synthesized object. */
  readonly constructPaths?: Map<any, string>;
}

export class ResourceIndex {
  /** Every resource, in input order (synthetic ones last). */
  public readonly all: Resource[] = [];
  /** Pods and pod templates. */
  public readonly workloads: WorkloadIndex;

  private readonly byKind = new Map<string, Resource[]>();
  private readonly byName = new Map<string, Resource>();
  private readonly byKindNamespace = new Map<string, Resource[]>();
  private readonly userKinds = new Map<string, number>();
  private readonly namespacesInUse = new Set<string>();
  private readonly memos = new Map<string, unknown>();

  constructor(input: IndexInput) {
    const add = (obj: any, synthetic: boolean, path?: string) => {
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || typeof obj.kind !== 'string') return;
      const r = new Resource(obj, input.defaultNamespace, synthetic, path);
      const ns = r.key === KIND.Namespace ? r.name : r.namespace;
      if (IGNORED_NAMESPACES.has(ns)) return;
      const nameKey = `${r.key}|${r.namespace}|${r.name}`;
      const previous = this.byName.get(nameKey);
      // A stand-in for a gateway installed outside the manifests never replaces what the manifests define.
      if (previous && synthetic) return;
      if (previous) {
        // The last definition of an object wins, as when applying the manifests in order.
        this.all.splice(this.all.indexOf(previous), 1);
        remove(this.byKind.get(r.key), previous);
        remove(this.byKindNamespace.get(`${r.key}|${r.namespace}`), previous);
      } else if (!synthetic) {
        this.userKinds.set(r.key, (this.userKinds.get(r.key) ?? 0) + 1);
      }
      this.all.push(r);
      this.byName.set(nameKey, r);
      push(this.byKind, r.key, r);
      push(this.byKindNamespace, `${r.key}|${r.namespace}`, r);
      if (!synthetic && r.namespace) this.namespacesInUse.add(r.namespace);
    };
    const workloadsOf = (r: Resource): Workload[] => {
      if (r.key === KIND.Pod) return [new Workload(r, r.obj)];
      const template = WORKLOAD_TEMPLATE_KINDS[r.key];
      return template ? [new Workload(r, template(r.spec))] : [];
    };
    for (const obj of flattenLists(input.manifests)) add(obj, false, input.constructPaths?.get(obj));
    const defined = this.all.flatMap(workloadsOf);
    const real = this.all.length;
    for (const obj of flattenLists(input.synthetic)) {
      // Gateway pods the manifests deploy themselves are the gateway's pods: a stand-in pod beside them would be checked
      // as a second deployment (its namespace for credentials, its proxy for JWT routes). The installed gateway's
      // Service stays: it selects those pods too.
      if (obj?.kind === 'Pod' && defined.some(w => selects(obj.metadata?.labels ?? {}, w.labels))) continue;
      add(obj, true);
    }
    this.workloads = new WorkloadIndex([...defined, ...this.all.slice(real).flatMap(workloadsOf)]);
  }

  /** Every resource of a kind. */
  public of(key: string): Resource[] {
    return this.byKind.get(key) ?? [];
  }

  /** Every resource of a kind in a namespace. */
  public in(key: string, namespace: string): Resource[] {
    return this.byKindNamespace.get(`${key}|${namespace}`) ?? [];
  }

  /** The resource of a kind with that namespace and name. */
  public get(key: string, namespace: string, name: string): Resource | undefined {
    return this.byName.get(`${key}|${namespace}|${name}`);
  }

  /** Whether the manifests (not the analysis' own additions) hold an object of the kind. */
  public has(key: string): boolean {
    return (this.userKinds.get(key) ?? 0) > 0;
  }

  /** Whether the manifests hold a pod or a workload with a pod template. */
  public hasWorkloads(): boolean {
    return this.has(KIND.Pod) || Object.keys(WORKLOAD_TEMPLATE_KINDS).some(k => this.has(k));
  }

  /** The Namespace object of that name. */
  public namespace(name: string): Resource | undefined {
    return this.get(KIND.Namespace, '', name);
  }

  /** Whether a namespace is known: it has a Namespace object or some manifest lives in it. */
  public knowsNamespace(name: string): boolean {
    return this.namespacesInUse.has(name) || this.namespace(name) !== undefined;
  }

  /** A value computed once per analysis and shared by analyzers. */
  public memo<T>(key: string, compute: () => T): T {
    if (!this.memos.has(key)) this.memos.set(key, compute());
    return this.memos.get(key) as T;
  }
}

/** Pods and pod templates, indexed by namespace and by label so that selectors look up rather than scan. */
export class WorkloadIndex {
  private readonly byNamespace = new Map<string, Workload[]>();
  private readonly byLabel = new Map<string, Workload[]>();
  private readonly byNamespaceLabel = new Map<string, Workload[]>();

  constructor(public readonly all: Workload[]) {
    for (const w of all) {
      push(this.byNamespace, w.namespace, w);
      for (const [k, v] of Object.entries(w.labels)) {
        push(this.byLabel, `${k}=${v}`, w);
        push(this.byNamespaceLabel, `${w.namespace}|${k}=${v}`, w);
      }
    }
  }

  /** Workloads in a namespace. */
  public in(namespace: string): Workload[] {
    return this.byNamespace.get(namespace) ?? [];
  }

  /**
   * Workloads the selector selects: in one namespace, or in all when `namespace` is undefined. An empty or missing
   * selector selects every workload.
   */
  public select(selector: Labels | undefined, namespace?: string): Workload[] {
    const keys = Object.keys(selector ?? {});
    if (!selector || keys.length === 0) return namespace === undefined ? this.all : this.in(namespace);
    let candidates: Workload[] | undefined;
    for (const k of keys) {
      const found = namespace === undefined
        ? this.byLabel.get(`${k}=${selector[k]}`)
        : this.byNamespaceLabel.get(`${namespace}|${k}=${selector[k]}`);
      if (!found) return [];
      if (!candidates || found.length < candidates.length) candidates = found;
    }
    return (candidates ?? []).filter(w => selects(selector, w.labels));
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function remove<V>(list: V[] | undefined, value: V): void {
  if (!list) return;
  const i = list.indexOf(value);
  if (i >= 0) list.splice(i, 1);
}
