import { ipInBlock, isIpOrCidr, matchPath, matchString } from './_match';
import { DRY_RUN_ANNOTATION } from './authorization-policy';
import { L4_CONDITION_KEYS } from './authorization-rule';
import { boundWaypoint } from '../ambient/_waypoint-binding';
import { DataplaneMode, Mesh } from '../mesh/mesh';
import { IServiceIdentity } from '../mesh/service-identity';

/** The protocol of a request, which decides whether L7 fields of the rules can be matched. */
export enum RequestProtocol {
  /** HTTP (HTTP/1.1, HTTP/2, gRPC): every field can be matched. */
  HTTP = 'http',
  /** Opaque TCP: ALLOW rules with HTTP fields never match; DENY rules match without their HTTP fields. */
  TCP = 'tcp',
}

/** Options of a {@link Caller}. */
export interface CallerOptions {
  /**
   * The caller's IP, for `ipBlocks` and `source.ip`.
   * @default - unknown: IP-based fields do not match it
   */
  readonly ip?: string;
}

/**
 * Who makes a request, for {@link AuthorizationEvaluator.check}: a workload identity (mutual TLS), a raw principal,
 * or a plaintext client outside the mesh.
 */
export class Caller {
  /** A workload running as `identity`, connecting with mutual TLS. */
  public static identity(identity: IServiceIdentity, options: CallerOptions = {}): Caller {
    return new Caller(undefined, identity, options);
  }

  /** A peer presenting `principal` (`<trust-domain>/ns/<namespace>/sa/<account>`), connecting with mutual TLS. */
  public static principal(principal: string, options: CallerOptions = {}): Caller {
    return new Caller(principal, undefined, options);
  }

  /** A client without a mesh identity, connecting in plaintext (a Prometheus outside the mesh, a legacy pod). */
  public static plaintext(options: CallerOptions = {}): Caller {
    return new Caller(undefined, undefined, options);
  }

  private constructor(
    private readonly rawPrincipal: string | undefined,
    private readonly identity: IServiceIdentity | undefined,
    /** The caller's options. */
    public readonly options: CallerOptions,
  ) {}

  /** Whether the caller connects without mutual TLS. */
  public get isPlaintext(): boolean {
    return this.rawPrincipal === undefined && this.identity === undefined;
  }

  /** @internal The caller's principal under `trustDomain`, or '' for plaintext. */
  public _principal(trustDomain: string): string {
    if (this.rawPrincipal !== undefined) return this.rawPrincipal;
    if (this.identity) return `${trustDomain}/ns/${this.identity.namespace}/sa/${this.identity.serviceAccountName}`;
    return '';
  }
}

/** A validated JWT the request carries (or a forged or expired one, with `valid: false`). */
export interface JwtToken {
  /** The issuer (`iss`). */
  readonly issuer: string;
  /** The subject (`sub`). */
  readonly subject: string;
  /**
   * The audiences (`aud`).
   * @default - none
   */
  readonly audiences?: string[];
  /**
   * The authorized presenter (`azp`).
   * @default - none
   */
  readonly presenter?: string;
  /**
   * Other claims, by name; values may be strings, lists or nested objects.
   * @default - none
   */
  readonly claims?: { [key: string]: any };
  /**
   * Whether the signature and expiry check out.
   * @default true
   */
  readonly valid?: boolean;
}

/** The workload a request is sent to. */
export interface RequestDestination {
  /** The destination's namespace. */
  readonly namespace: string;
  /**
   * The Service the request is addressed to; in ambient mode this is what sends it through the Service's waypoint.
   * @default - the request goes to the pods directly
   */
  readonly service?: string;
  /**
   * The name of the workload object (Deployment, StatefulSet, ...) in the manifests whose pod labels are matched.
   * @default - the workload the Service selects, else `labels`
   */
  readonly workload?: string;
  /**
   * The destination pods' labels, matched against policy selectors.
   * @default - from `workload`, else from the Service's selector
   */
  readonly labels?: { [key: string]: string };
}

