// Who may call whom: for every known caller and every service (and every external host reached through an egress
// gateway or waypoint), whether Istio would admit some request, and which.
//
// Services are decided by the AuthorizationEvaluator, on probe requests: one per alternative of every ALLOW rule
// that could apply (its methods, paths, ports, hosts, JWT and conditions made concrete), plus a plain GET. A probe
// the evaluator allows under the rule's own policy means the caller may make the requests the alternative
// describes; DENY alternatives are probed on top of each allowed one to find the exceptions.
//
// External hosts behind an egress gateway are admitted by rules on `connection.sni` or the host, which the
// evaluator does not read; they are matched here, on the caller's identity and the host.
import { MeshModel, ModelAllowance, gatewayKey, selects, sortedUnique } from './_mesh-model';
import { boundWaypoint } from '../ambient/_waypoint-binding';
import { DataplaneMode } from '../mesh/mesh';
import { ServiceIdentity } from '../mesh/service-identity';
import { HTTP_METHODS, matchPath, matchString } from '../security/_match';
import { AuthorizationEvaluator, AuthorizationRequest, Caller, JwtToken } from '../security/authorization-evaluator';

/** The node key of "any caller": a client without a mesh identity. */
export const ANY_CALLER = 'any';

/** @internal Evaluation settings beyond the model's options. */
export interface WhoMayCallSettings {
  readonly dataplaneMode?: DataplaneMode;
}

interface CallerInfo {
  readonly key: string;
  readonly principal?: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
}

/** A request shape for the evaluator, and how a reader would say it. */
interface Probe {
  readonly conditions: string[];
  readonly request: Omit<AuthorizationRequest, 'source' | 'destination'>;
  /** The policy whose rule this alternative is, `namespace/name`. */
  readonly policy: string;
  /** The rule's operation: which requests the alternative covers. */
  readonly operation: any;
}

/** A JWT rule of a RequestAuthentication: the issuer and audiences a probe's token needs to be accepted. */
interface JwtIssuer {
  readonly issuer: string;
  readonly audiences?: string[];
}

const ref = (p: any) => `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name}`;
const describe = (conditions: string[]) => conditions.join(' ');
const join = (values: string[], separator = ', ') => values.join(separator);

/** A value a pattern (`*`, `abc*`, `*abc`, exact) matches. */
function example(pattern: string, fill = 'x'): string {
  if (pattern === '*') return fill;
  if (pattern.endsWith('*')) return pattern.slice(0, -1) || fill;
  if (pattern.startsWith('*')) return `${fill}${pattern.slice(1)}`;
  return pattern;
}

/** A path a pattern matches, URI templates included. */
function examplePath(pattern: string): string {
  const filled = pattern.replace(/\{\*\*\}|\{\*\}/g, 'x');
  return filled === '*' ? '/' : example(filled, '/x');
}

/** A token a RequestAuthentication accepts, for a request principal pattern (`iss/sub`, `iss/*`, `*`). */
function tokenFor(pattern: string, issuers: JwtIssuer[]): JwtToken {
  const slash = pattern.lastIndexOf('/');
  const issuer = pattern === '*' || slash < 0 ? undefined : pattern.slice(0, slash);
  const known = issuers.find(i => issuer === undefined || i.issuer === issuer);
  return {
    issuer: issuer ?? known?.issuer ?? 'x',
    subject: slash < 0 ? 'x' : example(pattern.slice(slash + 1)),
    ...(known?.audiences ? { audiences: [...known.audiences] } : {}),
  };
}

/** `without a JWT of <issuer>` for issuer-wide principals (`<issuer>/*`, as requireJwt writes them). */
function withoutTokenOf(principals: string[]): string {
  const issuers = principals.filter(p => p.endsWith('/*') && p.length > 2).map(p => p.slice(0, -2));
  return issuers.length === principals.length ? `without a JWT of ${join(issuers)}` : `JWT not ${join(principals)}`;
}

