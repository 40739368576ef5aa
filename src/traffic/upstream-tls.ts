import { IConstruct } from 'constructs';
import { configError } from '../_errors';
import { compact } from '../_render';
import { Mesh } from '../mesh/mesh';

/** The proxy image's system CA bundle. */
const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Properties of TLS the client proxy originates with its own certificate settings. */
export interface OriginateTlsOptions {
  /**
   * The server name sent in the TLS handshake.
   * @default - the destination host
   */
  readonly sni?: string;
  /**
   * Names the server certificate must carry.
   * @default - the SNI
   */
  readonly subjectAltNames?: string[];
  /**
   * Secret (in the client proxy's namespace for gateways) holding the CA bundle, and for MUTUAL the client key pair.
   * @default - the proxy's system CA bundle
   */
  readonly credentialName?: string;
  /**
   * The file of CA certificates, in the client proxy, the server certificate is verified against: a private CA
   * mounted into it, or the proxy image's system bundle (`/etc/ssl/certs/ca-certificates.crt`) named explicitly,
   * which keeps `istioctl analyze` from reporting IST0128.
   * @default - the CA of `credentialName`, else the proxy's system CA bundle (Istio 1.21+ verifies against it; before, the bundle is named here)
   */
  readonly caCertificates?: string;
}

/** Options of Istio mutual TLS towards a destination. */
export interface IstioMutualTlsOptions {
  /**
   * The server name sent in the handshake, for a gateway that terminates the mutual TLS and picks the server (and
   * the routes) by SNI, as an egress gateway does.
   * @default - Istio's own SNI for the destination cluster
   */
  readonly sni?: string;
}

/**
 * The TLS the client proxy uses towards a destination.
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings
 */
export class UpstreamTls {
  /** Istio mutual TLS with the mesh's certificates: the mode for in-mesh hosts and for the hop to a gateway. */
  public static istioMutual(options: IstioMutualTlsOptions = {}): UpstreamTls {
    return new UpstreamTls('ISTIO_MUTUAL', { sni: options.sni });
  }
  /** Plain text: only for destinations outside the mesh that do not speak TLS. */
  public static disable(): UpstreamTls {
    return new UpstreamTls('DISABLE', {});
  }
  /** TLS origination verifying the server (the application speaks plain HTTP to its proxy). */
  public static simple(options: OriginateTlsOptions = {}): UpstreamTls {
    return new UpstreamTls('SIMPLE', options);
  }
  /** Mutual TLS with a client certificate from `credentialName`. */
  public static mutual(options: OriginateTlsOptions): UpstreamTls {
    return new UpstreamTls('MUTUAL', options);
  }

  private constructor(
    /** The TLS mode. */
    public readonly mode: string,
    private readonly options: OriginateTlsOptions,
  ) {}

  /** @internal Refuses options the mode cannot use, naming `prop`; rendering checks them too. */
  public _validate(scope: IConstruct, prop: string): void {
    if (this.mode === 'MUTUAL' && !this.options.credentialName) {
      throw configError(scope, `${prop}.credentialName`, undefined, 'mutual TLS needs a credentialName holding the client certificate');
    }
    const caCertificates = this.options.caCertificates;
    if (this.options.credentialName && caCertificates !== undefined) {
      throw configError(scope, `${prop}.caCertificates`, caCertificates,
        'Istio refuses a CA file beside a credentialName: put the CA in the credential\'s Secret (its ca.crt), or drop credentialName');
    }
    if (caCertificates !== undefined && !caCertificates.startsWith('/')) {
      throw configError(scope, `${prop}.caCertificates`, caCertificates, 'give the absolute path of the CA file in the proxy, such as /etc/ssl/certs/ca-certificates.crt');
    }
  }

  /** @internal */
  public _render(scope: IConstruct, prop: string, host?: string): any {
    this._validate(scope, prop);
    if (this.mode === 'ISTIO_MUTUAL') return compact({ mode: this.mode, sni: this.options.sni });
    if (this.mode !== 'SIMPLE' && this.mode !== 'MUTUAL') return { mode: this.mode };
    const sni = this.options.sni ?? (host && !host.startsWith('*') ? host : undefined);
    // Verify the server's name: without subjectAltNames a valid certificate for any name would be accepted.
    const subjectAltNames = this.options.subjectAltNames ?? (sni ? [sni] : undefined);
    const { credentialName } = this.options;
    // Before 1.21 Istio verified the server's certificate only against a CA given here (VERIFY_CERT_AT_CLIENT).
    const caCertificates = this.options.caCertificates
      ?? (this.mode === 'SIMPLE' && !credentialName && Mesh.of(scope)._istioMinor < 21 ? SYSTEM_CA_BUNDLE : undefined);
    return compact({ mode: this.mode, sni, subjectAltNames, credentialName, caCertificates });
  }
}
