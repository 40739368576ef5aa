// VirtualService analyzers: destinations, subsets, gateways, host conflicts, rule reachability, JWT claim routes and
// match regular expressions.
import { Analyzer, AnalyzerContext } from './_analyzer';
import { MeshService, ServiceRegistry, exportScopes, hostSubsetOf, hostsMatch, serviceOfHost, toFqdn } from './_hosts';
import { KIND, Resource, Workload, entries, list, selects, stringMap } from './_resource';

const MESH = 'mesh';
const JWT_CLAIM_HEADER = '@request.auth.claims';

/** A destination of a VirtualService and where it sits. */
interface Destination {
  /** `http`, `tcp`, `tls`, `http.mirror` or `http.mirrors`. */
  readonly rule: string;
  readonly ruleIndex: number;
  readonly index: number;
  readonly destination: any;
}

function routeDestinations(spec: any): Destination[] {
  const out: Destination[] = [];
  for (const rule of ['tcp', 'tls', 'http']) {
    entries(spec[rule]).forEach((r: any, i: number) => {
      entries(r?.route).forEach((d: any, j: number) => out.push({ rule, ruleIndex: i, index: j, destination: d?.destination ?? {} }));
    });
  }
  return out;
}

function mirrorDestinations(spec: any): Destination[] {
  const out: Destination[] = [];
  entries(spec.http).forEach((r: any, i: number) => {
    if (r?.mirror) out.push({ rule: 'http.mirror', ruleIndex: i, index: 0, destination: r.mirror });
    entries(r?.mirrors).forEach((m: any, j: number) => out.push({ rule: 'http.mirrors', ruleIndex: i, index: j, destination: m?.destination ?? {} }));
  });
  return out;
}

function where(d: Destination): string {
  if (d.rule === 'http.mirror') return `the mirror of http rule #${d.ruleIndex}`;
  if (d.rule === 'http.mirrors') return `mirror #${d.index} of http rule #${d.ruleIndex}`;
  return `destination #${d.index} of ${d.rule} rule #${d.ruleIndex}`;
}

function isMirror(d: Destination): boolean {
  return d.rule.startsWith('http.mirror');
}

function vsGateways(spec: any): string[] {
  return list(spec.gateways).map(String);
}

function attachedToMesh(spec: any): boolean {
  const gateways = vsGateways(spec);
  return gateways.length === 0 || gateways.includes(MESH);
}

/** `ns/name` or `name` (in the VirtualService's namespace) to a gateway's namespace and name. */
export function gatewayRef(vsNamespace: string, ref: string): { namespace: string; name: string } {
  const slash = ref.indexOf('/');
  return slash >= 0 ? { namespace: ref.slice(0, slash), name: ref.slice(slash + 1) } : { namespace: vsNamespace, name: ref };
}

