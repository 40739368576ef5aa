import { IConstruct } from 'constructs';

/**
 * @internal A map kept on the app's root, so constructs anywhere in the app find the one object of a kind per key
 * (the routing of a host, the waypoint of a namespace).
 */
export function appRegistry<T>(scope: IConstruct, name: string): Map<string, T> {
  const root = scope.node.root as any;
  const key = Symbol.for(`cdk8s-istio.${name}`);
  if (!root[key]) Object.defineProperty(root, key, { value: new Map<string, T>(), enumerable: false });
  return root[key];
}

/** @internal The one object of a kind for `key` in the app of `scope`, made by `create` when first asked for. */
export function appSingleton<T>(scope: IConstruct, name: string, key: string, create: () => T): T {
  const registry = appRegistry<T>(scope, name);
  let value = registry.get(key);
  if (value === undefined) {
    value = create();
    registry.set(key, value);
  }
  return value;
}
