import { createHash } from 'crypto';

/**
 * @internal A DNS label naming the objects of one external host (`api.stripe.com` -> `api-stripe-com`,
 * `*.wikipedia.org` -> `wildcard-wikipedia-org`); long names keep a prefix and a hash so they stay unique.
 */
export function hostLabel(host: string, suffix = ''): string {
  const base = `${host.replace(/^\*\./, 'wildcard.').replace(/\./g, '-')}${suffix ? `-${suffix}` : ''}`;
  if (base.length <= 63) return base;
  const hash = createHash('sha256').update(`${host}/${suffix}`).digest('hex').slice(0, 8);
  return `${base.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}
