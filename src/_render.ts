/** @internal Drops undefined fields; an object left empty becomes undefined. */
export function compact(obj: { [key: string]: any }): any {
  const out: { [key: string]: any } = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return Object.keys(out).length === 0 ? undefined : out;
}