/** IST0109: VirtualServices of the mesh gateway that claim the same host for overlapping namespaces. */
export const conflictingMeshGatewayHostsAnalyzer: Analyzer = {
  name: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  description: 'Checks that VirtualServices of the mesh gateway do not define the same host',
  analyze(ctx: AnalyzerContext) {
    // Each host of a mesh VirtualService, under each namespace it is exported to ('*' for all).
    const scoped = new Map<string, { scope: string; fqdn: string; services: Resource[] }>();
    const everywhere = new Map<string, Resource[]>();
    const everywhereWildcards: { fqdn: string; services: Resource[] }[] = [];
    for (const vs of ctx.index.of(KIND.VirtualService)) {
      if (!attachedToMesh(vs.spec)) continue;
      for (const scope of exportScopes(list(vs.spec.exportTo).map(String), vs.namespace)) {
        for (const host of new Set(list(vs.spec.hosts).map(String))) {
          const fqdn = toFqdn(vs.namespace, host);
          const key = `${scope}/${fqdn}`;
          let entry = scoped.get(key);
          if (!entry) {
            entry = { scope, fqdn, services: [] };
            scoped.set(key, entry);
            if (scope === '*') {
              everywhere.set(fqdn, entry.services);
              if (fqdn.startsWith('*')) everywhereWildcards.push({ fqdn, services: entry.services });
            }
          }
          entry.services.push(vs);
        }
      }
    }
    const reported = new Set<Resource>();
    for (const { scope, fqdn, services } of scoped.values()) {
      let rivals = services;
      if (scope !== '*') {
        // A host exported to some namespaces also conflicts with the same host exported to all.
        const global = new Set<Resource>(everywhere.get(fqdn) ?? []);
        for (const w of everywhereWildcards) if (hostsMatch(fqdn, w.fqdn)) w.services.forEach(s => global.add(s));
        if (fqdn.startsWith('*')) {
          for (const [other, services2] of everywhere) if (hostsMatch(fqdn, other)) services2.forEach(s => global.add(s));
        }
        rivals = [...services, ...global];
      }
      const distinct = [...new Set(rivals)];
      if (distinct.length < 2) continue;
      const all = distinct.map(vs => vs.fullName).join(',');
      for (const vs of distinct) {
        if (reported.has(vs)) continue;
        reported.add(vs);
        ctx.report('ConflictingMeshGatewayVirtualServiceHosts', vs,
          `The VirtualServices ${all} associated with mesh gateway define the same host ${scope}/${fqdn}, which can lead to `
          + 'undefined behavior: merge them into a single VirtualService, or narrow their hosts or exportTo');
      }
    }
  },
};

/** IST0101, IST0112, IST0140: destination hosts and ports that do not resolve; subsets that gateways bypass. */
export const destinationHostAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationHostAnalyzer',
  description: 'Checks the destination hosts and ports of each VirtualService',
  analyze(ctx: AnalyzerContext) {
    const virtualServices = ctx.index.of(KIND.VirtualService);
    const checkHosts = ctx.has(KIND.Service, KIND.ServiceEntry);
    if (!checkHosts && virtualServices.length > 0) {
      ctx.limit('no Service or ServiceEntry in the manifests: destination hosts and ports not checked');
    }
    const registry = checkHosts ? ServiceRegistry.of(ctx.index) : undefined;
    const subsetRoutesByHost = subsetHostsOf(virtualServices);
    let foreign = 0;

    for (const vs of virtualServices) {
      const spec = vs.spec;
      const exportTo = list(spec.exportTo).map(String);
      if (registry) {
        for (const d of [...routeDestinations(spec), ...mirrorDestinations(spec)]) {
          const host = typeof d.destination.host === 'string' ? d.destination.host : '';
          const service = registry.lookup(vs.namespace, exportTo, host);
          if (!service) {
            const target = serviceOfHost(vs.namespace, host);
            if (target && ctx.foreign(target.namespace)) {
              foreign++;
              continue;
            }
            const visible = exportTo.length ? `the namespaces it is exported to (${exportTo.join(', ')})` : `namespace ${vs.namespace || '(default)'}`;
            ctx.report('ReferencedResourceNotFound', vs,
              `Referenced ${isMirror(d) ? 'mirror host' : 'host'} not found: "${host}" (${where(d)}): `
              + (host === '' ? 'the destination has no host; set one'
                : `no Service or ServiceEntry visible from ${visible} has this host; fix the host or define the service`));
            continue;
          }
          checkPort(ctx, vs, d, host, service);
        }
      }
      // Subsets chosen by a mesh VirtualService do not apply to traffic a gateway route sends to the bare host. Istio
      // checks every VirtualService that names gateways, `mesh` alone included.
      if (vsGateways(spec).length === 0) continue;
      entries(spec.http).forEach((rule: any, i: number) => {
        entries(rule?.route).forEach((route: any) => {
          const d = route?.destination;
          if (!d || d.subset || typeof d.host !== 'string') return;
          for (const other of subsetRoutesByHost.get(d.host) ?? []) {
            ctx.report('IngressRouteRulesNotAffected', vs,
              `Subset in virtual service ${other.fullName} has no effect on ingress gateway ${vs.fullName} requests: http rule #${i} `
              + `routes to ${d.host} without a subset, so gateway traffic skips those subsets; name the subset in this route too`);
          }
        });
      });
    }
    if (foreign > 0) ctx.limit(`${foreign} destination${foreign > 1 ? 's' : ''} in namespaces the manifests do not hold not checked`);
  },
};

