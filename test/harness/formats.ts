// The string formats the API server validates in CRD schemas (apiextensions `supportedVersionedFormats`, checked
// with kube-openapi's strfmt). Every other format (int32, int64, double, string, url, ...) is ignored by the
// server, so it is ignored here too: enforcing int32 ranges would reject objects a cluster accepts.
import { is4In6, parseAddr, parsePrefix } from './go-net';
import { parseRequestUri } from './go-url';

type FormatCheck = (value: string) => boolean;

/** Go `time.Parse("2006-01-02", s)`: the calendar is checked. */
function isDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth;
}

/** strfmt `IsDateTime`: a date, 't' (any case), then `hh:mm:ss[.frac](z|±hh:mm)`. */
function isDateTime(value: string): boolean {
  const parts = value.toLowerCase().split('t');
  if (value.length < 4 || parts.length < 2 || !isDate(parts[0])) return false;
  const m = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$/.exec(parts[1]);
  return m !== null && m[1] <= '23' && m[2] <= '59' && m[3] <= '59';
}

/** Go `time.ParseDuration` syntax, which strfmt accepts besides its own (`3 days`), the latter never seen in CRDs. */
export function isGoDuration(value: string): boolean {
  return /^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$/.test(value);
}

/** The checks, by format name with dashes removed (go-openapi's normalization: `date-time` = `datetime`). */
const CHECKS: Record<string, FormatCheck> = {
  date: isDate,
  datetime: isDateTime,
  duration: isGoDuration,
  // net.ParseIP, plus the family's separator (kube-openapi IsIPv4/IsIPv6).
  ipv4: v => parseAddr(v)?.zone === '' && v.includes('.'),
  ipv6: v => parseAddr(v)?.zone === '' && v.includes(':'),
  cidr: v => {
    const p = parsePrefix(v);
    return p !== undefined && !is4In6(p.addr);
  },
  uri: v => {
    try {
      parseRequestUri(v);
      return true;
    } catch {
      return false;
    }
  },
  // Go's base64.StdEncoding: padded, standard alphabet.
  byte: v => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v),
  password: () => true,
  bsonobjectid: v => /^[0-9a-fA-F]{24}$/.test(v),
  uuid: v => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v),
  uuid3: v => /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v),
  uuid4: v => /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(v),
  uuid5: v => /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(v),
  hexcolor: v => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(v),
  mac: v => /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{2}[:-]){7}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{2}[:-]){19}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$|^([0-9a-fA-F]{4}\.){3}[0-9a-fA-F]{4}$|^([0-9a-fA-F]{4}\.){9}[0-9a-fA-F]{4}$/.test(v),
};

/** Formats the server validates but the harness does not implement: a schema using one is refused loudly. */
const UNIMPLEMENTED = new Set(['email', 'hostname', 'isbn', 'isbn10', 'isbn13', 'creditcard', 'ssn', 'rgbcolor']);

/**
 * The normalized name of a format the server enforces, or undefined for one it ignores.
 * Throws for an enforced format the harness cannot check, so a new CRD cannot slip through unvalidated.
 */
export function enforcedFormat(format: string): string | undefined {
  const name = format.replace(/-/g, '');
  if (UNIMPLEMENTED.has(name)) throw new Error(`harness: schema format "${format}" is enforced by the API server but not implemented here`);
  return name in CHECKS ? name : undefined;
}

/** The formats for ajv's `formats` option. */
export function ajvFormats(): Record<string, FormatCheck> {
  return { ...CHECKS };
}
