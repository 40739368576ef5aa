import { ApiObject, Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { configError } from '../_errors';
import { objectProps } from '../_object-props';
import { requireDnsLabel, requireInteger } from '../_validate';
import { MtlsMode } from './mtls-mode';
import * as security from '../imports/istio-security';
import { namespaceDataplane } from '../mesh/_namespace-dataplane';
import { DataplaneMode } from '../mesh/mesh';
import { WorkloadSelector } from '../mesh/workload-selector';

/** The mutual TLS mode of one port of a workload. */
export interface PortMtls {
  /** The port the workload receives on (the container port, not the Service port). */
  readonly port: number;
  /** The mode on that port. */
  readonly mode: MtlsMode;
}

/** Properties of a {@link PeerAuthentication}. */
export interface PeerAuthenticationProps {
  /**
   * The policy's name; Istio's convention for a namespace-wide policy is `default`.
   * @default - generated from the construct path
   */
  readonly name?: string;
  /**
   * The policy's namespace; in the root namespace a policy without selector applies mesh-wide.
   * @default - the selector's namespace, else the chart's, else `default`
   */
  readonly namespace?: string;
  /**
   * The workloads it applies to.
   * @default - every workload of the namespace
   */
  readonly selector?: WorkloadSelector;
  /**
   * The mode of the workloads' ports.
   * @default MtlsMode.STRICT
   */
  readonly mode?: MtlsMode;
  /**
   * Per-port exceptions (a selector is required): for example PERMISSIVE on a metrics port scraped from outside
   * the mesh.
   * @default - none
   */
  readonly portModes?: PortMtls[];
  /**
   * How the workloads join the mesh; ztunnel ignores DISABLE, so it is refused in ambient mode.
   * @default - the namespace's (set by its ZeroTrustNamespace), else the Mesh's data plane mode
   */
  readonly dataplaneMode?: DataplaneMode;
}

/**
 * An Istio PeerAuthentication: whether workloads accept plaintext, mutual TLS, or both, with per-port exceptions.
 * @see https://istio.io/latest/docs/reference/config/security/peer_authentication/
 */
export class PeerAuthentication extends Construct {
  /** The PeerAuthentication object. */
  public readonly apiObject: ApiObject;
  /** The namespace it applies in. */
  public readonly namespace: string;
  /** The mode of the workloads' ports. */
  public readonly mode: MtlsMode;
  private readonly selector?: WorkloadSelector;
  private readonly ports = new Map<number, MtlsMode>();
  private readonly dataplaneMode: DataplaneMode;

  public constructor(scope: Construct, id: string, props: PeerAuthenticationProps = {}) {
    super(scope, id);
    this.selector = props.selector;
    this.mode = props.mode ?? MtlsMode.STRICT;
    this.namespace = requireDnsLabel(this, 'namespace', props.namespace ?? this.selector?.namespace ?? Chart.of(this).namespace ?? 'default');
    this.dataplaneMode = namespaceDataplane(this, this.namespace, props.dataplaneMode);
    if (props.name !== undefined) requireDnsLabel(this, 'name', props.name);
    this.checkMode('mode', this.mode);
    for (const p of props.portModes ?? []) this.setPortMode(p.port, p.mode);
    this.apiObject = new ApiObject(this, 'Resource', objectProps(security.PeerAuthentication.GVK, {
      metadata: { ...(props.name !== undefined ? { name: props.name } : {}), namespace: this.namespace },
      spec: Lazy.any({ produce: () => this.render() }),
    }));
  }

  /** The per-port modes set so far. */
  public get portModes(): PortMtls[] {
    return [...this.ports.entries()].map(([port, mode]) => ({ port, mode }));
  }

  /**
   * Sets the mode of one port of the selected workloads.
   * @param port the container port
   * @param mode its mode
   * @example
   * peerAuthentication.setPortMode(9090, MtlsMode.PERMISSIVE); // Prometheus scrapes in plaintext
   */
  public setPortMode(port: number, mode: MtlsMode): void {
    const prop = `portModes[${port}]`;
    requireInteger(this, prop, port, 1);
    if (port > 65535) throw configError(this, prop, port, 'use a port from 1 to 65535');
    if (!this.selector) {
      throw configError(this, 'portModes', port, 'port-level modes need a selector: give the PeerAuthentication the workloads they apply to');
    }
    this.checkMode(prop, mode);
    const existing = this.ports.get(port);
    if (existing !== undefined && existing !== mode) throw configError(this, prop, mode, `port ${port} is already ${existing}`);
    this.ports.set(port, mode);
  }

  private checkMode(prop: string, mode: MtlsMode): void {
    if (!Object.values(MtlsMode).includes(mode)) throw configError(this, prop, mode, 'use an MtlsMode');
    if (mode === MtlsMode.DISABLE && this.dataplaneMode === DataplaneMode.AMBIENT) {
      throw configError(this, prop, mode, 'ztunnel always speaks mutual TLS and ignores DISABLE: use PERMISSIVE to also accept plaintext');
    }
  }

  private render(): any {
    const ports = [...this.ports.entries()].sort(([a], [b]) => a - b);
    return {
      ...(this.selector ? { selector: { matchLabels: this.selector.labels } } : {}),
      mtls: { mode: this.mode },
      ...(ports.length ? { portLevelMtls: Object.fromEntries(ports.map(([port, mode]) => [String(port), { mode }])) } : {}),
    };
  }
}