function checkPort(ctx: AnalyzerContext, vs: Resource, d: Destination, host: string, service: MeshService): void {
  const port = d.destination.port?.number;
  if (port === undefined || port === null) {
    if (service.ports.length > 1) {
      const ports = service.ports.map(p => p.number);
      ctx.report('VirtualServiceDestinationPortSelectorRequired', vs,
        `This VirtualService routes to a service "${host}" that exposes multiple ports [${ports.join(' ')}] (${where(d)}). `
        + 'Specifying a port in the destination is required to disambiguate');
    }
    return;
  }
  if (!service.ports.some(p => p.number === Number(port))) {
    ctx.report('ReferencedResourceNotFound', vs,
      `Referenced host:port not found: "${host}:${port}" (${where(d)}): ${service.resource.display} exposes `
      + `${service.ports.length ? `port${service.ports.length > 1 ? 's' : ''} ${service.ports.map(p => p.number).join(', ')}` : 'no ports'}`);
  }
}

/** VirtualServices by each of their hosts that they route to a subset of. */
function subsetHostsOf(virtualServices: Resource[]): Map<string, Resource[]> {
  const out = new Map<string, Resource[]>();
  for (const vs of virtualServices) {
    const hosts = new Set(list(vs.spec.hosts).map(String));
    for (const rule of entries(vs.spec.http)) {
      for (const route of entries(rule?.route)) {
        const d = route?.destination;
        if (!d?.subset || !hosts.has(d.host)) continue;
        const found = out.get(d.host);
        if (!found) out.set(d.host, [vs]);
        else found.push(vs);
      }
    }
  }
  return out;
}

/** The subsets DestinationRules define, by host, with who may see them. */
class SubsetCatalog {
  private readonly exact = new Map<string, { scopes: string[]; subsets: string[] }[]>();
  private readonly wildcard: { host: string; scopes: string[]; subsets: string[] }[] = [];

  constructor(destinationRules: Resource[]) {
    for (const dr of destinationRules) {
      const host = typeof dr.spec.host === 'string' ? dr.spec.host : '';
      if (!host) continue;
      const fqdn = toFqdn(dr.namespace, host);
      const entry = {
        scopes: exportScopes(list(dr.spec.exportTo).map(String), dr.namespace),
        subsets: list(dr.spec.subsets).map((s: any) => String(s?.name ?? '')),
      };
      if (fqdn.startsWith('*')) this.wildcard.push({ host: fqdn, ...entry });
      const found = this.exact.get(fqdn);
      if (found) found.push(entry);
      else this.exact.set(fqdn, [entry]);
    }
  }

  /** The subsets of a host visible from a namespace. */
  public subsets(namespace: string, host: string): Set<string> {
    const fqdn = toFqdn(namespace, host);
    const visible = (scopes: string[]) => scopes.includes('*') || scopes.includes(namespace);
    const out = new Set<string>();
    for (const e of this.exact.get(fqdn) ?? []) if (visible(e.scopes)) e.subsets.forEach(s => out.add(s));
    for (const w of this.wildcard) if (visible(w.scopes) && hostSubsetOf(fqdn, w.host)) w.subsets.forEach(s => out.add(s));
    return out;
  }
}