/** What a source asks beyond the caller's identity, for a reader and for a probe. */
function sourceParts(source: any, issuers: JwtIssuer[] = []): { conditions: string[]; jwt?: JwtToken; ip?: string } {
  const conditions: string[] = [];
  let jwt: JwtToken | undefined;
  let ip: string | undefined;
  if (source.requestPrincipals) {
    conditions.push(source.requestPrincipals.includes('*') ? 'with a JWT' : `JWT ${join(source.requestPrincipals)}`);
    jwt = tokenFor(source.requestPrincipals[0], issuers);
  }
  if (source.notRequestPrincipals) {
    conditions.push(source.notRequestPrincipals.includes('*') ? 'without a JWT' : withoutTokenOf(source.notRequestPrincipals));
  }
  for (const [field, label] of [['ipBlocks', 'source IP'], ['remoteIpBlocks', 'remote IP']]) {
    if (source[field]) {
      conditions.push(`${label} ${join(source[field])}`);
      ip = String(source[field][0]).split('/')[0];
    }
  }
  for (const [field, label] of [['notIpBlocks', 'source IP not'], ['notRemoteIpBlocks', 'remote IP not']]) {
    if (source[field]) conditions.push(`${label} ${join(source[field])}`);
  }
  return { conditions, jwt, ip };
}

/** An operation's conditions, except those on `hosts` when `ownHosts` are the target's (they decide, not describe). */
function operationConditions(op: any, describeHosts: boolean): string[] {
  const conditions: string[] = [];
  if (describeHosts && op.hosts) conditions.push(`host ${join(op.hosts)}`);
  if (describeHosts && op.notHosts) conditions.push(`host not ${join(op.notHosts)}`);
  if (op.methods) conditions.push(op.methods.join(','));
  if (op.notMethods) conditions.push(`not ${op.notMethods.join(',')}`);
  if (op.paths) conditions.push(join(op.paths));
  if (op.notPaths) conditions.push(`path not ${join(op.notPaths)}`);
  if (op.ports) conditions.push(`port ${op.ports.join(',')}`);
  if (op.notPorts) conditions.push(`port not ${op.notPorts.join(',')}`);
  return conditions;
}

function whenCondition(w: any): string {
  const claim = /^request\.auth\.claims\[(.+)\]$/.exec(w.key);
  const header = /^request\.headers\[(.+)\]$/.exec(w.key);
  const key = claim ? `claim ${claim[1].split('][').join('.')}` : header ? `header ${header[1]}` : w.key;
  return [w.values ? `${key} in ${join(w.values)}` : '', w.notValues ? `${key} not in ${join(w.notValues)}` : ''].filter(x => x).join(' ');
}

/** Whether an operation covers a request: the request is one the alternative allows (or denies). */
function covers(op: any, request: any): boolean {
  const method = request.method ?? 'GET';
  const path = request.path ?? '/';
  const port = request.port === undefined ? undefined : String(request.port);
  return (!op.methods || op.methods.some((m: string) => matchString(m, method)))
    && !(op.notMethods ?? []).some((m: string) => matchString(m, method))
    && (!op.paths || op.paths.some((p: string) => matchPath(p, path)))
    && !(op.notPaths ?? []).some((p: string) => matchPath(p, path))
    && (!op.ports || port === undefined || op.ports.map(String).includes(port))
    && !(port !== undefined && (op.notPorts ?? []).map(String).includes(port));
}

/** The probes of one rule: one per combination of its sources and operations. */
function ruleProbes(policy: any, rule: any, issuers: JwtIssuer[]): Probe[] {
  const sources = (rule.from ?? [{}]).map((f: any) => sourceParts(f.source ?? {}, issuers));
  const operations: any[] = (rule.to ?? [{}]).map((t: any) => t.operation ?? {});
  const when: any[] = rule.when ?? [];
  const headers: { [name: string]: string } = {};
  const claims: { [name: string]: any } = {};
  let port: number | undefined;
  let ip: string | undefined;
  for (const w of when) {
    const value = w.values?.[0] !== undefined ? example(String(w.values[0])) : undefined;
    if (value === undefined) continue;
    const header = /^request\.headers\[(.+)\]$/.exec(w.key);
    const claim = /^request\.auth\.claims\[(.+)\]$/.exec(w.key);
    if (header) headers[header[1]] = value;
    else if (claim) claims[claim[1].split('][')[0]] = value;
    else if (w.key === 'destination.port') port = Number(value);
    else if (w.key === 'source.ip' || w.key === 'remote.ip') ip = value.split('/')[0];
  }
  const probes: Probe[] = [];
  for (const s of sources) {
    for (const op of operations) {
      const method = op.methods ? example(op.methods[0], 'GET') : HTTP_METHODS.find(m => !(op.notMethods ?? []).includes(m))!;
      const notPath = (p: string) => (op.notPaths ?? []).some((n: string) => matchString(n, p));
      const path = op.paths ? examplePath(op.paths[0]) : ['/', '/x', '/healthz'].find(p => !notPath(p)) ?? '/';
      const jwt = s.jwt ?? (Object.keys(claims).length ? tokenFor('*', issuers) : undefined);
      probes.push({
        policy: ref(policy),
        operation: op,
        conditions: [...operationConditions(op, true), ...s.conditions, ...when.map(whenCondition)],
        request: {
          method,
          path,
          ...(op.ports ? { port: Number(op.ports[0]) } : port !== undefined ? { port } : {}),
          ...(op.hosts ? { host: example(op.hosts[0], 'x.example') } : {}),
          ...(Object.keys(headers).length ? { headers } : {}),
          ...(jwt ? { jwt: { ...jwt, claims: { ...(jwt.claims ?? {}), ...claims } } } : {}),
          ...(s.ip ?? ip ? { _ip: s.ip ?? ip } : {}),
        } as any,
      });
    }
  }
  return probes;
}

