import { ServiceIdentity } from './service-identity';

/** Properties of a {@link GatewayWorkload}. */
export interface GatewayWorkloadProps {
  /** Labels that select the gateway's pods, used as the Istio Gateway's `selector`. */
  readonly labels: { [key: string]: string };
  /**
   * The gateway deployment's namespace.
   * @default 'istio-system'
   */
  readonly namespace?: string;
  /** The ServiceAccount the gateway runs as; its identity is what authorization policies admit. */
  readonly serviceAccountName: string;
  /**
   * The gateway's Service (in `namespace`), which sidecars send traffic to when they route through the gateway.
   * @default - none: egress routing through this gateway refuses to synthesize until it is set
   */
  readonly serviceName?: string;
}

/**
 * An Istio gateway deployment (ingress or egress): how Gateways select it and which identity it has.
 * @see https://istio.io/latest/docs/setup/additional-setup/gateway/
 */
export class GatewayWorkload {
  /** The ingress gateway of a default installation: `istio=ingressgateway` in `istio-system`. */
  public static defaultIngress(): GatewayWorkload {
    return new GatewayWorkload({
      labels: { istio: 'ingressgateway' },
      serviceAccountName: 'istio-ingressgateway-service-account',
      serviceName: 'istio-ingressgateway',
    });
  }

  /**
   * The deployment Istio creates for a Gateway API Gateway of class `istio`: `<name>-istio` (Deployment, Service and
   * ServiceAccount) in the Gateway's namespace, its pods labelled with the Gateway's name.
   * @param name the Gateway's name
   * @param namespace the Gateway's namespace
   */
  public static forGatewayApi(name: string, namespace: string): GatewayWorkload {
    return new GatewayWorkload({
      labels: { 'gateway.networking.k8s.io/gateway-name': name },
      namespace,
      serviceAccountName: `${name}-istio`,
      serviceName: `${name}-istio`,
    });
  }

  /** The egress gateway of a default installation: `istio=egressgateway` in `istio-system`. */
  public static defaultEgress(): GatewayWorkload {
    return new GatewayWorkload({
      labels: { istio: 'egressgateway' },
      serviceAccountName: 'istio-egressgateway-service-account',
      serviceName: 'istio-egressgateway',
    });
  }

  /** A gateway deployment of your own. */
  public static custom(props: GatewayWorkloadProps): GatewayWorkload {
    return new GatewayWorkload(props);
  }

  /** Labels that select the gateway's pods. */
  public readonly labels: { [key: string]: string };
  /** The gateway's namespace. */
  public readonly namespace: string;
  /** The gateway's identity. */
  public readonly identity: ServiceIdentity;
  /** The gateway's Service, when known. */
  public readonly serviceName?: string;

  private constructor(props: GatewayWorkloadProps) {
    this.labels = { ...props.labels };
    this.namespace = props.namespace ?? 'istio-system';
    this.identity = ServiceIdentity.fromName(this.namespace, props.serviceAccountName);
    this.serviceName = props.serviceName;
  }
}
