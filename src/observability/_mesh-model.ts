// The app as a reviewer sees it, read from plain manifests (what any tool synthesized): services and their
// versions, the routes between them, gateways and the hosts they expose, external hosts and how egress reaches
// them, and who may call whom. MeshDiagram and TrafficPlan render it; nothing here depends on constructs.
import { flattenLists } from '../analysis/_resource';
import { compare as compareRanks, rank as gatewayApiRank } from '../traffic/_gateway-api-order';

/** @internal A gateway deployment: how Gateways select it and who it runs as. */
export interface GatewayInfo {
  readonly labels: { [key: string]: string };
  readonly namespace: string;
  readonly serviceAccountName: string;
  readonly serviceName?: string;
}

/** @internal */
export interface ModelOptions {
  readonly trustDomain: string;
  readonly clusterDomain: string;
  readonly rootNamespace: string;
  readonly gateways: GatewayInfo[];
}

/** @internal A pod-running object: Deployment, StatefulSet, DaemonSet, Rollout, Job, CronJob or Pod. */
export interface ModelWorkload {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: { [key: string]: string };
  readonly serviceAccount: string;
  readonly images: string[];
  readonly replicas?: number;
}

/** @internal One version of a service: a DestinationRule subset or, with the Gateway API, a per-version Service. */
export interface ModelVersion {
  readonly key: string;
  readonly name: string;
  readonly labels: { [key: string]: string };
  readonly workloads: ModelWorkload[];
  /** The per-version Service routes use (Gateway API). */
  readonly backendService?: string;
  /** Traffic policy fields the subset sets. */
  readonly policy: string[];
}

/** @internal */
export interface ModelService {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly host: string;
  readonly ports: string[];
  readonly selector: { [key: string]: string };
  readonly workloads: ModelWorkload[];
  readonly versions: ModelVersion[];
  /** Traffic policy fields of the host's DestinationRule. */
  readonly policy: string[];
  /** The DestinationRules of the host (`namespace/name`). */
  readonly destinationRules: string[];
}

/** @internal Where a route sends traffic; `target` is a node key (`svc:`, `ver:`, `ext:`, `gw:`, `host:`). */
export interface ModelDestination {
  readonly target: string;
  readonly weight: number;
  readonly port?: number;
  /** The TLS server name the subset's policy sets for this hop, if any. */
  readonly serverName?: string;
}

/** @internal One route of a VirtualService or HTTPRoute rule, in evaluation order. */
export interface ModelRoute {
  readonly name?: string;
  readonly protocol: string;
  /** Alternatives (OR-ed), each a description of AND-ed conditions; empty means every request. */
  readonly matches: string[];
  /** The gateways the route is limited to (`mesh` or `namespace/name`); empty means all of the table's. */
  readonly gateways: string[];
  readonly destinations: ModelDestination[];
  readonly mirrors: { readonly target: string; readonly percent: number }[];
  /** Other behaviour worth reading: timeout, retries, fault, redirect, rewrite, direct response. */
  readonly details: string[];
}

/**
 * @internal Whether in-mesh callers take a route: its own gateways if it names any, else its table's (a
 * VirtualService bound to gateways without `mesh` routes for those gateways only).
 */
export function routesMesh(table: ModelRouteTable, route: ModelRoute): boolean {
  const gateways = route.gateways.length ? route.gateways : table.gateways;
  return gateways.length === 0 || gateways.includes('mesh');
}

/** @internal The routes of one VirtualService or HTTPRoute. */
export interface ModelRouteTable {
  readonly source: string;
  readonly namespace: string;
  readonly hosts: string[];
  /** `mesh` and `namespace/name` of Istio Gateways, or the node keys of Gateway API parents. */
  readonly gateways: string[];
  /** The node (service or external host) whose traffic the table routes, when one host is in the mesh. */
  readonly owner?: string;
  /**
   * The namespaces whose in-mesh callers take the routes (a VirtualService's `exportTo`, a consumer HTTPRoute's own
   * namespace); undefined when callers of every namespace do.
   */
  readonly callers?: string[];
  readonly routes: ModelRoute[];
}

/** @internal A gateway deployment node (Istio gateway workload, Gateway API gateway or waypoint). */
export interface ModelGateway {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  /** `ingress`, `egress`, `waypoint` or `gateway` (Gateway API). */
  readonly role: string;
  /** What it is, for a reader: `ingress gateway`, `gateway class istio`. */
  readonly description: string;
  readonly principal?: string;
  /** Gateway objects configuring it. */
  readonly objects: string[];
  /** Listeners, as `PROTOCOL port hosts`. */
  readonly servers: string[];
}

/** @internal A public host served by a gateway, and the node it reaches. */
export interface ModelExposure {
  readonly gateway: string;
  readonly host: string;
  readonly target: string;
  readonly via: string;
}

