import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { Construct, IConstruct } from 'constructs';
import { AppScan, ScannedRule, appScan, pushTo } from '../_app-scan';
import { configError } from '../_errors';
import { compact } from '../_render';
import { synthesizedSpec } from '../_spec-source';
import { isDnsLabel, requireDnsLabel, requireInteger } from '../_validate';
import { UniqueNames } from './_names';
import {
  GATEWAY_NAME_LABEL, HBONE_PORT, Labels, NamespaceProxy, namespaceEgress, NetPeer, NetPort, NetRule, networkPolicyObject,
  onNamespaceProxy, tcp,
} from './_network-policy';
import { AuthorizationAction, AuthorizationPolicy, PolicyTarget } from './authorization-policy';
import {
  AuthorizationRule, Condition, IAuthorizationSource, NetworkPeer, Operation, RuleProps, Source, operationIsEmpty, renderRule, ruleNeedsL7,
  ruleProps, ruleUsesJwt,
} from './authorization-rule';
import { MigrationPhase, MtlsMode } from './mtls-mode';
import { PeerAuthentication } from './peer-authentication';
import { JwtIssuer, RequestAuthentication, renderIssuer } from './request-authentication';
import { USE_WAYPOINT_LABEL, Waypoint } from '../ambient/waypoint';
import { namespaceDataplane } from '../mesh/_namespace-dataplane';
import { NamespaceSidecar } from '../mesh/_namespace-sidecar';
import { DataplaneMode, Mesh } from '../mesh/mesh';
import { IServiceIdentity } from '../mesh/service-identity';
import { WorkloadSelector } from '../mesh/workload-selector';

/** istiod's xDS and certificate signing port (gRPC over TLS), which sidecars and waypoints connect to. */
const ISTIOD_XDS_PORT = 15012;
/** The proxies' metrics: 15020 (pilot-agent, merged with the application's), 15090 (Envoy's own). */
const METRICS_PORTS = [15020, 15090];
/** The addresses ambient rewrites kubelet health probes to (IPv4, IPv6), so they can be told from mesh traffic. */
const AMBIENT_PROBE_CIDRS = ['169.254.7.127/32', 'fd16:9254:7127:1337:ffff:ffff:ffff:ffff/128'];

/** Properties of a {@link ZeroTrustNamespace}. */
export interface ZeroTrustNamespaceProps {
  /**
   * The namespace, created here and enrolled in the mesh.
   * @default - the chart's namespace, else `default`
   */
  readonly namespace?: string;
  /**
   * How the namespace's workloads join the mesh.
   * @default - the Mesh's data plane mode
   */
  readonly dataplaneMode?: DataplaneMode;
  /**
   * Where the namespace is on the way to zero trust; PERMISSIVE mutual TLS only in the first phase.
   * @default MigrationPhase.ENFORCE
   */
  readonly migrationPhase?: MigrationPhase;
  /**
   * Defence in depth at L3/L4: a NetworkPolicy that denies all traffic of the namespace's pods except what the
   * mesh needs (DNS, istiod, the waypoint, kubelet probes in ambient mode) and the declared calls. `false` gives
   * that up and leaves the mesh as the only barrier.
   * @default true
   */
  readonly networkPolicy?: boolean;
  /**
   * Sidecar mode: a namespace-wide Sidecar that limits what each proxy knows (so can call) to its own namespace,
   * Istio's root namespace and the namespaces of declared calls. `false` gives that up: proxies know every service
   * of the mesh, unless an EgressControl of the namespace limits them (its Sidecar then lists the declared calls).
   * @default true
   */
  readonly limitSidecarEgress?: boolean;
  /**
   * Ambient mode: the waypoint that enforces the rules (it sees requests: methods, paths, JWTs).
   * @default - the namespace's shared waypoint (`Waypoint.forNamespace`), unless `withoutWaypoint`
   */
  readonly waypoint?: Waypoint;
  /**
   * Ambient mode: no waypoint; ztunnel enforces the rules at L4. Gives up L7 rules (methods, paths, hosts, headers,
   * JWT), which are then refused.
   * @default false
   */
  readonly withoutWaypoint?: boolean;
  /**
   * Namespaces whose pods (Prometheus) scrape the proxies' metrics on 15020 and 15090; the NetworkPolicy admits
   * them. Scraping an application port in plaintext needs `ZeroTrustWorkload.acceptPlaintextOnPort` as well.
   * @default - none
   */
  readonly metricsScraperNamespaces?: string[];
}

/** Options of {@link ZeroTrustNamespace.addWorkload}. */
export interface ZeroTrustWorkloadOptions {
  /**
   * The name the workload's generated objects are named after (`<name>-allow-<source>`).
   * @default - the workload's name
   */
  readonly name?: string;
  /**
   * The Service in front of the workload's pods. In ambient mode with a waypoint the rules are attached to it,
   * since the waypoint enforces rules per Service.
   * @default - none; required for rules in ambient mode with a waypoint
   */
  readonly serviceName?: string;
}

/** Options of {@link ZeroTrustNamespace.addWorkloadSelector}. */
export interface ZeroTrustWorkloadSelectorOptions {
  /** The name the workload's generated objects are named after. */
  readonly name: string;
  /**
   * The Service in front of the pods (ambient mode with a waypoint).
   * @default - none; required for rules in ambient mode with a waypoint
   */
  readonly serviceName?: string;
}

/** Options of {@link ZeroTrustNamespace.allowEgress}. */
export interface EgressAllowanceOptions {
  /**
   * Namespaces the pods may connect to (all their pods); in sidecar mode they are added to the Sidecar too.
   * @default - none
   */
  readonly namespaces?: string[];
  /**
   * IP addresses or CIDR blocks the pods may connect to.
   * @default - none
   */
  readonly ipBlocks?: string[];
  /**
   * TCP ports allowed.
   * @default - every port of every protocol, unless `udpPorts` is given
   */
  readonly ports?: number[];
  /**
   * UDP ports allowed (an NTP server, an external DNS resolver). The mesh's proxies do not carry UDP: it goes
   * straight from the pod.
   * @default - every port of every protocol, unless `ports` is given
   */
  readonly udpPorts?: number[];
}

interface Connection {
  readonly callerNamespace: string;
  readonly callerWorkload?: ZeroTrustWorkload;
  readonly destinationNamespace: string;
  readonly to: NetPeer[];
  readonly ports?: NetPort[];
}

interface Registry {
  readonly namespaces: Map<string, ZeroTrustNamespace>;
  /** The declared calls, by the caller's namespace. */
  readonly connections: Map<string, Connection[]>;
}

const REGISTRY = Symbol.for('cdk8s-istio.ZeroTrustNamespace');

function registry(scope: Construct): Registry {
  const root = scope.node.root as any;
  if (!root[REGISTRY]) Object.defineProperty(root, REGISTRY, { value: { namespaces: new Map(), connections: new Map() }, enumerable: false });
  return root[REGISTRY];
}

/** The scan's DestinationRules towards Services of `namespace`, indexed once per cluster domain. */
function destinationRulesTowards(scan: AppScan, namespace: string, clusterDomain: string): ScannedRule[] {
  let index = scan.destinationRulesByNamespace.get(clusterDomain);
  if (!index) {
    index = new Map();
    scan.rulesWithSpecs ??= scan.destinationRules.flatMap(object => {
      const spec = synthesizedSpec(object);
      return spec ? [{ object, spec }] : [];
    });
    for (const rule of scan.rulesWithSpecs) {
      const hostNamespace = namespaceOfHost(String(rule.spec.host ?? ''), rule.object.metadata.namespace ?? 'default', clusterDomain);
      if (hostNamespace !== undefined) pushTo(index, hostNamespace, rule);
    }
    scan.destinationRulesByNamespace.set(clusterDomain, index);
  }
  return index.get(namespace) ?? [];
}

