/** @internal How the traffic to an allowed host leaves the mesh. */
export enum EgressRouteMode {
  DIRECT = 'direct',
  TLS_ORIGINATION = 'tls-origination',
  GATEWAY_HTTP = 'gateway-http',
  GATEWAY_TLS_PASSTHROUGH = 'gateway-tls-passthrough',
  GATEWAY_TLS_ORIGINATION = 'gateway-tls-origination',
}
