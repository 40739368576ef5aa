import * as kplus from 'cdk8s-plus-33';
import { IConstruct } from 'constructs';
import { configError } from '../_errors';
import { compact } from '../_render';
import { isDnsLabel, requireInteger } from '../_validate';
import { HTTP_METHODS, isIpOrCidr, isPathTemplate, pathProblem } from './_match';
import { GatewayWorkload } from '../mesh/gateway-workload';
import { Mesh, TrafficApi, requireIstio } from '../mesh/mesh';
import { IServiceIdentity, ServiceIdentity, namespaceOf } from '../mesh/service-identity';

/**
 * Something an authorization rule can name as the source of a request: a {@link Source}, or a workload of a
 * {@link ZeroTrustNamespace} (its identity).
 */
export interface IAuthorizationSource {
  /** The source as a rule names it. */
  toSource(): Source;
}

/**
 * Fields AND-ed with a source's identity: the request must come from the identity AND satisfy every field set here.
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#Source
 */
export interface SourceOptions {
  /**
   * The request must also carry a valid JWT whose request principal (`<issuer>/<subject>`) is one of these; `*` for
   * any valid JWT. Needs L7 (and a RequestAuthentication for the workload).
   * @default - any request principal, or none
   */
  readonly requestPrincipals?: string[];
  /**
   * The request must not carry a request principal matching one of these; `['*']` admits only requests without a
   * valid JWT. Needs L7.
   * @default - none excluded
   */
  readonly notRequestPrincipals?: string[];
  /**
   * The connection's source IP must be in one of these addresses or CIDR blocks.
   * @default - any IP
   */
  readonly ipBlocks?: string[];
  /**
   * The connection's source IP must not be in any of these.
   * @default - none excluded
   */
  readonly notIpBlocks?: string[];
  /**
   * The client IP from `X-Forwarded-For` (or the proxy protocol) must be in one of these; needs L7 and
   * `numTrustedProxies` on the gateway.
   * @default - any client IP
   */
  readonly remoteIpBlocks?: string[];
  /**
   * The client IP from `X-Forwarded-For` must not be in any of these.
   * @default - none excluded
   */
  readonly notRemoteIpBlocks?: string[];
  /**
   * Identities excluded from the source, such as one ServiceAccount of an admitted namespace.
   * @default - none excluded
   */
  readonly notIdentities?: IServiceIdentity[];
  /**
   * Namespaces excluded from the source.
   * @default - none excluded
   */
  readonly notNamespaces?: string[];
}

/** Options of {@link Source.ingressGateway}. */
export interface IngressGatewaySourceOptions extends SourceOptions {
  /**
   * The ingress gateway deployment whose identity is admitted.
   * @default - the Mesh's ingress gateway
   */
  readonly gateway?: GatewayWorkload;
}

enum SourceKind {
  IDENTITY = 'identity',
  PRINCIPAL = 'principal',
  PRINCIPAL_PATTERN = 'principal-pattern',
  NAMESPACE = 'namespace',
  INGRESS_GATEWAY = 'ingress-gateway',
  ANY_AUTHENTICATED = 'any-authenticated',
  ANYONE = 'anyone',
}

/**
 * @internal Where a source's traffic comes from at the network level, for NetworkPolicy peers: a namespace
 * (undefined: any namespace) and pod labels (undefined: any pod of it), or anywhere at all.
 */
export interface NetworkPeer {
  readonly anywhere: boolean;
  readonly namespace?: string;
  readonly podLabels?: () => { [key: string]: string };
}

const TRUST_DOMAIN_OF = /^(.+?)\/ns\/([^/]+)\/sa\/([^/]+)$/;

/**
 * The source of a request in an authorization rule: who may (or may not) call. The fields of one source are AND-ed
 * (an identity AND a JWT); a rule's sources are OR-ed (this identity OR that namespace).
 *
 * Sources that admit broadly have names that say so: {@link Source.anyAuthenticated} (any mTLS peer of the mesh),
 * {@link Source.anyone} (any caller, even without mTLS) and {@link Source.principalPattern} (wildcards).
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#Source
 */
