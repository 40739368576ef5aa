import { IConstruct } from 'constructs';
import { configError } from '../_errors';

/**
 * How a string in a request is compared: exact, prefix, or an RE2 regular expression.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#StringMatch
 */
export class StringMatch {
  /** Equal to `value`. */
  public static exact(value: string): StringMatch {
    return new StringMatch('exact', value);
  }
  /** Starting with `value`. */
  public static prefix(value: string): StringMatch {
    return new StringMatch('prefix', value);
  }
  /** Fully matching the RE2 regular expression `pattern`. */
  public static regex(pattern: string): StringMatch {
    return new StringMatch('regex', pattern);
  }

  private constructor(
    /** `exact`, `prefix` or `regex`. */
    public readonly kind: string,
    /** The value or pattern. */
    public readonly value: string,
  ) {}

  /** @internal */
  public _render(scope: IConstruct, prop: string): any {
    if (this.kind === 'regex') {
      // RE2 is close to JavaScript's syntax without lookaround and backreferences; reject what neither parses.
      if (/\(\?[=!<]|\\[1-9]/.test(this.value)) {
        throw configError(scope, prop, this.value, 'RE2 has no lookaround or backreferences: rewrite the pattern');
      }
      try {
        new RegExp(this.value);
      } catch (e) {
        throw configError(scope, prop, this.value, `use a valid RE2 regular expression (${(e as Error).message})`);
      }
    }
    return { [this.kind]: this.value };
  }
}

/** The HTTP methods a route or policy can name. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/**
 * Conditions on a request, all of which must hold (they are AND-ed). Several RequestMatches on one route are OR-ed.
 *
 * @example
 * RequestMatch.header('x-user-group', StringMatch.exact('beta')).and(RequestMatch.method('GET'))
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPMatchRequest
 */
export class RequestMatch {
  /** A request header. */
  public static header(name: string, match: StringMatch): RequestMatch {
    return new RequestMatch([{ headers: { [name.toLowerCase()]: match } }]);
  }
  /** A cookie with exactly this value, matched on the `cookie` header. */
  public static cookie(name: string, value: string): RequestMatch {
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RequestMatch([{ headers: { cookie: StringMatch.regex(`^(.*?;\\s*)?${escape(name)}=${escape(value)}(;.*)?$`) } }]);
  }
  /** A query parameter. */
  public static queryParam(name: string, match: StringMatch): RequestMatch {
    return new RequestMatch([{ queryParams: { [name]: match } }]);
  }
  /** The request path. */
  public static uri(match: StringMatch): RequestMatch {
    return new RequestMatch([{ uri: match }]);
  }
  /** Paths starting with `prefix`. */
  public static pathPrefix(prefix: string): RequestMatch {
    return RequestMatch.uri(StringMatch.prefix(prefix));
  }
  /** The HTTP method. */
  public static method(method: string): RequestMatch {
    return new RequestMatch([{ methods: [method] }]);
  }
  /** Any of these methods (rendered as one match per method, since a match names one). */
  public static methods(methods: string[]): RequestMatch {
    return new RequestMatch([{ methods: [...methods] }]);
  }

  private constructor(private readonly conditions: MatchCondition[]) {}

  /** A match requiring this one and `other`. */
  public and(other: RequestMatch): RequestMatch {
    return new RequestMatch([...this.conditions, ...other.conditions]);
  }

  /**
   * The `HTTPMatchRequest` entries (one, or one per method when several methods are allowed, since a match takes one).
   * @internal
   */
  public _render(scope: IConstruct, prop: string): any[] {
    const base: any = {};
    let methods: string[] | undefined;
    for (const c of this.conditions) {
      for (const [name, m] of Object.entries(c.headers ?? {})) {
        if (base.headers?.[name]) throw configError(scope, prop, name, 'match a header once per RequestMatch');
        base.headers = { ...base.headers, [name]: m._render(scope, `${prop}.headers.${name}`) };
      }
      for (const [name, m] of Object.entries(c.queryParams ?? {})) {
        if (base.queryParams?.[name]) throw configError(scope, prop, name, 'match a query parameter once per RequestMatch');
        base.queryParams = { ...base.queryParams, [name]: m._render(scope, `${prop}.queryParams.${name}`) };
      }
      if (c.uri) {
        if (base.uri) throw configError(scope, prop, 'uri', 'match the uri once per RequestMatch');
        base.uri = c.uri._render(scope, `${prop}.uri`);
      }
      const ms = c.methods;
      if (ms) {
        for (const m of ms) {
          if (!HTTP_METHODS.includes(m)) throw configError(scope, `${prop}.method`, m, `use one of ${HTTP_METHODS.join(', ')}`);
        }
        methods = methods ? methods.filter(m => ms.includes(m)) : [...ms];
        if (methods.length === 0) throw configError(scope, `${prop}.method`, ms, 'the methods AND-ed in this match exclude each other');
      }
    }
    if (!methods) return [base];
    return methods.map(m => ({ ...base, method: { exact: m } }));
  }

  /**
   * Every condition as data, for renderers of other traffic APIs.
   * @internal
   */
  public get _conditions(): MatchCondition[] {
    return this.conditions;
  }
}

/** @internal */
export interface MatchCondition {
  readonly headers?: { [name: string]: StringMatch };
  readonly queryParams?: { [name: string]: StringMatch };
  readonly uri?: StringMatch;
  readonly methods?: string[];
}