/**
 * When cdk8s emits `c`, as a position in the construct tree: it walks the constructs nothing depends on in tree
 * order, each after what it depends on, so a construct something depends on comes out just before the first of its
 * dependants to come out, whatever its own position. Dependants in other charts only make this earlier than it is,
 * which is the safe side for ordering. `position`: where `c` is in the tree, when the caller knows it.
 */
function emittedAt(scan: AppScan, c: IConstruct, position: number = scan.position.get(c) ?? Infinity): number {
  const dependants = scan.dependants.get(c);
  if (!dependants) return position;
  const known = scan.emission.get(c);
  if (known !== undefined) return known;
  // A cycle (which cdk8s refuses) cannot recurse forever.
  scan.emission.set(c, Infinity);
  let at = Infinity;
  for (const d of dependants) at = Math.min(at, emittedAt(scan, d));
  scan.emission.set(c, at);
  return at;
}

/** The namespace of the Services `host` names (`name.ns`, `*.ns.svc.<domain>`, ...), or undefined for other hosts. */
function namespaceOfHost(host: string, ruleNamespace: string, clusterDomain: string): string | undefined {
  const short = host.endsWith(`.svc.${clusterDomain}`) ? host.slice(0, -`.svc.${clusterDomain}`.length) : host.replace(/\.svc$/, '');
  const parts = short.split('.');
  if (parts.length === 1) return host.includes('.') ? undefined : ruleNamespace;
  return parts.length === 2 ? parts[1] : undefined;
}

/**
 * A namespace where every call is mutually authenticated and only the calls declared are allowed.
 *
 * It synthesizes the Namespace, enrolled in the mesh (`istio-injection=enabled`, `istio.io/rev=<revision>` or
 * `istio.io/dataplane-mode=ambient`); a namespace-wide PeerAuthentication (STRICT, PERMISSIVE only in the first
 * migration phase); an AuthorizationPolicy with an empty spec, which denies everything no ALLOW policy admits; and,
 * as defence in depth, a default-deny NetworkPolicy with the allowances the mesh needs and, in sidecar mode, a
 * Sidecar limiting each proxy's egress. Workloads are added with `addWorkload()`, and calls to them declared with
 * `allowFrom()`, which creates both sides: the ALLOW policy, the NetworkPolicy ingress of the workload and the
 * egress of the caller (when its namespace is a ZeroTrustNamespace too), and the caller's Sidecar egress host.
 *
 * In ambient mode the rules go to the namespace's waypoint (attached to the workload's Service), because ztunnel
 * cannot enforce methods, paths or JWTs; each workload then admits only the waypoint's identity at L4, so the rules
 * cannot be bypassed by calling the pods directly.
 *
 * @example
 * const zt = new ZeroTrustNamespace(chart, 'Shop');
 * const backend = zt.addWorkload(backendDeployment, { serviceName: 'backend' });
 * const frontend = zt.addWorkload(frontendDeployment, { serviceName: 'frontend' });
 * backend.allowFrom(frontend, { methods: ['GET'], paths: ['/api/*'] });
 * frontend.allowFrom(Source.ingressGateway(), { paths: ['/', '/static/*'] });
 * @see https://istio.io/latest/docs/ops/best-practices/security/
 */
export class ZeroTrustNamespace extends Construct {
  /** The namespace's name. */
  public readonly namespaceName: string;
  /** The Namespace object, with the mesh enrolment labels. */
  public readonly namespace: ApiObject;
  /** How the namespace's workloads join the mesh. */
  public readonly dataplaneMode: DataplaneMode;
  /** The migration phase. */
  public readonly migrationPhase: MigrationPhase;
  /** The namespace's mutual TLS mode. */
  public readonly mtlsMode: MtlsMode;
  /** Whether the AuthorizationPolicies are emitted in dry run (every phase before ENFORCE). */
  public readonly dryRun: boolean;
  /** The namespace-wide PeerAuthentication (`default`). */
  public readonly peerAuthentication: PeerAuthentication;
  /** The AuthorizationPolicy with an empty spec (`deny-all`), which makes the namespace deny by default. */
  public readonly denyAll: AuthorizationPolicy;
  /** Ambient mode with a waypoint: the waypoint's "allow nothing" policy, since waypoints only read attached policies. */
  public readonly waypointDenyAll?: AuthorizationPolicy;
  /** The default-deny NetworkPolicy, unless switched off or withheld by the migration phase. */
  public readonly networkPolicy?: ApiObject;
  /** The NetworkPolicy with what the mesh itself needs (`allow-mesh`). */
  public readonly meshNetworkPolicy?: ApiObject;
  /** Ambient mode: the NetworkPolicy of the waypoint's pods. */
  public readonly waypointNetworkPolicy?: ApiObject;
  /** Sidecar mode: the Sidecar limiting the proxies' egress, shared with an EgressControl of the namespace. */
  public readonly sidecar?: ApiObject;
  /** Ambient mode: the waypoint that enforces the rules. */
  public readonly waypoint?: Waypoint;
  /** @internal Names of the AuthorizationPolicies of the namespace. */
  public readonly _names = new UniqueNames();
  /** @internal Names of the other generated objects, per kind. */
  public readonly _otherNames: { [kind: string]: UniqueNames } = {
    PeerAuthentication: new UniqueNames(), RequestAuthentication: new UniqueNames(), NetworkPolicy: new UniqueNames(),
  };
  private readonly workloadList: ZeroTrustWorkload[] = [];
  private readonly meshIngress: NetRule[] = [];
  private readonly meshEgress: NetRule[] = [];
  private readonly waypointIngress: NetRule[] = [];
  private readonly egressNamespaces: string[] = [];
  private readonly enforcing: boolean;

