// The Kubernetes CEL libraries (k8s.io/apiserver/pkg/cel/library) beyond what @bufbuild/cel ships: URLs, IP
// addresses and CIDRs, regex find, list helpers; plus cel-go's strings extension, which @bufbuild/cel provides.
//
// Kubernetes' URL, IP and CIDR values are opaque types. They are represented here by their canonical strings:
// the pinned rules were type-checked by the real library when their CRDs were installed, so the looser typing
// cannot change a result, and equality of canonical strings is the library's equality.
// A library function not listed here (quantity, format, semver, sets, optionals) makes a rule fail to compile.
import { CelFunc, celFunc, celMethod, CelScalar, CelValue, isCelList, listType, mapType } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { formatAddr, IpAddr, IpPrefix, is4In6, maskedAddr, parseAddr, parsePrefix, prefixContains } from './go-net';
import { parseRequestUri, parseUrl, urlHostname, urlPort } from './go-url';

const { STRING, BOOL, INT, DYN } = CelScalar;
const LIST_STRING = listType(STRING);
const LIST_DYN = listType(DYN);

/** Kubernetes `url()`: the text must pass `url.ParseRequestURI`, and is then read with `url.Parse`. */
function toUrl(s: string): string {
  try {
    parseRequestUri(s);
    parseUrl(s);
  } catch (e) {
    throw new Error(`URL parse error during conversion from string: ${(e as Error).message}`);
  }
  return s;
}

function isUrl(s: string): boolean {
  try {
    parseRequestUri(s);
    return true;
  } catch {
    return false;
  }
}

/** `url.ParseQuery`: name to values, '+' as space; pairs that do not decode are skipped. */
function queryValues(rawQuery: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const [rawKey, rawValue = ''] = pair.split(/=(.*)/s);
    try {
      const [key, value] = [rawKey, rawValue].map(p => decodeURIComponent(p.replace(/\+/g, ' ')));
      out.set(key, [...(out.get(key) ?? []), value]);
    } catch {
      continue;
    }
  }
  return out;
}

/** Kubernetes `ip()`: no zones, no IPv4-mapped IPv6. */
function parseIp(s: string): IpAddr {
  if (s.includes('%')) throw new Error('IP address with zone value is not allowed');
  const addr = parseAddr(s);
  if (!addr) throw new Error(`IP Address "${s}" parse error during conversion from string`);
  if (is4In6(addr)) throw new Error(`IPv4-mapped IPv6 address "${s}" is not allowed`);
  return addr;
}

/** Kubernetes `cidr()`. */
function parseCidr(s: string): IpPrefix {
  const prefix = parsePrefix(s);
  if (!prefix) throw new Error(`network address parse error during conversion from string: "${s}"`);
  if (is4In6(prefix.addr)) throw new Error(`IPv4-mapped IPv6 address "${s}" is not allowed`);
  return prefix;
}

const succeeds = (fn: () => unknown) => {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
};

const formatPrefix = (p: IpPrefix) => `${formatAddr(p.addr)}/${p.bits}`;

const urlLibrary: CelFunc[] = [
  celFunc('url', [STRING], STRING, toUrl),
  celFunc('isURL', [STRING], BOOL, isUrl),
  celMethod('getScheme', STRING, [], STRING, function () { return parseUrl(this).scheme; }),
  celMethod('getHost', STRING, [], STRING, function () { return parseUrl(this).host; }),
  celMethod('getHostname', STRING, [], STRING, function () { return urlHostname(parseUrl(this)); }),
  celMethod('getPort', STRING, [], STRING, function () { return urlPort(parseUrl(this)); }),
  celMethod('getEscapedPath', STRING, [], STRING, function () { return parseUrl(this).path; }),
  celMethod('getQuery', STRING, [], mapType(STRING, LIST_STRING), function () { return queryValues(parseUrl(this).rawQuery); }),
];