/** A caller for the evaluator, with the probe's source IP. */
function evaluatorCaller(caller: CallerInfo, ip: string | undefined): Caller {
  const options = ip ? { ip } : {};
  return caller.principal ? Caller.principal(caller.principal, options) : Caller.plaintext(options);
}

/**
 * Merges a DENY probe into an allowed one: the request the allowed rule admits, with what the DENY rule refuses (its
 * method and path when its operation names them, GET and / included).
 */
function merge(a: Probe['request'], deny: Probe): Probe['request'] {
  const dd = deny.request as any;
  const aa = a as any;
  const op = deny.operation ?? {};
  return {
    ...aa,
    ...(dd.method && (op.methods?.length || dd.method !== 'GET') ? { method: dd.method } : {}),
    ...(dd.path && (op.paths?.length || dd.path !== '/') ? { path: dd.path } : {}),
    ...(dd.port !== undefined ? { port: dd.port } : {}),
    ...(dd.host ? { host: dd.host } : {}),
    ...(dd.headers ? { headers: { ...aa.headers, ...dd.headers } } : {}),
    ...(dd.jwt ? { jwt: dd.jwt } : {}),
    ...(dd._ip ? { _ip: dd._ip } : {}),
  };
}

/** An allowance, with the policies behind each of its alternatives ('' for any request). */
type Grant = ModelAllowance & { readonly _grants: Map<string, string[]> };

function allowance(from: string, to: string, grants: Map<string, string[]>): Grant {
  const texts = [...grants.keys()];
  return {
    from,
    to,
    conditions: texts.includes('') ? [] : sortedUnique(texts),
    policies: sortedUnique([...grants.values()].flat()),
    _grants: grants,
  };
}

