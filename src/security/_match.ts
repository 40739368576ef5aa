// Istio's string, path and address matching, shared by the rule validation and the authorization evaluator.

/** @internal The HTTP methods a rule may name (RFC 9110 and RFC 5789). */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/**
 * @internal Istio's match of a rule string: `*` (presence: any non-empty value), prefix `abc*`, suffix `*abc`, or
 * exact. An absent value is the empty string, which only a negated field can match.
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#Rule
 */
export function matchString(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  if (p === '*') return v !== '';
  if (p.endsWith('*')) return v.startsWith(p.slice(0, -1));
  if (p.startsWith('*')) return v.endsWith(p.slice(1));
  return p === v;
}

/** @internal Whether a path is an Envoy URI template (`/users/{*}/orders/{**}`), as Istio reads it. */
export function isPathTemplate(path: string): boolean {
  return path.includes('{*}') || path.includes('{**}');
}

/**
 * @internal Istio's path match: exact, prefix `abc*`, suffix `*abc`, `*`, or a URI template where `{*}` is one
 * path segment and `{**}` zero or more. The query string and fragment are not part of the path.
 */
export function matchPath(pattern: string, requestPath: string): boolean {
  const path = requestPath.split(/[?#]/)[0];
  if (!isPathTemplate(pattern)) return matchString(pattern, path);
  const regex = pattern.split(/(\{\*\*\}|\{\*\})/).map(part => {
    if (part === '{**}') return '.*';
    if (part === '{*}') return '[^/]+';
    return part.replace(/[.+?^${}()|[\]\\*]/g, '\\$&');
  }).join('');
  return new RegExp(`^${regex}$`).test(path);
}

/** The characters of a literal segment of a path template (RFC 3986 pchar, as istiod checks them). */
const TEMPLATE_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

/** @internal Why a path is not one Istio can match, or undefined when it is fine. */
export function pathProblem(path: string): string | undefined {
  if (path === '*') return undefined;
  if (path === '' || /\s/.test(path)) return 'a path has no whitespace';
  if (/[?#]/.test(path)) return 'paths are matched without the query string or fragment: drop the part from \'?\' or \'#\'';
  if (isPathTemplate(path)) {
    if (!path.startsWith('/')) return 'a path template starts with \'/\'';
    // As istiod validates templates: segment by segment, each operator a whole segment, the rest literal pchars.
    let matchAnySeen = false;
    for (const segment of path.replace(/^\/+|\/+$/g, '').split('/')) {
      if (segment === '{*}' || segment === '{**}') {
        if (matchAnySeen) return '{**} may appear once, as the last operator';
        matchAnySeen = segment === '{**}';
      } else if (/[{}]/.test(segment)) {
        return 'the operators {*} and {**} each fill a whole segment between \'/\'s, as in \'/api/{*}/items\'';
      } else if (!TEMPLATE_LITERAL.test(segment)) {
        return `segment '${segment}' of a path template is empty or uses characters other than letters, digits and - . _ ~ % ! $ & ' ( ) + , ; : @ =`;
      }
    }
    return undefined;
  }
  if (path.startsWith('*')) return path.slice(1).includes('*') ? 'a suffix match has a single leading \'*\'' : undefined;
  if (!path.startsWith('/')) return 'a path starts with \'/\' (or is a \'*\' suffix match)';
  if (path.slice(0, -1).includes('*')) return '\'*\' may only end a prefix match (\'/api/*\'); use {*} or {**} for a segment in the middle';
  return undefined;
}

/** @internal An IPv4 or IPv6 address as a bit string, or undefined when it is not one. */
function ipBits(address: string): string | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) {
    const octets = address.split('.').map(Number);
    if (octets.some(o => o > 255)) return undefined;
    return octets.map(o => o.toString(2).padStart(8, '0')).join('');
  }
  if (!address.includes(':') || !/^[0-9a-fA-F:]+$/.test(address)) return undefined;
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some(g => g.length === 0 || g.length > 4)) return undefined;
  return groups.map(g => parseInt(g, 16).toString(2).padStart(16, '0')).join('');
}

/** @internal Whether `value` is an IP address or a CIDR block. */
export function isIpOrCidr(value: string): boolean {
  const [address, prefix, extra] = value.split('/');
  if (extra !== undefined) return false;
  const bits = ipBits(address);
  if (!bits) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= bits.length;
}

/** @internal Whether address `ip` lies in `block` (an address or a CIDR). */
export function ipInBlock(ip: string, block: string): boolean {
  const bits = ipBits(ip);
  const [address, prefix] = block.split('/');
  const blockBits = ipBits(address);
  if (!bits || !blockBits || bits.length !== blockBits.length) return false;
  const length = prefix === undefined ? blockBits.length : Number(prefix);
  return bits.slice(0, length) === blockBits.slice(0, length);
}
