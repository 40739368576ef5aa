import { ApiObject, Chart, Duration, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { istioDuration } from '../_duration';
import { configError } from '../_errors';
import { compact } from '../_render';
import { requireDnsLabel } from '../_validate';
import { PolicyTarget } from './authorization-policy';
import { objectProps } from '../_object-props';
import * as security from '../imports/istio-security';
import { namespaceDataplane } from '../mesh/_namespace-dataplane';
import { DataplaneMode, requireIstio } from '../mesh/mesh';
import { WorkloadSelector } from '../mesh/workload-selector';

/** A header a JWT is read from. */
export interface JwtHeader {
  /** The header's name, such as `Authorization` or `x-jwt-assertion`. */
  readonly name: string;
  /**
   * The prefix before the token, such as `Bearer ` (with its space).
   * @default - none: the whole value is the token
   */
  readonly prefix?: string;
}

/** A JWT claim copied into a request header for the application. */
export interface JwtClaimToHeader {
  /** The header to set (letters, digits, `-` and `_`). */
  readonly header: string;
  /** The claim, such as `sub` or `tenant`. */
  readonly claim: string;
}

/**
 * An issuer whose JWTs are accepted: where to get its keys, which audiences to accept, where the token is and what
 * to pass on. A request with a token that fails these checks is rejected (401); a request without a token is
 * accepted without a request principal, which is why a required token also needs an authorization rule.
 * @see https://istio.io/latest/docs/reference/config/security/jwt/#JWTRule
 */
export interface JwtIssuer {
  /** The token issuer (`iss`), such as `https://auth.example.com`. */
  readonly issuer: string;
  /**
   * The URL of the issuer's JSON Web Key Set (HTTPS).
   * @default - OpenID discovery from the issuer, unless `jwks` is set
   */
  readonly jwksUri?: string;
  /**
   * The JSON Web Key Set itself, inline.
   * @default - fetched from `jwksUri`
   */
  readonly jwks?: string;
  /**
   * Audiences (`aud`) accepted.
   * @default - any audience
   */
  readonly audiences?: string[];
  /**
   * Headers the token is read from.
   * @default - `Authorization: Bearer <token>`
   */
  readonly fromHeaders?: JwtHeader[];
  /**
   * Query parameters the token is read from.
   * @default - `access_token`, when no header or cookie is set
   */
  readonly fromParams?: string[];
  /**
   * Cookies the token is read from.
   * @default - none
   */
  readonly fromCookies?: string[];
  /**
   * Pass the original token on to the application.
   * @default false - the token is removed after validation
   */
  readonly forwardOriginalToken?: boolean;
  /**
   * A header to put the validated payload in (base64url JSON).
   * @default - none
   */
  readonly outputPayloadToHeader?: string;
  /**
   * Claims copied into headers.
   * @default - none
   */
  readonly outputClaimToHeaders?: JwtClaimToHeader[];
  /**
   * How long fetching the JWKS may take.
   * @default - Istio's default, 5 seconds
   */
  readonly timeout?: Duration;
}

/** Properties of a {@link RequestAuthentication}. */
export interface RequestAuthenticationProps {
  /**
   * The policy's name.
   * @default - generated from the construct path
   */
  readonly name?: string;
  /**
   * The policy's namespace.
   * @default - the selector's namespace, else the chart's, else `default`
   */
  readonly namespace?: string;
  /**
   * The workloads whose requests are authenticated (their sidecars validate the tokens).
   * @default - every workload of the namespace, unless `targets` are set
   */
  readonly selector?: WorkloadSelector;
  /**
   * The waypoint, gateway or Service it attaches to instead (required in ambient mode: ztunnel cannot read JWTs).
   * @default - none: the selector decides
   */
  readonly targets?: PolicyTarget[];
  /** The issuers whose tokens are accepted. */
  readonly issuers: JwtIssuer[];
  /**
   * How the selected workloads join the mesh.
   * @default - the namespace's (set by its ZeroTrustNamespace), else the Mesh's data plane mode
   */
  readonly dataplaneMode?: DataplaneMode;
}

/**
 * An Istio RequestAuthentication: the JWTs a workload accepts. It rejects invalid tokens but lets requests without
 * one through; require a token with an authorization rule (`ZeroTrustWorkload.requireJwt` does both).
 * @see https://istio.io/latest/docs/reference/config/security/request_authentication/
 */
export class RequestAuthentication extends Construct {
  /** The RequestAuthentication object. */
  public readonly apiObject: ApiObject;
  /** The policy's namespace. */
  public readonly namespace: string;
  /** The issuers accepted. */
  public readonly issuers: JwtIssuer[];

  public constructor(scope: Construct, id: string, props: RequestAuthenticationProps) {
    super(scope, id);
    const selector = props.selector;
    const targets = [...(props.targets ?? [])];
    if (targets.length) requireIstio(this, 'targets', 22, 'targetRefs');
    this.namespace = requireDnsLabel(this, 'namespace', props.namespace ?? selector?.namespace ?? Chart.of(this).namespace ?? 'default');
    if (props.name !== undefined) requireDnsLabel(this, 'name', props.name);
    if (selector && targets.length) throw configError(this, 'targets', targets.map(t => `${t.kind}/${t.name}`), 'set either a selector or targets, not both');
    if (namespaceDataplane(this, this.namespace, props.dataplaneMode) === DataplaneMode.AMBIENT && !targets.length) {
      throw configError(this, 'targets', [], 'in ambient mode ztunnel cannot read JWTs: attach the RequestAuthentication to a waypoint or a Service behind one with targets');
    }
    if (!props.issuers.length) throw configError(this, 'issuers', [], 'accept at least one issuer');
    this.issuers = [...props.issuers];
    const rules = this.issuers.map((issuer, i) => renderIssuer(this, `issuers[${i}]`, issuer));
    const seen = new Set<string>();
    this.issuers.forEach((issuer, i) => {
      if (seen.has(issuer.issuer)) throw configError(this, `issuers[${i}].issuer`, issuer.issuer, 'list each issuer once');
      seen.add(issuer.issuer);
    });
    this.apiObject = new ApiObject(this, 'Resource', objectProps(security.RequestAuthentication.GVK, {
      metadata: { ...(props.name !== undefined ? { name: props.name } : {}), namespace: this.namespace },
      spec: Lazy.any({
        produce: () => ({
          ...(selector ? { selector: { matchLabels: selector.labels } } : {}),
          ...(targets.length ? { targetRefs: targets.map(t => t._render()) } : {}),
          jwtRules: rules,
        }),
      }),
    }));
  }
}

/** @internal A JWTRule, validated. */
export function renderIssuer(scope: IConstruct, prop: string, issuer: JwtIssuer): any {
  if (!issuer.issuer || /\s/.test(issuer.issuer)) throw configError(scope, `${prop}.issuer`, issuer.issuer, 'give the issuer (iss) of the tokens, such as https://auth.example.com');
  if (issuer.jwks !== undefined && issuer.jwksUri !== undefined) {
    throw configError(scope, `${prop}.jwks`, 'jwks and jwksUri', 'set one of jwks and jwksUri');
  }
  if (issuer.jwksUri !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(issuer.jwksUri);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'https:') {
      throw configError(scope, `${prop}.jwksUri`, issuer.jwksUri, 'use an https:// URL: keys fetched in plaintext can be swapped by anyone on the path');
    }
  }
  if (issuer.jwks !== undefined) {
    let keys: any;
    try {
      keys = JSON.parse(issuer.jwks);
    } catch {
      keys = undefined;
    }
    if (!keys || !Array.isArray(keys.keys)) throw configError(scope, `${prop}.jwks`, issuer.jwks.slice(0, 40), 'give a JSON Web Key Set: {"keys": [...]}');
  }
  (issuer.audiences ?? []).forEach((a, i) => {
    if (!a) throw configError(scope, `${prop}.audiences[${i}]`, a, 'an audience is not empty');
  });
  (issuer.fromHeaders ?? []).forEach((h, i) => {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(h.name)) throw configError(scope, `${prop}.fromHeaders[${i}].name`, h.name, 'use a header name');
  });
  for (const field of ['fromParams', 'fromCookies'] as const) {
    (issuer[field] ?? []).forEach((v, i) => {
      if (!v) throw configError(scope, `${prop}.${field}[${i}]`, v, 'a name is not empty');
    });
  }
  const headers = [
    ...(issuer.outputPayloadToHeader ? [issuer.outputPayloadToHeader] : []),
    ...(issuer.outputClaimToHeaders ?? []).map(c => c.header),
  ];
  headers.forEach(h => {
    if (!/^[-_A-Za-z0-9]+$/.test(h)) throw configError(scope, `${prop}.outputClaimToHeaders`, h, 'use a header name of letters, digits, \'-\' and \'_\'');
  });
  (issuer.outputClaimToHeaders ?? []).forEach((c, i) => {
    if (!c.claim) throw configError(scope, `${prop}.outputClaimToHeaders[${i}].claim`, c.claim, 'name the claim');
  });
  const list = <T>(values: T[] | undefined) => (values && values.length ? [...values] : undefined);
  if (issuer.fromCookies?.length) requireIstio(scope, `${prop}.fromCookies`, 21, 'a JWT from a cookie');
  if (issuer.timeout) requireIstio(scope, `${prop}.timeout`, 22, 'a JWKS fetch timeout');
  return compact({
    issuer: issuer.issuer,
    jwksUri: issuer.jwksUri,
    jwks: issuer.jwks,
    audiences: list(issuer.audiences),
    fromHeaders: list(issuer.fromHeaders?.map(h => compact({ name: h.name, prefix: h.prefix }))),
    fromParams: list(issuer.fromParams),
    fromCookies: list(issuer.fromCookies),
    forwardOriginalToken: issuer.forwardOriginalToken,
    outputPayloadToHeader: issuer.outputPayloadToHeader,
    outputClaimToHeaders: list(issuer.outputClaimToHeaders?.map(c => ({ header: c.header, claim: c.claim }))),
    timeout: issuer.timeout ? istioDuration(scope, `${prop}.timeout`, issuer.timeout) : undefined,
  });
}
