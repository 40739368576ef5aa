// OpenAPI validation of a custom resource against its CRD schema, with ajv: the CRD's schema is translated into
// plain JSON Schema, putting the Kubernetes extensions in terms ajv understands.
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { FieldError, FieldPath, quote } from './field-error';
import { ajvFormats, enforcedFormat } from './formats';
import { K8sSchema } from './structural';

/** Keywords copied as they are: JSON Schema and OpenAPI agree on them. */
const PLAIN_KEYWORDS = ['type', 'enum', 'required', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern',
  'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'multipleOf'];
/** Keywords with no bearing on OpenAPI validation (defaults and list types are applied or checked elsewhere). */
const IGNORED_KEYWORDS = new Set(['description', 'title', 'example', 'externalDocs', 'default', 'x-kubernetes-map-type',
  'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-validations']);
/** Keywords handled below. */
const TRANSLATED_KEYWORDS = new Set(['properties', 'items', 'additionalProperties', 'allOf', 'anyOf', 'oneOf', 'not',
  'format', 'nullable', 'exclusiveMinimum', 'exclusiveMaximum', 'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource']);

/**
 * One node. `structural` is false under anyOf/allOf/oneOf/not, whose branches only add value checks: there the
 * absence of `additionalProperties` means nothing, and unknown fields are judged by the structural node alone.
 */
function translate(s: K8sSchema, structural: boolean, where: string): Record<string, unknown> {
  const out: Record<string, any> = {};
  for (const key of Object.keys(s)) {
    if (!PLAIN_KEYWORDS.includes(key) && !IGNORED_KEYWORDS.has(key) && !TRANSLATED_KEYWORDS.has(key)) {
      throw new Error(`harness: schema keyword "${key}" at ${where} is not understood; teach schema.ts about it`);
    }
  }
  for (const key of PLAIN_KEYWORDS) if (s[key] !== undefined) out[key] = s[key];
  // OpenAPI 3.0 writes exclusive bounds as booleans beside minimum/maximum; JSON Schema as the bound itself.
  if (s.exclusiveMinimum === true) {
    out.exclusiveMinimum = s.minimum;
    delete out.minimum;
  }
  if (s.exclusiveMaximum === true) {
    out.exclusiveMaximum = s.maximum;
    delete out.maximum;
  }
  if (typeof s.format === 'string') {
    const format = enforcedFormat(s.format);
    if (format) out.format = format;
  }
  if (s['x-kubernetes-int-or-string']) out.type = ['integer', 'string'];
  if (s.properties) {
    out.properties = Object.fromEntries(Object.entries<K8sSchema>(s.properties).map(([k, v]) => [k, translate(v, structural, `${where}.${k}`)]));
  }
  if (s.items) out.items = translate(s.items, structural, `${where}[]`);
  if (typeof s.additionalProperties === 'object') out.additionalProperties = translate(s.additionalProperties, structural, `${where}{}`);
  else if (s.additionalProperties !== undefined) out.additionalProperties = s.additionalProperties;
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    if (s[key]) out[key] = s[key].map((b: K8sSchema, i: number) => translate(b, false, `${where}.${key}[${i}]`));
  }
  if (s.not) out.not = translate(s.not, false, `${where}.not`);
  if (s['x-kubernetes-embedded-resource']) {
    // An embedded object always carries apiVersion and kind, and may carry metadata even if undeclared.
    out.required = [...new Set([...(out.required ?? []), 'apiVersion', 'kind'])];
    out.properties = { apiVersion: { type: 'string', minLength: 1 }, kind: { type: 'string', minLength: 1 }, metadata: { type: 'object' }, ...out.properties };
  }
  // Unknown fields are rejected, as `kubectl apply --validate=strict` makes the server do, unless kept on purpose.
  if (structural && s.properties && s.additionalProperties === undefined && !s['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  // Null passes a nullable node whatever else it says.
  return s.nullable ? { if: { type: 'null' }, then: true, else: out } : out;
}

/** The whole object's schema: apiVersion, kind and metadata are implicit; metadata is checked as ObjectMeta elsewhere. */
function translateRoot(schema: K8sSchema): Record<string, unknown> {
  const { metadata, ...others } = schema.properties ?? {};
  const root = translate({ ...schema, properties: others }, true, '<root>') as Record<string, any>;
  // A CRD may only restrict metadata.name and metadata.generateName; other metadata fields are ObjectMeta's business.
  const metaProps = metadata?.properties ? translate({ properties: metadata.properties }, false, 'metadata') : {};
  root.properties = {
    ...root.properties,
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object', ...metaProps },
  };
  return root;
}

const ajv = new Ajv({ allErrors: true, strict: false, formats: ajvFormats() });

/** Compiles a CRD version's schema into a validator. Throws (a harness bug) if ajv cannot compile it. */
export function compileSchema(schema: K8sSchema): ValidateFunction {
  return ajv.compile(translateRoot(schema));
}

/** JSON pointer segments to field path keys, using the data to tell list indices from map keys. */
function toFieldPath(pointer: string, data: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  let node: any = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment = Array.isArray(node) ? Number(key) : key;
    path.push(segment);
    node = node?.[segment];
  }
  return path;
}

function valueAt(data: unknown, path: FieldPath): unknown {
  return path.reduce<any>((node, key) => node?.[key], data);
}

/** ajv's findings as the server words them; the wrong type, required, enum and size errors block CEL. */
function toFieldError(e: ErrorObject, data: unknown): FieldError {
  const path = toFieldPath(e.instancePath, data);
  const value = quote(valueAt(data, path));
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: [...path, e.params.additionalProperty], message: `unknown field "${e.params.additionalProperty}"` };
    case 'required':
      return { path: [...path, e.params.missingProperty], message: 'Required value', blocksCel: true };
    case 'type':
      return { path, message: `Invalid value: ${value}: must be of type ${e.params.type}`, blocksCel: true };
    case 'enum':
      return { path, message: `Unsupported value: ${value}: supported values: ${e.params.allowedValues.map(quote).join(', ')}`, blocksCel: true };
    case 'maxLength':
    case 'maxItems':
    case 'maxProperties':
      return { path, message: `Too long: ${e.message}`, blocksCel: true };
    default:
      return { path, message: `Invalid value: ${value}: ${e.message}` };
  }
}

/**
 * ajv's errors as field errors. Errors inside anyOf/oneOf branches are dropped in favour of the branch summary
 * (one branch failing is how anyOf works), as are the `if` summaries of nullable nodes.
 */
export function fromAjvErrors(errors: readonly ErrorObject[], data: unknown): FieldError[] {
  const summaries = errors.filter(e => e.keyword === 'anyOf' || e.keyword === 'oneOf').map(e => `${e.schemaPath}/`);
  return errors
    .filter(e => e.keyword !== 'if' && !summaries.some(prefix => e.schemaPath.startsWith(prefix)))
    .map(e => toFieldError(e, data));
}

/** The errors of a compiled schema on `data`. */
export function schemaErrors(validate: ValidateFunction, data: unknown): FieldError[] {
  return validate(data) ? [] : fromAjvErrors(validate.errors ?? [], data);
}