/** @internal A host outside the mesh that a ServiceEntry makes known. */
export interface ModelExternal {
  readonly key: string;
  readonly host: string;
  readonly namespace: string;
  readonly serviceEntry: string;
  readonly ports: string[];
  readonly resolution: string;
  readonly location: string;
  readonly exportTo: string[];
  /** The gateway (or waypoint) node egress to this host goes through. */
  readonly via?: string;
  /** The TLS server name of the hop to that gateway, which the gateway's policies see. */
  readonly viaServerName?: string;
  /** Traffic policy fields of its DestinationRule. */
  readonly policy: string[];
  /** Whether the mesh opens TLS to it (a DestinationRule with SIMPLE or MUTUAL TLS). */
  readonly tlsOrigination: boolean;
}

/** @internal A permission to call: `from` a node or identity to a node, under conditions. */
export interface ModelAllowance {
  readonly from: string;
  readonly to: string;
  /** Each an alternative; empty means unconditional. */
  readonly conditions: string[];
  /** The policies that grant it (`namespace/name`); empty when no policy applies (everything is allowed). */
  readonly policies: string[];
  /** The caller may do nothing here, though any caller may do something: a DENY or notX field singles it out. */
  readonly refused?: boolean;
}

/** @internal A caller identity: its principal and the nodes running as it. */
export interface ModelIdentity {
  readonly key: string;
  readonly principal: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly nodes: string[];
}

/** @internal */
export interface MeshModel {
  readonly options: ModelOptions;
  readonly objectCount: number;
  readonly namespaces: string[];
  readonly services: ModelService[];
  /** Workloads no Service selects (clients, jobs), as nodes `wl:namespace/name`. */
  readonly workloads: ModelWorkload[];
  readonly routeTables: ModelRouteTable[];
  readonly gateways: ModelGateway[];
  readonly exposures: ModelExposure[];
  readonly externals: ModelExternal[];
  readonly identities: ModelIdentity[];
  readonly allowances: ModelAllowance[];
  /** Outbound traffic policy per namespace (`*` for the mesh), from Sidecars without a selector. */
  readonly egressModes: { readonly namespace: string; readonly mode: string }[];
  /** AuthorizationPolicies read, `namespace/name`. */
  readonly policies: string[];
}

const byKey = <T extends { key: string }>(a: T, b: T) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
/** @internal Sorted copy of strings, without repeats. */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

function ns(o: any): string {
  return o.metadata?.namespace ?? 'default';
}
function ref(o: any): string {
  return `${ns(o)}/${o.metadata?.name}`;
}
function group(o: any): string {
  const apiVersion = String(o.apiVersion ?? '');
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}
function isKind(o: any, g: string, kind: string): boolean {
  return o.kind === kind && group(o) === g;
}
/** @internal Whether `labels` has every label of `selector` (a non-empty selector). */
export function selects(selector: { [key: string]: string } | undefined, labels: { [key: string]: string }): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/** @internal Flattens Lists (as the analyzer does) and drops what is not a Kubernetes object. */
export function kubernetesObjects(manifests: any[]): any[] {
  return flattenLists(manifests).filter(m => m && typeof m === 'object' && typeof m.kind === 'string' && m.metadata?.name);
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'Rollout'];

function workloadOf(o: any): ModelWorkload | undefined {
  let pod: any;
  if (o.kind === 'Pod' && group(o) === '') pod = { metadata: o.metadata, spec: o.spec };
  else if (o.kind === 'CronJob') pod = o.spec?.jobTemplate?.spec?.template;
  else if (WORKLOAD_KINDS.includes(o.kind)) pod = o.spec?.template;
  if (!pod) return undefined;
  const containers: any[] = pod.spec?.containers ?? [];
  return {
    kind: o.kind,
    namespace: ns(o),
    name: o.metadata.name,
    labels: { ...(pod.metadata?.labels ?? {}) },
    serviceAccount: pod.spec?.serviceAccountName ?? pod.spec?.serviceAccount ?? 'default',
    images: containers.map(c => String(c.image ?? '')).filter(i => i),
    replicas: typeof o.spec?.replicas === 'number' ? o.spec.replicas : undefined,
  };
}

/** Names of the traffic policy fields set, with subset-level ones when asked. */
function policyFields(policy: any): string[] {
  if (!policy || typeof policy !== 'object') return [];
  const fields = Object.keys(policy).filter(k => k !== 'portLevelSettings');
  for (const p of policy.portLevelSettings ?? []) {
    for (const k of Object.keys(p)) if (k !== 'port') fields.push(`${k} (port ${p.port?.number})`);
  }
  return fields.sort();
}

function describeString(m: any): string {
  if (!m || typeof m !== 'object') return '';
  if (m.exact !== undefined) return `= ${m.exact}`;
  if (m.prefix !== undefined) return `^= ${m.prefix}`;
  if (m.regex !== undefined) return `~ ${m.regex}`;
  return 'present';
}

