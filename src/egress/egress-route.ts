import { EgressRouteMode } from './_mode';

/**
 * Options of TLS origination: the workload speaks plain HTTP, the mesh opens TLS to the external host.
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings
 */
export interface TlsOriginationOptions {
  /**
   * The port of the external host that speaks TLS; the plain HTTP port the workload calls is mapped to it.
   * @default 443
   */
  readonly targetPort?: number;
  /**
   * The server name sent in the TLS handshake.
   * @default - the host
   */
  readonly sni?: string;
  /**
   * Names the server certificate must carry.
   * @default - the SNI
   */
  readonly subjectAltNames?: string[];
  /**
   * The file of CA certificates, in the originating proxy, the server certificate is verified against: a private
   * CA mounted into it, or the proxy image's system bundle (`/etc/ssl/certs/ca-certificates.crt`) named
   * explicitly, which keeps `istioctl analyze` from reporting IST0128.
   * @default - the proxy's system CA bundle (Istio 1.21+ verifies against it when none is set; before, the bundle is named)
   */
  readonly caCertificates?: string;
}

/**
 * Options of TLS passthrough through the egress gateway.
 * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-gateway/#egress-gateway-for-https-traffic
 */
export interface TlsPassthroughOptions {
  /**
   * For a wildcard host: the server that serves every name under the wildcard, which the gateway connects to
   * (Envoy can only forward to hosts it knows, so `*.wikipedia.org` goes to `www.wikipedia.org`).
   * @default - the host itself; required for a wildcard host
   * @see https://istio.io/latest/docs/tasks/traffic-management/egress/wildcard-egress-hosts/
   */
  readonly servingHost?: string;
}

/**
 * How traffic to an allowed external host leaves the mesh: straight from the workload's proxy, or through the
 * egress gateway; with the application's own TLS or with TLS originated by the mesh.
 *
 * Through the egress gateway, the hop from the sidecar to the gateway is Istio mutual TLS, so the gateway knows the
 * caller's identity and its AuthorizationPolicy can admit only the declared callers.
 * @see https://istio.io/latest/docs/tasks/traffic-management/egress/
 */
export class EgressRoute {
  /**
   * Straight from the workload's proxy to the host, on the ports the workload calls (the default).
   * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
   */
  public static direct(): EgressRoute {
    return new EgressRoute(EgressRouteMode.DIRECT);
  }

  /**
   * Straight from the workload's proxy, which originates TLS: the workload speaks plain HTTP (port 80 by
   * default) and its proxy opens TLS to the host's TLS port.
   * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-tls-origination/
   */
  public static tlsOrigination(options: TlsOriginationOptions = {}): EgressRoute {
    return new EgressRoute(EgressRouteMode.TLS_ORIGINATION, options);
  }

  /**
   * Plain HTTP through the egress gateway: the sidecar sends the requests to the gateway over mutual TLS and the
   * gateway forwards them to the host.
   * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-gateway/#egress-gateway-for-http-traffic
   */
  public static viaGatewayHttp(): EgressRoute {
    return new EgressRoute(EgressRouteMode.GATEWAY_HTTP);
  }

  /**
   * The workload's own TLS through the egress gateway, routed by SNI: the sidecar wraps the connection in mutual
   * TLS to the gateway, which unwraps it and forwards the workload's TLS untouched.
   * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-gateway/#egress-gateway-for-https-traffic
   */
  public static viaGatewayTlsPassthrough(options: TlsPassthroughOptions = {}): EgressRoute {
    return new EgressRoute(EgressRouteMode.GATEWAY_TLS_PASSTHROUGH, undefined, options.servingHost);
  }

  /**
   * Plain HTTP from the workload to the egress gateway (over mutual TLS), which originates TLS to the host.
   * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-gateway-tls-origination/
   */
  public static viaGatewayTlsOrigination(options: TlsOriginationOptions = {}): EgressRoute {
    return new EgressRoute(EgressRouteMode.GATEWAY_TLS_ORIGINATION, options);
  }

  private constructor(
    /** @internal */ public readonly _mode: EgressRouteMode,
    /** @internal */ public readonly _tlsOrigination?: TlsOriginationOptions,
    /** @internal */ public readonly _servingHost?: string,
  ) {}

  /** Whether the traffic goes through the egress gateway. */
  public get viaEgressGateway(): boolean {
    return this._mode.startsWith('gateway-');
  }

  /** Whether the mesh originates TLS (the workload speaks plain HTTP). */
  public get originatesTls(): boolean {
    return this._tlsOrigination !== undefined;
  }
}