/** A request to decide. */
export interface AuthorizationRequest {
  /** Who calls. */
  readonly source: Caller;
  /** Which workload is called. */
  readonly destination: RequestDestination;
  /**
   * The protocol.
   * @default RequestProtocol.HTTP
   */
  readonly protocol?: RequestProtocol;
  /**
   * The HTTP method.
   * @default 'GET'
   */
  readonly method?: string;
  /**
   * The HTTP path (a query string is ignored, as Istio does).
   * @default '/'
   */
  readonly path?: string;
  /**
   * The port the workload receives on (the container port, which is what policies on pods match; a waypoint matches
   * the Service port that targets it).
   * @default - the Service's first target port, else the workload's only container port, else unknown
   */
  readonly port?: number;
  /**
   * The HTTP `Host`, and the TLS server name (`connection.sni`).
   * @default - the Service's FQDN when `service` is set
   */
  readonly host?: string;
  /**
   * Request headers, by name (case-insensitive).
   * @default - none
   */
  readonly headers?: { [key: string]: string };
  /**
   * The JWT the request carries.
   * @default - none
   */
  readonly jwt?: JwtToken;
  /**
   * What the external authorizers of matching CUSTOM policies answer.
   * @default true
   */
  readonly externalAuthorizerAllows?: boolean;
}

/** What a decision would have been with the dry-run policies enforced. */
export interface DryRunDecision {
  /** Whether the request would be allowed. */
  readonly allowed: boolean;
  /** Why. */
  readonly reason: string;
  /**
   * The deciding policy, `namespace/name`.
   * @default - no single policy decided
   */
  readonly policy?: string;
}

/** Istio's decision on a request. */
export interface AuthorizationDecision {
  /** Whether the request is allowed. */
  readonly allowed: boolean;
  /** Why, naming the policies and rules that decided. */
  readonly reason: string;
  /**
   * The deciding policy (`namespace/name`): the matching DENY or ALLOW policy, or the ALLOW-nothing policy.
   * @default - no single policy decided (no ALLOW policy applies, or mTLS or the JWT refused the request)
   */
  readonly policy?: string;
  /** The proxy that decided: `sidecar`, `ztunnel` or `waypoint <namespace>/<name>`. */
  readonly enforcedBy: string;
  /**
   * The decision with the dry-run policies enforced, when it differs.
   * @default - dry-run policies would not change the decision
   */
  readonly dryRun?: DryRunDecision;
}

/** Options of an {@link AuthorizationEvaluator}. */
export interface AuthorizationEvaluatorOptions {
  /**
   * Mesh settings to take the trust domain, cluster domain, root namespace, data plane mode and ingress gateway
   * from; the fields below override it.
   * @default - Istio's defaults
   */
  readonly mesh?: Mesh;
  /**
   * The trust domain of workload identities.
   * @default - the mesh's, else 'cluster.local'
   */
  readonly trustDomain?: string;
  /**
   * The cluster's DNS domain.
   * @default - the mesh's, else 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * Istio's root namespace, whose policies apply mesh-wide.
   * @default - the mesh's, else 'istio-system'
   */
  readonly rootNamespace?: string;
  /**
   * Identities of gateway deployments, which in ambient mode skip waypoints unless `istio.io/ingress-use-waypoint`.
   * @default - the mesh's ingress gateway, else istio-system/istio-ingressgateway-service-account
   */
  readonly gatewayIdentities?: IServiceIdentity[];
  /**
   * How namespaces without a Namespace object in the manifests join the mesh.
   * @default - the mesh's, else DataplaneMode.SIDECAR
   */
  readonly dataplaneMode?: DataplaneMode;
}

type Labels = { [key: string]: string };

interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name?: string; namespace?: string; labels?: Labels; annotations?: Labels };
  readonly spec?: any;
}

/** One proxy on the request's path, and what it sees. */
interface Hop {
  readonly enforcedBy: string;
  /** Policies applying at this proxy. */
  readonly policies: Manifest[];
  /** RequestAuthentications applying at this proxy. */
  readonly requestAuthentications: Manifest[];
  /** Whether the proxy parses HTTP (sidecar or waypoint on an HTTP request). */
  readonly l7: boolean;
  /** The peer's principal as this proxy sees it ('' for plaintext). */
  readonly peer: string;
  /** Whether mTLS settings of the workload apply (the hop into the workload). */
  readonly workloadHop: boolean;
  /** Set for the ztunnel hop behind a waypoint: the workload sees the waypoint, not the caller. */
  readonly behindWaypoint?: string;
  /** The `when` keys the proxy matches without parsing HTTP. */
  readonly l4Keys: string[];
  /**
   * Whether the proxy matches the remote IP (`remoteIpBlocks`, `remote.ip`) on TCP too: Envoy does (the downstream
   * address), ztunnel takes it for an HTTP field.
   */
  readonly remoteIpAtL4: boolean;
}

