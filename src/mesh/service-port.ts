import { IConstruct } from 'constructs';
import { configError } from '../_errors';
import { isDnsLabel, requireInteger } from '../_validate';

/**
 * A port's application protocol, as Istio selects it from the Service port name prefix or `appProtocol`.
 * @see https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
 */
export enum PortProtocol {
  /** HTTP/1.1. */
  HTTP = 'http',
  /** HTTP/2 (cleartext). */
  HTTP2 = 'http2',
  /** TLS carrying HTTP; opaque to the mesh. */
  HTTPS = 'https',
  /** gRPC. */
  GRPC = 'grpc',
  /** gRPC-Web. */
  GRPC_WEB = 'grpc-web',
  /** Opaque TCP. */
  TCP = 'tcp',
  /** TLS, routed by SNI. */
  TLS = 'tls',
  /** MongoDB. */
  MONGO = 'mongo',
  /** MySQL. */
  MYSQL = 'mysql',
  /** Redis. */
  REDIS = 'redis',
}

/** Properties of a {@link ServicePort}. */
export interface ServicePortOptions {
  /**
   * The port's name; it must be the protocol or start with `<protocol>-`, which is how Istio selects the protocol.
   * @default - the protocol (for example `http`)
   */
  readonly name?: string;
  /**
   * The container port traffic is sent to.
   * @default - the same as the port
   */
  readonly targetPort?: number;
}

/**
 * A Service port named for Istio's protocol selection (`http-*`, `grpc-*`, `tcp-*`, ...), with `appProtocol` set too.
 */
export class ServicePort {
  /** An HTTP/1.1 port. */
  public static http(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(port, PortProtocol.HTTP, options);
  }
  /** An HTTP/2 port. */
  public static http2(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(port, PortProtocol.HTTP2, options);
  }
  /** A gRPC port. */
  public static grpc(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(port, PortProtocol.GRPC, options);
  }
  /** An opaque TCP port. */
  public static tcp(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(port, PortProtocol.TCP, options);
  }
  /** A TLS port (HTTPS or other TLS), routed by SNI. */
  public static tls(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(port, PortProtocol.TLS, options);
  }
  /** An HTTPS port. */
  public static https(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(port, PortProtocol.HTTPS, options);
  }
  /** A port of any protocol. */
  public static of(port: number, protocol: PortProtocol, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(port, protocol, options);
  }

  /** The port's name. */
  public readonly name: string;
  /** The container port. */
  public readonly targetPort: number;

  private constructor(
    /** The port number. */
    public readonly port: number,
    /** The application protocol. */
    public readonly protocol: PortProtocol,
    options: ServicePortOptions,
  ) {
    this.name = options.name ?? protocol;
    this.targetPort = options.targetPort ?? port;
  }

  /** Whether the mesh sees requests on this port (HTTP, HTTP/2, gRPC), so L7 routing and policy apply. */
  public get isHttp(): boolean {
    return [PortProtocol.HTTP, PortProtocol.HTTP2, PortProtocol.GRPC, PortProtocol.GRPC_WEB].includes(this.protocol);
  }

  /** The Istio protocol name (`HTTP`, `GRPC`, ...) used in Gateway servers and ServiceEntry ports. */
  public get istioProtocol(): string {
    return this.protocol === PortProtocol.GRPC_WEB ? 'GRPC-Web' : this.protocol.toUpperCase();
  }

  /**
   * Throws unless the port number and name are valid and the name selects the port's protocol.
   * @internal
   */
  public _validate(scope: IConstruct, prop: string): void {
    requireInteger(scope, `${prop}.port`, this.port, 1);
    requireInteger(scope, `${prop}.targetPort`, this.targetPort, 1);
    if (this.port > 65535 || this.targetPort > 65535) throw configError(scope, `${prop}.port`, this.port, 'use a port from 1 to 65535');
    if (!isDnsLabel(this.name) || !(this.name === this.protocol || this.name.startsWith(`${this.protocol}-`))) {
      throw configError(scope, `${prop}.name`, this.name,
        `name the port '${this.protocol}' or '${this.protocol}-<suffix>' so Istio selects the ${this.istioProtocol} protocol`);
    }
  }
}

/** @internal The protocol Istio derives from a Service port (its spec), or undefined when it must sniff it. */
export function portProtocol(port: any): string | undefined {
  if (port.protocol === 'UDP') return 'UDP';
  let name: string = typeof port.appProtocol === 'string' ? port.appProtocol : String(port.name ?? '');
  if (port.appProtocol === 'kubernetes.io/h2c') return 'HTTP2';
  if (port.appProtocol === 'kubernetes.io/ws' || port.appProtocol === 'kubernetes.io/wss') return 'HTTP';
  if (name.toLowerCase().startsWith('grpc-web')) return 'GRPC-Web';
  if (name.includes('-')) name = name.slice(0, name.indexOf('-'));
  const known = ['tcp', 'udp', 'grpc', 'http', 'http_proxy', 'http2', 'https', 'tls', 'mongo', 'redis', 'mysql'];
  if (known.includes(name.toLowerCase())) return name.toUpperCase();
  // Istio's well-known ports: SMTP, DNS, MySQL, MongoDB.
  if ([25, 53, 3306, 27017].includes(Number(port.port))) return 'TCP';
  return undefined;
}

/**
 * @internal A Service object's port (its spec) as a ServicePort, with the protocol Istio selects for it; a port whose
 * protocol Istio sniffs counts as TCP, since no route may rely on its requests.
 */
export function servicePortOfSpec(port: any): ServicePort {
  const selected = (portProtocol(port) ?? 'TCP').toLowerCase();
  const protocol = Object.values(PortProtocol).find(p => p === selected) ?? PortProtocol.TCP;
  const targetPort = typeof port.targetPort === 'number' ? port.targetPort : port.port;
  return ServicePort.of(port.port, protocol, { name: port.name ?? protocol, targetPort });
}
