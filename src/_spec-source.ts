import { ApiObject } from 'cdk8s';

// Validation that reads other constructs' objects (ZeroTrustNamespace reads every DestinationRule of the app) would
// otherwise synthesize each of them twice: once to check, once to emit.
const sources = new WeakMap<ApiObject, () => any>();

/** @internal Registers how `object`'s spec is produced, so it can be read without synthesizing the object. */
export function registerSpecSource(object: ApiObject, produce: () => any): void {
  sources.set(object, produce);
}

/**
 * @internal The spec `object` synthesizes, or undefined when it cannot be produced (its own construct reports why).
 */
export function synthesizedSpec(object: ApiObject): any {
  const produce = sources.get(object);
  try {
    // A JSON patch (an escape hatch) may rewrite the spec: then only the synthesized object tells. cdk8s keeps the
    // patches private; anything but a known empty list counts as patched.
    const patches = (object as unknown as { patches?: unknown }).patches;
    if (produce && Array.isArray(patches) && patches.length === 0) return produce();
    return object.toJson().spec;
  } catch {
    return undefined;
  }
}