export class Source implements IAuthorizationSource {
  /**
   * Requests from a workload identity: its ServiceAccount, as the SPIFFE principal of its mTLS certificate.
   * @example
   * Source.identity(ServiceIdentity.fromName('shop', 'frontend'))
   */
  public static identity(identity: IServiceIdentity, options: SourceOptions = {}): Source {
    return new Source(SourceKind.IDENTITY, { identities: [identity], options });
  }

  /** Requests from any of these workload identities. */
  public static identities(identities: IServiceIdentity[], options: SourceOptions = {}): Source {
    return new Source(SourceKind.IDENTITY, { identities: [...identities], options });
  }

  /**
   * Requests from the pods of a cdk8s-plus workload: its ServiceAccount's identity (it must have one), and its pods
   * for the NetworkPolicy.
   */
  public static workload(workload: kplus.Workload, options: SourceOptions = {}): Source {
    const account = workload.serviceAccount;
    return new Source(SourceKind.IDENTITY, {
      identities: account ? [ServiceIdentity.fromServiceAccount(account)] : [],
      options,
      peer: { anywhere: false, namespace: namespaceOf(workload), podLabels: () => workload.matchLabels },
      unidentified: account ? undefined : workload.node.path,
    });
  }

  /**
   * Requests from an exact principal, `<trust-domain>/ns/<namespace>/sa/<service-account>`, in the Mesh's trust
   * domain. Wildcards are refused: use {@link Source.principalPattern} to ask for them.
   */
  public static principal(principal: string, options: SourceOptions = {}): Source {
    return new Source(SourceKind.PRINCIPAL, { principals: [principal], options });
  }

  /**
   * Requests from principals matching a pattern with a leading or trailing `*`, such as
   * `cluster.local/ns/shop/sa/batch-*`: an explicit request for a wildcard principal.
   */
  public static principalPattern(pattern: string, options: SourceOptions = {}): Source {
    return new Source(SourceKind.PRINCIPAL_PATTERN, { principals: [pattern], options });
  }

  /** Requests from any workload of a namespace (from its peer certificate). */
  public static namespace(name: string, options: SourceOptions = {}): Source {
    return new Source(SourceKind.NAMESPACE, { namespaces: [name], options });
  }

  /** Requests from any workload of these namespaces. */
  public static namespaces(names: string[], options: SourceOptions = {}): Source {
    return new Source(SourceKind.NAMESPACE, { namespaces: [...names], options });
  }

  /** Requests through the ingress gateway: its identity, so only traffic the gateway forwards is admitted. */
  public static ingressGateway(options: IngressGatewaySourceOptions = {}): Source {
    return new Source(SourceKind.INGRESS_GATEWAY, { gateway: options.gateway, options });
  }

  /**
   * Requests from any authenticated (mTLS) workload of the mesh, whatever its identity: the principal `*`.
   * An explicit opt-in to a wildcard principal.
   */
  public static anyAuthenticated(options: SourceOptions = {}): Source {
    return new Source(SourceKind.ANY_AUTHENTICATED, { principals: ['*'], options });
  }

  /**
   * Requests from anyone, authenticated or not, limited only by `options` (for example `requestPrincipals` for any
   * end user with a valid JWT). An explicit opt-in to an ALLOW rule that admits every caller.
   */
  public static anyone(options: SourceOptions = {}): Source {
    return new Source(SourceKind.ANYONE, { options });
  }

  private constructor(
    private readonly kind: SourceKind,
    private readonly spec: {
      identities?: IServiceIdentity[];
      principals?: string[];
      namespaces?: string[];
      gateway?: GatewayWorkload;
      options: SourceOptions;
      peer?: NetworkPeer;
      unidentified?: string;
      caller?: unknown;
    },
  ) {}

  public toSource(): Source {
    return this;
  }

  /** @internal The same source, remembering the object (a workload handle) whose side of the connection it is. */
  public _withCaller(caller: unknown, peer: NetworkPeer): Source {
    return new Source(this.kind, { ...this.spec, caller, peer });
  }

  /** @internal The workload handle behind this source, if any. */
  public get _caller(): unknown {
    return this.spec.caller;
  }