interface Attributes {
  readonly principal: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly trustDomain: string;
  readonly ip: string;
  readonly requestPrincipal: string;
  readonly audiences: string[];
  readonly presenter: string;
  readonly claims: { [key: string]: any };
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly port: string;
  readonly headers: Labels;
  readonly policyNamespace: string;
}

interface Outcome {
  readonly allowed: boolean;
  readonly reason: string;
  readonly policy?: string;
  readonly enforcedBy: string;
}

const SECURITY_GROUP = 'security.istio.io';
const L7_SOURCE_FIELDS = ['requestPrincipals', 'notRequestPrincipals', 'remoteIpBlocks', 'notRemoteIpBlocks'];
const REMOTE_IP_FIELDS = ['remoteIpBlocks', 'notRemoteIpBlocks'];
const L7_OPERATION_FIELDS = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];

/**
 * Decides requests the way Istio would, from plain manifests: "may identity X call workload Y with method M on
 * path P (with these JWT claims)?". Use it in unit tests over what a chart synthesizes, to prove the intent of the
 * policies rather than their shape.
 *
 * It follows Istio's order at each proxy on the path: CUSTOM, then DENY, then ALLOW; no ALLOW policy on a workload
 * allows; an ALLOW policy without rules (the empty spec) allows nothing. Policies apply by namespace and selector
 * (the root namespace's mesh-wide), or by `targetRefs` at waypoints. Sidecars match every field of HTTP requests;
 * ztunnel, and sidecars on TCP, only L4 fields: ALLOW rules with HTTP fields never match and DENY rules match
 * without them. In ambient mode a request to a Service with a waypoint is decided by the waypoint (with the
 * caller's identity) and then by ztunnel (seeing the waypoint's identity). Plaintext callers meet the
 * PeerAuthentication first; a JWT is checked against the RequestAuthentications (a bad token is rejected, a missing
 * one just leaves no request principal). Dry-run policies do not decide; the decision they would make is reported.
 *
 * @example
 * const authz = AuthorizationEvaluator.fromManifests(Testing.synth(chart));
 * const decision = authz.check({
 *   source: Caller.identity(ServiceIdentity.fromName('shop', 'frontend')),
 *   destination: { namespace: 'shop', service: 'backend' },
 *   method: 'GET', path: '/api/items',
 * });
 * expect(decision.allowed).toBe(true);
 * @see https://istio.io/latest/docs/concepts/security/#authorization-policies
 */
export class AuthorizationEvaluator {
  /**
   * An evaluator over synthesized manifests (`Testing.synth(chart)`, or YAML documents parsed to objects).
   * @param manifests Kubernetes objects; those that are not Istio security policies, Namespaces, Services,
   * workloads or Gateways are ignored
   */
  public static fromManifests(manifests: any[], options: AuthorizationEvaluatorOptions = {}): AuthorizationEvaluator {
    return new AuthorizationEvaluator(manifests, options);
  }

  private readonly trustDomain: string;
  private readonly clusterDomain: string;
  private readonly rootNamespace: string;
  private readonly defaultMode: DataplaneMode;
  private readonly gatewayPrincipals: string[];
  private readonly objects: Manifest[];

  private constructor(manifests: any[], options: AuthorizationEvaluatorOptions) {
    const mesh = options.mesh;
    this.trustDomain = options.trustDomain ?? mesh?.trustDomain ?? 'cluster.local';
    this.clusterDomain = options.clusterDomain ?? mesh?.clusterDomain ?? 'cluster.local';
    this.rootNamespace = options.rootNamespace ?? mesh?.rootNamespace ?? 'istio-system';
    this.defaultMode = options.dataplaneMode ?? mesh?.dataplaneMode ?? DataplaneMode.SIDECAR;
    const gateways = options.gatewayIdentities
      ?? (mesh ? [mesh.ingressGateway.identity] : [{ namespace: 'istio-system', serviceAccountName: 'istio-ingressgateway-service-account' }]);
    this.gatewayPrincipals = gateways.map(g => `${this.trustDomain}/ns/${g.namespace}/sa/${g.serviceAccountName}`);
    this.objects = (manifests ?? [])
      .filter(m => m && typeof m === 'object' && typeof m.kind === 'string')
      .map(m => JSON.parse(JSON.stringify(m)) as Manifest)
      .map(m => ({ ...m, metadata: m.metadata ?? {} }));
  }