  public constructor(scope: Construct, id: string, props: ZeroTrustNamespaceProps = {}) {
    super(scope, id);
    const mesh = Mesh.of(this);
    this.namespaceName = requireDnsLabel(this, 'namespace', props.namespace ?? Chart.of(this).namespace ?? 'default');
    const reg = registry(this);
    const other = reg.namespaces.get(this.namespaceName);
    if (other) throw configError(this, 'namespace', this.namespaceName, `${other.node.path} already makes it zero trust: define one ZeroTrustNamespace per namespace`);
    if (this.namespaceName === mesh.rootNamespace) {
      throw configError(this, 'namespace', this.namespaceName, 'policies in Istio\'s root namespace apply to the whole mesh: choose an application namespace');
    }
    this.dataplaneMode = props.dataplaneMode ?? mesh.dataplaneMode;
    if (!Object.values(DataplaneMode).includes(this.dataplaneMode)) throw configError(this, 'dataplaneMode', this.dataplaneMode, 'use a DataplaneMode');
    this.migrationPhase = props.migrationPhase ?? MigrationPhase.ENFORCE;
    if (!Object.values(MigrationPhase).includes(this.migrationPhase)) throw configError(this, 'migrationPhase', this.migrationPhase, 'use a MigrationPhase');
    const ambient = this.dataplaneMode === DataplaneMode.AMBIENT;
    if (!ambient) {
      if (props.waypoint) throw configError(this, 'waypoint', props.waypoint.node.path, 'waypoints serve ambient mode: set dataplaneMode to AMBIENT, or drop waypoint');
      if (props.withoutWaypoint !== undefined) throw configError(this, 'withoutWaypoint', props.withoutWaypoint, 'waypoints serve ambient mode: drop withoutWaypoint');
    } else {
      if (props.limitSidecarEgress !== undefined) {
        throw configError(this, 'limitSidecarEgress', props.limitSidecarEgress, 'ambient mode has no sidecars: drop limitSidecarEgress (egress is limited by the NetworkPolicy)');
      }
      if (props.waypoint && props.withoutWaypoint) throw configError(this, 'withoutWaypoint', true, 'set either waypoint or withoutWaypoint');
    }
    const scrapers = [...(props.metricsScraperNamespaces ?? [])];
    scrapers.forEach((n, i) => requireDnsLabel(this, `metricsScraperNamespaces[${i}]`, n));
    namespaceDataplane(this, this.namespaceName, this.dataplaneMode);

    this.mtlsMode = this.migrationPhase === MigrationPhase.ACCEPT_PLAINTEXT ? MtlsMode.PERMISSIVE : MtlsMode.STRICT;
    this.dryRun = this.migrationPhase !== MigrationPhase.ENFORCE;
    this.enforcing = this.migrationPhase === MigrationPhase.ENFORCE;

    // The Namespace: sidecar injection (by revision when the mesh has one, never both labels) or ambient.
    const labels: Labels = ambient
      ? { 'istio.io/dataplane-mode': 'ambient' }
      : (mesh.revision ? { 'istio.io/rev': mesh.revision } : { 'istio-injection': 'enabled' });
    this.namespace = new ApiObject(this, 'Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespaceName, labels } });
    // cdk8s gives every object of a namespaced chart its namespace; a Namespace is cluster-scoped.
    if (Chart.of(this).namespace !== undefined) this.namespace.addJsonPatch(JsonPatch.remove('/metadata/namespace'));

    if (ambient && !props.withoutWaypoint) {
      this.waypoint = props.waypoint ?? Waypoint.forNamespace(this, this.namespaceName);
      if (this.waypoint.namespace !== this.namespaceName) {
        throw configError(this, 'waypoint', this.waypoint.namespace, `use a waypoint of namespace '${this.namespaceName}'`);
      }
      this.waypoint.use(this.namespace);
      // Ingress gateways skip waypoints unless asked (Istio 1.25+ reads it on the namespace): the L7 rules of
      // requests from the gateway would otherwise never be enforced, and the workloads admit only the waypoint.
      this.namespace.metadata.addLabel('istio.io/ingress-use-waypoint', 'true');
    }

    this.peerAuthentication = new PeerAuthentication(this, 'PeerAuthentication', {
      name: this._otherNames.PeerAuthentication.take('default'),
      namespace: this.namespaceName,
      mode: this.mtlsMode,
      dataplaneMode: this.dataplaneMode,
    });
    this.denyAll = new AuthorizationPolicy(this, 'DenyAll', {
      name: this._names.take('deny-all'),
      namespace: this.namespaceName,
      dryRun: this.dryRun,
      dataplaneMode: this.dataplaneMode,
    });
    if (this.waypoint) {
      this.waypointDenyAll = new AuthorizationPolicy(this, 'WaypointDenyAll', {
        name: this._names.take('deny-all-waypoint'),
        namespace: this.namespaceName,
        targets: [PolicyTarget.gateway(this.waypoint.name)],
        dryRun: this.dryRun,
      });
    }

    if (this.enforcing && props.networkPolicy !== false) {
      this.networkPolicy = networkPolicyObject(this, 'NetworkPolicy', {
        name: this._otherNames.NetworkPolicy.take('default-deny'), namespace: this.namespaceName, ingress: () => [], egress: () => [],
      });
      this.meshNetworkPolicy = networkPolicyObject(this, 'MeshNetworkPolicy', {
        name: this._otherNames.NetworkPolicy.take('allow-mesh'),
        namespace: this.namespaceName,
        ingress: () => this.meshIngress,
        egress: () => [...this.meshEgress, ...this.connectionsFrom(undefined), ...namespaceEgress(this, this.namespaceName)],
      });
      this.meshEgressBasics(mesh);
      if (scrapers.length) this.meshIngress.push({ peers: scrapers.map(n => ({ namespace: n })), ports: tcp(...METRICS_PORTS) });
      if (ambient) {
        // Kubelet probes arrive from this address once pods are in ambient mode; many CNIs would block them.
        this.meshIngress.push({ peers: AMBIENT_PROBE_CIDRS.map(cidr => ({ cidr })) });
      }
      if (this.waypoint) {
        const waypointPods = this.waypointPods();
        this.meshIngress.push({ peers: [{ namespace: this.namespaceName, podLabels: waypointPods }], ports: tcp(HBONE_PORT) });
        this.waypointNetworkPolicy = networkPolicyObject(this, 'WaypointNetworkPolicy', {
          name: this._otherNames.NetworkPolicy.take(`${this.waypoint.name}-allow`),
          namespace: this.namespaceName,
          podLabels: waypointPods,
          ingress: () => this.waypointIngress,
          egress: () => [
            { peers: [{ namespace: mesh.rootNamespace, podLabels: () => ({ app: 'istiod' }) }], ports: tcp(ISTIOD_XDS_PORT) },
            { peers: [{ namespace: this.namespaceName }], ports: tcp(HBONE_PORT) },
          ],
        });
      }
      // Gateways and waypoints other constructs run in the namespace, defined before or after this one.
      onNamespaceProxy(this, this.namespaceName, proxy => this.admitProxy(mesh, proxy));
    }

    if (!ambient) {
      // The namespace's one Sidecar, shared with an EgressControl of the namespace: the calls declared here are
      // added to it whoever creates it, so they keep working under the EgressControl's REGISTRY_ONLY.
      const sidecar = NamespaceSidecar.of(this, this.namespaceName);
      sidecar.contribute({ hosts: () => this.sidecarHosts() });
      if (this.enforcing && props.limitSidecarEgress !== false) this.sidecar = sidecar.ensure(this, 'Sidecar');
    }

    this.node.addValidation({ validate: () => this.validate(mesh) });
    reg.namespaces.set(this.namespaceName, this);
  }

  /** The workloads added so far. */
  public get workloads(): ZeroTrustWorkload[] {
    return [...this.workloadList];
  }

  /** Whether rules are enforced by a waypoint (ambient mode with a waypoint). */
  public get usesWaypoint(): boolean {
    return this.waypoint !== undefined;
  }

  /**
   * Adds a cdk8s-plus workload (Deployment, StatefulSet, ...) of the namespace, to declare who may call it.
   * @returns the handle to declare its rules with
   * @example
   * const backend = zt.addWorkload(backendDeployment, { serviceName: 'backend' });
   * backend.allowFrom(frontend, { methods: ['GET'], paths: ['/api/*'] });
   */
  public addWorkload(workload: kplus.Workload, options: ZeroTrustWorkloadOptions = {}): ZeroTrustWorkload {
    const selector = WorkloadSelector.fromWorkload(workload);
    return this.addWorkloadSelector(selector, { name: options.name ?? workload.name, serviceName: options.serviceName });
  }

  /**
   * Adds the pods a selector picks (imported workloads, other tools' Deployments).
   * @returns the handle to declare their rules with
   */
  public addWorkloadSelector(selector: WorkloadSelector, options: ZeroTrustWorkloadSelectorOptions): ZeroTrustWorkload {
    if (this.workloadList.some(w => w.name === options.name)) {
      throw configError(this, 'name', options.name, 'each workload is added once: add it under one name');
    }
    return new ZeroTrustWorkload(this, options.name, { selector, name: options.name, serviceName: options.serviceName });
  }

  /**
   * Lets the namespace's pods open connections the NetworkPolicy would otherwise drop: namespaces whose services are
   * called but not declared through a ZeroTrustNamespace, an egress gateway, external addresses.
   * @example
   * zt.allowEgress({ namespaces: ['payments'], ports: [8080] });
   */
  public allowEgress(options: EgressAllowanceOptions): void {
    const namespaces = options.namespaces ?? [];
    const blocks = options.ipBlocks ?? [];
    namespaces.forEach((n, i) => requireDnsLabel(this, `namespaces[${i}]`, n));
    blocks.forEach((b, i) => {
      if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(b)) throw configError(this, `ipBlocks[${i}]`, b, 'use an IP address or a CIDR block');
    });
    const udp = options.udpPorts ?? [];
    for (const [prop, list] of [['ports', options.ports ?? []], ['udpPorts', udp]] as const) {
      list.forEach((p, i) => {
        requireInteger(this, `${prop}[${i}]`, p, 1);
        if (p > 65535) throw configError(this, `${prop}[${i}]`, p, 'use a port from 1 to 65535');
      });
    }
    if (!namespaces.length && !blocks.length) throw configError(this, 'namespaces', [], 'give namespaces or ipBlocks');
    const given = [...tcp(...options.ports ?? []), ...udp.map(port => ({ port, protocol: 'UDP' }))];
    const ports = given.length ? given : undefined;
    // In-mesh destinations are reached over HBONE (15008) by ztunnel, and by sidecars calling ambient pods.
    if (namespaces.length) this.meshEgress.push({ peers: namespaces.map(n => ({ namespace: n })), ports: ports && [...ports, ...tcp(HBONE_PORT)] });
    if (blocks.length) this.meshEgress.push({ peers: blocks.map(cidr => ({ cidr })), ports });
    this.egressNamespaces.push(...namespaces.filter(n => n !== this.namespaceName));
  }

