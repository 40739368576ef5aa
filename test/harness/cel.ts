// The CRDs' `x-kubernetes-validations` rules, evaluated as the API server does (apiextensions `cel.Validator`):
// each rule at its schema node, with `self` the node's value typed by the schema (integers as CEL ints, numbers as
// doubles, declared property names escaped), nulls skipped, transition rules skipped since every object is created.
import { celEnv, CelInput, CelResult, CelScalar, isCelError, parse, plan } from '@bufbuild/cel';
import { KUBERNETES_CEL_FUNCS } from './cel-library';
import { FieldError, FieldPath } from './field-error';
import { fieldSchema, K8sSchema } from './structural';

const env = celEnv({ variables: { self: CelScalar.DYN }, funcs: KUBERNETES_CEL_FUNCS });

/** Calls that the evaluator implements itself rather than as functions: logic, conditional, index. */
const BUILT_IN_CALLS = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '@not_strictly_false']);

/** Names CEL reserves: a property with one of these names is `__name__` in rules (apiserver `cel.Escape`). */
const RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function',
  'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/** The name a declared property has in CEL, or undefined if it cannot be named (and so is not visible). */
function escapeProperty(name: string): string | undefined {
  if (name === '' || /^[0-9]/.test(name)) return undefined;
  if (RESERVED.has(name)) return `__${name}__`;
  if (/[^a-zA-Z0-9\-./_]/.test(name)) return undefined;
  return name.replace(/__|[-./]/g, s => ({ '__': '__underscores__', '.': '__dot__', '-': '__dash__', '/': '__slash__' })[s]!);
}

interface Names {
  readonly calls: Set<string>;
  readonly idents: Set<string>;
}

/** The functions called and identifiers read in a parsed expression (protobuf `cel.expr.Expr` messages). */
function namesIn(node: unknown, names: Names = { calls: new Set(), idents: new Set() }): Names {
  if (Array.isArray(node)) {
    node.forEach(n => namesIn(n, names));
  } else if (typeof node === 'object' && node !== null) {
    const n = node as Record<string, any>;
    if (n.$typeName === 'cel.expr.Expr.Call') names.calls.add(n.function);
    if (n.$typeName === 'cel.expr.Expr.Ident') names.idents.add(n.name);
    for (const [key, value] of Object.entries(n)) if (key !== '$typeName') namesIn(value, names);
  }
  return names;
}

type Program = (bindings: { self: CelInput }) => CelResult;

/** Parses and plans an expression; anything the harness cannot run is thrown, never treated as a pass. */
function compile(expr: string, where: string): { program: Program; names: Names } {
  let parsed;
  try {
    parsed = parse(expr);
  } catch (e) {
    throw new Error(`harness: cannot parse CEL at ${where}: ${expr}\n${(e as Error).message}`);
  }
  const names = namesIn(parsed.expr);
  const unknown = [...names.calls].filter(f => !BUILT_IN_CALLS.has(f) && !env.funcs.find(f));
  if (unknown.length > 0) {
    throw new Error(`harness: CEL at ${where} calls ${unknown.join(', ')}, which the harness does not implement ` +
      `(add it to cel-library.ts): ${expr}`);
  }
  return { program: plan(env, parsed) as Program, names };
}

const REASONS: Record<string, string> = {
  FieldValueInvalid: 'Invalid value',
  FieldValueForbidden: 'Forbidden',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
};

/** A rule's `fieldPath` (`.spec.port`, `.labels['a.b']`, `.items[0]`) as keys below the rule's node. */
function parseFieldPath(fieldPath: string, where: string): FieldPath {
  const keys: (string | number)[] = [];
  const token = /\.([A-Za-z_][A-Za-z0-9_]*)|\['((?:[^'\\]|\\.)*)'\]|\[([0-9]+)\]/y;
  while (token.lastIndex < fieldPath.length) {
    const m = token.exec(fieldPath);
    if (!m) throw new Error(`harness: cannot read fieldPath ${fieldPath} at ${where}`);
    keys.push(m[1] ?? (m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : Number(m[3])));
  }
  return keys;
}

interface Rule {
  readonly rule: string;
  readonly program: Program;
  readonly message?: string;
  readonly messageProgram?: Program;
  readonly fieldPath: FieldPath;
  readonly reason: string;
}