  /**
   * Decides a request.
   * @example
   * authz.check({ source: Caller.identity(frontend), destination: { namespace: 'shop', service: 'backend' }, method: 'GET', path: '/api/items' })
   */
  public check(request: AuthorizationRequest): AuthorizationDecision {
    const hops = this.plan(request);
    const enforced = this.decide(request, hops, false);
    const shadow = this.decide(request, hops, true);
    const differs = shadow.allowed !== enforced.allowed;
    return {
      ...enforced,
      ...(differs ? { dryRun: { allowed: shadow.allowed, reason: shadow.reason, ...(shadow.policy ? { policy: shadow.policy } : {}) } } : {}),
    };
  }

  /** Whether a request is allowed: `check(request).allowed`. */
  public isAllowed(request: AuthorizationRequest): boolean {
    return this.check(request).allowed;
  }

  private decide(request: AuthorizationRequest, hops: Hop[], includeDryRun: boolean): Outcome {
    const passed: Outcome[] = [];
    for (const hop of hops) {
      const outcome = this.evaluateHop(request, hop, includeDryRun);
      if (!outcome.allowed) return outcome;
      passed.push(outcome);
    }
    const first = passed[0];
    if (passed.length === 1) return first;
    return { ...first, reason: `${first.reason}; then ${passed.slice(1).map(p => `${p.enforcedBy}: ${p.reason}`).join('; ')}` };
  }

  /** The proxies a request passes on its way to the workload. */
  private plan(request: AuthorizationRequest): Hop[] {
    const dest = request.destination;
    if (!dest || !dest.namespace) throw new Error('AuthorizationEvaluator: destination.namespace is missing: name the namespace of the workload called');
    const labels = this.destinationLabels(dest);
    const http = (request.protocol ?? RequestProtocol.HTTP) === RequestProtocol.HTTP;
    const caller = request.source._principal(this.trustDomain);
    const namespaceObject = this.namespace(dest.namespace);
    const mode = namespaceObject
      ? (namespaceObject.metadata.labels?.['istio.io/dataplane-mode'] === 'ambient' ? DataplaneMode.AMBIENT : DataplaneMode.SIDECAR)
      : this.defaultMode;
    const selected = (kind: string) => this.objects.filter(o => isSecurity(o, kind) && !targetRefs(o).length
      && (ns(o) === dest.namespace || ns(o) === this.rootNamespace) && selects(o.spec?.selector?.matchLabels, labels));
    const workloadHop = (peer: string, l7: boolean, enforcedBy: string, behindWaypoint?: string): Hop => ({
      enforcedBy,
      policies: selected('AuthorizationPolicy'),
      requestAuthentications: l7 ? selected('RequestAuthentication') : [],
      l7,
      peer,
      workloadHop: true,
      behindWaypoint,
      // Sidecars also read the TLS server name and the remote IP of a TCP connection; ztunnel reads the five L4 keys only.
      l4Keys: enforcedBy === 'sidecar' ? [...L4_CONDITION_KEYS, 'connection.sni', 'remote.ip'] : L4_CONDITION_KEYS,
      remoteIpAtL4: enforcedBy === 'sidecar',
    });
    if (mode === DataplaneMode.SIDECAR) return [workloadHop(caller, http, 'sidecar')];

    const waypoint = dest.service ? this.waypointOf(dest.namespace, dest.service) : undefined;
    const isGateway = this.gatewayPrincipals.includes(caller);
    const callerNs = /\/ns\/([^/]+)\//.exec(caller)?.[1];
    const callerObject = callerNs ? this.namespace(callerNs) : undefined;
    const callerHasSidecar = callerObject !== undefined && callerObject.metadata.labels?.['istio.io/dataplane-mode'] !== 'ambient'
      && (callerObject.metadata.labels?.['istio-injection'] === 'enabled' || callerObject.metadata.labels?.['istio.io/rev'] !== undefined);
    const throughWaypoint = waypoint !== undefined && caller !== '' && !callerHasSidecar
      && (!isGateway || this.ingressUsesWaypoint(dest.namespace, dest.service!));
    if (!throughWaypoint) return [workloadHop(caller, false, 'ztunnel')];

    const refs = (o: Manifest) => targetRefs(o).some(r =>
      (r.kind === 'Gateway' && r.name === waypoint.name && ns(o) === waypoint.namespace)
      || (r.kind === 'Service' && (r.group ?? '') === '' && r.name === dest.service && ns(o) === dest.namespace));
    const waypointPrincipal = `${this.trustDomain}/ns/${waypoint.namespace}/sa/${waypoint.name}`;
    return [
      {
        enforcedBy: `waypoint ${waypoint.namespace}/${waypoint.name}`,
        policies: this.objects.filter(o => isSecurity(o, 'AuthorizationPolicy') && refs(o)),
        requestAuthentications: http ? this.objects.filter(o => isSecurity(o, 'RequestAuthentication') && refs(o)) : [],
        l7: http,
        peer: caller,
        workloadHop: false,
        l4Keys: [...L4_CONDITION_KEYS, 'connection.sni', 'remote.ip'],
        remoteIpAtL4: true,
      },
      workloadHop(waypointPrincipal, false, 'ztunnel', `${waypoint.namespace}/${waypoint.name}`),
    ];
  }

