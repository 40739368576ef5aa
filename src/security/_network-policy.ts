// Kubernetes NetworkPolicy rules for the ZeroTrustNamespace: peers are described absolutely (namespace and pod
// labels) and rendered relative to the namespace of the policy that holds them.
import { ApiObject, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { appRegistry, appSingleton } from '../_app-registry';
import { GatewayWorkload } from '../mesh/gateway-workload';

/** @internal */
export type Labels = { [key: string]: string };

/**
 * @internal Who is on the other side of a rule: anywhere (no peer restriction), an IP block, or pods (any pod when
 * `podLabels` is unset) of a namespace (any namespace when `namespace` is unset).
 */
export interface NetPeer {
  readonly anywhere?: boolean;
  readonly cidr?: string;
  readonly namespace?: string;
  readonly podLabels?: () => Labels;
}

/** @internal */
export interface NetPort {
  readonly port: number;
  readonly protocol: string;
}

/** @internal A NetworkPolicy rule: traffic with any of the peers (none: anywhere), on any of the ports (none: all). */
export interface NetRule {
  readonly peers: NetPeer[];
  readonly ports?: NetPort[];
}

/** @internal The label Kubernetes puts on every namespace (1.22+), naming it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** @internal The label Istio puts on the pods of a gateway or waypoint it deploys from a Gateway. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** @internal Where ztunnel and waypoints receive mesh traffic (HBONE). */
export const HBONE_PORT = 15008;

/** @internal */
export const tcp = (...ports: number[]): NetPort[] => ports.map(port => ({ port, protocol: 'TCP' }));

function renderPeer(peer: NetPeer, ownNamespace: string): any {
  if (peer.cidr) return { ipBlock: { cidr: peer.cidr.includes('/') ? peer.cidr : `${peer.cidr}/${peer.cidr.includes(':') ? 128 : 32}` } };
  const pods = peer.podLabels ? { podSelector: { matchLabels: peer.podLabels() } } : undefined;
  if (peer.namespace === ownNamespace) return pods ?? { podSelector: {} };
  const namespaces = peer.namespace === undefined
    ? { namespaceSelector: {} }
    : { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: peer.namespace } } };
  return { ...namespaces, ...(pods ?? {}) };
}

/** @internal Rules as a NetworkPolicy lists them (`from` for ingress, `to` for egress), without duplicates. */
export function renderNetRules(rules: NetRule[], ownNamespace: string, key: 'from' | 'to'): any[] {
  const out: any[] = [];
  const seen = new Set<string>();
  for (const rule of rules) {
    const anywhere = rule.peers.length === 0 || rule.peers.some(p => p.anywhere);
    const peers: any[] = [];
    if (!anywhere) {
      const peerKeys = new Set<string>();
      for (const p of rule.peers) {
        const rendered = renderPeer(p, ownNamespace);
        const k = JSON.stringify(rendered);
        if (!peerKeys.has(k)) peers.push(rendered);
        peerKeys.add(k);
      }
    }
    const ports = rule.ports?.length
      ? [...new Map(rule.ports.map(p => [`${p.protocol}/${p.port}`, { protocol: p.protocol, port: p.port }])).values()]
      : undefined;
    const rendered = { ...(peers.length ? { [key]: peers } : {}), ...(ports ? { ports } : {}) };
    const k = JSON.stringify(rendered);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(rendered);
  }
  return out;
}

/**
 * @internal Declares what the pods of `namespace` connect to for another construct (an EgressControl's allowed
 * hosts), so a ZeroTrustNamespace's default-deny NetworkPolicy admits it; read when the policy is rendered.
 */
export function addNamespaceEgress(scope: IConstruct, namespace: string, rules: () => NetRule[]): void {
  appSingleton<(() => NetRule[])[]>(scope, 'NamespaceEgress', namespace, () => []).push(rules);
}

/** @internal The egress other constructs declared for the pods of `namespace`. */
export function namespaceEgress(scope: IConstruct, namespace: string): NetRule[] {
  return (appRegistry<(() => NetRule[])[]>(scope, 'NamespaceEgress').get(namespace) ?? []).flatMap(rules => rules());
}

