import { createHash } from 'crypto';

/**
 * @internal A DNS label from free text (`Frontend_API` -> `frontend-api`); long names keep a prefix and a hash so
 * they stay unique.
 */
export function dnsLabel(text: string): string {
  const base = text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '') || 'x';
  if (base.length <= 63) return base;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${base.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

/** @internal Hands out names unique within a set: `name`, then `name-2`, `name-3`, ... */
export class UniqueNames {
  private readonly used = new Set<string>();

  /** Claims a name given by the user: it must be free. */
  public claim(name: string): boolean {
    if (this.used.has(name)) return false;
    this.used.add(name);
    return true;
  }

  public take(name: string): string {
    let candidate = dnsLabel(name);
    for (let i = 2; this.used.has(candidate); i++) candidate = dnsLabel(`${name}-${i}`);
    this.used.add(candidate);
    return candidate;
  }

  /** Gives back a name whose object was not created after all. */
  public release(name: string): void {
    this.used.delete(name);
  }
}