  private evaluateHop(request: AuthorizationRequest, hop: Hop, includeDryRun: boolean): Outcome {
    const dest = request.destination;
    const at = hop.enforcedBy;
    const port = this.destinationPort(request);
    if (hop.workloadHop && hop.peer === '') {
      const mtls = this.peerAuthentication(dest.namespace, this.destinationLabels(dest), port);
      if (mtls.mode === 'STRICT') {
        return {
          allowed: false,
          enforcedBy: at,
          reason: `STRICT mutual TLS${mtls.source ? ` (PeerAuthentication ${mtls.source})` : ''} refuses the plaintext connection${port ? ` on port ${port}` : ''}`,
        };
      }
    }

    // The JWT: a token the RequestAuthentications reject is refused (401); without any, it is not validated at all.
    let requestPrincipal = '';
    let token: JwtToken | undefined;
    if (hop.l7 && request.jwt && hop.requestAuthentications.length) {
      const jwt = request.jwt;
      const rules = hop.requestAuthentications.flatMap(ra => (ra.spec?.jwtRules ?? []).map((r: any) => ({ ra, r })));
      const rule = rules.find(({ r }) => r.issuer === jwt.issuer);
      const names = [...new Set(hop.requestAuthentications.map(ref))].join(', ');
      if (!rule) {
        return { allowed: false, enforcedBy: at, reason: `the JWT of issuer '${jwt.issuer}' is not accepted by RequestAuthentication ${names} (401)` };
      }
      if (jwt.valid === false) {
        return { allowed: false, enforcedBy: at, policy: ref(rule.ra), reason: `the JWT fails validation (signature or expiry) by RequestAuthentication ${ref(rule.ra)} (401)` };
      }
      const audiences: string[] | undefined = rule.r.audiences;
      if (audiences?.length && !(jwt.audiences ?? []).some(a => audiences.includes(a))) {
        return {
          allowed: false,
          enforcedBy: at,
          policy: ref(rule.ra),
          reason: `the JWT's audiences (${(jwt.audiences ?? []).join(', ') || 'none'}) are not among ${audiences.join(', ')} of RequestAuthentication ${ref(rule.ra)} (401)`,
        };
      }
      requestPrincipal = `${jwt.issuer}/${jwt.subject}`;
      token = jwt;
    }

    const m = /^(.*?)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(hop.peer);
    const base = {
      principal: hop.peer,
      namespace: m?.[2] ?? '',
      serviceAccount: m ? `${m[2]}/${m[3]}` : '',
      trustDomain: m?.[1] ?? '',
      ip: hop.behindWaypoint ? '' : request.source.options.ip ?? '',
      requestPrincipal,
      audiences: token?.audiences ?? [],
      presenter: token?.presenter ?? '',
      claims: token ? { iss: token.issuer, sub: token.subject, ...(token.audiences ? { aud: token.audiences } : {}), ...(token.claims ?? {}) } : {},
      method: request.method ?? 'GET',
      path: request.path ?? '/',
      host: request.host ?? (dest.service ? `${dest.service}.${dest.namespace}.svc.${this.clusterDomain}` : ''),
      port: this.hopPort(hop, dest, port),
      headers: Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    };
    const policies = hop.policies.filter(p => includeDryRun || p.metadata.annotations?.[DRY_RUN_ANNOTATION] !== 'true');
    const action = (p: Manifest) => p.spec?.action ?? 'ALLOW';
    const matching = (p: Manifest) => {
      const attrs: Attributes = { ...base, policyNamespace: ns(p) };
      const rules: any[] = p.spec?.rules ?? [];
      const index = rules.findIndex(r => matchRule(r, attrs, hop, action(p) === 'ALLOW'));
      return index;
    };
    const peerText = hop.peer ? hop.peer : 'a plaintext caller';

    for (const p of policies.filter(x => action(x) === 'CUSTOM')) {
      const i = matching(p);
      if (i >= 0 && request.externalAuthorizerAllows === false) {
        return { allowed: false, enforcedBy: at, policy: ref(p), reason: `CUSTOM policy ${ref(p)} rule ${i} sends the request to ${p.spec?.provider?.name ?? 'its provider'}, which denies it` };
      }
    }
    for (const p of policies.filter(x => action(x) === 'DENY')) {
      const i = matching(p);
      if (i >= 0) return { allowed: false, enforcedBy: at, policy: ref(p), reason: `DENY policy ${ref(p)} rule ${i} matches ${peerText}` };
    }
    const allows = policies.filter(x => action(x) === 'ALLOW');
    if (!allows.length) {
      return { allowed: true, enforcedBy: at, reason: `no ALLOW policy applies at the ${at}` };
    }
    for (const p of allows) {
      const i = matching(p);
      if (i >= 0) return { allowed: true, enforcedBy: at, policy: ref(p), reason: `ALLOW policy ${ref(p)} rule ${i} matches ${peerText}` };
    }
    const nothing = allows.find(p => !(p.spec?.rules ?? []).length);
    const why = hop.behindWaypoint ? ` (behind the waypoint ${hop.behindWaypoint}, the workload sees its identity, not the caller's)` : '';
    return {
      allowed: false,
      enforcedBy: at,
      ...(nothing ? { policy: ref(nothing) } : {}),
      reason: `no rule of the ALLOW policies ${allows.map(ref).join(', ')} matches ${peerText}${nothing ? `, and ${ref(nothing)} allows nothing else` : ''}${why}`,
    };
  }