  /**
   * @internal The namespaces of the callers this source names: of its identities, its namespaces, or its principals
   * (`<trust domain>/ns/<namespace>/sa/<account>`, a literal namespace).
   */
  public get _callerNamespaces(): string[] {
    const ofPrincipals = (this.spec.principals ?? []).flatMap(p => {
      const namespace = TRUST_DOMAIN_OF.exec(p)?.[2];
      return namespace && !namespace.includes('*') ? [namespace] : [];
    });
    return [...new Set([...(this.spec.identities ?? []).map(i => i.namespace), ...(this.spec.namespaces ?? []), ...ofPrincipals])];
  }

  /** @internal Whether the source is the ingress gateway. */
  public get _isIngressGateway(): boolean {
    return this.kind === SourceKind.INGRESS_GATEWAY;
  }

  /** @internal Whether the source admits everyone without any field: a rule with it needs no `from`. */
  public get _isUnrestricted(): boolean {
    return this.kind === SourceKind.ANYONE && compact(this.spec.options as any) === undefined;
  }

  /** @internal Whether matching the source needs the request (L7): JWT principals or forwarded client IPs. */
  public get _needsL7(): boolean {
    const o = this.spec.options;
    return [o.requestPrincipals, o.notRequestPrincipals, o.remoteIpBlocks, o.notRemoteIpBlocks].some(f => f !== undefined && f.length > 0);
  }

  /** @internal Whether the source names JWT request principals. */
  public get _usesJwt(): boolean {
    const o = this.spec.options;
    return (o.requestPrincipals?.length ?? 0) > 0 || (o.notRequestPrincipals?.length ?? 0) > 0;
  }

  /** @internal A short name for objects generated for this source (`frontend`, `ns-billing`, `ingress-gateway`). */
  public _nameHint(namespace: string): string {
    switch (this.kind) {
      case SourceKind.IDENTITY: {
        const ids = this.spec.identities ?? [];
        if (ids.length !== 1) return 'identities';
        return ids[0].namespace === namespace ? ids[0].serviceAccountName : `${ids[0].namespace}-${ids[0].serviceAccountName}`;
      }
      case SourceKind.PRINCIPAL: {
        const m = TRUST_DOMAIN_OF.exec(this.spec.principals![0]);
        return m ? (m[2] === namespace ? m[3] : `${m[2]}-${m[3]}`) : 'principal';
      }
      case SourceKind.NAMESPACE: return this.spec.namespaces!.length === 1 ? `ns-${this.spec.namespaces![0]}` : 'namespaces';
      default: return this.kind;
    }
  }

  /** @internal Where the traffic comes from at the network level (NetworkPolicy). */
  public _networkPeers(scope: IConstruct): NetworkPeer[] {
    if (this.spec.peer) return [this.spec.peer];
    switch (this.kind) {
      case SourceKind.IDENTITY:
        return [...new Set((this.spec.identities ?? []).map(i => i.namespace))].map(n => ({ anywhere: false, namespace: n }));
      case SourceKind.PRINCIPAL: {
        const m = TRUST_DOMAIN_OF.exec(this.spec.principals![0]);
        return [m ? { anywhere: false, namespace: m[2] } : { anywhere: false }];
      }
      case SourceKind.NAMESPACE:
        return this.spec.namespaces!.map(n => ({ anywhere: false, namespace: n }));
      case SourceKind.INGRESS_GATEWAY: {
        const gateway = this.gateway(scope);
        return [{ anywhere: false, namespace: gateway.namespace, podLabels: () => gateway.labels }];
      }
      case SourceKind.ANYONE:
        return [{ anywhere: true }];
      default:
        return [{ anywhere: false }];
    }
  }

  /** @internal The principals the source admits, as rendered. */
  public _principals(scope: IConstruct): string[] {
    switch (this.kind) {
      case SourceKind.IDENTITY: return (this.spec.identities ?? []).map(i => i.principal(scope));
      case SourceKind.INGRESS_GATEWAY: return [this.gateway(scope).identity.principal(scope)];
      default: return [...(this.spec.principals ?? [])];
    }
  }

