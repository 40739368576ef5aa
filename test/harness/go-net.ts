// IP address and prefix parsing with Go's `net/netip` rules, which the API server uses for the `ipv4`, `ipv6` and
// `cidr` schema formats and for the CEL `ip()`/`cidr()` library. JavaScript has no parser of its own, and Go's
// differs from most others: no leading zeros in IPv4 octets, no shortened IPv4 forms.
/* eslint-disable no-bitwise */ // addresses are bytes and 16-bit words

/** A parsed address: 4 or 16 bytes, and the zone of an IPv6 address (`fe80::1%eth0`), or ''. */
export interface IpAddr {
  readonly bytes: readonly number[];
  readonly zone: string;
}

/** A parsed prefix (`10.0.0.0/8`): the address as written and the prefix length. */
export interface IpPrefix {
  readonly addr: IpAddr;
  readonly bits: number;
}

function parseIPv4Bytes(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    // netip rejects empty fields, non-digits, leading zeros ("01") and values over 255.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

function parseIPv6Bytes(s: string): number[] | undefined {
  const words: number[] = [];
  let ellipsis = -1;
  let rest = s;
  if (rest.startsWith('::')) {
    ellipsis = 0;
    rest = rest.slice(2);
    if (rest === '') return new Array(16).fill(0);
  }
  while (rest !== '') {
    const m = /^[0-9a-fA-F]{1,4}/.exec(rest);
    if (!m) return undefined;
    // An IPv4 tail ("::ffff:1.2.3.4") fills the last 32 bits.
    if (rest[m[0].length] === '.') {
      if (words.length > 6) return undefined;
      const v4 = parseIPv4Bytes(rest);
      if (!v4) return undefined;
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      rest = '';
      break;
    }
    words.push(parseInt(m[0], 16));
    rest = rest.slice(m[0].length);
    if (rest === '') break;
    if (rest[0] !== ':' || words.length === 8) return undefined;
    rest = rest.slice(1);
    if (rest.startsWith(':')) {
      if (ellipsis >= 0) return undefined;
      ellipsis = words.length;
      rest = rest.slice(1);
    } else if (rest === '') {
      return undefined;
    }
  }
  if (ellipsis >= 0) {
    if (words.length > 7) return undefined;
    words.splice(ellipsis, 0, ...new Array(8 - words.length).fill(0));
  }
  if (words.length !== 8) return undefined;
  return words.flatMap(w => [w >> 8, w & 0xff]);
}

/** `netip.ParseAddr`, or undefined when the text is not an address. */
export function parseAddr(s: string): IpAddr | undefined {
  if (s.includes(':')) {
    const percent = s.indexOf('%');
    const zone = percent < 0 ? '' : s.slice(percent + 1);
    if (percent >= 0 && zone === '') return undefined;
    const bytes = parseIPv6Bytes(percent < 0 ? s : s.slice(0, percent));
    return bytes && { bytes, zone };
  }
  const bytes = parseIPv4Bytes(s);
  return bytes && { bytes, zone: '' };
}

/** `netip.ParsePrefix`, or undefined. */
export function parsePrefix(s: string): IpPrefix | undefined {
  const slash = s.lastIndexOf('/');
  if (slash < 0) return undefined;
  const addr = parseAddr(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (!addr || addr.zone !== '' || !/^(0|[1-9][0-9]*)$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  return bits <= addr.bytes.length * 8 ? { addr, bits } : undefined;
}

/** `Addr.Is4In6`: an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`). */
export function is4In6(a: IpAddr): boolean {
  return a.bytes.length === 16 && a.bytes.slice(0, 10).every(b => b === 0) && a.bytes[10] === 0xff && a.bytes[11] === 0xff;
}

/** `Addr.String`: dotted IPv4, or RFC 5952 IPv6 (lowercase, the longest run of zero words compressed). */
export function formatAddr(a: IpAddr): string {
  if (a.bytes.length === 4) return a.bytes.join('.');
  const words = Array.from({ length: 8 }, (_, i) => (a.bytes[2 * i] << 8) | a.bytes[2 * i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = (ws: number[]) => ws.map(w => w.toString(16)).join(':');
  const text = bestStart < 0 ? hex(words) : `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
  return a.zone ? `${text}%${a.zone}` : text;
}

/** The prefix's network address: host bits cleared. */
export function maskedAddr(p: IpPrefix): IpAddr {
  const bytes = p.addr.bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, p.bits - 8 * i));
    return b & (0xff << (8 - keep)) & 0xff;
  });
  return { bytes, zone: '' };
}

/** `Prefix.Contains`: same family and the first `bits` bits equal. */
export function prefixContains(p: IpPrefix, a: IpAddr): boolean {
  if (a.bytes.length !== p.addr.bytes.length || a.zone !== '') return false;
  const network = maskedAddr(p).bytes;
  return maskedAddr({ addr: a, bits: p.bits }).bytes.every((b, i) => b === network[i]);
}
