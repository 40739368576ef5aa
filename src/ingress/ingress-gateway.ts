import { ApiObject, Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { configError } from '../_errors';
import { requireDnsLabel } from '../_validate';
import * as networking from '../imports/istio-networking';
import { GatewayWorkload } from '../mesh/gateway-workload';
import { Host } from '../mesh/host';
import { Mesh } from '../mesh/mesh';

/** Minimum TLS version a gateway accepts. */
export enum TlsVersion {
  /** TLS 1.2. */
  TLS_1_2 = 'TLSV1_2',
  /** TLS 1.3. */
  TLS_1_3 = 'TLSV1_3',
}

/** Options of TLS terminated at the gateway. */
export interface IngressTlsOptions {
  /**
   * The oldest TLS version accepted.
   * @default TlsVersion.TLS_1_2
   */
  readonly minProtocolVersion?: TlsVersion;
  /**
   * Redirect plain HTTP on port 80 to HTTPS.
   * @default true
   */
  readonly httpsRedirect?: boolean;
}

/**
 * How an ingress gateway serves a host.
 * @see https://istio.io/latest/docs/reference/config/networking/gateway/#ServerTLSSettings
 */
export class IngressTls {
  /** TLS terminated at the gateway with the certificate in Secret `credentialName` (in the gateway's namespace). */
  public static simple(credentialName: string, options: IngressTlsOptions = {}): IngressTls {
    return new IngressTls('SIMPLE', credentialName, options);
  }
  /** TLS passed through to the service by SNI; the gateway does not see HTTP. */
  public static passthrough(): IngressTls {
    return new IngressTls('PASSTHROUGH', undefined, { httpsRedirect: false });
  }
  /** Plain HTTP only: for hosts whose TLS ends before the gateway (a cloud load balancer). */
  public static none(): IngressTls {
    return new IngressTls('NONE', undefined, { httpsRedirect: false });
  }

  private constructor(
    /** The TLS mode, or `NONE`. */
    public readonly mode: string,
    /** The Secret holding the certificate. */
    public readonly credentialName: string | undefined,
    private readonly options: IngressTlsOptions,
  ) {}

  /** Whether port 80 redirects to HTTPS. */
  public get httpsRedirect(): boolean {
    return this.mode === 'SIMPLE' && (this.options.httpsRedirect ?? true);
  }

  /** @internal */
  public _render(): any {
    return {
      mode: this.mode,
      ...(this.credentialName ? { credentialName: this.credentialName } : {}),
      minProtocolVersion: this.options.minProtocolVersion ?? TlsVersion.TLS_1_2,
    };
  }
}

/** Properties of an {@link IngressGateway}. */
export interface IngressGatewayProps {
  /**
   * The Gateway's name.
   * @default - generated from the construct path
   */
  readonly name?: string;
  /**
   * The gateway deployment to configure.
   * @default - the Mesh's ingress gateway
   */
  readonly workload?: GatewayWorkload;
}

interface ServedHost {
  readonly host: string;
  readonly routeNamespace: string;
  readonly tls: IngressTls;
}

/**
 * An Istio Gateway on the ingress gateway deployment, with one server per host.
 *
 * Server hosts are qualified with the namespace allowed to route them (`ns/host`), so a VirtualService in another
 * namespace cannot take over a host.
 * @see https://istio.io/latest/docs/reference/config/networking/gateway/
 */
export class IngressGateway extends Construct {
  /** The Gateway object. */
  public readonly gateway: ApiObject;
  /** The gateway deployment it configures. */
  public readonly workload: GatewayWorkload;
  private readonly hosts: ServedHost[] = [];

  public constructor(scope: Construct, id: string, props: IngressGatewayProps = {}) {
    super(scope, id);
    this.workload = props.workload ?? Mesh.of(this).ingressGateway;
    this.gateway = new ApiObject(this, 'Resource', {
      ...networking.Gateway.GVK,
      metadata: props.name === undefined ? {} : { name: requireDnsLabel(this, 'name', props.name) },
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    });
    this.node.addValidation({ validate: () => this.hosts.length ? [] : [`${this.node.path}: the gateway serves no host: call addHost()`] });
  }

  /** The reference a VirtualService uses: `namespace/name`. */
  public get ref(): string {
    return `${this.gateway.metadata.namespace ?? Chart.of(this).namespace ?? 'default'}/${this.gateway.name}`;
  }

  /**
   * Serves `host` with `tls`, for VirtualServices in `routeNamespace`.
   * @param host a public FQDN or wildcard
   * @param routeNamespace the namespace whose VirtualServices may route this host
   * @param tls how TLS is handled
   */
  public addHost(host: string, routeNamespace: string, tls: IngressTls): void {
    Host.parseExternal(this, host);
    if (this.hosts.some(h => h.host === host)) throw configError(this, 'host', host, 'serve each host once per gateway');
    if (tls.mode === 'SIMPLE' && !tls.credentialName) throw configError(this, 'tls.credentialName', undefined, 'name the Secret holding the certificate');
    this.hosts.push({ host, routeNamespace: requireDnsLabel(this, 'routeNamespace', routeNamespace), tls });
  }

  private renderSpec(): any {
    const servers: any[] = [];
    const qualified = (h: ServedHost) => `${h.routeNamespace}/${h.host}`;
    const plain = this.hosts.filter(h => h.tls.mode === 'NONE');
    const redirected = this.hosts.filter(h => h.tls.httpsRedirect);
    if (plain.length) servers.push({ name: 'http', port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: plain.map(qualified) });
    if (redirected.length) {
      servers.push({ name: 'http-redirect', port: { number: 80, name: 'http-redirect', protocol: 'HTTP' }, hosts: redirected.map(qualified), tls: { httpsRedirect: true } });
    }
    this.hosts.filter(h => h.tls.mode !== 'NONE').forEach((h, i) => {
      const protocol = h.tls.mode === 'PASSTHROUGH' ? 'TLS' : 'HTTPS';
      const name = `${protocol.toLowerCase()}-${i}`;
      servers.push({ name, port: { number: 443, name, protocol }, hosts: [qualified(h)], tls: h.tls._render() });
    });
    return { selector: { ...this.workload.labels }, servers };
  }
}