  private namespace(name: string): Manifest | undefined {
    return this.objects.find(o => o.kind === 'Namespace' && o.apiVersion === 'v1' && o.metadata.name === name);
  }

  private service(namespace: string, name: string): Manifest | undefined {
    return this.objects.find(o => o.kind === 'Service' && o.apiVersion === 'v1' && ns(o) === namespace && o.metadata.name === name);
  }

  private workloads(namespace: string): Manifest[] {
    return this.objects.filter(o => ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'Rollout'].includes(o.kind) && ns(o) === namespace);
  }

  private destinationLabels(dest: RequestDestination): Labels {
    if (dest.labels) return { ...dest.labels };
    if (dest.workload) {
      const w = this.workloads(dest.namespace).find(o => o.metadata.name === dest.workload);
      if (!w) throw new Error(`AuthorizationEvaluator: no workload '${dest.workload}' in namespace '${dest.namespace}' among the manifests: name one of them, or give labels`);
      return { ...(w.spec?.template?.metadata?.labels ?? {}) };
    }
    if (dest.service) {
      const svc = this.service(dest.namespace, dest.service);
      if (!svc) throw new Error(`AuthorizationEvaluator: no Service '${dest.service}' in namespace '${dest.namespace}' among the manifests: name one of them, or give labels`);
      const selector: Labels = svc.spec?.selector ?? {};
      const pods = this.workloads(dest.namespace).map(w => w.spec?.template?.metadata?.labels ?? {}).filter(l => selects(selector, l));
      return pods.length === 1 ? { ...pods[0] } : { ...selector };
    }
    throw new Error('AuthorizationEvaluator: the destination has neither service, workload nor labels: say which pods are called');
  }

  /**
   * The port the hop's proxy matches: the container port, except at a waypoint, which serves the Service and sees its
   * port (the first that targets the container port).
   */
  private hopPort(hop: Hop, dest: RequestDestination, port: number | undefined): string {
    if (port === undefined) return '';
    if (hop.workloadHop || !dest.service) return String(port);
    const entry = (this.service(dest.namespace, dest.service)?.spec?.ports ?? [])
      .find((p: any) => (typeof p.targetPort === 'number' ? p.targetPort : p.port) === port);
    return String(entry?.port ?? port);
  }

  private destinationPort(request: AuthorizationRequest): number | undefined {
    if (request.port !== undefined) return request.port;
    const dest = request.destination;
    if (dest.service) {
      const first = this.service(dest.namespace, dest.service)?.spec?.ports?.[0];
      if (first) return typeof first.targetPort === 'number' ? first.targetPort : first.port;
    }
    const labels = this.destinationLabels(dest);
    const ports = this.workloads(dest.namespace)
      .filter(w => selects(w.spec?.template?.metadata?.labels ?? {}, labels) || selects(labels, w.spec?.template?.metadata?.labels ?? {}))
      .flatMap(w => (w.spec?.template?.spec?.containers ?? []).flatMap((c: any) => (c.ports ?? []).map((p: any) => p.containerPort)));
    return ports.length === 1 ? ports[0] : undefined;
  }

  /** The waypoint a Service's traffic goes through (`istio.io/use-waypoint` on the Service, else its namespace). */
  private waypointOf(namespace: string, service: string): { name: string; namespace: string } | undefined {
    return boundWaypoint(this.service(namespace, service)?.metadata.labels, this.namespace(namespace)?.metadata.labels, namespace);
  }

  private ingressUsesWaypoint(namespace: string, service: string): boolean {
    const value = this.service(namespace, service)?.metadata.labels?.['istio.io/ingress-use-waypoint']
      ?? this.namespace(namespace)?.metadata.labels?.['istio.io/ingress-use-waypoint'];
    return value?.toLowerCase() === 'true';
  }

  /** The effective mTLS mode of a workload port: workload policy (port, then whole), namespace, mesh, PERMISSIVE. */
  private peerAuthentication(namespace: string, labels: Labels, port: number | undefined): { mode: string; source?: string } {
    const pas = this.objects.filter(o => isSecurity(o, 'PeerAuthentication'));
    const workload = pas.find(o => ns(o) === namespace && o.spec?.selector?.matchLabels && Object.keys(o.spec.selector.matchLabels).length
      && selects(o.spec.selector.matchLabels, labels));
    const namespaceWide = pas.find(o => ns(o) === namespace && !Object.keys(o.spec?.selector?.matchLabels ?? {}).length);
    const meshWide = pas.find(o => ns(o) === this.rootNamespace && !Object.keys(o.spec?.selector?.matchLabels ?? {}).length);
    const set = (mode: string | undefined) => mode !== undefined && mode !== 'UNSET';
    if (workload && port !== undefined) {
      const portMode = workload.spec?.portLevelMtls?.[String(port)]?.mode;
      if (set(portMode)) return { mode: portMode, source: `${ref(workload)} port ${port}` };
    }
    for (const pa of [workload, namespaceWide, meshWide]) {
      if (pa && set(pa.spec?.mtls?.mode)) return { mode: pa.spec.mtls.mode, source: ref(pa) };
    }
    return { mode: 'PERMISSIVE' };
  }
}

