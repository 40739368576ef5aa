/**
 * Whether a workload accepts plaintext, mutual TLS, or both.
 * @see https://istio.io/latest/docs/reference/config/security/peer_authentication/#PeerAuthentication-MutualTLS-Mode
 */
export enum MtlsMode {
  /** Only mutual TLS: plaintext connections are refused, every caller has a verified identity. */
  STRICT = 'STRICT',
  /** Mutual TLS and plaintext both: gives up peer authentication for plaintext callers; for migrations only. */
  PERMISSIVE = 'PERMISSIVE',
  /** Plaintext only: gives up mutual TLS altogether. Ignored in ambient mode, where ztunnel always speaks mTLS. */
  DISABLE = 'DISABLE',
  /** Inherit the parent policy (namespace, then mesh). */
  UNSET = 'UNSET',
}

/**
 * Where a namespace is on the way from plaintext to zero trust. The phases are explicit so that a rollout is a
 * reviewed change of one prop, observed before it is enforced.
 * @see https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/
 * @see https://istio.io/latest/docs/tasks/security/authorization/authz-dry-run/
 */
export enum MigrationPhase {
  /**
   * Phase 1: PERMISSIVE mutual TLS, so callers still outside the mesh keep working; every AuthorizationPolicy is
   * emitted in dry run (`istio.io/dry-run`), so what would be denied is logged, not enforced; the NetworkPolicy and
   * the Sidecar egress scope, which have no dry run, are withheld.
   */
  ACCEPT_PLAINTEXT = 'accept-plaintext',
  /**
   * Phase 2: STRICT mutual TLS (plaintext refused, except on the declared plaintext ports); authorization still in
   * dry run; NetworkPolicy and Sidecar egress scope still withheld.
   */
  REQUIRE_MTLS = 'require-mtls',
  /** Phase 3, the goal and the default: STRICT mutual TLS and every policy enforced. */
  ENFORCE = 'enforce',
}