  /**
   * @internal The `source` of a rule's `from` entry, validated: throws for wildcards not asked for, principals of
   * another trust domain, bad namespaces and bad IP blocks.
   */
  public _render(scope: IConstruct, prop: string): any {
    const mesh = Mesh.of(scope);
    const o = this.spec.options;
    if (this.spec.unidentified) {
      throw configError(scope, prop, this.spec.unidentified,
        'the workload runs as its namespace\'s default ServiceAccount, which every pod without one shares: give it a ServiceAccount of its own');
    }
    const principals = this._principals(scope);
    if (this.kind === SourceKind.IDENTITY && principals.length === 0) {
      throw configError(scope, `${prop}.identities`, [], 'name at least one identity');
    }
    principals.forEach((p, i) => this.checkPrincipal(scope, `${prop}.principals[${i}]`, p, mesh.trustDomain,
      this.kind === SourceKind.PRINCIPAL_PATTERN || this.kind === SourceKind.ANY_AUTHENTICATED));
    const notPrincipals = (o.notIdentities ?? []).map(i => i.principal(scope));
    notPrincipals.forEach((p, i) => this.checkPrincipal(scope, `${prop}.notIdentities[${i}]`, p, mesh.trustDomain, false));
    const namespaces = this.spec.namespaces ?? [];
    if (this.kind === SourceKind.NAMESPACE && namespaces.length === 0) throw configError(scope, `${prop}.namespaces`, [], 'name at least one namespace');
    namespaces.forEach((n, i) => checkNamespace(scope, `${prop}.namespaces[${i}]`, n));
    (o.notNamespaces ?? []).forEach((n, i) => checkNamespace(scope, `${prop}.notNamespaces[${i}]`, n));
    for (const field of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) {
      (o[field] ?? []).forEach((b, i) => {
        if (!isIpOrCidr(b)) throw configError(scope, `${prop}.${field}[${i}]`, b, 'use an IP address or a CIDR block such as 10.0.0.0/8');
      });
    }
    for (const field of ['requestPrincipals', 'notRequestPrincipals'] as const) {
      (o[field] ?? []).forEach((p, i) => {
        if (p === '' || (!p.includes('*') && !p.includes('/'))) {
          throw configError(scope, `${prop}.${field}[${i}]`, p, 'a request principal is \'<issuer>/<subject>\', or \'*\' for any valid JWT');
        }
      });
    }
    const nonEmpty = (values: string[] | undefined) => (values && values.length ? [...values] : undefined);
    return compact({
      principals: nonEmpty(principals),
      notPrincipals: nonEmpty(notPrincipals),
      requestPrincipals: nonEmpty(o.requestPrincipals),
      notRequestPrincipals: nonEmpty(o.notRequestPrincipals),
      namespaces: nonEmpty(namespaces),
      notNamespaces: nonEmpty(o.notNamespaces),
      ipBlocks: nonEmpty(o.ipBlocks),
      notIpBlocks: nonEmpty(o.notIpBlocks),
      remoteIpBlocks: nonEmpty(o.remoteIpBlocks),
      notRemoteIpBlocks: nonEmpty(o.notRemoteIpBlocks),
    }) ?? {};
  }

  private gateway(scope: IConstruct): GatewayWorkload {
    if (this.spec.gateway) return this.spec.gateway;
    const mesh = Mesh.of(scope);
    if (mesh.trafficApi === TrafficApi.GATEWAY_API && !mesh._ingressGatewayGiven) {
      // Istio deploys one gateway per Gateway API Gateway, with an identity of its own: the default installation's
      // gateway is not the one that calls.
      throw configError(scope, 'source', 'ingressGateway', 'with the Gateway API each Gateway has its own deployment: name it, Source.ingressGateway({ gateway: ingress.workload })');
    }
    return mesh.ingressGateway;
  }