/** IST0101: subsets that no DestinationRule defines. */
export const destinationRuleAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationRuleAnalyzer',
  description: 'Checks that the subsets VirtualServices route to are defined by DestinationRules',
  analyze(ctx: AnalyzerContext) {
    const catalog = new SubsetCatalog(ctx.index.of(KIND.DestinationRule));
    const checkable = ctx.has(KIND.DestinationRule);
    let unchecked = 0;
    for (const vs of ctx.index.of(KIND.VirtualService)) {
      for (const d of [...routeDestinations(vs.spec), ...mirrorDestinations(vs.spec)]) {
        const subset = d.destination.subset;
        if (typeof subset !== 'string' || subset === '') continue;
        if (!checkable) {
          unchecked++;
          continue;
        }
        const host = typeof d.destination.host === 'string' ? d.destination.host : '';
        const known = catalog.subsets(vs.namespace, host);
        if (known.has(subset)) continue;
        const target = serviceOfHost(vs.namespace, host);
        if (known.size === 0 && target && ctx.foreign(target.namespace)) {
          unchecked++;
          continue;
        }
        ctx.report('ReferencedResourceNotFound', vs,
          `Referenced ${isMirror(d) ? 'mirror+subset' : 'host+subset'} not found: "${host}+${subset}" (${where(d)}): `
          + (known.size
            ? `the DestinationRules for ${toFqdn(vs.namespace, host)} define subsets ${[...known].sort().join(', ')}; fix the subset name or add it`
            : `no DestinationRule visible from namespace ${vs.namespace || '(default)'} defines subsets for ${toFqdn(vs.namespace, host)}; add one`));
      }
    }
    if (unchecked > 0 && !checkable) {
      ctx.skip(`no DestinationRule in the manifests: ${unchecked} subset reference${unchecked > 1 ? 's' : ''} not checked`);
    } else if (unchecked > 0) {
      ctx.limit(`${unchecked} subset reference${unchecked > 1 ? 's' : ''} to services in namespaces the manifests do not hold not checked`);
    }
  },
};

/** IST0101, IST0132: gateways that do not exist, and hosts their servers do not serve. */
export const gatewayAnalyzer: Analyzer = {
  name: 'virtualservice.GatewayAnalyzer',
  description: 'Checks the gateways each VirtualService binds to, and that they serve its hosts',
  analyze(ctx: AnalyzerContext) {
    const checkable = ctx.has(KIND.Gateway);
    let unchecked = 0;
    for (const vs of ctx.index.of(KIND.VirtualService)) {
      const vsHosts = list(vs.spec.hosts).map(String);
      for (const ref of vsGateways(vs.spec)) {
        if (ref === MESH) continue;
        if (!checkable) {
          unchecked++;
          continue;
        }
        const { namespace, name } = gatewayRef(vs.namespace, ref);
        const gateway = ctx.index.get(KIND.Gateway, namespace, name);
        if (!gateway && ctx.foreign(namespace)) {
          unchecked++;
          continue;
        }
        if (!gateway) {
          ctx.report('ReferencedResourceNotFound', vs,
            `Referenced gateway not found: "${ref}": no Gateway ${namespace ? `${namespace}/` : ''}${name} exists; fix the reference `
            + '(namespace/name for a gateway in another namespace) or define the Gateway');
        }
        const served = gateway ? gatewayHostsFor(gateway, vs.namespace) : [];
        if (!served.some(g => vsHosts.some(h => hostsMatch(g, h)))) {
          const fullName = namespace ? `${namespace}/${name}` : name;
          ctx.report('VirtualServiceHostNotFoundInGateway', vs,
            `one or more host [${vsHosts.join(' ')}] defined in VirtualService ${vs.fullName} not found in Gateway ${fullName}: `
            + `${gateway ? `its servers serve ${served.length ? served.join(', ') : 'no hosts'} to namespace ${vs.namespace || '(default)'}` : 'it does not exist'}; `
            + 'add the host to a server of the Gateway or bind the VirtualService to a gateway that serves it');
        }
      }
    }
    if (unchecked > 0 && !checkable) ctx.skip(`no Gateway in the manifests: ${unchecked} gateway reference${unchecked > 1 ? 's' : ''} not checked`);
    else if (unchecked > 0) ctx.limit(`${unchecked} gateway reference${unchecked > 1 ? 's' : ''} into namespaces the manifests do not hold not checked`);
  },
};

