// Built-in Kubernetes kinds (Deployment, Service, ...), checked with the OpenAPI schemas compiled into
// `kubernetes-models`: types, required fields, enums, formats. Those validators let unknown fields through, which
// `--validate=strict` rejects, so the properties each validator reads are recorded: a field of an object it
// inspected property by property, but never read, is unknown.
import type { ErrorObject } from 'ajv';
import { FieldError, FieldPath } from './field-error';
import { NameRule } from './metadata';
import { fromAjvErrors } from './schema';

/** A built-in kind the cluster serves. */
export interface CoreKind {
  readonly namespaced: boolean;
  readonly nameRule: NameRule;
  validate(object: unknown): FieldError[];
}

/** Kinds without a namespace (the rest of those kubernetes-models knows are namespaced). */
const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding',
  'StorageClass', 'CSIDriver', 'CSINode', 'VolumeAttachment', 'IngressClass', 'RuntimeClass', 'PriorityClass',
  'CustomResourceDefinition', 'APIService', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'CertificateSigningRequest', 'FlowSchema',
  'PriorityLevelConfiguration', 'ComponentStatus']);

/** Kinds whose names are not DNS subdomains (`ValidateServiceName`, `ValidateNamespaceName`, `ValidateRBACName`). */
const NAME_RULES: Record<string, NameRule> = {
  Service: NameRule.DNS1035_LABEL,
  Namespace: NameRule.DNS_LABEL,
  Role: NameRule.PATH_SEGMENT,
  ClusterRole: NameRule.PATH_SEGMENT,
  RoleBinding: NameRule.PATH_SEGMENT,
  ClusterRoleBinding: NameRule.PATH_SEGMENT,
};

interface ModelClass {
  readonly kind?: string;
  readonly apiVersion?: string;
  readonly prototype: { validate(): void };
}

/** What a validator did with each object: the properties it read, and whether it listed the keys (a map). */
class ReadTracker {
  private readonly read = new WeakMap<object, Set<string>>();
  private readonly listed = new WeakSet<object>();

  public wrap<T>(value: T): T {
    if (typeof value !== 'object' || value === null) return value;
    return new Proxy(value as object, {
      get: (target, key, receiver) => {
        if (typeof key === 'string') {
          if (!this.read.has(target)) this.read.set(target, new Set());
          this.read.get(target)!.add(key);
        }
        return this.wrap(Reflect.get(target, key, receiver));
      },
      ownKeys: target => {
        this.listed.add(target);
        return Reflect.ownKeys(target);
      },
    }) as T;
  }

  /**
   * Fields never read in objects that were read field by field. Objects the validator never looked into are
   * free-form (`fieldsV1`, raw extensions) and say nothing.
   */
  public unknownFields(value: unknown, path: FieldPath = []): FieldError[] {
    if (typeof value !== 'object' || value === null) return [];
    if (Array.isArray(value)) return value.flatMap((item, i) => this.unknownFields(item, [...path, i]));
    const read = this.read.get(value);
    const errors: FieldError[] = [];
    for (const [key, item] of Object.entries(value)) {
      if (read && !this.listed.has(value) && !read.has(key)) errors.push({ path: [...path, key], message: `unknown field "${key}"` });
      errors.push(...this.unknownFields(item, [...path, key]));
    }
    return errors;
  }
}

function loadModel(group: string, version: string, kind: string): ModelClass | undefined {
  const modulePath = group === '' ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const model = require(modulePath)[kind] as ModelClass | undefined;
    // The package also has modules for plain structs (v1/Container); only top-level kinds carry a kind.
    return model?.kind === kind ? model : undefined;
  } catch {
    return undefined;
  }
}

const cache = new Map<string, CoreKind | undefined>();

/**
 * The built-in kind for an apiVersion, or undefined when a cluster does not serve it. Only GA versions count:
 * kubernetes-models also has betas that current clusters no longer serve (extensions/v1beta1, policy/v1beta1...)
 * or serve only when enabled.
 */
export function coreKind(apiVersion: string, kind: string): CoreKind | undefined {
  const key = `${apiVersion}/${kind}`;
  if (cache.has(key)) return cache.get(key);
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const model = /^v[0-9]+$/.test(version) ? loadModel(group, version, kind) : undefined;
  const result: CoreKind | undefined = model && {
    namespaced: !CLUSTER_SCOPED.has(kind),
    nameRule: NAME_RULES[kind] ?? NameRule.DNS_SUBDOMAIN,
    validate(object: unknown): FieldError[] {
      const tracker = new ReadTracker();
      let errors: FieldError[] = [];
      try {
        // Validate in place: constructing the model would copy, and so read, every field.
        model.prototype.validate.call(tracker.wrap(object));
      } catch (e) {
        const ajvErrors = (e as { errors?: ErrorObject[] }).errors;
        if (!ajvErrors) throw e;
        errors = fromAjvErrors(ajvErrors, object);
      }
      return [...errors, ...tracker.unknownFields(object)];
    },
  };
  cache.set(key, result);
  return result;
}
