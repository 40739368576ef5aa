// What the API server does with a custom resource along its structural schema (the `properties`, `items` and
// `additionalProperties` skeleton, never `anyOf`/`allOf`/`oneOf`/`not`), besides OpenAPI validation:
// dropping nulls, applying defaults, and the `x-kubernetes-list-type` uniqueness checks.
import { FieldError, FieldPath, quote } from './field-error';

/** A node of a CRD's `openAPIV3Schema`, as written. */
export type K8sSchema = Record<string, any>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The schema of one field of an object: a declared property, else the map's value schema. */
export function fieldSchema(s: K8sSchema | undefined, key: string): K8sSchema | undefined {
  if (!s) return undefined;
  if (s.properties && key in s.properties) return s.properties[key];
  return isObject(s.additionalProperties) ? s.additionalProperties : undefined;
}

const nonNullableNull = (v: unknown, s: K8sSchema | undefined) => v === null && s !== undefined && !s.nullable;

/**
 * `PruneNonNullableNullsWithoutDefaults` then `Default`, as the server runs them when it decodes a request: a null
 * that the schema does not allow and that has no default is dropped (so `spec: {url: null}` is as if url were
 * absent); then every absent (or disallowed null) property with a default gets a copy of it, recursively.
 * Mutates `value`.
 */
export function pruneNullsAndDefault(value: unknown, s: K8sSchema | undefined): void {
  if (!s) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (nonNullableNull(item, s.items) && s.items.default !== undefined) value[i] = structuredClone(s.items.default);
      pruneNullsAndDefault(value[i], s.items);
    });
    return;
  }
  if (!isObject(value)) return;
  for (const [key, item] of Object.entries(value)) {
    const itemSchema = fieldSchema(s, key);
    if (nonNullableNull(item, itemSchema) && itemSchema?.default === undefined) delete value[key];
  }
  for (const [key, prop] of Object.entries<K8sSchema>(s.properties ?? {})) {
    if (prop.default !== undefined && (!(key in value) || nonNullableNull(value[key], prop))) {
      value[key] = structuredClone(prop.default);
    }
  }
  for (const [key, item] of Object.entries(value)) pruneNullsAndDefault(item, fieldSchema(s, key));
}

/** `ValidateListSetsAndMaps`: items of a `set` list are unique; so are the key tuples of a `map` list. */
export function listTypeErrors(value: unknown, s: K8sSchema | undefined, path: FieldPath = []): FieldError[] {
  if (!s || value === null || typeof value !== 'object') return [];
  const errors: FieldError[] = [];
  if (Array.isArray(value)) {
    const listType = s['x-kubernetes-list-type'];
    if (listType === 'set' || listType === 'map') {
      const keys: string[] = s['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const identity = listType === 'set' ? item : Object.fromEntries(keys.map(k => [k, isObject(item) ? item[k] : undefined]));
        const id = JSON.stringify(identity);
        if (seen.has(id)) errors.push({ path: [...path, i], message: `Duplicate value: ${quote(identity)}` });
        seen.add(id);
      });
    }
    value.forEach((item, i) => errors.push(...listTypeErrors(item, s.items, [...path, i])));
    return errors;
  }
  for (const [key, item] of Object.entries(value)) errors.push(...listTypeErrors(item, fieldSchema(s, key), [...path, key]));
  return errors;
}