  /** @internal */
  public _register(workload: ZeroTrustWorkload): void {
    this.workloadList.push(workload);
  }

  /** @internal Whether NetworkPolicies are emitted. */
  public get _networkPolicies(): boolean {
    return this.networkPolicy !== undefined;
  }

  /** @internal Admits callers to the waypoint (ambient): the waypoint's pods receive on HBONE. */
  public _admitToWaypoint(peers: NetPeer[]): void {
    this.waypointIngress.push({ peers, ports: tcp(HBONE_PORT) });
  }

  /** @internal The pods a caller connects to when it calls `workload`, with the ports. */
  public _destinationOf(workload: ZeroTrustWorkload, ports: NetPort[] | undefined): { to: NetPeer[]; ports?: NetPort[] } {
    if (this.waypoint) return { to: [{ namespace: this.namespaceName, podLabels: this.waypointPods() }], ports: tcp(HBONE_PORT) };
    const pods = { namespace: this.namespaceName, podLabels: () => workload.selector.labels };
    if (this.dataplaneMode === DataplaneMode.AMBIENT) return { to: [pods], ports: tcp(HBONE_PORT) };
    // Sidecars receive on the application's ports, and on HBONE from ambient callers (the sidecar authorizes both).
    return { to: [pods], ports: ports ? [...ports, ...tcp(HBONE_PORT)] : undefined };
  }

  /** @internal Records a declared call, for the caller's NetworkPolicy egress and Sidecar. */
  public _connect(connection: Connection): void {
    pushTo(registry(this).connections, connection.callerNamespace, connection);
  }

  /** @internal The egress rules of declared calls from `workload` (or from the namespace's other callers). */
  public _connectionsFrom(workload: ZeroTrustWorkload | undefined): NetRule[] {
    return this.connectionsFrom(workload);
  }

  private connectionsFrom(workload: ZeroTrustWorkload | undefined): NetRule[] {
    return (registry(this).connections.get(this.namespaceName) ?? [])
      .filter(c => c.callerWorkload === workload)
      .map(c => ({ peers: c.to, ports: c.ports }));
  }

  private waypointPods(): () => Labels {
    const name = this.waypoint!.name;
    return () => ({ [GATEWAY_NAME_LABEL]: name });
  }

  /** A NetworkPolicy for a gateway or waypoint another construct runs here, which default-deny isolates, and the way to a waypoint. */
  private admitProxy(mesh: Mesh, proxy: NamespaceProxy): void {
    if (proxy.waypoint) this.meshEgress.push({ peers: [{ namespace: this.namespaceName, podLabels: proxy.podLabels }], ports: tcp(HBONE_PORT) });
    networkPolicyObject(this, `${proxy.waypoint ? 'Waypoint' : 'Gateway'}NetworkPolicy-${proxy.name}`, {
      name: this._otherNames.NetworkPolicy.take(`${proxy.name}-allow`),
      namespace: this.namespaceName,
      podLabels: proxy.podLabels,
      ingress: proxy.ingress,
      // Gateways and waypoints are Envoy proxies: they take their configuration from istiod in either data plane mode.
      egress: () => [
        { peers: [{ namespace: mesh.rootNamespace, podLabels: () => ({ app: 'istiod' }) }], ports: tcp(ISTIOD_XDS_PORT) },
        ...proxy.egress(),
      ],
    });
  }