/** The hosts a Gateway's servers offer to VirtualServices of a namespace. */
function gatewayHostsFor(gateway: Resource, vsNamespace: string): string[] {
  const out: string[] = [];
  for (const server of list(gateway.spec.servers)) {
    let hosts = list(server.hosts).map(String);
    if (hosts.includes('*/*')) hosts = ['*'];
    for (const h of hosts) {
      const slash = h.indexOf('/');
      if (slash < 0) {
        out.push(h);
        continue;
      }
      const ns = h.slice(0, slash);
      const host = h.slice(slash + 1);
      if (ns === '*' || ns === vsNamespace || (ns === '.' && gateway.namespace === vsNamespace)) out.push(host);
    }
  }
  return out;
}

/** IST0149: routes on JWT claims at gateways whose pods no RequestAuthentication covers. */
export const jwtClaimRouteAnalyzer: Analyzer = {
  name: 'virtualservice.JWTClaimRouteAnalyzer',
  description: 'Checks that VirtualServices routing on JWT claims have a RequestAuthentication on their gateways',
  analyze(ctx: AnalyzerContext) {
    const root = ctx.mesh.rootNamespace;
    const requestAuthns = ctx.index.of(KIND.RequestAuthentication);
    const authenticated = (w: Workload) => requestAuthns.some(ra => {
      if (ra.namespace !== root && ra.namespace !== w.namespace) return false;
      const refs = [ra.spec.targetRef, ...list(ra.spec.targetRefs)].filter(Boolean);
      if (refs.length > 0) {
        return refs.some((t: any) => t.kind === 'Gateway' && ra.namespace === w.namespace
          && w.labels['gateway.networking.k8s.io/gateway-name'] === t.name);
      }
      return selects(ra.spec.selector?.matchLabels, w.labels);
    });
    for (const vs of ctx.index.of(KIND.VirtualService)) {
      const key = jwtClaimKey(vs.spec);
      if (!key) continue;
      for (const ref of vsGateways(vs.spec)) {
        if (ref === MESH) continue;
        const { namespace, name } = gatewayRef(vs.namespace, ref);
        const gateway = ctx.index.get(KIND.Gateway, namespace, name);
        if (!gateway) continue;
        for (const pod of ctx.index.workloads.select(stringMap(gateway.spec.selector))) {
          if (authenticated(pod)) continue;
          ctx.report('JwtClaimBasedRoutingWithoutRequestAuthN', vs,
            `The virtual service uses the JWT claim based routing (key: ${key}) but found no request authentication for the gateway `
            + `(${gateway.fullName}) pod (${pod.resource.name}): apply a RequestAuthentication to the gateway pods so the JWT is `
            + 'validated and its claims are available for routing');
        }
      }
    }
  },
};

function jwtClaimKey(spec: any): string | undefined {
  for (const rule of list(spec.http)) {
    for (const match of list(rule.match)) {
      for (const key of [...Object.keys(match.headers ?? {}), ...Object.keys(match.withoutHeaders ?? {})]) {
        if (key.startsWith(JWT_CLAIM_HEADER)) return key;
      }
    }
  }
  return undefined;
}

/** IST0130, IST0131: rules no request reaches and matches that an earlier match already takes. */
export const routeRuleAnalyzer: Analyzer = {
  name: 'schemaValidation.VirtualService',
  description: 'Checks VirtualService rules for unreachable rules and duplicate or overlapping matches',
  analyze(ctx: AnalyzerContext) {
    for (const vs of ctx.index.of(KIND.VirtualService)) {
      const unreachable = (rule: string, reason: string) => ctx.report('VirtualServiceUnreachableRule', vs,
        `VirtualService rule ${rule} not used (${reason}): reorder the rules so that more specific matches come first, or remove it`);
      const ineffective = (rule: string, match: string, dup: string) => ctx.report('VirtualServiceIneffectiveMatch', vs,
        `VirtualService rule ${rule} match ${match} is not used (duplicate/overlapping match in rule ${dup}): remove it or move it before that rule`);
      analyzeRules(entries(vs.spec.http), true, unreachable, ineffective);
      analyzeRules(entries(vs.spec.tcp), false, unreachable, ineffective);
      analyzeRules(entries(vs.spec.tls), false, unreachable, ineffective);
    }
  },
};

