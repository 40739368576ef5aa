// ObjectMeta checks the API server applies to every object it creates (apimachinery `ValidateObjectMeta`), whatever
// the kind: a CRD schema cannot describe metadata, so none of this comes from the CRDs.
import { FieldError, FieldPath, quote } from './field-error';

/** How a kind's names are checked; most kinds use DNS subdomains. */
export enum NameRule {
  DNS_SUBDOMAIN = 'dns1123-subdomain',
  DNS_LABEL = 'dns1123-label',
  DNS1035_LABEL = 'dns1035-label',
  PATH_SEGMENT = 'path-segment',
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const TOTAL_ANNOTATION_SIZE = 256 * 1024;

/** The fields of `metav1.ObjectMeta`: anything else is an unknown field. */
const OBJECT_META_FIELDS = new Set(['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion',
  'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations',
  'ownerReferences', 'finalizers', 'managedFields']);

function dns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errs.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
      'and must start and end with an alphanumeric character');
  }
  return errs;
}

function dns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(value)) {
    errs.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', " +
      'and must start and end with an alphanumeric character');
  }
  return errs;
}

function dns1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1035_LABEL.test(value)) {
    errs.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', " +
      'start with an alphabetic character, and end with an alphanumeric character');
  }
  return errs;
}

function pathSegment(value: string): string[] {
  if (value === '.' || value === '..') return [`may not be '${value}'`];
  return ['/', '%'].filter(c => value.includes(c)).map(c => `may not contain '${c}'`);
}

const NAME_CHECKS: Record<NameRule, (value: string) => string[]> = {
  [NameRule.DNS_SUBDOMAIN]: dns1123Subdomain,
  [NameRule.DNS_LABEL]: dns1123Label,
  [NameRule.DNS1035_LABEL]: dns1035Label,
  [NameRule.PATH_SEGMENT]: pathSegment,
};

/** `IsQualifiedName`: `[prefix/]name`, the prefix a DNS subdomain, the name at most 63 characters. */
export function qualifiedNameErrors(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', with an optional DNS subdomain prefix and '/'"];
  const name = parts[parts.length - 1];
  const errs: string[] = [];
  if (parts.length === 2) {
    if (parts[0] === '') errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(parts[0]).map(e => `prefix part ${e}`));
  }
  if (name === '') errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name !== '' && !QUALIFIED_NAME.test(name)) {
    errs.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  }
  return errs;
}

function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (value !== '' && !QUALIFIED_NAME.test(value)) {
    errs.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', " +
      'and must start and end with an alphanumeric character');
  }
  return errs;
}

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every(v => typeof v === 'string');
}

export interface ObjectMetaOptions {
  readonly nameRule: NameRule;
  /** Cluster-scoped objects have their namespace cleared by the server, so it is not checked. */
  readonly namespaced: boolean;
  /**
   * Also report unknown fields and wrong types. Core kinds leave this to their OpenAPI validation, which already
   * covers ObjectMeta; custom resources need it because CRD schemas say nothing about metadata.
   */
  readonly checkShape: boolean;
}

/** The errors of an object's `metadata`, at paths under `metadata`. */
export function validateObjectMeta(meta: unknown, opts: ObjectMetaOptions): FieldError[] {
  const at = (...keys: (string | number)[]): FieldPath => ['metadata', ...keys];
  if (meta === undefined) return [{ path: at('name'), message: 'Required value: name or generateName is required', blocksCel: true }];
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    return [{ path: at(), message: `Invalid value: ${quote(meta)}: must be of type object`, blocksCel: true }];
  }
  const m = meta as Record<string, unknown>;
  const errors: FieldError[] = [];
  if (opts.checkShape) {
    for (const key of Object.keys(m).filter(k => !OBJECT_META_FIELDS.has(k))) {
      errors.push({ path: at(key), message: 'unknown field' });
    }
    for (const key of ['name', 'generateName', 'namespace'] as const) {
      if (m[key] !== undefined && typeof m[key] !== 'string') {
        errors.push({ path: at(key), message: `Invalid value: ${quote(m[key])}: must be of type string`, blocksCel: true });
      }
    }
    for (const key of ['labels', 'annotations'] as const) {
      if (m[key] !== undefined && !isStringMap(m[key])) {
        errors.push({ path: at(key), message: 'Invalid value: must be a map of string to string', blocksCel: true });
      }
    }
  }
  const name = typeof m.name === 'string' ? m.name : '';
  const generateName = typeof m.generateName === 'string' ? m.generateName : '';
  const check = NAME_CHECKS[opts.nameRule];
  if (name === '' && generateName === '') {
    errors.push({ path: at('name'), message: 'Required value: name or generateName is required', blocksCel: true });
  }
  if (name !== '') {
    errors.push(...check(name).map(e => ({ path: at('name'), message: `Invalid value: ${quote(name)}: ${e}` })));
  }
  if (generateName !== '') {
    // A prefix may end in '-': the server checks it as if the trailing dash were a letter (`maskTrailingDash`).
    const masked = generateName.length > 1 && generateName.endsWith('-') ? `${generateName.slice(0, -2)}a` : generateName;
    errors.push(...check(masked).map(e => ({ path: at('generateName'), message: `Invalid value: ${quote(generateName)}: ${e}` })));
  }
  if (opts.namespaced && typeof m.namespace === 'string' && m.namespace !== '') {
    const ns = m.namespace;
    errors.push(...dns1123Label(ns).map(e => ({ path: at('namespace'), message: `Invalid value: ${quote(ns)}: ${e}` })));
  }
  if (isStringMap(m.labels)) {
    for (const [key, value] of Object.entries(m.labels)) {
      errors.push(...qualifiedNameErrors(key).map(e => ({ path: at('labels'), message: `Invalid value: ${quote(key)}: ${e}` })));
      errors.push(...labelValueErrors(value).map(e => ({ path: at('labels', key), message: `Invalid value: ${quote(value)}: ${e}` })));
    }
  }
  if (isStringMap(m.annotations)) {
    let size = 0;
    for (const [key, value] of Object.entries(m.annotations)) {
      errors.push(...qualifiedNameErrors(key.toLowerCase()).map(e => ({ path: at('annotations'), message: `Invalid value: ${quote(key)}: ${e}` })));
      size += Buffer.byteLength(key) + Buffer.byteLength(value);
    }
    if (size > TOTAL_ANNOTATION_SIZE) {
      errors.push({ path: at('annotations'), message: `Too long: may not be more than ${TOTAL_ANNOTATION_SIZE} bytes` });
    }
  }
  return errors;
}