  private meshEgressBasics(mesh: Mesh): void {
    // DNS, from CoreDNS (kube-dns) in kube-system; the sidecar's DNS proxy forwards there too.
    this.meshEgress.push({ peers: [{ namespace: 'kube-system' }], ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] });
    if (this.dataplaneMode === DataplaneMode.SIDECAR) {
      // Sidecars fetch configuration and certificates from istiod on 15012 (xDS and CA over TLS). 15017 is the
      // injection webhook, called by the API server, and 15010 plaintext xDS is not used by default: neither is opened.
      // In ambient mode ztunnel talks to istiod from its own pod, so workloads need nothing.
      this.meshEgress.push({ peers: [{ namespace: mesh.rootNamespace, podLabels: () => ({ app: 'istiod' }) }], ports: tcp(ISTIOD_XDS_PORT) });
    }
  }

  /** The namespaces the workloads call, for the Sidecar (which knows its own and the root namespace's). */
  private sidecarHosts(): string[] {
    const called = (registry(this).connections.get(this.namespaceName) ?? []).map(c => c.destinationNamespace);
    return [...called, ...this.egressNamespaces].filter(n => n !== this.namespaceName).map(n => `${n}/*`);
  }

  private validate(mesh: Mesh): string[] {
    const errors: string[] = [];
    const chart = Chart.of(this);
    const scan = appScan(this);
    for (const o of scan.namespaces) {
      if (o !== this.namespace && o.name === this.namespaceName) {
        errors.push(`${o.node.path} defines Namespace '${this.namespaceName}' too: remove it; the ZeroTrustNamespace creates it with the mesh labels`);
      }
    }
    const objects = scan.byNamespace.get(this.namespaceName) ?? [];
    const positions = scan.positionsByNamespace.get(this.namespaceName) ?? [];
    const namespaceEmitted = emittedAt(scan, this.namespace);
    for (let i = 0; i < objects.length; i++) {
      const o = objects[i];
      if (o === this.namespace) continue;
      // The Namespace goes first, so `kubectl apply -f` creates it before what lives in it. Only what would come out
      // with it or before it needs the dependency (which moves the Namespace just before the first of those).
      const early = emittedAt(scan, o, positions[i]) <= namespaceEmitted;
      if (early && o.chart === chart) o.node.addDependency(this.namespace);
      if (this.sidecar && o !== this.sidecar && o.kind === 'Sidecar' && o.apiVersion.startsWith('networking.istio.io/')) {
        const spec = synthesizedSpec(o);
        if (spec && !spec.workloadSelector) {
          errors.push(`${o.node.path} is a namespace-wide Sidecar of '${this.namespaceName}' too, and Istio uses only one: set limitSidecarEgress: false on the ZeroTrustNamespace (the other Sidecar limits egress), or remove it`);
        }
      }
      if (this.dataplaneMode === DataplaneMode.AMBIENT && !this.waypoint && o.kind === 'Service') {
        const use = o.metadata.getLabel(USE_WAYPOINT_LABEL);
        if (use !== undefined && use !== 'none') {
          errors.push(`${o.node.path}: Service uses waypoint '${use}', but the ZeroTrustNamespace enforces its rules at ztunnel (withoutWaypoint), which then sees the waypoint's identity instead of the callers': drop withoutWaypoint, or the waypoint`);
        }
      }
    }
    errors.push(...this.destinationRuleErrors(scan, mesh.clusterDomain));
    for (const w of this.workloadList) errors.push(...w._servicePortErrors());
    const unvalidated = this.workloadList.filter(w => w._usesJwt && !w._validatesJwt);
    const requestAuthentications = () => [this.namespaceName, mesh.rootNamespace]
      .some(n => (scan.byNamespace.get(n) ?? []).some(o => o.kind === 'RequestAuthentication'));
    if (unvalidated.length && !requestAuthentications()) {
      for (const w of unvalidated) {
        errors.push(`${w.node.path}: a rule reads the JWT (request principals or request.auth.*), but no RequestAuthentication validates tokens for the workload, so the rule never matches: call requireJwt()`);
      }
    }
    return errors;
  }

  /** Under STRICT, DestinationRules towards this namespace must let clients speak Istio mutual TLS. */
  private destinationRuleErrors(scan: AppScan, clusterDomain: string): string[] {
    if (this.mtlsMode !== MtlsMode.STRICT) return [];
    const errors: string[] = [];
    const plaintextPorts = new Set(this.workloadList.flatMap(w => w._plaintextPorts));
    // A DestinationRule names Service ports, acceptPlaintextOnPort container ports: the Service, when in the app, maps
    // one to the other (a named target port is not resolved, so it is not taken for a plaintext port).
    // Read only when a rule disables TLS on a port, which validation of most namespaces never meets.
    let services: Map<string, ApiObject> | undefined;
    const containerPort = (host: string, port: number | undefined): number | string | undefined => {
      services ??= new Map((scan.byNamespace.get(this.namespaceName) ?? []).filter(o => o.kind === 'Service').map(o => [o.name, o]));
      const service = services.get(host.split('.')[0]);
      if (!service || port === undefined) return port;
      const entry = ((service.toJson().spec ?? {}).ports ?? []).find((sp: any) => sp.port === port);
      return entry?.targetPort ?? port;
    };
    for (const { object: o, spec } of destinationRulesTowards(scan, this.namespaceName, clusterDomain)) {
      const check = (policy: any, at: string) => {
        if (!policy) return;
        const mode = policy.tls?.mode;
        if (mode && mode !== 'ISTIO_MUTUAL') {
          errors.push(`${o.node.path}: DestinationRule '${o.name}' sets ${at}.tls.mode ${mode} for ${spec.host}, which STRICT mutual TLS in namespace '${this.namespaceName}' refuses: use ISTIO_MUTUAL, or drop tls to let auto mTLS choose`);
        }
        for (const [i, p] of (policy.portLevelSettings ?? []).entries()) {
          const portMode = p.tls?.mode;
          if (!portMode || portMode === 'ISTIO_MUTUAL') continue;
          if (portMode === 'DISABLE' && plaintextPorts.has(containerPort(String(spec.host), p.port?.number) as number)) continue;
          errors.push(`${o.node.path}: DestinationRule '${o.name}' sets ${at}.portLevelSettings[${i}].tls.mode ${portMode} for ${spec.host}, which STRICT mutual TLS in namespace '${this.namespaceName}' refuses: use ISTIO_MUTUAL, or accept plaintext on the container port behind that Service port with acceptPlaintextOnPort()`);
        }
      };
      check(spec.trafficPolicy, 'trafficPolicy');
      for (const s of spec.subsets ?? []) check(s.trafficPolicy, `subsets.${s.name}.trafficPolicy`);
    }
    return errors;
  }
}

/** Properties of a {@link ZeroTrustWorkload}. */
export interface ZeroTrustWorkloadProps {
  /** The workload's pods. */
  readonly selector: WorkloadSelector;
  /** The name its generated objects are named after. */
  readonly name: string;
  /**
   * The Service in front of the pods (ambient mode with a waypoint).
   * @default - none
   */
  readonly serviceName?: string;
}

/** Options of the rules declared on a {@link ZeroTrustWorkload}: one operation, conditions, and the policy. */
export interface AccessRuleOptions extends Operation {
  /**
   * Conditions the request also meets, all of them (JWT claims, headers, ...).
   * @default - none
   */
  readonly when?: Condition[];
  /**
   * The AuthorizationPolicy's name.
   * @default - `<workload>-allow-<source>` (or `-deny-`)
   */
  readonly name?: string;
  /**
   * Emit the policy in dry run: logged, not enforced. An ALLOW policy in dry run admits nothing yet.
   * @default - dry run only before MigrationPhase.ENFORCE
   */
  readonly dryRun?: boolean;
}

/** Options of {@link ZeroTrustWorkload.allow} and {@link ZeroTrustWorkload.deny}. */
export interface WorkloadPolicyOptions {
  /**
   * The AuthorizationPolicy's name.
   * @default - `<workload>-allow` (or `-deny`)
   */
  readonly name?: string;
  /**
   * Emit the policy in dry run.
   * @default - dry run only before MigrationPhase.ENFORCE
   */
  readonly dryRun?: boolean;
}

/** Options of {@link ZeroTrustWorkload.requireJwt}: the issuer, and where a token is required. */
export interface RequireJwtOptions extends JwtIssuer {
  /**
   * Paths on which a valid JWT is required (exact, `prefix*`, `*suffix`).
   * @default - every path
   */
  readonly paths?: string[];
  /**
   * Ports on which a valid JWT is required. Istio matches a DENY rule on non-HTTP traffic without its HTTP fields, so
   * scoping it to the HTTP ports keeps other protocols of the workload working.
   * @default - every port, except those accepting plaintext (`acceptPlaintextOnPort`), whose callers have no JWT
   */
  readonly ports?: number[];
  /**
   * Emit the requirement in dry run.
   * @default - dry run only before MigrationPhase.ENFORCE
   */
  readonly dryRun?: boolean;
}

/** What {@link ZeroTrustWorkload.requireJwt} creates. */
export interface JwtRequirement {
  /** The RequestAuthentication that validates tokens of the issuer (and rejects invalid ones). */
  readonly requestAuthentication: RequestAuthentication;
  /** The DENY policy refusing requests without a valid token of the issuer (`notRequestPrincipals: ['<issuer>/*']`). */
  readonly authorizationPolicy: AuthorizationPolicy;
}

/** Options of {@link ZeroTrustWorkload.acceptPlaintextOnPort}: who connects in plaintext. */
export interface PlaintextPortOptions {
  /**
   * Namespaces whose pods connect to the port in plaintext (the Prometheus namespace); the NetworkPolicy admits
   * them. Plaintext carries no identity, so the AuthorizationPolicy cannot tell them apart.
   * @default - none; give this or ipBlocks
   */
  readonly fromNamespaces?: string[];
  /**
   * Source IPs or CIDR blocks admitted, by the AuthorizationPolicy and the NetworkPolicy.
   * @default - none; give this or fromNamespaces
   */
  readonly ipBlocks?: string[];
}

/** What {@link ZeroTrustWorkload.acceptPlaintextOnPort} creates. */
export interface PlaintextPortException {
  /** The workload's PeerAuthentication with the port PERMISSIVE. */
  readonly peerAuthentication: PeerAuthentication;
  /** The ALLOW policy admitting the port (for its ipBlocks, else any caller). */
  readonly authorizationPolicy: AuthorizationPolicy;
}