/** @internal The allowances of a model. */
export function whoMayCall(model: Omit<MeshModel, 'allowances'>, objects: any[], settings: WhoMayCallSettings = {}): ModelAllowance[] {
  const root = model.options.rootNamespace;
  // Dry-run policies decide nothing (Istio only logs what they would do), as in the evaluator.
  const policies = objects.filter(o => o.kind === 'AuthorizationPolicy' && String(o.apiVersion).startsWith('security.istio.io/')
    && o.metadata?.annotations?.['istio.io/dry-run'] !== 'true');
  const callers = callersOf(model, policies);
  const evaluator = AuthorizationEvaluator.fromManifests(objects, {
    trustDomain: model.options.trustDomain,
    clusterDomain: model.options.clusterDomain,
    rootNamespace: root,
    dataplaneMode: settings.dataplaneMode,
    gatewayIdentities: model.options.gateways.map(g => ServiceIdentity.fromName(g.namespace, g.serviceAccountName)),
  });
  const out: Grant[] = [];
  const refused: ModelAllowance[] = [];

  for (const s of model.services) {
    const workloads = s.workloads.length ? s.workloads : s.versions.flatMap(v => v.workloads);
    if (!workloads.length) continue;
    const namespaces = new Set([s.namespace, root]);
    // The waypoint's namespace, whose policies apply there too.
    const serviceObject = objects.find(o => o.kind === 'Service' && o.metadata?.name === s.name && (o.metadata?.namespace ?? 'default') === s.namespace);
    const namespaceObject = objects.find(o => o.kind === 'Namespace' && o.metadata?.name === s.namespace);
    const waypoint = boundWaypoint(serviceObject?.metadata?.labels, namespaceObject?.metadata?.labels, s.namespace);
    if (waypoint) namespaces.add(waypoint.namespace);
    const inScope = (o: any) => namespaces.has(o.metadata?.namespace ?? 'default');
    const candidates = policies.filter(inScope);
    const issuers: JwtIssuer[] = objects.filter(o => o.kind === 'RequestAuthentication' && inScope(o))
      .flatMap(o => (o.spec?.jwtRules ?? []).map((r: any) => ({ issuer: r.issuer, audiences: r.audiences })));
    const action = (p: any) => p.spec?.action ?? 'ALLOW';
    const probesOf = (wanted: string) => candidates.filter(p => action(p) === wanted)
      .flatMap(p => (p.spec?.rules ?? []).flatMap((r: any) => ruleProbes(p, r, issuers)));
    const allowProbes = probesOf('ALLOW');
    const denyProbes = probesOf('DENY');
    // A CUSTOM policy hands the requests its rules match to an external authorizer, whose answer only it knows.
    const authorizers = new Map(candidates.filter(p => action(p) === 'CUSTOM').map(p => [ref(p), p.spec?.provider?.name ?? 'its provider']));

    for (const caller of callers) {
      const perWorkload = workloads.map(w => {
        const check = (request: Probe['request']) => {
          const { _ip, ...rest } = request as any;
          // By labels: the evaluator knows the kinds with pod templates, and a bare Pod is a workload too.
          const destination = { namespace: w.namespace, service: s.name, labels: w.labels };
          return evaluator.check({ ...rest, source: evaluatorCaller(caller, _ip), destination });
        };
        const granted: { conditions: string[]; policy?: string; request: Probe['request']; operation: any }[] = [];
        const plain = check({ method: 'GET', path: '/' });
        if (plain.allowed && plain.policy === undefined) granted.push({ conditions: [], request: { method: 'GET', path: '/' }, operation: {} });
        for (const probe of allowProbes) {
          const decision = check(probe.request);
          if (decision.allowed && decision.policy === probe.policy) granted.push(probe);
        }
        // Each alternative a reader sees ('' for any request), with the policies that decide it.
        const alternatives = new Map<string, string[]>();
        for (const g of granted) {
          // A DENY rule is an exception to what the alternative allows when it refuses requests the alternative covers.
          const exceptions = denyProbes.filter(d => d.conditions.length > 0).filter(d => {
            const request = merge(g.request, d);
            if (!covers(g.operation, request)) return false;
            const decision = check(request);
            return !decision.allowed && decision.policy === d.policy;
          });
          const base = g.conditions.length ? describe(g.conditions) : exceptions.length ? 'any request' : '';
          let text = exceptions.length ? `${base} except ${sortedUnique(exceptions.map(d => describe(d.conditions))).join(' or ')}` : base;
          const policiesOf = [...(g.policy ? [g.policy] : []), ...exceptions.map(d => d.policy)];
          const gate = authorizers.size ? check({ ...g.request, externalAuthorizerAllows: false }) : undefined;
          if (gate && !gate.allowed && gate.policy && authorizers.has(gate.policy)) {
            text = ifAuthorizerAllows(text, authorizers.get(gate.policy)!);
            policiesOf.push(gate.policy);
          }
          alternatives.set(text, sortedUnique([...(alternatives.get(text) ?? []), ...policiesOf]));
        }
        return { workload: w.name, alternatives };
      });
      const allowedOn = perWorkload.filter(p => p.alternatives.size > 0);
      if (!allowedOn.length) {
        if (caller.key !== ANY_CALLER) refused.push({ from: caller.key, to: s.key, conditions: [], policies: [], refused: true });
        continue;
      }
      const partial = allowedOn.length < perWorkload.length;
      const grants = new Map<string, string[]>();
      for (const p of allowedOn) {
        for (const [text, used] of p.alternatives) {
          const shown = partial ? `${text || 'any request'} (${p.workload} only)` : text;
          grants.set(shown, sortedUnique([...(grants.get(shown) ?? []), ...used]));
        }
      }
      out.push(allowance(caller.key, s.key, grants));
    }
  }

  out.push(...externalAllowances(model, policies, callers));
  // What any caller may do goes without saying for each caller, unless the caller may do less (a DENY or a notX
  // field singles it out): then its own entry, with its exceptions, stays.
  const forAny = new Map(out.filter(a => a.from === ANY_CALLER).map(a => [a.to, a]));
  const specific = out.flatMap(a => {
    const any = forAny.get(a.to);
    if (a.from === ANY_CALLER || !any) return [a];
    if (any.conditions.length === 0) return a.conditions.length === 0 ? [] : [a];
    const rest = new Map([...a._grants].filter(([text]) => !any.conditions.includes(text)));
    return rest.size ? [allowance(a.from, a.to, rest)] : [];
  });
  // A caller refused what any caller may do (a DENY or notX field singles it out) is said so: it would otherwise seem
  // to have what any caller has.
  return [...specific.map(({ _grants, ...a }): ModelAllowance => a), ...refused.filter(r => forAny.has(r.to))]
    .sort((a, b) => (`${a.to} ${a.from}` < `${b.to} ${b.from}` ? -1 : `${a.to} ${a.from}` > `${b.to} ${b.from}` ? 1 : 0));
}