  private checkPrincipal(scope: IConstruct, prop: string, principal: string, trustDomain: string, wildcardAsked: boolean): void {
    if (principal.includes('*')) {
      if (!wildcardAsked) {
        throw configError(scope, prop, principal,
          'wildcard principals admit identities nobody reviewed: name the identity, or ask for it explicitly with Source.principalPattern() or Source.anyAuthenticated()');
      }
      const inner = principal === '*' ? '' : principal.replace(/^\*|\*$/g, '');
      if (inner.includes('*')) throw configError(scope, prop, principal, 'a principal pattern has one \'*\', at its start or end');
      if (principal.startsWith('*') || principal === '*') return;
    }
    const m = TRUST_DOMAIN_OF.exec(principal.replace(/\*$/, 'x'));
    if (!m && !principal.endsWith('*')) {
      throw configError(scope, prop, principal, 'a principal is \'<trust-domain>/ns/<namespace>/sa/<service-account>\'');
    }
    if (!principal.startsWith(`${trustDomain}/`)) {
      throw configError(scope, prop, principal,
        `the identity is not of the mesh's trust domain '${trustDomain}', so no peer certificate can carry it: use an identity of '${trustDomain}', or set trustDomain on the Mesh`);
    }
  }
}

function checkNamespace(scope: IConstruct, prop: string, namespace: string): void {
  if (namespace.includes('*')) {
    throw configError(scope, prop, namespace, 'wildcard namespaces admit namespaces nobody reviewed: name them, or use Source.anyAuthenticated()');
  }
  if (!isDnsLabel(namespace)) throw configError(scope, prop, namespace, 'use a namespace name (a DNS label)');
}

/**
 * What a request does: the fields of one operation are AND-ed (GET AND under /api/); a rule's operations are
 * OR-ed. Methods, paths and hosts need L7 (a sidecar or, in ambient mode, a waypoint); ports are L4.
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#Operation
 */
export interface Operation {
  /**
   * HTTP methods (upper case: `GET`, `POST`, ...); gRPC calls are always `POST`.
   * @default - any method
   */
  readonly methods?: string[];
  /**
   * HTTP methods excluded.
   * @default - none excluded
   */
  readonly notMethods?: string[];
  /**
   * Paths: exact (`/api/items`), prefix (`/api/*`), suffix (`*.png`), `*`, or a URI template with `{*}` (one segment)
   * and `{**}` (any number, last). gRPC paths are `/package.Service/Method`.
   * @default - any path
   */
  readonly paths?: string[];
  /**
   * Paths excluded, in the same forms.
   * @default - none excluded
   */
  readonly notPaths?: string[];
  /**
   * Ports the workload receives on (container ports). A ZeroTrustWorkload's rule enforced by a waypoint gets the
   * ports of its Service that target them, since the waypoint serves the Service.
   * @default - any port
   */
  readonly ports?: number[];
  /**
   * Ports excluded.
   * @default - none excluded
   */
  readonly notPorts?: number[];
  /**
   * HTTP `Host` values, case-insensitive, with a leading or trailing `*` for suffix or prefix matches.
   * @default - any host
   */
  readonly hosts?: string[];
  /**
   * Hosts excluded.
   * @default - none excluded
   */
  readonly notHosts?: string[];
}

const OPERATION_FIELDS = ['methods', 'notMethods', 'paths', 'notPaths', 'ports', 'notPorts', 'hosts', 'notHosts'] as const;
const L7_OPERATION_FIELDS = ['methods', 'notMethods', 'paths', 'notPaths', 'hosts', 'notHosts'] as const;

/** @internal Whether an operation sets any field. */
export function operationIsEmpty(op: Operation): boolean {
  return OPERATION_FIELDS.every(f => op[f] === undefined || op[f]!.length === 0);
}

/** @internal Whether an operation needs L7. */
export function operationNeedsL7(op: Operation): boolean {
  return L7_OPERATION_FIELDS.some(f => (op[f]?.length ?? 0) > 0);
}

