// Host names as Istio resolves them: short names within a namespace, FQDNs, wildcards, and which namespaces see what.
import { KIND, Resource, list } from './_resource';
import { ResourceIndex } from './_resource-index';

const SERVICE_FQDN = /^(.+)\.(.+)\.svc\.cluster\.local$/;

/** A host as an FQDN: short names (no dot, no wildcard) are qualified with the namespace. */
export function toFqdn(namespace: string, host: string): string {
  if (host.startsWith('*') || host.includes('.')) return host;
  return `${host}.${namespace}.svc.cluster.local`;
}

/** The Kubernetes Service a host names, or undefined when it is not a cluster service host. */
export function serviceOfHost(defaultNamespace: string, host: string): { namespace: string; name: string } | undefined {
  const m = SERVICE_FQDN.exec(host);
  if (m) return { namespace: m[2], name: m[1] };
  if (host.startsWith('*') || host.includes('.')) return undefined;
  return { namespace: defaultNamespace, name: host };
}

/** Whether two hosts, either of which may be a wildcard (`*.example.com`, `*`), can name the same host. */
export function hostsMatch(a: string, b: string): boolean {
  const aWild = a.startsWith('*');
  const bWild = b.startsWith('*');
  if (aWild && bWild) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aWild) return b.endsWith(a.slice(1));
  if (bWild) return a.endsWith(b.slice(1));
  return a === b;
}

/** Whether every host `a` names is also named by `b`. */
export function hostSubsetOf(a: string, b: string): boolean {
  if (b.startsWith('*')) {
    if (a.startsWith('*')) return a.slice(1).endsWith(b.slice(1));
    return a.endsWith(b.slice(1));
  }
  return a === b;
}

/** The namespaces an `exportTo` list exposes to: `*` for all. */
export function exportScopes(exportTo: string[] | undefined, ownNamespace: string): string[] {
  if (!exportTo || exportTo.length === 0 || exportTo.includes('*')) return ['*'];
  return [...new Set(exportTo.map(e => (e === '.' ? ownNamespace : e)))];
}

/** A service as destinations see it: a Kubernetes Service or a ServiceEntry. */
export interface MeshService {
  readonly resource: Resource;
  readonly ports: { readonly number: number; readonly name: string; readonly protocol: string }[];
  /** ServiceEntry workload selector labels; none for Kubernetes Services. */
  readonly workloadSelector?: { readonly [key: string]: string };
}

/** Every service host of the mesh, by the namespaces that may route to it. */
export class ServiceRegistry {
  /** The registry of an index, built once. */
  public static of(index: ResourceIndex): ServiceRegistry {
    return index.memo('service-registry', () => new ServiceRegistry(index));
  }

  private readonly scoped = new Map<string, MeshService>();
  private readonly wildcards: { scope: string; suffix: string; service: MeshService }[] = [];

  private constructor(index: ResourceIndex) {
    for (const r of index.of(KIND.ServiceEntry)) {
      const spec = r.spec;
      const service: MeshService = {
        resource: r,
        ports: list(spec.ports).map((p: any) => ({ number: Number(p.number), name: String(p.name ?? ''), protocol: String(p.protocol ?? '') })),
        workloadSelector: spec.workloadSelector?.labels,
      };
      const exportTo: string[] = list(spec.exportTo).map(String);
      const scopes = exportTo.length === 0 ? ['*'] : [];
      for (const e of exportTo) {
        if (e === '*') {
          scopes.length = 0;
          scopes.push('*');
          break;
        }
        scopes.push(e === '.' ? r.namespace : e);
      }
      for (const host of list(spec.hosts).map(String)) {
        for (const scope of scopes) this.add(scope, toFqdn(r.namespace, host), service);
      }
    }
    for (const r of index.of(KIND.Service)) {
      const service: MeshService = {
        resource: r,
        ports: list(r.spec.ports).map((p: any) => ({ number: Number(p.port), name: String(p.name ?? ''), protocol: String(p.protocol ?? '') })),
      };
      const annotation = r.annotations['networking.istio.io/exportTo'];
      const scopes = annotation ? annotation.split(',').map(s => s.trim()).map(s => (s === '.' ? r.namespace : s)) : ['*'];
      for (const scope of scopes) this.add(scope, toFqdn(r.namespace, r.name), service);
    }
  }

  /**
   * The service a destination host reaches from a namespace, honouring each service's visibility and the routing
   * resource's own `exportTo`; undefined when none is visible.
   */
  public lookup(sourceNamespace: string, exportTo: string[] | undefined, host: string): MeshService | undefined {
    const fqdn = toFqdn(sourceNamespace, host);
    const everywhere = this.scoped.get(`*/${fqdn}`);
    if (everywhere) return everywhere;
    const scopes = exportTo && exportTo.length > 0 ? exportTo.map(e => (e === '.' ? sourceNamespace : e)) : [sourceNamespace];
    for (const scope of scopes) {
      const found = this.scoped.get(`${scope}/${fqdn}`);
      if (found) return found;
    }
    const bare = host.startsWith('*') ? host.slice(1) : host;
    for (const w of this.wildcards) {
      if (w.scope !== '*' && w.scope !== sourceNamespace) continue;
      if (bare.endsWith(w.suffix)) return w.service;
    }
    return undefined;
  }

  private add(scope: string, fqdn: string, service: MeshService): void {
    this.scoped.set(`${scope}/${fqdn}`, service);
    if (fqdn.startsWith('*')) this.wildcards.push({ scope, suffix: fqdn.slice(1), service });
  }
}