/** Every caller worth asking about: any caller, the identities of the model, and those the policies name. */
function callersOf(model: Omit<MeshModel, 'allowances'>, policies: any[]): CallerInfo[] {
  const callers: CallerInfo[] = [{ key: ANY_CALLER }];
  const known = new Set(model.identities.map(i => i.principal));
  for (const i of model.identities) callers.push({ key: i.key, principal: i.principal, namespace: i.namespace, serviceAccount: i.serviceAccount });
  for (const p of policies) {
    for (const rule of p.spec?.rules ?? []) {
      for (const f of rule.from ?? []) {
        for (const principal of f.source?.principals ?? []) {
          if (principal.includes('*') || known.has(principal)) continue;
          known.add(principal);
          const m = /^(.*)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal);
          // Keyed by namespace and name unless a known identity (of another trust domain) has that key.
          const short = m && !callers.some(c => c.key === `id:${m[2]}/${m[3]}`) ? `id:${m[2]}/${m[3]}` : `id:${principal}`;
          callers.push({ key: short, principal, namespace: m?.[2], serviceAccount: m?.[3] });
        }
        for (const namespace of f.source?.namespaces ?? []) {
          const key = `ns:${namespace}`;
          if (namespace.includes('*') || callers.some(c => c.key === key || c.namespace === namespace)) continue;
          // Any workload of a namespace no manifest runs in: a service account of that namespace stands for it.
          callers.push({ key, namespace, principal: `${model.options.trustDomain}/ns/${namespace}/sa/default`, serviceAccount: 'default' });
        }
      }
    }
  }
  return callers;
}

/** Whether a source admits a caller by identity (undefined fields admit everyone). */
function sourceAdmits(source: any, caller: CallerInfo): boolean {
  const inList = (patterns: string[] | undefined, value: string | undefined) =>
    patterns === undefined || (value !== undefined && patterns.some(p => matchString(p, value)));
  const notInList = (patterns: string[] | undefined, value: string | undefined) =>
    patterns === undefined || value === undefined || !patterns.some(p => matchString(p, value));
  if (caller.key === ANY_CALLER) {
    return ['principals', 'namespaces', 'serviceAccounts', 'trustDomains'].every(f => source[f] === undefined);
  }
  const sa = caller.namespace && caller.serviceAccount ? `${caller.namespace}/${caller.serviceAccount}` : undefined;
  const trustDomain = caller.principal?.split('/ns/')[0];
  return inList(source.principals, caller.principal) && notInList(source.notPrincipals, caller.principal)
    && inList(source.namespaces, caller.namespace) && notInList(source.notNamespaces, caller.namespace)
    && inList(source.serviceAccounts, sa) && notInList(source.notServiceAccounts, sa)
    && inList(source.trustDomains, trustDomain) && notInList(source.notTrustDomains, trustDomain);
}

/**
 * Rule alternatives admitting a caller to an external host, by the host names it goes by (the host, and the server
 * name of the hop to the gateway); undefined when the rule does not admit it.
 */
function externalAlternatives(rule: any, caller: CallerInfo, hosts: string[]): string[][] | undefined {
  const named = (patterns: string[]) => patterns.some(p => hosts.some(h => matchString(p, h, true)));
  let alternatives: string[][] = [[]];
  if (rule.from) {
    const sources = (rule.from as any[]).map(f => f.source ?? {}).filter(s => sourceAdmits(s, caller)).map(s => sourceParts(s).conditions);
    if (!sources.length) return undefined;
    alternatives = sources;
  }
  if (rule.to) {
    const ops = (rule.to as any[]).map(t => t.operation ?? {})
      .filter(op => (!op.hosts || named(op.hosts)) && (!op.notHosts || !op.notHosts.some((p: string) => hosts.every(h => matchString(p, h, true)))))
      .map(op => operationConditions(op, false));
    if (!ops.length) return undefined;
    alternatives = alternatives.flatMap(a => ops.map(o => [...a, ...o]));
  }
  for (const w of rule.when ?? []) {
    if (w.key === 'connection.sni') {
      const excluded = w.notValues?.some((p: string) => hosts.every(h => matchString(p, h, true)));
      if ((w.values && !named(w.values)) || excluded) return undefined;
      continue;
    }
    alternatives = alternatives.map(a => [...a, whenCondition(w)]);
  }
  return alternatives;
}