const netLibrary: CelFunc[] = [
  celFunc('ip', [STRING], STRING, s => formatAddr(parseIp(s))),
  celFunc('isIP', [STRING], BOOL, s => succeeds(() => parseIp(s))),
  celMethod('family', STRING, [], INT, function () { return BigInt(parseIp(this).bytes.length === 4 ? 4 : 6); }),
  celMethod('isLoopback', STRING, [], BOOL, function () {
    const { bytes } = parseIp(this);
    return bytes.length === 4 ? bytes[0] === 127 : bytes.slice(0, 15).every(b => b === 0) && bytes[15] === 1;
  }),
  celMethod('isUnspecified', STRING, [], BOOL, function () { return parseIp(this).bytes.every(b => b === 0); }),
  celFunc('cidr', [STRING], STRING, s => formatPrefix(parseCidr(s))),
  celFunc('isCIDR', [STRING], BOOL, s => succeeds(() => parseCidr(s))),
  celMethod('ip', STRING, [], STRING, function () { return formatAddr(parseCidr(this).addr); }),
  celMethod('masked', STRING, [], STRING, function () {
    const p = parseCidr(this);
    return formatPrefix({ addr: maskedAddr(p), bits: p.bits });
  }),
  celMethod('prefixLength', STRING, [], INT, function () { return BigInt(parseCidr(this).bits); }),
  celMethod('containsIP', STRING, [STRING], BOOL, function (ip) { return prefixContains(parseCidr(this), parseIp(ip)); }),
  celMethod('containsCIDR', STRING, [STRING], BOOL, function (other) {
    const [outer, inner] = [parseCidr(this), parseCidr(other)];
    return inner.bits >= outer.bits && prefixContains(outer, inner.addr);
  }),
];

const regexLibrary: CelFunc[] = [
  celMethod('find', STRING, [STRING], STRING, function (re) { return new RegExp(re, 'u').exec(this)?.[0] ?? ''; }),
  celMethod('findAll', STRING, [STRING], LIST_STRING, function (re) { return [...this.matchAll(new RegExp(re, 'gu'))].map(m => m[0]); }),
  celMethod('findAll', STRING, [STRING, INT], LIST_STRING, function (re, limit) {
    const all = [...this.matchAll(new RegExp(re, 'gu'))].map(m => m[0]);
    return limit < 0n ? all : all.slice(0, Number(limit));
  }),
];

type Comparable = bigint | number | string;

function items(list: CelValue): Comparable[] {
  if (!isCelList(list)) throw new Error('not a list');
  return [...list] as Comparable[];
}

const listsLibrary: CelFunc[] = [
  celMethod('isSorted', LIST_DYN, [], BOOL, function () { return items(this).every((v, i, all) => i === 0 || all[i - 1] <= v); }),
  celMethod('sum', LIST_DYN, [], DYN, function () {
    const all = items(this);
    return all.length === 0 ? 0n : all.reduce((a, b) => (a as any) + (b as any));
  }),
  celMethod('min', LIST_DYN, [], DYN, function () {
    const all = items(this);
    if (all.length === 0) throw new Error('min called on empty list');
    return all.reduce((a, b) => (b < a ? b : a));
  }),
  celMethod('max', LIST_DYN, [], DYN, function () {
    const all = items(this);
    if (all.length === 0) throw new Error('max called on empty list');
    return all.reduce((a, b) => (b > a ? b : a));
  }),
  celMethod('indexOf', LIST_DYN, [DYN], INT, function (x) { return BigInt(items(this).indexOf(x as Comparable)); }),
  celMethod('lastIndexOf', LIST_DYN, [DYN], INT, function (x) { return BigInt(items(this).lastIndexOf(x as Comparable)); }),
];

/** Every function a CRD rule may call besides CEL's standard ones. */
export const KUBERNETES_CEL_FUNCS: CelFunc[] = [...strings, ...urlLibrary, ...netLibrary, ...regexLibrary, ...listsLibrary];