/**
 * A workload of a {@link ZeroTrustNamespace}: declare who may call it with `allowFrom()`, refuse callers with
 * `denyFrom()`, require a JWT with `requireJwt()`. Pass it as the source of another workload's rule to admit its
 * identity.
 */
export class ZeroTrustWorkload extends Construct implements IAuthorizationSource {
  /** The name its generated objects are named after. */
  public readonly name: string;
  /** Its pods. */
  public readonly selector: WorkloadSelector;
  /** The identity its pods run as, when known. */
  public readonly identity?: IServiceIdentity;
  /** The Service in front of its pods, when given. */
  public readonly serviceName?: string;
  /** The namespace it belongs to. */
  public readonly zeroTrustNamespace: ZeroTrustNamespace;
  /** Ambient mode with a waypoint: the L4 policy admitting only the waypoint's identity, so rules cannot be bypassed. */
  public readonly waypointOnly?: AuthorizationPolicy;
  /** @internal */
  public _usesJwt = false;
  /** @internal */
  public _validatesJwt = false;
  /** @internal */
  public readonly _plaintextPorts: number[] = [];
  private readonly ingress: NetRule[] = [];
  /** The rules at the waypoint that name ports, which the waypoint matches as the Service's. */
  private readonly waypointPortRules: any[] = [];
  private _networkPolicy?: ApiObject;
  private _peerAuthentication?: PeerAuthentication;

  public constructor(scope: ZeroTrustNamespace, id: string, props: ZeroTrustWorkloadProps) {
    super(scope, id);
    this.zeroTrustNamespace = scope;
    this.name = props.name;
    if (!isDnsLabel(this.name) || this.name.length > 40) {
      throw configError(this, 'name', this.name, 'use a DNS label of at most 40 characters: generated object names start with it');
    }
    this.selector = props.selector;
    this.identity = props.selector.identity;
    this.serviceName = props.serviceName === undefined ? undefined : requireDnsLabel(this, 'serviceName', props.serviceName);
    if (this.selector.namespace !== scope.namespaceName) {
      throw configError(this, 'namespace', this.selector.namespace, `the workload runs in another namespace: add it to the ZeroTrustNamespace of '${this.selector.namespace}'`);
    }
    scope._register(this);
    if (scope.waypoint) {
      this.waypointOnly = new AuthorizationPolicy(this, 'WaypointOnly', {
        name: scope._names.take(`${this.name}-waypoint-only`),
        namespace: scope.namespaceName,
        selector: this.selector,
        rules: [{ from: [Source.identity(scope.waypoint.identity)] }],
        dryRun: scope.dryRun,
        dataplaneMode: scope.dataplaneMode,
      });
    }
  }

  /** The workload's NetworkPolicy, once a rule admits callers to it or it calls others. */
  public get networkPolicy(): ApiObject | undefined {
    return this._networkPolicy;
  }

  /** The workload's PeerAuthentication, once a port accepts plaintext. */
  public get peerAuthentication(): PeerAuthentication | undefined {
    return this._peerAuthentication;
  }

  /** The workload as the source of another workload's rules: its identity (it needs a ServiceAccount). */
  public toSource(): Source {
    if (!this.identity) {
      throw configError(this, 'identity', undefined,
        'the workload runs as its namespace\'s default ServiceAccount, which every pod without one shares: give it a ServiceAccount of its own before naming it as a source');
    }
    const peer: NetworkPeer = { anywhere: false, namespace: this.selector.namespace, podLabels: () => this.selector.labels };
    return Source.identity(this.identity)._withCaller(this, peer);
  }

  /**
   * Allows requests from `source` that perform the operation given in `options`: an ALLOW policy for this workload
   * (attached to its Service's waypoint in ambient mode), the NetworkPolicy ingress from the source and, when the
   * source's namespace is a ZeroTrustNamespace, the source's egress.
   * @returns the ALLOW policy
   * @example
   * backend.allowFrom(frontend, { methods: ['GET'], paths: ['/api/*'] });
   * backend.allowFrom(Source.namespace('reporting'), { methods: ['GET'], paths: ['/reports/*'] });
   */
  public allowFrom(source: IAuthorizationSource, options: AccessRuleOptions = {}): AuthorizationPolicy {
    const s = source.toSource();
    const caller = s._caller instanceof ZeroTrustWorkload ? s._caller : undefined;
    // Istio sends only ingress gateways through a waypoint: a sidecar connects to the pod, where ztunnel admits only
    // the waypoint.
    const sidecarCaller = !this.zeroTrustNamespace.usesWaypoint ? undefined : caller
      ? (caller.zeroTrustNamespace.dataplaneMode === DataplaneMode.SIDECAR ? caller.node.path : undefined)
      : s._callerNamespaces.find(n => registry(this).namespaces.get(n)?.dataplaneMode === DataplaneMode.SIDECAR);
    if (sidecarCaller) {
      throw configError(this, 'allowFrom', sidecarCaller,
        `a sidecar does not send its requests through the waypoint of '${this.zeroTrustNamespace.namespaceName}', and ztunnel there admits only the waypoint: enroll the caller's namespace in ambient mode, or this one in sidecar mode`);
    }
    const name = `${this.name}-allow-${s._nameHint(this.selector.namespace)}`;
    return this.addPolicy(AuthorizationAction.ALLOW, ruleOf(s, options), name, options, FLAT_RULE);
  }

  /**
   * Denies requests from `source` that perform the operation given in `options`, whatever ALLOW rules say.
   * @returns the DENY policy
   * @example
   * backend.denyFrom(Source.namespace('sandbox'));
   * backend.denyFrom(frontend, { methods: ['DELETE'] });
   */
  public denyFrom(source: IAuthorizationSource, options: AccessRuleOptions = {}): AuthorizationPolicy {
    const s = source.toSource();
    const name = `${this.name}-deny-${s._nameHint(this.selector.namespace)}`;
    return this.addPolicy(AuthorizationAction.DENY, ruleOf(s, options), name, options, FLAT_RULE);
  }

  /**
   * Allows the requests a full rule matches: several sources (OR), several operations (OR), conditions (AND).
   * @returns the ALLOW policy
   * @example
   * backend.allow({
   *   from: [frontend, Source.namespace('reporting')],
   *   to: [{ methods: ['GET'], paths: ['/api/*'] }, { methods: ['POST'], paths: ['/api/orders'] }],
   * });
   */
  public allow(rule: AuthorizationRule, options: WorkloadPolicyOptions = {}): AuthorizationPolicy {
    return this.addPolicy(AuthorizationAction.ALLOW, rule, `${this.name}-allow`, options, ruleProps('rule'));
  }

  /**
   * Denies the requests a full rule matches.
   * @returns the DENY policy
   * @example
   * backend.deny({ to: [{ paths: ['/admin/*'] }] });
   */
  public deny(rule: AuthorizationRule, options: WorkloadPolicyOptions = {}): AuthorizationPolicy {
    return this.addPolicy(AuthorizationAction.DENY, rule, `${this.name}-deny`, options, ruleProps('rule'));
  }