/** Who may reach the external hosts behind a gateway or waypoint, from the policies there. */
function externalAllowances(model: Omit<MeshModel, 'allowances'>, policies: any[], callers: CallerInfo[]): Grant[] {
  const out: Grant[] = [];
  for (const e of model.externals) {
    if (!e.via) continue;
    const gateway = model.options.gateways.find(g => gatewayKey(g) === e.via);
    const entries = e.serviceEntry.split(', ');
    const applicable = policies.filter(p => {
      const namespace = p.metadata?.namespace ?? 'default';
      const refs: any[] = p.spec?.targetRefs ?? (p.spec?.targetRef ? [p.spec.targetRef] : []);
      if (refs.length) {
        return refs.some(r => (r.kind === 'ServiceEntry' && entries.includes(`${namespace}/${r.name}`))
          || (r.kind === 'Gateway' && e.via === `gw:${namespace}/${r.name}`));
      }
      const selector = p.spec?.selector?.matchLabels;
      return gateway !== undefined && (namespace === gateway.namespace || namespace === model.options.rootNamespace)
        && (!selector || Object.keys(selector).length === 0 || selects(selector, gateway.labels));
    });
    const allow = applicable.filter(p => (p.spec?.action ?? 'ALLOW') === 'ALLOW');
    const deny = applicable.filter(p => p.spec?.action === 'DENY');
    const custom = applicable.filter(p => p.spec?.action === 'CUSTOM');
    const hosts = sortedUnique([e.host, ...(e.viaServerName ? [e.viaServerName] : [])]);
    if (!allow.length && !deny.length && !custom.length) {
      out.push(allowance(ANY_CALLER, e.key, new Map([['', []]])));
      continue;
    }
    for (const caller of callers) {
      const alternatives: string[][] = allow.length ? [] : [[]];
      const granting: string[] = [];
      for (const p of allow) {
        for (const rule of p.spec?.rules ?? []) {
          const a = externalAlternatives(rule, caller, hosts);
          if (a) {
            alternatives.push(...a);
            granting.push(ref(p));
          }
        }
      }
      if (!alternatives.length) continue;
      const denials = deny.flatMap(p => (p.spec?.rules ?? [])
        .flatMap((r: any) => externalAlternatives(r, caller, hosts) ?? []).map((a: string[]) => ({ a, p })));
      if (denials.some(d => d.a.length === 0)) continue;
      granting.push(...denials.map(d => ref(d.p)));
      const conditions = alternatives.some(a => a.length === 0) ? [] : sortedUnique(alternatives.map(describe));
      const exceptions = sortedUnique(denials.map(d => describe(d.a)));
      const texts = exceptions.length ? (conditions.length ? conditions : ['any request']).map(c => `${c} except ${exceptions.join(' or ')}`)
        : conditions.length ? conditions : [''];
      // The requests a CUSTOM rule matches go to its external authorizer, whose answer only it knows.
      const gates = custom.flatMap(p => (p.spec?.rules ?? []).flatMap((r: any) => externalAlternatives(r, caller, hosts) ?? [])
        .map((a: string[]) => ({ a, p })));
      const providers = sortedUnique(gates.map(g => g.p.spec?.provider?.name ?? 'its provider')).join(' and ');
      const scoped = gates.some(g => g.a.length === 0) ? '' : ` for ${sortedUnique(gates.map(g => describe(g.a))).join(' or ')}`;
      const gated = (t: string) => (gates.length ? `${ifAuthorizerAllows(t, providers)}${scoped}` : t);
      granting.push(...gates.map(g => ref(g.p)));
      out.push(allowance(caller.key, e.key, new Map(texts.map(t => [gated(t), sortedUnique(granting)]))));
    }
  }
  return out;
}

/** An alternative (`text`, empty for any request) that CUSTOM policies hand to their external authorizer as well. */
function ifAuthorizerAllows(text: string, provider: string): string {
  return `${text || 'any request'} if ${provider} allows`;
}
