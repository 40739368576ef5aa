// URL parsing with Go's `net/url` rules, which the API server uses for the `uri` schema format and for the CEL
// `url()`/`isURL()` library. WHATWG `URL` accepts and rewrites inputs Go rejects (`http://a b`, `hTPp\blah`), so
// the CRDs' URL rules would pass here and fail in a cluster.

/** The parts of a URL as Go's `url.URL` keeps them. */
export interface GoUrl {
  readonly scheme: string;
  readonly opaque: string;
  readonly host: string;
  readonly path: string;
  readonly rawQuery: string;
}

const isHex = (c: string) => /^[0-9a-fA-F]$/.test(c);

/** Go's `shouldEscape` for a host: what may appear unescaped in one. */
function hostCharAllowed(c: string): boolean {
  return /^[A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"]$/.test(c);
}

/** Go's `unescape`: checks %XX sequences (and host characters) without decoding, which callers here never need. */
function checkEscapes(s: string, host: boolean): void {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '%') {
      if (!isHex(s[i + 1] ?? '') || !isHex(s[i + 2] ?? '')) {
        throw new Error(`invalid URL escape "${s.slice(i, i + 3)}"`);
      }
      // In a host, %-encoding is only for non-ASCII bytes, or %25 in an IPv6 zone (RFC 6874).
      if (host && parseInt(s[i + 1], 16) < 8 && s.slice(i, i + 3) !== '%25') {
        throw new Error(`invalid URL escape "${s.slice(i, i + 3)}"`);
      }
      i += 2;
    } else if (host && c.charCodeAt(0) < 0x80 && !hostCharAllowed(c)) {
      throw new Error(`invalid character "${c}" in host name`);
    }
  }
}

function validOptionalPort(port: string): boolean {
  return port === '' || /^:[0-9]*$/.test(port);
}

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']');
    if (close < 0) throw new Error("missing ']' in host");
    const port = host.slice(close + 1);
    if (!validOptionalPort(port)) throw new Error(`invalid port "${port}" after host`);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0 && !validOptionalPort(host.slice(colon))) throw new Error(`invalid port "${host.slice(colon)}" after host`);
  }
  checkEscapes(host, true);
  return host;
}

function parseAuthority(authority: string): string {
  const at = authority.lastIndexOf('@');
  const host = parseHost(authority.slice(at + 1));
  if (at >= 0 && !/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(authority.slice(0, at))) {
    throw new Error('net/url: invalid userinfo');
  }
  return host;
}

function getScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) return ['', raw];
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new Error('missing protocol scheme');
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ['', raw];
  }
  return ['', raw];
}

/** Go's unexported `url.parse(rawURL, viaRequest)`. */
function parse(raw: string, viaRequest: boolean): GoUrl {
  // Control bytes are rejected anywhere.
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new Error('net/url: invalid control character in URL');
  if (raw === '' && viaRequest) throw new Error('empty url');
  if (raw === '*') return { scheme: '', opaque: '', host: '', path: '*', rawQuery: '' };
  const [schemeText, afterScheme] = getScheme(raw);
  const scheme = schemeText.toLowerCase();
  let rest = afterScheme;
  let rawQuery = '';
  if (rest.endsWith('?') && rest.split('?').length === 2) {
    rest = rest.slice(0, -1);
  } else if (rest.includes('?')) {
    rawQuery = rest.slice(rest.indexOf('?') + 1);
    rest = rest.slice(0, rest.indexOf('?'));
  }
  if (!rest.startsWith('/')) {
    if (scheme !== '') return { scheme, opaque: rest, host: '', path: '', rawQuery };
    if (viaRequest) throw new Error('invalid URI for request');
    if (rest.split('/')[0].includes(':')) throw new Error('first path segment in URL cannot contain colon');
  }
  let host = '';
  if ((scheme !== '' || (!viaRequest && !rest.startsWith('///'))) && rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
    host = parseAuthority(authority);
  }
  checkEscapes(rest, false);
  return { scheme, opaque: '', host, path: rest, rawQuery };
}

/** `url.ParseRequestURI`: an absolute URI or an absolute path, no fragment. Throws with Go's reason. */
export function parseRequestUri(raw: string): GoUrl {
  return parse(raw, true);
}

/** `url.Parse`: any URL reference; the fragment is split off first. Throws with Go's reason. */
export function parseUrl(raw: string): GoUrl {
  const hash = raw.indexOf('#');
  if (hash >= 0) checkEscapes(raw.slice(hash + 1), false);
  return parse(hash < 0 ? raw : raw.slice(0, hash), false);
}

/** `URL.Hostname`: the host without port or IPv6 brackets. */
export function urlHostname(u: GoUrl): string {
  const { host } = u;
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

/** `URL.Port`: the digits after the host's last colon, or ''. */
export function urlPort(u: GoUrl): string {
  const m = /:([0-9]*)$/.exec(u.host.startsWith('[') ? u.host.slice(u.host.indexOf(']')) : u.host);
  return m ? m[1] : '';
}