/** @internal The `operation` of a rule's `to` entry, validated. */
export function renderOperation(scope: IConstruct, prefix: string, op: Operation): any {
  const at = (field: string) => (prefix ? `${prefix}.${field}` : field);
  if (operationIsEmpty(op)) {
    throw configError(scope, prefix || 'operation', op, 'an operation without fields matches every request: leave the operation out instead');
  }
  for (const field of ['methods', 'notMethods'] as const) {
    (op[field] ?? []).forEach((m, i) => {
      if (HTTP_METHODS.includes(m)) return;
      const fix = HTTP_METHODS.includes(m.toUpperCase())
        ? `methods are matched exactly and sent in upper case: use '${m.toUpperCase()}'`
        : `use an HTTP method: ${HTTP_METHODS.join(', ')}`;
      throw configError(scope, at(`${field}[${i}]`), m, fix);
    });
  }
  for (const field of ['paths', 'notPaths'] as const) {
    (op[field] ?? []).forEach((p, i) => {
      const problem = pathProblem(p);
      if (problem) throw configError(scope, at(`${field}[${i}]`), p, problem);
      if (isPathTemplate(p)) requireIstio(scope, at(`${field}[${i}]`), 22, 'a path template ({*}, {**})');
    });
  }
  for (const field of ['ports', 'notPorts'] as const) {
    (op[field] ?? []).forEach((p, i) => {
      requireInteger(scope, at(`${field}[${i}]`), p, 1);
      if (p > 65535) throw configError(scope, at(`${field}[${i}]`), p, 'use a port from 1 to 65535');
    });
  }
  for (const field of ['hosts', 'notHosts'] as const) {
    (op[field] ?? []).forEach((h, i) => {
      // A suffix match `*.example.com` (any subdomain) or a prefix match `api.*`.
      if (!/^(\*[-.]?)?[A-Za-z0-9]([-A-Za-z0-9.:[\]]*[A-Za-z0-9\]])?([-.:]?\*)?$/.test(h) && h !== '*') {
        throw configError(scope, at(`${field}[${i}]`), h, 'use a host name such as api.example.com, with an optional leading or trailing \'*\'');
      }
    });
  }
  const list = (values: any[] | undefined, map: (v: any) => string = String) => (values && values.length ? values.map(map) : undefined);
  return compact({
    hosts: list(op.hosts),
    notHosts: list(op.notHosts),
    ports: list(op.ports),
    notPorts: list(op.notPorts),
    methods: list(op.methods),
    notMethods: list(op.notMethods),
    paths: list(op.paths),
    notPaths: list(op.notPaths),
  });
}

/** Values a {@link Condition} admits or excludes; at least one list is set. */
export interface ConditionValues {
  /**
   * The attribute must match one of these (exact, `prefix*`, `*suffix`, `*` for present).
   * @default - any value
   */
  readonly values?: string[];
  /**
   * The attribute must match none of these.
   * @default - none excluded
   */
  readonly notValues?: string[];
}

/** @internal The `when` keys ztunnel enforces; the rest need L7 (a sidecar or a waypoint). */
export const L4_CONDITION_KEYS = ['source.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port'];

const CONDITION_KEY = /^(request\.headers\[[^\]\s]+\]|request\.auth\.claims(\[[^\]\s[]+\])+|request\.auth\.(principal|audiences|presenter)|source\.(ip|namespace|principal)|remote\.ip|destination\.(ip|port)|connection\.sni|experimental\.envoy\.filters\.[a-z_.]+\[[^\]]+\])$/;

/**
 * An extra condition of a rule (`when`): a request attribute and the values it must (or must not) have. A rule's
 * conditions are AND-ed.
 * @see https://istio.io/latest/docs/reference/config/security/conditions/
 */