  /**
   * Requires a valid JWT of an issuer (on some paths, or all): a RequestAuthentication that validates the tokens
   * and rejects invalid ones, and a DENY policy refusing requests without a valid token, which ALLOW rules cannot
   * override.
   * @returns the RequestAuthentication and the DENY policy
   * @example
   * frontend.requireJwt({
   *   issuer: 'https://auth.example.com',
   *   jwksUri: 'https://auth.example.com/.well-known/jwks.json',
   *   audiences: ['shop'],
   *   paths: ['/account/*', '/checkout/*'],
   * });
   */
  public requireJwt(options: RequireJwtOptions): JwtRequirement {
    const zt = this.zeroTrustNamespace;
    if (zt.dataplaneMode === DataplaneMode.AMBIENT && !zt.waypoint) {
      throw configError(this, 'requireJwt', options.issuer, 'ztunnel cannot read JWTs and the waypoint is switched off (withoutWaypoint): use the waypoint');
    }
    const { paths, ports, dryRun, ...issuer } = options;
    const placement = this.placement(true, 'requireJwt');
    const operation: Operation = { ...(paths?.length ? { paths } : {}), ...(ports?.length ? { ports } : {}) };
    // Istio merges every RequestAuthentication that applies to the workload, so a token of another issuer (another
    // requireJwt, a mesh-wide one) is valid too: the requirement names its issuer, as Istio's per-host example does.
    const rule: AuthorizationRule = {
      from: [Source.anyone({ notRequestPrincipals: [`${options.issuer}/*`] })],
      ...(operationIsEmpty(operation) ? {} : { to: [operation] }),
    };
    renderRule(this, FLAT_RULE, rule, false);
    renderIssuer(this, 'requireJwt', issuer);
    const name = zt._otherNames.RequestAuthentication.take(`${this.name}-jwt`);
    const requestAuthentication = new RequestAuthentication(this, this.childId('jwt'), {
      name,
      namespace: zt.namespaceName,
      ...placement,
      issuers: [issuer],
      dataplaneMode: zt.dataplaneMode,
    });
    const authorizationPolicy = this.addPolicy(AuthorizationAction.DENY, rule, `${this.name}-require-jwt`, { dryRun }, FLAT_RULE);
    if (!ports?.length && !placement.targets) {
      // Plaintext callers (scrapers outside the mesh) carry no JWT: the requirement skips their ports, even those
      // declared later. Plaintext never goes through a waypoint, so a rule there has nothing to skip.
      authorizationPolicy._transformRules(rules => rules.map(r => this.skipPlaintextPorts(r)));
    }
    this._validatesJwt = true;
    return { requestAuthentication, authorizationPolicy };
  }

  /**
   * Accepts plaintext on one port (PERMISSIVE), for callers outside the mesh such as a Prometheus scraping the
   * application's metrics port (STRICT breaks it: istio#38720). Gives up peer authentication on that port: the
   * callers are admitted by network location only (NetworkPolicy, `ipBlocks`).
   * @param port the container port
   * @returns the workload's PeerAuthentication and the ALLOW policy of the port
   * @example
   * backend.acceptPlaintextOnPort(9090, { fromNamespaces: ['monitoring'] });
   */
  public acceptPlaintextOnPort(port: number, options: PlaintextPortOptions = {}): PlaintextPortException {
    const zt = this.zeroTrustNamespace;
    const namespaces = options.fromNamespaces ?? [];
    namespaces.forEach((n, i) => requireDnsLabel(this, `fromNamespaces[${i}]`, n));
    if (!namespaces.length && !(options.ipBlocks ?? []).length) {
      throw configError(this, 'fromNamespaces', [], 'say who connects in plaintext: fromNamespaces (such as the Prometheus namespace) or ipBlocks');
    }
    if (this._plaintextPorts.includes(port)) throw configError(this, 'port', port, 'the port already accepts plaintext');
    if (!this._peerAuthentication) {
      // UNSET: the workload follows the namespace's mode, except on the listed ports.
      this._peerAuthentication = new PeerAuthentication(this, 'PeerAuthentication', {
        name: zt._otherNames.PeerAuthentication.take(`${this.name}-mtls`),
        namespace: zt.namespaceName,
        selector: this.selector,
        mode: MtlsMode.UNSET,
        dataplaneMode: zt.dataplaneMode,
      });
    }
    this._peerAuthentication.setPortMode(port, MtlsMode.PERMISSIVE);
    this._plaintextPorts.push(port);
    // Plaintext reaches the pods directly, never through a waypoint: a selector policy, enforced at L4.
    const source = Source.anyone(options.ipBlocks?.length ? { ipBlocks: options.ipBlocks } : {});
    const authorizationPolicy = new AuthorizationPolicy(this, `Plaintext${port}`, {
      name: zt._names.take(`${this.name}-allow-plaintext-${port}`),
      namespace: zt.namespaceName,
      selector: this.selector,
      action: AuthorizationAction.ALLOW,
      rules: [{ from: [source], to: [{ ports: [port] }] }],
      dryRun: zt.dryRun,
      dataplaneMode: zt.dataplaneMode,
    });
    if (zt._networkPolicies) {
      this.ensureNetworkPolicy();
      this.ingress.push({
        peers: [...namespaces.map(n => ({ namespace: n })), ...(options.ipBlocks ?? []).map(cidr => ({ cidr }))],
        ports: tcp(port),
      });
    }
    return { peerAuthentication: this._peerAuthentication, authorizationPolicy };
  }

  /** @internal Why the ports of rules at the waypoint cannot be given as the Service's, if they cannot. */
  public _servicePortErrors(): string[] {
    if (!this.waypointPortRules.length) return [];
    try {
      const ports = this.servicePorts();
      for (const rule of this.waypointPortRules) this.toServicePorts(rule, ports);
      return [];
    } catch (e) {
      return [(e as Error).message];
    }
  }

  /** The Service ports targeting each container port, from the Service in front of the pods. */
  private servicePorts(): Map<string, string[]> {
    const namespace = this.zeroTrustNamespace.namespaceName;
    const service = (appScan(this).byNamespace.get(namespace) ?? [])
      .find(o => o.kind === 'Service' && o.apiVersion === 'v1' && o.name === this.serviceName);
    if (!service) {
      throw configError(this, 'serviceName', this.serviceName,
        `rules with ports are enforced by the waypoint, which matches the Service's ports, not the pods': define Service '${this.serviceName}' in the app so the container ports map to its ports, or drop the ports`);
    }
    const ports = new Map<string, string[]>();
    for (const p of synthesizedSpec(service)?.ports ?? []) {
      const target = p.targetPort ?? p.port;
      if (typeof target !== 'number') {
        throw configError(this, 'serviceName', this.serviceName,
          `Service port ${p.port} targets the named port '${target}': give its target port by number, so rules with container ports map to the Service port the waypoint matches`);
      }
      pushTo(ports, String(target), String(p.port));
    }
    return ports;
  }

  private toServicePorts(rule: any, ports: Map<string, string[]>): any {
    const map = (field: string, list: string[] | undefined) => list?.flatMap(p => {
      const mapped = ports.get(p);
      if (!mapped) {
        throw configError(this, field, Number(p), `Service '${this.serviceName}' has no port targeting container port ${p}, and the waypoint sees only the Service's ports: add one, or drop the port`);
      }
      return mapped;
    });
    if (!rule.to) return rule;
    return {
      ...rule,
      to: rule.to.map((t: any) => ({ operation: compact({ ...t.operation, ports: map('ports', t.operation.ports), notPorts: map('notPorts', t.operation.notPorts) }) })),
    };
  }

  private skipPlaintextPorts(rule: any): any {
    if (!this._plaintextPorts.length) return rule;
    const notPorts = [...this._plaintextPorts].sort((a, b) => a - b).map(String);
    const to = rule.to?.length ? rule.to : [{ operation: {} }];
    return { ...rule, to: to.map((t: any) => ({ operation: { ...t.operation, notPorts: [...(t.operation.notPorts ?? []), ...notPorts] } })) };
  }

