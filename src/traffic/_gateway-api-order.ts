// Istio does not apply an HTTPRoute's rules in the order they are listed. It splits them into one route per match
// and sorts those (pilot's sortHTTPRoutes, after the Gateway API spec): exact path before prefix, the longer path
// first, then a method match, more header matches, more query parameter matches; listing order only breaks ties. The
// library's routes are first-match-wins, as in a VirtualService, so a route that outranks an earlier one it overlaps
// would take that route's requests.
import { IConstruct } from 'constructs';
import { configError } from '../_errors';

/** @internal An HTTPRoute rule, with the route of the routing model it renders. */
export interface RankedRule {
  readonly rule: any;
  /** The route's position among the host's routes: rules of one route may outrank each other. */
  readonly route: number;
  readonly name: string;
  readonly owner: IConstruct;
}

/** A match as the CRD defaults it: no path is a PathPrefix `/`. */
function pathOf(m: any): { type: string; value: string } {
  const path = m.path ?? { type: 'PathPrefix', value: '/' };
  // Istio ignores a prefix's trailing slash.
  return path.type === 'PathPrefix' && path.value !== '/' ? { type: path.type, value: path.value.replace(/\/$/, '') } : path;
}

/** @internal How Istio ranks a Gateway API match (higher first): path kind and length, method, headers, query parameters. */
export function rank(m: any): number[] {
  const path = pathOf(m);
  return [path.type === 'Exact' ? 1 : 0, path.value.length, m.method ? 1 : 0, m.headers?.length ?? 0, m.queryParams?.length ?? 0];
}

/** @internal Orders two ranks: positive when `a` ranks higher. */
export function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function under(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

function pathsOverlap(a: { type: string; value: string }, b: { type: string; value: string }): boolean {
  if (a.type === 'Exact' && b.type === 'Exact') return a.value === b.value;
  if (a.type === 'Exact') return under(a.value, b.value);
  if (b.type === 'Exact') return under(b.value, a.value);
  return under(a.value, b.value) || under(b.value, a.value);
}

/** Two exact matches of one name with different values never hold together. */
function valuesExclude(a: any[] | undefined, b: any[] | undefined): boolean {
  return (a ?? []).some(x => x.type === 'Exact' && (b ?? []).some(y => y.type === 'Exact' && y.name === x.name && y.value !== x.value));
}

/** Whether no request meets both matches (as far as can be told without evaluating regular expressions). */
function disjoint(a: any, b: any): boolean {
  return (a.method !== undefined && b.method !== undefined && a.method !== b.method)
    || !pathsOverlap(pathOf(a), pathOf(b))
    || valuesExclude(a.headers, b.headers)
    || valuesExclude(a.queryParams, b.queryParams);
}

const sameMatch = (a: any, b: any) => JSON.stringify(a) === JSON.stringify(b);

/**
 * @internal The rules, so that Istio's ordering keeps the routes' order. An earlier route outranked only by a later
 * route's method match gets a copy of its match for that method (the same route, so the same requests reach it); any
 * other overlap that Istio would reverse is refused.
 */
export function keepRouteOrder(rules: RankedRule[]): any[] {
  const matchesOf = (r: RankedRule): any[] => r.rule.matches ?? [{}];
  // The earlier route's match for the later one's method, when it then ranks first for the requests both would take.
  const forMethod = (a: any, b: any) => {
    const copy = a.method === undefined && b.method !== undefined ? { ...a, method: b.method } : undefined;
    return copy && compare(rank(copy), rank(b)) >= 0 ? copy : undefined;
  };
  const holds = (route: number, match: any) => rules.some(r => r.route === route && matchesOf(r).some(m => sameMatch(m, match)));
  const inversions = () => {
    const found: { earlier: RankedRule; a: any; later: RankedRule; b: any }[] = [];
    rules.forEach((later, j) => {
      for (const b of matchesOf(later)) {
        for (const earlier of rules.slice(0, j)) {
          if (earlier.route === later.route) continue;
          for (const a of matchesOf(earlier)) {
            if (compare(rank(a), rank(b)) >= 0 || disjoint(a, b)) continue;
            const copy = forMethod(a, b);
            if (copy && holds(earlier.route, copy)) continue;
            found.push({ earlier, a, later, b });
          }
        }
      }
    });
    return found;
  };
  for (const { earlier, a, b } of inversions()) {
    const copy = forMethod(a, b);
    if (copy && !holds(earlier.route, copy)) earlier.rule.matches = [...matchesOf(earlier), copy];
  }
  const left = inversions()[0];
  if (left) {
    throw configError(left.earlier.owner, `${left.earlier.name}.matches`, left.later.name,
      `with the Gateway API, Istio ranks route '${left.later.name}' ahead of this one (by path, then method, then how many headers and query parameters are matched, not by the order declared), and a request can match both: match at least as much in '${left.earlier.name}', or use the Istio traffic API`);
  }
  return rules.map(r => r.rule);
}