export class Condition {
  /** A request header, by name (`request.headers[x-tenant]`). Needs L7. */
  public static requestHeader(name: string, match: ConditionValues): Condition {
    return new Condition(`request.headers[${name}]`, match, name, /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name) ? undefined : 'use a header name (letters, digits and - _ . ! # $ % & \' * + ^ ` | ~)');
  }

  /** A claim of the request's validated JWT (`request.auth.claims[groups]`); list claims match on any element. Needs L7. */
  public static jwtClaim(claim: string, match: ConditionValues): Condition {
    return Condition.nestedJwtClaim([claim], match);
  }

  /** A nested claim of the request's validated JWT, by path (`request.auth.claims[realm_access][roles]`). Needs L7. */
  public static nestedJwtClaim(path: string[], match: ConditionValues): Condition {
    const bad = path.length === 0 || path.some(p => p === '' || /[[\]\s]/.test(p));
    return new Condition(`request.auth.claims${path.map(p => `[${p}]`).join('')}`, match, path.join('.'),
      bad ? 'name the claim (and nested claims) without brackets or whitespace' : undefined);
  }

  /** The request principal of the validated JWT, `<issuer>/<subject>` (`request.auth.principal`). Needs L7. */
  public static requestPrincipal(match: ConditionValues): Condition {
    return new Condition('request.auth.principal', match);
  }

  /** The audiences of the validated JWT (`request.auth.audiences`). Needs L7. */
  public static jwtAudience(match: ConditionValues): Condition {
    return new Condition('request.auth.audiences', match);
  }

  /** The authorized presenter (`azp`) of the validated JWT (`request.auth.presenter`). Needs L7. */
  public static jwtPresenter(match: ConditionValues): Condition {
    return new Condition('request.auth.presenter', match);
  }

  /** The connection's source IP, as addresses or CIDR blocks (`source.ip`). */
  public static sourceIp(match: ConditionValues): Condition {
    return new Condition('source.ip', match);
  }

  /** The client IP from `X-Forwarded-For` or the proxy protocol (`remote.ip`). Needs L7. */
  public static remoteIp(match: ConditionValues): Condition {
    return new Condition('remote.ip', match);
  }

  /** The peer's namespace, from its certificate (`source.namespace`). */
  public static sourceNamespace(match: ConditionValues): Condition {
    return new Condition('source.namespace', match);
  }

  /** The peer's principal, from its certificate (`source.principal`). */
  public static sourcePrincipal(match: ConditionValues): Condition {
    return new Condition('source.principal', match);
  }

  /** The destination IP (`destination.ip`). */
  public static destinationIp(match: ConditionValues): Condition {
    return new Condition('destination.ip', match);
  }

  /** The destination port (`destination.port`). */
  public static destinationPort(match: ConditionValues): Condition {
    return new Condition('destination.port', match);
  }

  /** The TLS server name of the connection (`connection.sni`). Not enforced by ztunnel. */
  public static sni(match: ConditionValues): Condition {
    return new Condition('connection.sni', match);
  }

  /** Any attribute Istio supports in conditions, by key. */
  public static attribute(key: string, match: ConditionValues): Condition {
    return new Condition(key, match, undefined, CONDITION_KEY.test(key) ? undefined
      : 'use a key Istio supports: request.headers[<name>], request.auth.claims[<claim>], request.auth.principal, request.auth.audiences, request.auth.presenter, source.ip, source.namespace, source.principal, remote.ip, destination.ip, destination.port, connection.sni');
  }

  private constructor(
    /** The attribute's key, as Istio names it. */
    public readonly key: string,
    private readonly match: ConditionValues,
    private readonly shown?: string,
    private readonly problem?: string,
  ) {}

  /** @internal Whether the condition needs L7. */
  public get _needsL7(): boolean {
    return !L4_CONDITION_KEYS.includes(this.key);
  }

  /** @internal Whether the condition reads the JWT. */
  public get _usesJwt(): boolean {
    return this.key.startsWith('request.auth.');
  }

  /** @internal The `when` entry, validated. */
  public _render(scope: IConstruct, prop: string): any {
    if (this.problem) throw configError(scope, `${prop}.key`, this.shown ?? this.key, this.problem);
    const values = this.match.values ?? [];
    const notValues = this.match.notValues ?? [];
    if (values.length === 0 && notValues.length === 0) {
      throw configError(scope, prop, this.key, 'give values or notValues: a condition without either matches nothing');
    }
    const check = (value: string, at: string) => {
      if (value === '') throw configError(scope, at, value, 'an empty value matches nothing: use \'*\' for any value');
      if (['source.ip', 'remote.ip', 'destination.ip'].includes(this.key) && !isIpOrCidr(value)) {
        throw configError(scope, at, value, 'use an IP address or a CIDR block such as 10.0.0.0/8');
      }
      if (this.key === 'destination.port' && !(/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 65535)) {
        throw configError(scope, at, value, 'use a port from 1 to 65535');
      }
      if (this.key === 'source.namespace' && value.includes('*')) {
        throw configError(scope, at, value, 'wildcard namespaces admit namespaces nobody reviewed: name them');
      }
      if (this.key === 'source.principal' && value.includes('*')) {
        throw configError(scope, at, value, 'wildcard principals admit identities nobody reviewed: name them, or use Source.principalPattern()');
      }
    };
    values.forEach((v, i) => check(v, `${prop}.values[${i}]`));
    notValues.forEach((v, i) => check(v, `${prop}.notValues[${i}]`));
    return compact({ key: this.key, values: values.length ? [...values] : undefined, notValues: notValues.length ? [...notValues] : undefined });
  }
}