interface PrefixMatch {
  readonly rule: string;
  readonly match: string;
  readonly prefix: string;
  readonly port: number;
  readonly method: string;
  readonly authority: string;
  readonly headers: { [key: string]: string };
  readonly queryParams: { [key: string]: string };
  readonly withoutHeaders: { [key: string]: string };
}

function analyzeRules(routes: any[], http: boolean,
  unreachable: (rule: string, reason: string) => void, ineffective: (rule: string, match: string, dup: string) => void): void {
  const seen = new Map<string, number>();
  let catchAll = -1;
  const prefixMatches: PrefixMatch[] = [];
  const ruleName = (r: any, i: number) => (http && r?.name ? `"${r.name}"` : `#${i}`);
  const matchName = (m: any, i: number) => (http && m?.name ? `"${m.name}"` : `#${i}`);
  routes.forEach((route, i) => {
    if (!route) return;
    const matches = entries(route.match);
    if (matches.length === 0) {
      if (catchAll >= 0) unreachable(ruleName(route, i), 'only the last rule can have no matches');
      catchAll = i;
      return;
    }
    let duplicates = 0;
    matches.forEach((match, j) => {
      if (catchAll >= 0) {
        unreachable(ruleName(route, i), 'route without matches defined before');
        return;
      }
      const key = canonical(http && match ? { ...match, name: undefined } : match);
      const dup = seen.get(key);
      if (dup !== undefined) {
        ineffective(ruleName(route, i), matchName(match, j), ruleName(routes[dup], dup));
        duplicates++;
        return;
      }
      seen.set(key, i);
      const prefix = http ? prefixMatchOf(match, ruleName(route, i), matchName(match, j)) : undefined;
      if (prefix) prefixMatches.push(prefix);
    });
    if (duplicates === matches.length) unreachable(ruleName(route, i), 'all matches used by prior rules');
  });
  for (let a = 0; a < prefixMatches.length; a++) {
    for (let b = a + 1; b < prefixMatches.length; b++) {
      const earlier = prefixMatches[a];
      const later = prefixMatches[b];
      if (later.prefix === earlier.prefix || !covers(earlier, later)) continue;
      ineffective(later.rule, `${later.match} of prefix ${later.prefix}`, `${earlier.match} of prefix ${earlier.prefix} on ${earlier.rule}`);
    }
  }
}

function exactOrPrefix(m: any): string {
  if (m?.exact) return `exact:${m.exact}`;
  if (m?.prefix) return `prefix:${m.prefix}`;
  return '';
}

function stringMatches(value: any): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(value ?? {})) out[k] = exactOrPrefix(v);
  return out;
}

function prefixMatchOf(match: any, rule: string, name: string): PrefixMatch | undefined {
  const prefix = match?.uri?.prefix;
  if (typeof prefix !== 'string' || prefix === '') return undefined;
  return {
    rule,
    match: name,
    prefix,
    port: Number(match.port ?? 0),
    method: exactOrPrefix(match.method) || 'exact:GET',
    authority: exactOrPrefix(match.authority),
    headers: stringMatches(match.headers),
    queryParams: stringMatches(match.queryParams),
    withoutHeaders: stringMatches(match.withoutHeaders),
  };
}

/** Whether every request the later prefix match takes is already taken by the earlier one. */
function covers(a: PrefixMatch, b: PrefixMatch): boolean {
  if (!b.prefix.startsWith(a.prefix) || a.port !== b.port) return false;
  const narrower = (x: string, y: string) => x === y || x.startsWith(y);
  if (!narrower(a.method, b.method) || !narrower(a.authority, b.authority)) return false;
  for (const field of ['headers', 'queryParams', 'withoutHeaders'] as const) {
    const x = a[field];
    const y = b[field];
    if (Object.keys(x).length !== Object.keys(y).length) return false;
    for (const [k, v] of Object.entries(x)) {
      if (!(k in y) || !narrower(v, y[k])) return false;
    }
  }
  return true;
}