/** The schema nodes with rules, and the way down to them. Subtrees without rules are left out. */
interface RuleNode {
  readonly schema: K8sSchema;
  readonly rules: Rule[];
  readonly properties: [string, RuleNode][];
  readonly additionalProperties?: RuleNode;
  readonly items?: RuleNode;
}

function compileRules(s: K8sSchema, where: string): Rule[] {
  const rules: Rule[] = [];
  for (const v of s['x-kubernetes-validations'] ?? []) {
    const { program, names } = compile(v.rule, where);
    if (names.idents.has('oldSelf')) {
      // A transition rule compares with the stored object; on create it only runs when it opts in, with oldSelf
      // an empty optional, which this CEL implementation cannot express.
      if (v.optionalOldSelf) throw new Error(`harness: optionalOldSelf rules need CEL optionals (at ${where}): ${v.rule}`);
      continue;
    }
    rules.push({
      rule: v.rule,
      program,
      message: v.message,
      messageProgram: v.messageExpression ? compile(v.messageExpression, `${where} messageExpression`).program : undefined,
      fieldPath: v.fieldPath ? parseFieldPath(v.fieldPath, where) : [],
      reason: REASONS[v.reason ?? 'FieldValueInvalid'] ?? 'Invalid value',
    });
  }
  return rules;
}

/** Rules only live on the structural skeleton; one under anyOf & co. would be skipped silently, so refuse it. */
function refuseRulesIn(s: K8sSchema | undefined, where: string): void {
  if (!s || typeof s !== 'object') return;
  if (s['x-kubernetes-validations']) throw new Error(`harness: x-kubernetes-validations under ${where} is not supported`);
  Object.values(s).forEach(v => refuseRulesIn(v, where));
}

function buildNode(s: K8sSchema, where: string): RuleNode | undefined {
  for (const key of ['allOf', 'anyOf', 'oneOf', 'not']) refuseRulesIn(s[key], `${where}.${key}`);
  const rules = compileRules(s, where);
  const properties = Object.entries<K8sSchema>(s.properties ?? {})
    .map(([k, v]) => [k, buildNode(v, `${where}.${k}`)] as [string, RuleNode | undefined])
    .filter((e): e is [string, RuleNode] => e[1] !== undefined);
  const additionalProperties = typeof s.additionalProperties === 'object' ? buildNode(s.additionalProperties, `${where}{}`) : undefined;
  const items = s.items ? buildNode(s.items, `${where}[]`) : undefined;
  if (rules.length === 0 && properties.length === 0 && !additionalProperties && !items) return undefined;
  return { schema: s, rules, properties, additionalProperties, items };
}

/** JSON of unknown shape: whole numbers are ints, as they are when the server decodes JSON. */
function dynToCel(value: unknown): CelInput {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(dynToCel);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, dynToCel(v)]));
  }
  return value as CelInput;
}

const toTimestamp = plan(env, parse('timestamp(self)'));
const toDuration = plan(env, parse('duration(self)'));

/**
 * Strings with a date, date-time, duration or byte format are timestamps, durations and bytes in CEL. One that does
 * not parse stays a string: its format error is reported by the schema validation.
 */
function typedString(value: string, format: string): CelInput {
  const parsers: Record<string, () => CelResult> = {
    'date-time': () => toTimestamp({ self: value }),
    'date': () => toTimestamp({ self: `${value}T00:00:00Z` }),
    'duration': () => toDuration({ self: value }),
    'byte': () => Uint8Array.from(Buffer.from(value, 'base64')),
  };
  const typed = parsers[format]?.();
  return typed === undefined || isCelError(typed) ? value : typed as CelInput;
}

/** Converts values to CEL along their schema (apiserver `UnstructuredToVal`), once per object and schema node. */
class Converter {
  private readonly cache = new Map<unknown, Map<K8sSchema, CelInput>>();

  public convert(value: unknown, s: K8sSchema | undefined, root = false): CelInput {
    if (value === null || value === undefined || !s) return dynToCel(value ?? null);
    if (typeof value !== 'object') return this.scalar(value, s);
    const cached = this.cache.get(value)?.get(s);
    if (cached !== undefined) return cached;
    const result = this.composite(value as Record<string, unknown>, s, root);
    if (!this.cache.has(value)) this.cache.set(value, new Map());
    this.cache.get(value)!.set(s, result);
    return result;
  }