/**
 * One rule of an AuthorizationPolicy: a request matches when it comes from one of the sources (OR), performs one
 * of the operations (OR) and meets every condition (AND). Each source's own fields are AND-ed, and so are each
 * operation's: the structure of the rule is the structure of these lists, so AND cannot silently become OR.
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#Rule
 */
export interface AuthorizationRule {
  /**
   * Who: the request matches one of these sources. Required in ALLOW rules: use `Source.anyone()` to admit every
   * caller on purpose.
   * @default - any source (DENY, AUDIT and CUSTOM rules only)
   */
  readonly from?: IAuthorizationSource[];
  /**
   * What: the request matches one of these operations.
   * @default - any operation
   */
  readonly to?: Operation[];
  /**
   * Conditions the request meets, all of them.
   * @default - none
   */
  readonly when?: Condition[];
}

/** @internal Whether a rule needs L7 to be enforced. */
export function ruleNeedsL7(rule: AuthorizationRule): boolean {
  return (rule.from ?? []).some(s => s.toSource()._needsL7)
    || (rule.to ?? []).some(operationNeedsL7)
    || (rule.when ?? []).some(c => c._needsL7);
}

/** @internal Whether a rule reads the JWT (request principals, `request.auth.*`). */
export function ruleUsesJwt(rule: AuthorizationRule): boolean {
  return (rule.from ?? []).some(s => s.toSource()._usesJwt) || (rule.when ?? []).some(c => c._usesJwt);
}

/** @internal How the parts of a rule are named in error messages. */
export interface RuleProps {
  readonly from: string;
  source(index: number): string;
  operation(index: number): string;
  condition(index: number): string;
}

/** @internal The names of a rule's parts under `prop` (`rules[0].from[1]`, ...). */
export function ruleProps(prop: string): RuleProps {
  return {
    from: `${prop}.from`,
    source: i => `${prop}.from[${i}]`,
    operation: i => `${prop}.to[${i}]`,
    condition: i => `${prop}.when[${i}]`,
  };
}

/**
 * @internal A rule as Istio reads it, validated. `requireSource`: an ALLOW rule must name its sources (an explicit
 * `Source.anyone()` renders as no `from`).
 */
export function renderRule(scope: IConstruct, prop: string | RuleProps, rule: AuthorizationRule, requireSource: boolean): any {
  const props = typeof prop === 'string' ? ruleProps(prop) : prop;
  const sources = (rule.from ?? []).map(s => s.toSource());
  if (requireSource && sources.length === 0) {
    throw configError(scope, props.from, rule.from ?? [],
      'an ALLOW rule without a source admits every caller: name the sources, or pass Source.anyone() to admit everyone on purpose');
  }
  const rendered = sources.map((s, i) => ({ source: s._render(scope, props.source(i)) }));
  rendered.forEach(({ source }, i) => {
    // Only empty lists: istiod refuses the empty source, and reading it as anyone would admit more than written.
    if (!sources[i]._isUnrestricted && Object.keys(source).length === 0) {
      throw configError(scope, props.source(i), [], 'the source names nothing (its lists are empty): give at least one value, or pass Source.anyone() without options');
    }
  });
  // Anyone without further fields admits every caller: the rule needs no `from` at all.
  const from = sources.some(s => s._isUnrestricted) ? undefined : rendered;
  const to = (rule.to ?? []).map((op, i) => ({ operation: renderOperation(scope, props.operation(i), op) }));
  const when = (rule.when ?? []).map((c, i) => c._render(scope, props.condition(i)));
  return {
    ...(from && from.length ? { from } : {}),
    ...(to.length ? { to } : {}),
    ...(when.length ? { when } : {}),
  };
}