  /** Where a rule of this workload is attached: its selector, or its Service at the waypoint. */
  private placement(needsL7: boolean, prop: string): { selector?: WorkloadSelector; targets?: PolicyTarget[] } {
    const zt = this.zeroTrustNamespace;
    if (zt.dataplaneMode === DataplaneMode.SIDECAR) return { selector: this.selector };
    if (zt.waypoint) {
      if (!this.serviceName) {
        throw configError(this, 'serviceName', undefined,
          'in ambient mode the waypoint enforces the rules of a Service, and the pods admit only the waypoint: pass serviceName to addWorkload (the Service in front of the pods)');
      }
      return { targets: [PolicyTarget.service(this.serviceName)] };
    }
    if (needsL7) {
      throw configError(this, prop, 'L7 fields',
        'ztunnel enforces L4 only and the waypoint is switched off (withoutWaypoint), so methods, paths, hosts, headers and JWT fields would silently deny: drop them, or use the waypoint');
    }
    return { selector: this.selector };
  }

  private addPolicy(
    action: AuthorizationAction, rule: AuthorizationRule, generatedName: string, options: WorkloadPolicyOptions, props: RuleProps,
  ): AuthorizationPolicy {
    const zt = this.zeroTrustNamespace;
    const prop = action === AuthorizationAction.ALLOW ? 'allow' : 'deny';
    // Everything is checked before anything is created: a refused rule leaves no half-built policy behind.
    const rendered = renderRule(this, props, rule, action === AuthorizationAction.ALLOW);
    if (options.name !== undefined) requireDnsLabel(this, 'name', options.name);
    const placement = this.placement(ruleNeedsL7(rule), prop);
    const sources = (rule.from ?? []).map(s => s.toSource());
    const mesh = Mesh.of(this);
    if (zt.waypoint && sources.some(s => s._isIngressGateway) && mesh._istioMinor < 25) {
      throw configError(this, 'source', mesh.istioVersion,
        'before Istio 1.25 ingress gateways ignore istio.io/ingress-use-waypoint on a namespace and would bypass the waypoint: upgrade, or label the Service yourself and set its waypoint');
    }
    if (options.name !== undefined && !zt._names.claim(options.name)) {
      throw configError(this, 'name', options.name, 'another policy of the namespace has that name: choose another');
    }
    const policyName = options.name ?? zt._names.take(generatedName);
    const id = this.childId(generatedName.slice(this.name.length + 1));
    // An ALLOW rule's NetworkPolicy comes first, so every workload's first child has one construct id: constructs
    // keeps children in a plain object, and past about 1,500 distinct first keys V8 stops sharing hidden classes (see
    // README, Performance). Without it, the first id names the rule and its source, never the workload.
    const networkPolicyFirst = action === AuthorizationAction.ALLOW && this.ownNetworkPolicyAdmits && !this._networkPolicy;
    if (networkPolicyFirst) this.ensureNetworkPolicy();
    let policy: AuthorizationPolicy;
    try {
      policy = new AuthorizationPolicy(this, id, {
        name: policyName,
        namespace: zt.namespaceName,
        ...placement,
        action,
        dryRun: options.dryRun ?? zt.dryRun,
        dataplaneMode: zt.dataplaneMode,
      });
    } catch (e) {
      // A refused policy leaves nothing behind: neither its construct, the NetworkPolicy nor the names.
      this.node.tryRemoveChild(id);
      zt._names.release(policyName);
      if (networkPolicyFirst) {
        zt._otherNames.NetworkPolicy.release(this._networkPolicy!.name);
        this.node.tryRemoveChild(this._networkPolicy!.node.id);
        this._networkPolicy = undefined;
      }
      throw e;
    }
    policy._addCheckedRule(rule, rendered);
    if (placement.targets && (rule.to ?? []).some(op => op.ports?.length || op.notPorts?.length)) {
      // The waypoint serves the Service, and its ports are the Service's: each container port becomes the Service ports
      // that target it (when the spec is produced, so Services defined later count).
      this.waypointPortRules.push(rendered);
      policy._transformRules(rules => {
        const ports = this.servicePorts();
        return rules.map(r => this.toServicePorts(r, ports));
      });
    }
    if (ruleUsesJwt(rule)) this._usesJwt = true;
    if (action === AuthorizationAction.ALLOW) this.connect(sources, rule);
    return policy;
  }

  /** Both sides of a declared call at the network level: this workload's ingress, the caller's egress. */
  private connect(sources: Source[], rule: AuthorizationRule): void {
    const zt = this.zeroTrustNamespace;
    const operations = rule.to ?? [];
    const rulePorts = operations.length && operations.every(op => op.ports?.length)
      ? tcp(...operations.flatMap(op => op.ports!))
      : undefined;
    const destination = zt._destinationOf(this, rulePorts);
    const peers = sources.flatMap(s => s._networkPeers(this).map(toNetPeer));
    if (this.ownNetworkPolicyAdmits) {
      this.ensureNetworkPolicy();
      this.ingress.push({ peers, ports: destination.ports });
    } else if (zt._networkPolicies) {
      zt._admitToWaypoint(peers);
    }
    for (const s of sources) {
      const caller = s._caller instanceof ZeroTrustWorkload ? s._caller : undefined;
      const callerNamespaces = caller ? [caller.zeroTrustNamespace.namespaceName] : s._callerNamespaces;
      for (const callerNamespace of callerNamespaces) {
        zt._connect({
          callerNamespace, callerWorkload: caller, destinationNamespace: zt.namespaceName, to: destination.to, ports: destination.ports,
        });
      }
      if (caller && caller.zeroTrustNamespace._networkPolicies) caller.ensureNetworkPolicy();
    }
  }

  /**
   * A construct id for a child, unique among the workload's children and free of the workload's name, so workloads
   * share their children's ids (see addPolicy).
   */
  private childId(base: string): string {
    let id = base;
    for (let i = 2; this.node.tryFindChild(id); i++) id = `${base}-${i}`;
    return id;
  }

  /** Whether callers admitted by a rule are admitted by the workload's own NetworkPolicy (with a waypoint, by its). */
  private get ownNetworkPolicyAdmits(): boolean {
    const zt = this.zeroTrustNamespace;
    return zt._networkPolicies && !zt.waypoint;
  }

  private ensureNetworkPolicy(): void {
    if (this._networkPolicy) return;
    const zt = this.zeroTrustNamespace;
    this._networkPolicy = networkPolicyObject(this, 'NetworkPolicy', {
      name: zt._otherNames.NetworkPolicy.take(`${this.name}-allow`),
      namespace: zt.namespaceName,
      podLabels: () => this.selector.labels,
      ingress: () => this.ingress,
      egress: () => zt._connectionsFrom(this),
    });
  }
}

/** Error names of the flat rules of allowFrom, denyFrom and requireJwt: `source`, `methods[0]`, `when[0]`. */
const FLAT_RULE: RuleProps = { from: 'source', source: () => 'source', operation: () => '', condition: i => `when[${i}]` };

function toNetPeer(peer: NetworkPeer): NetPeer {
  return { anywhere: peer.anywhere, namespace: peer.namespace, podLabels: peer.podLabels };
}

function ruleOf(source: Source, options: AccessRuleOptions): AuthorizationRule {
  const operation: Operation = {
    methods: options.methods,
    notMethods: options.notMethods,
    paths: options.paths,
    notPaths: options.notPaths,
    ports: options.ports,
    notPorts: options.notPorts,
    hosts: options.hosts,
    notHosts: options.notHosts,
  };
  return {
    from: [source],
    ...(operationIsEmpty(operation) ? {} : { to: [operation] }),
    ...(options.when?.length ? { when: options.when } : {}),
  };
}