/** JSON with sorted keys and without undefined fields: equal matches serialize equally. */
export function canonical(value: any): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value).filter(k => value[k] !== undefined).sort();
  return `{${keys.map(k => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
}

/** CIS0002: regular expressions Envoy's RE2 rejects. */
export const regexAnalyzer: Analyzer = {
  name: 'cdk8s-istio.RegexAnalyzer',
  description: 'Checks that regular expressions in VirtualService matches and CORS origins are valid RE2',
  analyze(ctx: AnalyzerContext) {
    for (const vs of ctx.index.of(KIND.VirtualService)) {
      entries(vs.spec.http).forEach((rule: any, i: number) => {
        entries(rule?.match).forEach((match: any, j: number) => {
          const at = `http[${i}].match[${j}]`;
          for (const field of ['uri', 'scheme', 'method', 'authority']) checkRegex(ctx, vs, `${at}.${field}`, match?.[field]?.regex);
          for (const field of ['headers', 'queryParams', 'withoutHeaders']) {
            for (const [k, v] of Object.entries(match?.[field] ?? {})) checkRegex(ctx, vs, `${at}.${field}.${k}`, (v as any)?.regex);
          }
        });
        entries(rule?.corsPolicy?.allowOrigins).forEach((o: any, j: number) => checkRegex(ctx, vs, `http[${i}].corsPolicy.allowOrigins[${j}]`, o?.regex));
      });
    }
  },
};

function checkRegex(ctx: AnalyzerContext, vs: Resource, field: string, regex: unknown): void {
  if (regex === undefined || regex === null) return;
  const problem = re2Problem(String(regex));
  if (problem) {
    ctx.report('InvalidMatchRegexp', vs,
      `Field ${field} regular expression invalid: "${regex}" (${problem}); Envoy matches with RE2, see https://github.com/google/re2/wiki/Syntax`);
  }
}

/** Why a pattern is not valid RE2, or undefined when it is. */
export function re2Problem(pattern: string): string | undefined {
  if (pattern === '') return 'empty pattern';
  // The syntax checks read the pattern without escapes and character classes, where those characters are literal.
  const bare = pattern.replace(/\\./g, 'x').replace(/\[\^?\]?(\\.|[^\]])*\]/g, 'x');
  if (/\(\?<?[=!]/.test(bare)) return 'lookaround assertions are not supported by RE2';
  if (/\(\?>/.test(bare)) return 'atomic groups are not supported by RE2';
  // RE2 reads \1 to \7 followed by an octal digit as an octal code, and refuses them alone (a backreference), and \8, \9.
  for (const m of pattern.matchAll(/\\(.)(?=(.?))/g)) {
    if (/[89]/.test(m[1]) || (/[1-7]/.test(m[1]) && !/[0-7]/.test(m[2]))) return 'backreferences are not supported by RE2';
  }
  if (/\\k</.test(pattern)) return 'named backreferences are not supported by RE2';
  if (/[*+?}]\+/.test(bare)) return 'possessive quantifiers are not supported by RE2';
  // RE2 syntax JavaScript lacks, rewritten to an equivalent before JavaScript checks the rest.
  const js = pattern
    .replace(/\\Q(.*?)(\\E|$)/g, (_m, lit: string) => lit.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .replace(/\(\?P</g, '(?<')
    .replace(/\(\?[imsU-]+\)/g, '')
    .replace(/\(\?[imsU-]+:/g, '(?:')
    .replace(/\\z/g, '$')
    .replace(/\\A/g, '^')
    .replace(/\[\[:[a-z]+:\]\]/g, '.');
  try {
    new RegExp(js);
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^Invalid regular expression: /, '');
  }
}