function ns(o: Manifest): string {
  return o.metadata.namespace ?? 'default';
}

function ref(o: Manifest): string {
  return `${ns(o)}/${o.metadata.name}`;
}

function isSecurity(o: Manifest, kind: string): boolean {
  return o.kind === kind && typeof o.apiVersion === 'string' && o.apiVersion.startsWith(`${SECURITY_GROUP}/`);
}

function targetRefs(o: Manifest): any[] {
  return o.spec?.targetRefs ?? (o.spec?.targetRef ? [o.spec.targetRef] : []);
}

function selects(selector: Labels | undefined, labels: Labels): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

const any = (patterns: string[] | undefined, test: (p: string) => boolean) => patterns === undefined || patterns.some(test);
const none = (patterns: string[] | undefined, test: (p: string) => boolean) => patterns === undefined || !patterns.some(test);

/**
 * Whether a rule matches. Without L7, rules with HTTP fields never match in ALLOW policies and match without those
 * fields in DENY policies, as ztunnel (and sidecars on TCP) enforce them.
 */
function matchRule(rule: any, a: Attributes, hop: Hop, allow: boolean): boolean {
  const l7 = hop.l7;
  if (!l7) {
    const l7Source = (k: string) => !(hop.remoteIpAtL4 && REMOTE_IP_FIELDS.includes(k));
    const hasL7 = (rule.from ?? []).some((f: any) => L7_SOURCE_FIELDS.some(k => f.source?.[k] !== undefined && l7Source(k)))
      || (rule.to ?? []).some((t: any) => L7_OPERATION_FIELDS.some(k => t.operation?.[k] !== undefined))
      || (rule.when ?? []).some((w: any) => !hop.l4Keys.includes(w.key));
    if (hasL7 && allow) return false;
  }
  const from: any[] | undefined = rule.from;
  if (from && from.length && !from.some(f => matchSource(f.source ?? {}, a, l7, l7 || hop.remoteIpAtL4))) return false;
  const to: any[] | undefined = rule.to;
  if (to && to.length && !to.some(t => matchOperation(t.operation ?? {}, a, l7))) return false;
  return (rule.when ?? []).filter((w: any) => l7 || hop.l4Keys.includes(w.key)).every((w: any) => matchCondition(w, a));
}