/**
 * @internal A gateway or waypoint another construct runs in a namespace (an IngressGateway's deployment, an
 * EgressControl's waypoint): a ZeroTrustNamespace's default-deny NetworkPolicy would isolate its pods, so it gives
 * them a NetworkPolicy of their own.
 */
export interface NamespaceProxy {
  /** Names its NetworkPolicy (`<name>-allow`). */
  readonly name: string;
  /** Its pods' labels. */
  readonly podLabels: () => Labels;
  /** Who connects to it, and on which ports. */
  readonly ingress: () => NetRule[];
  /** Where it connects, beyond istiod. */
  readonly egress: () => NetRule[];
  /** A waypoint: the namespace's pods send it their traffic, over HBONE. */
  readonly waypoint: boolean;
}

interface ProxyEntry {
  readonly proxies: NamespaceProxy[];
  readonly listeners: ((proxy: NamespaceProxy) => void)[];
}

function proxyEntry(scope: IConstruct, namespace: string): ProxyEntry {
  return appSingleton<ProxyEntry>(scope, 'NamespaceProxies', namespace, () => ({ proxies: [], listeners: [] }));
}

/** @internal Declares a proxy running in `namespace`, for the NetworkPolicies of a ZeroTrustNamespace defined before or after. */
export function addNamespaceProxy(scope: IConstruct, namespace: string, proxy: NamespaceProxy): void {
  const entry = proxyEntry(scope, namespace);
  entry.proxies.push(proxy);
  entry.listeners.forEach(listener => listener(proxy));
}

/** @internal A gateway deployment's identity: its namespace and the labels that select its pods. */
export function gatewayDeploymentKey(workload: GatewayWorkload): string {
  return `${workload.namespace}/${Object.entries(workload.labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}`;
}

/**
 * @internal Declares a gateway deployment's pods once, however many constructs (`owner` among them) share it:
 * `proxy` tells who connects to them and where they connect, from every sharer as it is when synthesized.
 */
export function addGatewayDeployment<T>(scope: IConstruct, kind: string, workload: GatewayWorkload, owner: T,
  proxy: (sharing: T[]) => Pick<NamespaceProxy, 'ingress' | 'egress'>): void {
  const sharing = appSingleton<T[]>(scope, kind, gatewayDeploymentKey(workload), () => {
    const list: T[] = [];
    addNamespaceProxy(scope, workload.namespace, {
      name: workload.serviceName ?? workload.identity.serviceAccountName,
      podLabels: () => ({ ...workload.labels }),
      ...proxy(list),
      waypoint: false,
    });
    return list;
  });
  sharing.push(owner);
}

/** @internal Calls `listener` for each proxy of `namespace`, declared so far or later. */
export function onNamespaceProxy(scope: IConstruct, namespace: string, listener: (proxy: NamespaceProxy) => void): void {
  const entry = proxyEntry(scope, namespace);
  entry.listeners.push(listener);
  entry.proxies.forEach(listener);
}

/** @internal Props of a NetworkPolicy object. */
export interface NetworkPolicyObjectProps {
  readonly name: string;
  readonly namespace: string;
  /** The pods it applies to; none: every pod of the namespace. */
  readonly podLabels?: () => Labels;
  readonly ingress: () => NetRule[];
  readonly egress: () => NetRule[];
}

/** @internal A NetworkPolicy (`networking.k8s.io/v1`) that restricts both directions of its pods. */
export function networkPolicyObject(scope: Construct, id: string, props: NetworkPolicyObjectProps): ApiObject {
  return new ApiObject(scope, id, {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: props.name, namespace: props.namespace },
    spec: Lazy.any({
      produce: () => {
        const ingress = renderNetRules(props.ingress(), props.namespace, 'from');
        const egress = renderNetRules(props.egress(), props.namespace, 'to');
        return {
          podSelector: props.podLabels ? { matchLabels: props.podLabels() } : {},
          policyTypes: ['Ingress', 'Egress'],
          ...(ingress.length ? { ingress } : {}),
          ...(egress.length ? { egress } : {}),
        };
      },
    }),
  });
}