// RequestMatch.cookie renders `^(.*?;\s*)?NAME=VALUE(;.*)?$` on the cookie header; read it back as a cookie.
const COOKIE_REGEX = /^\^\(\.\*\?;\\s\*\)\?(.+?)=(.*)\(;\.\*\)\?\$$/;
function unescapeRegex(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

function describeHttpMatch(m: any): string {
  const parts: string[] = [];
  if (m.uri) parts.push(`path ${describeString(m.uri)}`);
  if (m.method) parts.push(`method ${describeString(m.method)}`);
  if (m.authority) parts.push(`authority ${describeString(m.authority)}`);
  if (m.scheme) parts.push(`scheme ${describeString(m.scheme)}`);
  for (const [name, v] of Object.entries<any>(m.headers ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const cookie = name === 'cookie' && typeof v?.regex === 'string' ? COOKIE_REGEX.exec(v.regex) : null;
    parts.push(cookie ? `cookie ${unescapeRegex(cookie[1])} = ${unescapeRegex(cookie[2])}` : `header ${name} ${describeString(v)}`);
  }
  for (const [name, v] of Object.entries<any>(m.withoutHeaders ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    parts.push(`no header ${name} ${describeString(v)}`);
  }
  for (const [name, v] of Object.entries<any>(m.queryParams ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    parts.push(`query ${name} ${describeString(v)}`);
  }
  parts.push(...describeL4Match(m));
  return parts.join(' & ');
}

function describeL4Match(m: any): string[] {
  const parts: string[] = [];
  if (m.port) parts.push(`port ${m.port}`);
  if (m.sniHosts) parts.push(`sni ${m.sniHosts.join(', ')}`);
  if (m.destinationSubnets) parts.push(`destination ${m.destinationSubnets.join(', ')}`);
  if (m.sourceLabels) parts.push(`source ${Object.entries(m.sourceLabels).map(([k, v]) => `${k}=${v}`).join(',')}`);
  if (m.sourceNamespace) parts.push(`source namespace ${m.sourceNamespace}`);
  return parts;
}

function describeGatewayApiMatch(m: any): string {
  const parts: string[] = [];
  // A path without a type is a PathPrefix (the CRD's default); headers and query parameters default to Exact.
  const value = (x: any, type: string = x.type ?? 'Exact') => (type === 'RegularExpression' ? `~ ${x.value}` : type === 'PathPrefix' ? `^= ${x.value}` : `= ${x.value}`);
  if (m.path) parts.push(`path ${value(m.path, m.path.type ?? 'PathPrefix')}`);
  if (typeof m.method === 'string') parts.push(`method = ${m.method}`);
  else if (m.method) parts.push(`grpc ${[m.method.service, m.method.method].filter(x => x).join('/')}${m.method.type === 'RegularExpression' ? ' (regex)' : ''}`);
  for (const h of m.headers ?? []) parts.push(`header ${String(h.name).toLowerCase()} ${value(h)}`);
  for (const q of m.queryParams ?? []) parts.push(`query ${q.name} ${value(q)}`);
  return parts.join(' & ');
}

/** @internal Builds the model. Authorization is filled in by `allowances`, given the rest of the model and the objects. */
export function buildMeshModel(manifests: any[], options: ModelOptions,
  allowances: (model: Omit<MeshModel, 'allowances'>, objects: any[]) => ModelAllowance[]): MeshModel {
  const objects = kubernetesObjects(manifests);
  const suffix = `.svc.${options.clusterDomain}`;

  const workloads = objects.map(workloadOf).filter((w): w is ModelWorkload => w !== undefined);
  const k8sServices = objects.filter(o => isKind(o, '', 'Service'));
  const serviceByKey = new Map(k8sServices.map(s => [ref(s), s]));
  const httpRoutes = objects.filter(o => isKind(o, 'gateway.networking.k8s.io', 'HTTPRoute') || isKind(o, 'gateway.networking.k8s.io', 'GRPCRoute'));

  // Gateway API: a Service used as a backend of a route attached to another Service whose selector it narrows is
  // that Service's version.
  const versionServiceOf = new Map<string, string>();
  for (const r of httpRoutes) {
    for (const p of r.spec?.parentRefs ?? []) {
      if (p.kind !== 'Service') continue;
      const parentKey = `${p.namespace ?? ns(r)}/${p.name}`;
      const parent = serviceByKey.get(parentKey);
      if (!parent) continue;
      for (const rule of r.spec?.rules ?? []) {
        for (const b of [...(rule.backendRefs ?? []), ...mirrorBackends(rule)]) {
          const key = `${b.namespace ?? ns(r)}/${b.name}`;
          const backend = serviceByKey.get(key);
          if (!backend || key === parentKey || (b.kind ?? 'Service') !== 'Service') continue;
          const ps = parent.spec?.selector ?? {};
          const bs = backend.spec?.selector ?? {};
          const narrows = Object.keys(bs).length > Object.keys(ps).length && Object.entries(ps).every(([k, v]) => bs[k] === v);
          if (narrows) versionServiceOf.set(key, parentKey);
        }
      }
    }
  }

  const services = new Map<string, ModelService>();
  for (const s of k8sServices) {
    if (versionServiceOf.has(ref(s))) continue;
    const selector = { ...(s.spec?.selector ?? {}) };
    services.set(ref(s), {
      key: `svc:${ref(s)}`,
      namespace: ns(s),
      name: s.metadata.name,
      host: `${s.metadata.name}.${ns(s)}${suffix}`,
      ports: (s.spec?.ports ?? []).map((p: any) => `${p.name ?? p.appProtocol ?? p.protocol ?? 'port'} ${p.port}`),
      selector,
      workloads: workloads.filter(w => w.namespace === ns(s) && selects(selector, w.labels)),
      versions: [],
      policy: [],
      destinationRules: [],
    });
  }
  // A version of a version (a canary of v2) belongs to the service at the root of the chain.
  const rootServiceOf = (key: string): string => {
    let root = versionServiceOf.get(key) ?? key;
    for (let hops = 0; versionServiceOf.has(root) && hops < versionServiceOf.size; hops++) root = versionServiceOf.get(root)!;
    return root;
  };
  for (const versionKey of [...versionServiceOf.keys()].sort()) {
    const parentKey = rootServiceOf(versionKey);
    const parent = services.get(parentKey);
    if (!parent) continue;
    const vs = serviceByKey.get(versionKey)!;
    const labels = { ...(vs.spec?.selector ?? {}) };
    (parent.versions as ModelVersion[]).push({
      key: `ver:${parentKey}/${labels.version ?? vs.metadata.name}`,
      name: labels.version ?? vs.metadata.name,
      labels,
      workloads: workloads.filter(w => w.namespace === ns(vs) && selects(labels, w.labels)),
      backendService: vs.metadata.name,
      policy: [],
    });
  }

  /** The Kubernetes Service a host names, from the namespace `context`. */
  const serviceOfHost = (host: string, context: string): ModelService | undefined => {
    const h = String(host);
    if (h.endsWith(suffix)) return services.get(h.slice(0, -suffix.length).split('.').reverse().join('/'));
    const parts = h.split('.');
    if (parts.length === 1) return services.get(`${context}/${h}`);
    if (parts.length === 2 || (parts.length === 3 && parts[2] === 'svc')) return services.get(`${parts[1]}/${parts[0]}`);
    return undefined;
  };

  // DestinationRules: subsets are versions, policies are noted.
  const externalPolicy = new Map<string, string[]>();
  const subsetServerNames = new Map<string, string>();
  const originated = new Set<string>();
  for (const dr of objects.filter(o => isKind(o, 'networking.istio.io', 'DestinationRule'))) {
    const host = dr.spec?.host;
    for (const subset of dr.spec?.subsets ?? []) {
      const sni = subset.trafficPolicy?.tls?.sni ?? dr.spec?.trafficPolicy?.tls?.sni;
      if (sni) subsetServerNames.set(`${host} ${subset.name}`, sni);
    }
    const service = serviceOfHost(host, ns(dr));
    if (!service) {
      externalPolicy.set(String(host), [...(externalPolicy.get(String(host)) ?? []), ...policyFields(dr.spec?.trafficPolicy)]);
      if (['SIMPLE', 'MUTUAL'].includes(dr.spec?.trafficPolicy?.tls?.mode)) originated.add(String(host));
      continue;
    }
    (service.destinationRules as string[]).push(ref(dr));
    (service.policy as string[]).push(...policyFields(dr.spec?.trafficPolicy));
    for (const subset of dr.spec?.subsets ?? []) {
      const existing = service.versions.find(v => v.name === subset.name);
      if (existing) {
        (existing.policy as string[]).push(...policyFields(subset.trafficPolicy));
        continue;
      }
      const labels = { ...service.selector, ...(subset.labels ?? {}) };
      (service.versions as ModelVersion[]).push({
        key: `ver:${service.namespace}/${service.name}/${subset.name}`,
        name: subset.name,
        labels,
        workloads: service.workloads.filter(w => selects(labels, w.labels)),
        policy: policyFields(subset.trafficPolicy),
      });
    }
  }
  for (const s of services.values()) {
    (s.versions as ModelVersion[]).sort(byKey);
    (s.policy as string[]).splice(0, s.policy.length, ...sortedUnique(s.policy));
  }

  // Gateways: Istio Gateways resolve to the gateway deployment they select; Gateway API Gateways are their own.
  type GatewayEntry = Omit<ModelGateway, 'objects' | 'servers'> & { objects: Set<string>; servers: Set<string> };
  const gateways = new Map<string, GatewayEntry>();
  const gatewayNode = (key: string, name: string, namespace: string, role: string, description: string, principal?: string) => {
    if (!gateways.has(key)) gateways.set(key, { key, name, namespace, role, description, principal, objects: new Set(), servers: new Set() });
    return gateways.get(key)!;
  };
  const gatewayInfoNode = (info: GatewayInfo, role: string) => gatewayNode(
    gatewayKey(info), info.serviceName ?? info.serviceAccountName, info.namespace, role,
    `${role} gateway`, `${options.trustDomain}/ns/${info.namespace}/sa/${info.serviceAccountName}`);
  const istioGatewayNode = new Map<string, string>();
  const istioGateways = objects.filter(o => isKind(o, 'networking.istio.io', 'Gateway'));
  for (const g of istioGateways) {
    const selector = g.spec?.selector ?? {};
    const info = options.gateways.find(i => Object.keys(selector).length > 0 && selects(selector, i.labels));
    const role = info ? gatewayRole(info) : 'ingress';
    const node = info ? gatewayInfoNode(info, role)
      : gatewayNode(`gw:selector/${Object.entries(selector).map(([k, v]) => `${k}=${v}`).sort().join(',')}`,
        Object.entries(selector).map(([k, v]) => `${k}=${v}`).sort().join(',') || 'every gateway', '', 'ingress', 'gateway pods');
    node.objects.add(`Gateway ${ref(g)}`);
    for (const s of g.spec?.servers ?? []) {
      const tls = s.tls?.httpsRedirect ? ' (redirect to HTTPS)' : s.tls?.mode ? ` (TLS ${s.tls.mode})` : '';
      node.servers.add(`${s.port?.protocol ?? '?'} ${s.port?.number ?? '?'}${tls}: ${(s.hosts ?? []).map((h: string) => h.replace(/^[^/]*\//, '')).join(', ')}`);
    }
    istioGatewayNode.set(ref(g), node.key);
  }
  const gatewayApiNode = new Map<string, string>();
  for (const g of objects.filter(o => isKind(o, 'gateway.networking.k8s.io', 'Gateway'))) {
    const cls = String(g.spec?.gatewayClassName ?? 'istio');
    const role = cls.includes('waypoint') ? 'waypoint' : 'gateway';
    const node = gatewayNode(`gw:${ref(g)}`, g.metadata.name, ns(g), role, role === 'waypoint' ? 'waypoint' : `gateway class ${cls}`, `${options.trustDomain}/ns/${ns(g)}/sa/${gatewayServiceAccount(g, cls)}`);
    node.objects.add(`Gateway ${ref(g)} (${cls})`);
    for (const l of g.spec?.listeners ?? []) node.servers.add(`${l.protocol ?? '?'} ${l.port ?? '?'}: ${l.hostname ?? '*'}`);
    gatewayApiNode.set(ref(g), node.key);
  }
  const gatewayServiceHosts = new Map(options.gateways.filter(i => i.serviceName).map(i => [`${i.serviceName}.${i.namespace}${suffix}`, i]));

  // External hosts.
  const externals = new Map<string, ModelExternal>();
  for (const se of objects.filter(o => isKind(o, 'networking.istio.io', 'ServiceEntry'))) {
    for (const host of se.spec?.hosts ?? []) {
      if (serviceOfHost(host, ns(se))) continue;
      const waypoint = se.metadata?.labels?.['istio.io/use-waypoint'];
      const key = `ext:${host}`;
      const prior = externals.get(key);
      externals.set(key, {
        key,
        host,
        namespace: prior?.namespace ?? ns(se),
        serviceEntry: prior ? `${prior.serviceEntry}, ${ref(se)}` : ref(se),
        ports: sortedUnique([...(prior?.ports ?? []), ...(se.spec?.ports ?? []).map((p: any) => `${p.protocol ?? 'TCP'} ${p.number}`)]),
        resolution: se.spec?.resolution ?? 'NONE',
        location: se.spec?.location ?? 'MESH_EXTERNAL',
        exportTo: sortedUnique([...(prior?.exportTo ?? []), ...(se.spec?.exportTo ?? ['*'])]),
        via: waypoint ? `gw:${se.metadata?.labels?.['istio.io/use-waypoint-namespace'] ?? ns(se)}/${waypoint}` : prior?.via,
        policy: sortedUnique(externalPolicy.get(host) ?? []),
        tlsOrigination: originated.has(host),
      });
    }
  }

  /** The node a destination host reaches. */
  const targetOf = (host: string, subset: string | undefined, context: string): string => {
    const service = serviceOfHost(host, context);
    if (service) {
      const version = subset ? service.versions.find(v => v.name === subset) : undefined;
      return version ? version.key : service.key;
    }
    const gateway = gatewayServiceHosts.get(host);
    if (gateway) return gatewayInfoNode(gateway, 'egress').key;
    if (externals.has(`ext:${host}`)) return `ext:${host}`;
    const wildcard = [...externals.values()].find(e => e.host.startsWith('*.') && host.endsWith(e.host.slice(1)));
    return wildcard ? wildcard.key : `host:${host}`;
  };
  const resolveGateway = (g: string, context: string) => (g === 'mesh' || g.includes('/') ? g : `${context}/${g}`);

  // VirtualServices.
  const routeTables: ModelRouteTable[] = [];
  for (const vs of objects.filter(o => isKind(o, 'networking.istio.io', 'VirtualService'))) {
    const context = ns(vs);
    const gatewaysOfTable = (vs.spec?.gateways ?? ['mesh']).map((g: string) => resolveGateway(g, context));
    const routes: ModelRoute[] = [];
    for (const protocol of ['http', 'tls', 'tcp']) {
      for (const r of vs.spec?.[protocol] ?? []) {
        // Weights are relative, and a lone destination takes everything whatever its weight.
        const total = (r.route ?? []).reduce((sum: number, d: any) => sum + (d.weight ?? 0), 0);
        const destinations: ModelDestination[] = (r.route ?? []).map((d: any) => ({
          target: targetOf(d.destination?.host, d.destination?.subset, context),
          weight: r.route.length === 1 ? 100 : total ? Math.round(((d.weight ?? 0) / total) * 10000) / 100 : 0,
          port: d.destination?.port?.number,
          serverName: d.destination?.subset ? subsetServerNames.get(`${d.destination.host} ${d.destination.subset}`) : undefined,
        }));
        const mirrors = [
          ...(r.mirror ? [{
            target: targetOf(r.mirror.host, r.mirror.subset, context),
            percent: r.mirrorPercentage?.value ?? r.mirrorPercent ?? 100,
          }] : []),
          ...(r.mirrors ?? []).map((m: any) => ({
            target: targetOf(m.destination?.host, m.destination?.subset, context),
            percent: m.percentage?.value ?? 100,
          })),
        ];
        const details: string[] = [];
        if (r.timeout) details.push(`timeout ${r.timeout}`);
        if (protocol === 'http' && r.route?.length) {
          // As istiod converts them: no retries block is the mesh default (2 attempts), attempts unset or 0 is none.
          if (!r.retries) details.push('retries 2 (Istio\'s default)');
          else if (!(r.retries.attempts > 0)) details.push('no retries');
          else details.push(`retries ${r.retries.attempts}${r.retries.perTryTimeout ? ` × ${r.retries.perTryTimeout}` : ''}${r.retries.retryOn ? ` on ${r.retries.retryOn}` : ''}`);
        }
        // A fault without a percentage is injected into no request (istio#36303).
        if (r.fault?.delay) details.push(`fault: delay ${r.fault.delay.fixedDelay} for ${r.fault.delay.percentage?.value ?? r.fault.delay.percent ?? 0}%`);
        if (r.fault?.abort) details.push(`fault: abort ${r.fault.abort.httpStatus ?? r.fault.abort.grpcStatus} for ${r.fault.abort.percentage?.value ?? 0}%`);
        if (r.redirect) details.push(`redirect to ${[r.redirect.authority, r.redirect.uri].filter(x => x).join('') || 'another location'}`);
        if (r.rewrite) details.push(`rewrite ${[r.rewrite.authority, r.rewrite.uri].filter(x => x).join(' ')}`.trim());
        if (r.directResponse) details.push(`direct response ${r.directResponse.status}`);
        if (r.delegate) details.push(`delegate to ${r.delegate.namespace ?? context}/${r.delegate.name}`);
        const matches: any[] = r.match ?? [];
        routes.push({
          name: r.name,
          protocol,
          matches: matches.map(m => (protocol === 'http' ? describeHttpMatch(m) : describeL4Match(m).join(' & '))).filter(m => m !== ''),
          gateways: sortedUnique(matches.flatMap(m => (m.gateways ?? []).map((g: string) => resolveGateway(g, context)))),
          destinations,
          mirrors,
          details,
        });
      }
    }
    const hosts: string[] = vs.spec?.hosts ?? [];
    // The host whose traffic the table routes: the one known node among its hosts, else its only in-mesh host.
    const owners = sortedUnique(hosts.map(h => targetOf(h, undefined, context)).filter(t => !t.startsWith('host:')));
    const owner = owners.length === 1 ? owners[0]
      : owners.length === 0 && hosts.length === 1 && gatewaysOfTable.includes('mesh') ? targetOf(hosts[0], undefined, context) : undefined;
    const exportTo: string[] | undefined = vs.spec?.exportTo;
    const callers = !exportTo || exportTo.includes('*') ? undefined
      : sortedUnique(exportTo.filter(x => x !== '~').map(x => (x === '.' ? context : x)));
    routeTables.push({ source: `VirtualService ${ref(vs)}`, namespace: context, hosts: [...hosts], gateways: gatewaysOfTable, owner, callers, routes });
  }

  // Gateway API routes.
  for (const r of httpRoutes) {
    const context = ns(r);
    const parents: string[] = [];
    let owner: string | undefined;
    let callers: string[] | undefined;
    for (const p of r.spec?.parentRefs ?? []) {
      const key = `${p.namespace ?? context}/${p.name}`;
      // A route for another namespace's Service (a consumer route) applies to its own namespace's callers only.
      if (p.kind === 'Service' || p.kind === 'ServiceEntry') callers = (p.namespace ?? context) === context ? undefined : [context];
      if (p.kind === 'Service') {
        const s = services.get(key);
        owner = s?.key ?? (p.group === 'networking.istio.io' ? targetOf(p.name, undefined, context) : `host:${p.name}`);
        parents.push('mesh');
      } else if (p.kind === 'ServiceEntry') {
        owner = `ext:${p.name}`;
        parents.push('mesh');
      } else {
        parents.push(gatewayApiNode.get(key) ?? `gw:${key}`);
      }
    }
    const backendTarget = (b: any): string => {
      const key = `${b.namespace ?? context}/${b.name}`;
      const version = versionServiceOf.has(key) ? services.get(rootServiceOf(key))?.versions.find(v => v.backendService === b.name) : undefined;
      if (version) return version.key;
      if ((b.kind ?? 'Service') === 'Service') return services.get(key)?.key ?? `host:${b.name}`;
      return b.kind === 'Hostname' || b.group === 'networking.istio.io' ? targetOf(b.name, undefined, context) : `host:${b.name}`;
    };
    // Istio splits rules into one route per match and sorts them by its own precedence; listing order breaks ties. A
    // rule without matches ranks as the match the CRD defaults it to (any path under /), not last.
    const split = (r.spec?.rules ?? []).flatMap((rule: any) => (rule.matches?.length ? rule.matches : [undefined])
      .map((m: any) => ({ rule: m ? { ...rule, matches: [m] } : rule, rank: gatewayApiRank(m ?? {}) })));
    const indexed = split.map((x: any, i: number) => ({ ...x, i }));
    // (gRPC methods rank as exact paths; a GRPCRoute keeps its order here.)
    const ordered = r.kind === 'GRPCRoute' ? indexed : indexed.sort((a: any, b: any) => -compareRanks(a.rank, b.rank) || a.i - b.i);
    const routes: ModelRoute[] = ordered.map(({ rule }: any) => {
      const backends: any[] = rule.backendRefs ?? [];
      const total = backends.reduce((sum, b) => sum + (b.weight ?? 1), 0);
      const details: string[] = [];
      // As istiod converts them: backendRequest is the per-try timeout with retries, else the timeout; retry defaults to 2.
      const backendRequest = rule.timeouts?.backendRequest;
      if (rule.timeouts?.request || (backendRequest && !rule.retry)) details.push(`timeout ${rule.retry ? rule.timeouts.request : backendRequest ?? rule.timeouts.request}`);
      if (rule.retry) {
        const attempts = rule.retry.attempts ?? 2;
        details.push(attempts === 0 ? 'no retries'
          : `retries ${attempts}${backendRequest ? ` × ${backendRequest}` : ''}${rule.retry.codes ? ` on ${rule.retry.codes.join(',')}` : ''}`);
      }
      for (const f of rule.filters ?? []) if (f.type !== 'RequestMirror') details.push(`filter ${f.type}`);
      return {
        name: rule.name,
        protocol: r.kind === 'GRPCRoute' ? 'grpc' : 'http',
        matches: (rule.matches ?? []).map(describeGatewayApiMatch).filter((m: string) => m !== ''),
        gateways: [],
        // Gateway API weights are relative: shown as percentages of the rule.
        destinations: backends.map(b => ({
          target: backendTarget(b),
          weight: total ? Math.round(((b.weight ?? 1) / total) * 10000) / 100 : 0,
          port: b.port,
        })),
        mirrors: mirrorBackends(rule).map((b: any) => ({ target: backendTarget(b), percent: b._percent })),
        details,
      };
    });
    routeTables.push({ source: `${r.kind} ${ref(r)}`, namespace: context, hosts: [...(r.spec?.hostnames ?? [])], gateways: sortedUnique(parents), owner, callers, routes });
  }
  routeTables.sort((a, b) => (a.source < b.source ? -1 : 1));

  // Exposures: public hosts of gateway-bound tables, to the services their routes reach.
  const exposures = new Map<string, ModelExposure>();
  const serviceOfTarget = (t: string) => (t.startsWith('ver:') ? `svc:${t.slice(4).split('/').slice(0, 2).join('/')}` : t);
  for (const table of routeTables) {
    for (const g of table.gateways) {
      if (g === 'mesh') continue;
      const gateway = table.source.startsWith('VirtualService') ? istioGatewayNode.get(g) : g;
      if (!gateway) continue;
      const publicHosts = table.hosts.filter(h => !serviceOfHost(h, table.namespace));
      for (const route of table.routes) {
        if (route.gateways.length && !route.gateways.includes(g)) continue;
        for (const d of route.destinations) {
          for (const host of publicHosts.length ? publicHosts : ['*']) {
            const target = serviceOfTarget(d.target);
            // The gateway's own hop to the external host it serves is the egress edge.
            if (target === gateway || (target === table.owner && target.startsWith('ext:'))) continue;
            exposures.set(`${gateway} ${host} ${target}`, { gateway, host, target, via: `${table.source}${g.startsWith('gw:') ? '' : ` on Gateway ${g}`}` });
          }
        }
      }
    }
  }
  // Egress through a gateway: the mesh's routes send the external host to a gateway node.
  for (const table of routeTables) {
    for (const host of table.hosts) {
      const ext = externals.get(`ext:${host}`);
      if (!ext) continue;
      const through = table.routes.filter(r => routesMesh(table, r))
        .flatMap(r => r.destinations).find(d => d.target.startsWith('gw:'));
      if (through) externals.set(ext.key, { ...ext, via: through.target, viaServerName: through.serverName });
    }
  }

  // Identities: who each workload and gateway runs as.
  const identities = new Map<string, { key: string; principal: string; namespace: string; serviceAccount: string; nodes: Set<string> }>();
  const identity = (namespace: string, sa: string) => {
    const principal = `${options.trustDomain}/ns/${namespace}/sa/${sa}`;
    const key = `id:${namespace}/${sa}`;
    if (!identities.has(key)) identities.set(key, { key, principal, namespace, serviceAccount: sa, nodes: new Set() });
    return identities.get(key)!;
  };
  for (const s of services.values()) {
    for (const w of s.workloads) identity(w.namespace, w.serviceAccount).nodes.add(s.key);
  }
  for (const v of [...services.values()].flatMap(s => s.versions)) {
    for (const w of v.workloads) identity(w.namespace, w.serviceAccount).nodes.add(`svc:${v.key.slice(4).split('/').slice(0, 2).join('/')}`);
  }
  const served = new Set([...services.values()].flatMap(s => [...s.workloads, ...s.versions.flatMap(v => v.workloads)]));
  const unserved = workloads.filter(w => !served.has(w));
  for (const w of workloads) identity(w.namespace, w.serviceAccount);
  for (const w of unserved) identity(w.namespace, w.serviceAccount).nodes.add(`wl:${w.namespace}/${w.name}`);
  for (const g of gateways.values()) {
    const m = g.principal && /\/ns\/([^/]+)\/sa\/(.+)$/.exec(g.principal);
    if (m) identity(m[1], m[2]).nodes.add(g.key);
  }
  // Gateway deployments installed outside the manifests call as themselves, whether or not a Gateway selects them.
  for (const info of options.gateways) identity(info.namespace, info.serviceAccountName).nodes.add(gatewayKey(info));

  const egressModes = objects.filter(o => isKind(o, 'networking.istio.io', 'Sidecar') && !o.spec?.workloadSelector && o.spec?.outboundTrafficPolicy?.mode)
    .map(o => ({ namespace: ns(o) === options.rootNamespace ? '*' : ns(o), mode: o.spec.outboundTrafficPolicy.mode }))
    .sort((a, b) => (a.namespace < b.namespace ? -1 : 1));

  const policies = objects.filter(o => isKind(o, 'security.istio.io', 'AuthorizationPolicy'));
  const partial = {
    options,
    objectCount: objects.length,
    namespaces: sortedUnique(objects.filter(o => o.kind !== 'Namespace' && group(o) !== 'apiextensions.k8s.io').map(ns)),
    services: [...services.values()].sort(byKey),
    workloads: unserved.sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1)),
    routeTables,
    gateways: [...gateways.values()].map(g => ({ ...g, objects: sortedUnique(g.objects), servers: sortedUnique(g.servers) })).sort(byKey),
    exposures: [...exposures.values()].sort((a, b) => ([a.gateway, a.host, a.target].join(' ') < [b.gateway, b.host, b.target].join(' ') ? -1 : 1)),
    externals: [...externals.values()].sort(byKey),
    identities: [...identities.values()].map(i => ({ ...i, nodes: sortedUnique(i.nodes) })).sort(byKey),
    egressModes,
    policies: policies.map(ref).sort(),
  };
  return { ...partial, allowances: allowances(partial, objects) };
}

/** @internal The node key of a gateway deployment. */
export function gatewayKey(info: GatewayInfo): string {
  return `gw:${info.namespace}/${info.serviceName ?? info.serviceAccountName}`;
}

/** @internal What a gateway deployment is, by its name: `egress` or `ingress`. */
export function gatewayRole(info: GatewayInfo): string {
  return /egress/.test(info.serviceName ?? info.serviceAccountName) ? 'egress' : 'ingress';
}

/** The RequestMirror filters of a Gateway API rule, as backends carrying their percentage. */
function mirrorBackends(rule: any): any[] {
  return (rule.filters ?? []).filter((f: any) => f.type === 'RequestMirror' && f.requestMirror?.backendRef)
    .map((f: any) => ({
      ...f.requestMirror.backendRef,
      _percent: f.requestMirror.percent
        ?? (f.requestMirror.fraction ? (100 * f.requestMirror.fraction.numerator) / (f.requestMirror.fraction.denominator ?? 100) : 100),
    }));
}

/**
 * The ServiceAccount Istio's deployment controller gives a Gateway API Gateway: the annotation's, else `<name>-<class>`,
 * or the name alone for waypoints (their class turns the suffix off).
 */
function gatewayServiceAccount(g: any, cls: string): string {
  const name = g.metadata.name;
  return g.metadata?.annotations?.['gateway.istio.io/service-account'] ?? (cls === 'istio-waypoint' ? name : `${name}-${cls}`);
}