  private scalar(value: unknown, s: K8sSchema): CelInput {
    if (typeof value === 'number') {
      if (s.type === 'number') return value;
      return Number.isInteger(value) ? BigInt(value) : value;
    }
    if (typeof value === 'string' && s.type === 'string' && typeof s.format === 'string') return typedString(value, s.format);
    return value as CelInput;
  }

  private composite(value: Record<string, unknown>, s: K8sSchema, root: boolean): CelInput {
    if (Array.isArray(value)) return value.map(v => this.convert(v, s.items));
    if (s.properties || s['x-kubernetes-embedded-resource']) {
      const out: Record<string, CelInput> = {};
      // apiVersion, kind and metadata are visible in a whole or embedded object even when the schema omits them.
      const implicit = root || s['x-kubernetes-embedded-resource'];
      for (const [key, item] of Object.entries(value)) {
        const name = escapeProperty(key);
        const itemSchema = fieldSchema(s, key) ?? (implicit && ['apiVersion', 'kind', 'metadata'].includes(key) ? {} : undefined);
        if (name === undefined || itemSchema === undefined) continue;
        // At the root only metadata.name and metadata.generateName are visible to rules.
        if (root && key === 'metadata') {
          const { name: n, generateName } = item as Record<string, unknown>;
          out[name] = dynToCel(Object.fromEntries(Object.entries({ name: n, generateName }).filter(([, v]) => v !== undefined)));
        } else {
          out[name] = this.convert(item, itemSchema);
        }
      }
      return out;
    }
    if (typeof s.additionalProperties === 'object') {
      return new Map(Object.entries(value).map(([k, v]) => [k, this.convert(v, s.additionalProperties)]));
    }
    return dynToCel(value);
  }
}

/** Compiled rules of one schema; evaluate them over objects (already defaulted, and free of blocking errors). */
export class CelValidator {
  private readonly root?: RuleNode;

  constructor(schema: K8sSchema, where: string) {
    this.root = buildNode(schema, where);
  }

  public validate(object: unknown): FieldError[] {
    const errors: FieldError[] = [];
    if (this.root) this.walk(this.root, object, [], new Converter(), errors);
    return errors;
  }

  private walk(node: RuleNode, value: unknown, path: FieldPath, converter: Converter, errors: FieldError[]): void {
    if (value === null || value === undefined) return;
    if (node.rules.length > 0) {
      const self = converter.convert(value, node.schema, path.length === 0);
      for (const rule of node.rules) {
        const error = this.check(rule, self, node.schema, path);
        if (error) errors.push(error);
      }
    }
    if (Array.isArray(value)) {
      if (node.items) value.forEach((item, i) => this.walk(node.items!, item, [...path, i], converter, errors));
      return;
    }
    if (typeof value !== 'object') return;
    const obj = value as Record<string, unknown>;
    for (const [key, child] of node.properties) {
      if (key in obj) this.walk(child, obj[key], [...path, key], converter, errors);
    }
    if (node.additionalProperties) {
      for (const [key, item] of Object.entries(obj)) this.walk(node.additionalProperties, item, [...path, key], converter, errors);
    }
  }

  private check(rule: Rule, self: CelInput, s: K8sSchema, path: FieldPath): FieldError | undefined {
    const result = rule.program({ self });
    const typeName = s.type ? `"${s.type}"` : '""';
    if (isCelError(result)) {
      // As in the server: a runtime error (no such key, bad conversion, no overload for a dyn value) fails the
      // rule, and is told with the rule's message when it has one (`ruleErrorString`).
      return { path, message: `Invalid value: ${typeName}: ${result.message} evaluating rule: ${rule.message?.trim() || rule.rule}` };
    }
    if (typeof result !== 'boolean') throw new Error(`harness: rule returned ${String(result)}, not a bool: ${rule.rule}`);
    if (result) return undefined;
    const message = this.message(rule, self);
    const detail = rule.reason === 'Invalid value' ? `Invalid value: ${typeName}: ${message}` : `${rule.reason}: ${message}`;
    return { path: [...path, ...rule.fieldPath], message: detail };
  }

  /** messageExpression if it yields a non-blank string, else message, else the rule (as the server falls back). */
  private message(rule: Rule, self: CelInput): string {
    if (rule.messageProgram) {
      const m = rule.messageProgram({ self });
      if (typeof m === 'string' && m.trim() !== '') return m;
    }
    return rule.message ?? `failed rule: ${rule.rule}`;
  }
}