function matchSource(s: any, a: Attributes, l7: boolean, remoteIp: boolean): boolean {
  const str = (v: string) => (p: string) => matchString(p, v);
  const ip = (v: string) => (p: string) => v !== '' && ipInBlock(v, p);
  const serviceAccount = (p: string) => (p.includes('/') ? p : `${a.policyNamespace}/${p}`) === a.serviceAccount;
  return any(s.principals, str(a.principal)) && none(s.notPrincipals, str(a.principal))
    && any(s.namespaces, str(a.namespace)) && none(s.notNamespaces, str(a.namespace))
    && any(s.serviceAccounts, serviceAccount) && none(s.notServiceAccounts, serviceAccount)
    && any(s.trustDomains, str(a.trustDomain)) && none(s.notTrustDomains, str(a.trustDomain))
    && any(s.ipBlocks, ip(a.ip)) && none(s.notIpBlocks, ip(a.ip))
    && (!l7 || (any(s.requestPrincipals, str(a.requestPrincipal)) && none(s.notRequestPrincipals, str(a.requestPrincipal))))
    && (!remoteIp || (any(s.remoteIpBlocks, ip(a.ip)) && none(s.notRemoteIpBlocks, ip(a.ip))));
}

function matchOperation(o: any, a: Attributes, l7: boolean): boolean {
  const port = (p: string) => String(p) === a.port;
  if (!(any(o.ports, port) && none(o.notPorts, port))) return false;
  if (!l7) return true;
  const host = (p: string) => matchString(p, a.host, true);
  const method = (p: string) => matchString(p, a.method);
  const path = (p: string) => matchPath(p, a.path);
  return any(o.hosts, host) && none(o.notHosts, host)
    && any(o.methods, method) && none(o.notMethods, method)
    && any(o.paths, path) && none(o.notPaths, path);
}

function matchCondition(w: any, a: Attributes): boolean {
  const values = conditionValues(w.key, a);
  const test = (pattern: string) => values.some(v => (['source.ip', 'remote.ip', 'destination.ip'].includes(w.key) && isIpOrCidr(pattern)
    ? v !== '' && ipInBlock(v, pattern)
    : matchString(pattern, v)));
  return any(w.values, test) && none(w.notValues, test);
}

/** The values of a condition's attribute (several for list claims and audiences); `['']` when absent. */
function conditionValues(key: string, a: Attributes): string[] {
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) return [a.headers[header[1].toLowerCase()] ?? ''];
  if (key.startsWith('request.auth.claims[')) {
    const path = [...key.slice('request.auth.claims'.length).matchAll(/\[([^\]]+)\]/g)].map(m => m[1]);
    let value: any = a.claims;
    for (const p of path) value = value !== null && typeof value === 'object' && !Array.isArray(value) ? value[p] : undefined;
    if (value === undefined || value === null) return [''];
    return Array.isArray(value) ? value.map(String) : [typeof value === 'object' ? JSON.stringify(value) : String(value)];
  }
  switch (key) {
    case 'request.auth.principal': return [a.requestPrincipal];
    case 'request.auth.audiences': return a.audiences.length ? a.audiences : [''];
    case 'request.auth.presenter': return [a.presenter];
    case 'source.principal': return [a.principal];
    case 'source.namespace': return [a.namespace];
    case 'source.ip':
    case 'remote.ip': return [a.ip];
    case 'destination.port': return [a.port];
    // The TLS server name a client sends is the host it connects to.
    case 'connection.sni': return [a.host];
    default: return [''];
  }
}

