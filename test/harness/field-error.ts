// One validation finding, located by the path of the offending field, as the API server reports it.

/** Keys from the object's root: property names and array indices. */
export type FieldPath = readonly (string | number)[];

export interface FieldError {
  readonly path: FieldPath;
  readonly message: string;
  /**
   * The API server skips CEL rules when an object has one of these (wrong type, missing required field, enum,
   * too long/many), because the rules may assume them; see `hasBlockingErr` in the apiextensions strategy.
   */
  readonly blocksCel?: boolean;
}

/** `spec.http[0].route[0].weight`; map keys that are not identifiers are bracketed: `metadata.labels[app.kubernetes.io/name]`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${key}]`;
  }
  return out;
}

/** Go's `%q`-like rendering of a value inside a message. */
export function quote(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
