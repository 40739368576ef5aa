import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';

/** @internal A DestinationRule of the app, with its synthesized spec. */
export interface ScannedRule {
  readonly object: ApiObject;
  readonly spec: any;
}

/** @internal The app's objects as one synthesis validates them. */
export interface AppScan {
  readonly namespaces: ApiObject[];
  /**
   * The position in the construct tree (preorder) of each construct that depends on something, and of each
   * Namespace; the other objects' positions are in `positionsByNamespace`.
   */
  readonly position: Map<IConstruct, number>;
  /** What depends on each construct that something depends on. */
  readonly dependants: Map<IConstruct, IConstruct[]>;
  /** When cdk8s emits each construct, memoized (see ZeroTrustNamespace). */
  readonly emission: Map<IConstruct, number>;
  /** The namespaced objects by namespace. */
  readonly byNamespace: Map<string, ApiObject[]>;
  /** Their positions in the construct tree, in the same order. */
  readonly positionsByNamespace: Map<string, number[]>;
  /** The DestinationRules of the app. */
  readonly destinationRules: ApiObject[];
  /** Their specs, read when a STRICT namespace first checks them (a PERMISSIVE app never needs them). */
  rulesWithSpecs?: ScannedRule[];
  /** The DestinationRules by the namespace of the host they configure, per cluster domain (meshes may differ). */
  readonly destinationRulesByNamespace: Map<string, Map<string, ScannedRule[]>>;
}

const SCAN = Symbol.for('cdk8s-istio.AppScan');

interface ScanHolder {
  scan?: AppScan;
}

/**
 * @internal The app's objects, read once per synthesis for every validation that looks across constructs (each
 * would otherwise read all of the app).
 */
export function appScan(scope: IConstruct): AppScan {
  const root = scope.node.root as any;
  if (!root[SCAN]) {
    const holder: ScanHolder = {};
    Object.defineProperty(root, SCAN, { value: holder, enumerable: false });
    // cdk8s validates the root before anything under it, so every synthesis starts with a fresh scan: the app may
    // have changed since the last one.
    scope.node.root.node.addValidation({ validate: () => { holder.scan = undefined; return []; } });
  }
  const holder: ScanHolder = root[SCAN];
  if (holder.scan) return holder.scan;
  const scan: AppScan = {
    namespaces: [],
    position: new Map(),
    dependants: new Map(),
    emission: new Map(),
    byNamespace: new Map(),
    positionsByNamespace: new Map(),
    destinationRules: [],
    destinationRulesByNamespace: new Map(),
  };
  let position = 0;
  for (const c of scope.node.root.node.findAll()) {
    position++;
    const dependencies = c.node.dependencies;
    for (const d of dependencies) pushTo(scan.dependants, d, c);
    // A dependant's position orders what it depends on, and a Namespace's what lives in it. Other objects' positions
    // go with their namespace's list: a map entry for each would cost more than the rest of the scan.
    if (dependencies.length) scan.position.set(c, position);
    if (!(c instanceof ApiObject)) continue;
    if (c.kind === 'Namespace' && c.apiVersion === 'v1') {
      scan.namespaces.push(c);
      scan.position.set(c, position);
    }
    if (c.kind === 'DestinationRule' && c.apiVersion.startsWith('networking.istio.io/')) scan.destinationRules.push(c);
    const namespace = c.metadata.namespace;
    if (namespace === undefined) continue;
    pushTo(scan.byNamespace, namespace, c);
    pushTo(scan.positionsByNamespace, namespace, position);
  }
  holder.scan = scan;
  return scan;
}

/** @internal Appends `value` to the list of `key`. */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
