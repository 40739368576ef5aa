// The validation every test runs on synthesized manifests: what `kubectl apply --validate=strict` would get from
// an API server with the pinned CRDs installed, without a cluster.
//
// Custom resources: served version lookup, null pruning and defaulting, OpenAPI schema (unknown fields rejected),
// ObjectMeta, list-type uniqueness, then the CEL rules (skipped, as by the server, when a blocking error exists).
// Built-in kinds: their OpenAPI schema from kubernetes-models, unknown fields, ObjectMeta.
import type { ValidateFunction } from 'ajv';
import { CelValidator } from './cel';
import { CrdVersion, crdsLoadable, gvkKey, servedCrdVersions } from './crds';
import { FieldError, formatPath } from './field-error';
import { coreKind } from './k8s-core';
import { NameRule, validateObjectMeta } from './metadata';
import { compileSchema, schemaErrors } from './schema';
import { listTypeErrors, pruneNullsAndDefault } from './structural';

/** One reason an object would be refused. */
export interface ManifestError {
  /** Position of the object in the array given. */
  readonly index: number;
  readonly kind: string;
  readonly name: string;
  /** Path of the offending field, e.g. `spec.http[0].route[0].weight`; '' for the object itself. */
  readonly path: string;
  readonly message: string;
}

interface CompiledCrd {
  readonly crd: CrdVersion;
  readonly schema: ValidateFunction;
  readonly cel: CelValidator;
}

/** Compiled once per kind and version: tests validate thousands of objects. */
const compiled = new Map<string, CompiledCrd>();

function compiledCrd(apiVersion: string, kind: string): CompiledCrd | undefined {
  const key = gvkKey(apiVersion, kind);
  const existing = compiled.get(key);
  if (existing) return existing;
  const crd = servedCrdVersions().get(key);
  if (!crd) return undefined;
  const entry = { crd, schema: compileSchema(crd.schema), cel: new CelValidator(crd.schema, key) };
  compiled.set(key, entry);
  return entry;
}

const SERVER_CEL_SKIPPED = 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

function customResourceErrors(object: Record<string, unknown>, { crd, schema, cel }: CompiledCrd): FieldError[] {
  // The server works on its own decoded copy: the caller's object is not defaulted.
  const copy = structuredClone(object);
  if (crd.hasStatusSubresource) delete copy.status;
  pruneNullsAndDefault(copy, crd.schema);
  const errors = [
    ...schemaErrors(schema, copy),
    ...validateObjectMeta(copy.metadata, { nameRule: NameRule.DNS_SUBDOMAIN, namespaced: crd.namespaced, checkShape: true }),
    ...listTypeErrors(copy, crd.schema),
  ];
  if (errors.some(e => e.blocksCel)) return [...errors, { path: [], message: SERVER_CEL_SKIPPED }];
  return [...errors, ...cel.validate(copy)];
}

function objectErrors(object: unknown): FieldError[] {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    return [{ path: [], message: 'not an object' }];
  }
  const o = object as Record<string, unknown>;
  const { apiVersion, kind } = o;
  if (typeof apiVersion !== 'string' || apiVersion === '') return [{ path: ['apiVersion'], message: 'Required value' }];
  if (typeof kind !== 'string' || kind === '') return [{ path: ['kind'], message: 'Required value' }];
  const crd = compiledCrd(apiVersion, kind);
  if (crd) return customResourceErrors(o, crd);
  const core = coreKind(apiVersion, kind);
  if (core) {
    return [
      ...core.validate(o),
      ...validateObjectMeta(o.metadata, { nameRule: core.nameRule, namespaced: core.namespaced, checkShape: false }),
    ];
  }
  return [{ path: [], message: `no matches for kind "${kind}" in version "${apiVersion}": neither a served version of a pinned CRD nor a built-in kind` }];
}

/** Every reason the objects would be refused; empty when all would be created. */
export function validateManifests(objects: any[]): ManifestError[] {
  // Checked as sent: JSON, so undefined fields are absent and class instances are their JSON.
  return objects.flatMap((object, index) => objectErrors(JSON.parse(JSON.stringify(object ?? null))).map(e => ({
    index,
    kind: String(object?.kind ?? ''),
    name: String(object?.metadata?.name ?? ''),
    path: formatPath(e.path),
    message: e.message,
  })));
}

/** For jest: throws, listing every error, unless all objects are valid. */
export function expectValidManifests(objects: any[]): void {
  const errors = validateManifests(objects);
  if (errors.length === 0) return;
  const lines = errors.map(e => `  [${e.index}] ${e.kind}/${e.name} ${e.path || '(object)'}: ${e.message}`);
  throw new Error(`${errors.length} manifest error(s):\n${lines.join('\n')}`);
}

/** Whether the pinned CRDs can be loaded (locally, from the cache, or by downloading them now). */
export function harnessAvailable(): boolean {
  return crdsLoadable();
}

/** `describe` when the CRDs can be loaded, else `describe.skip`, saying why. */
export function describeIfCrds(name: string, fn: () => void): void {
  if (harnessAvailable()) {
    describe(name, fn);
    return;
  }
  // eslint-disable-next-line no-console
  console.warn(`skipped "${name}": the pinned CRDs are unavailable: neither ../shared/crds nor .crd-cache/ holds them, ` +
    'and they could not be downloaded (offline?)');
  describe.skip(name, fn);
}
