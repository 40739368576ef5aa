// Istio's resource annotations (istio/api annotation/annotations.yaml): where each may be applied, whether it is
// deprecated, and how sidecar injection validates its value.
import { load } from 'js-yaml';

export interface AnnotationDefinition {
  readonly name: string;
  /** Kinds it applies to; `Any` for every kind. */
  readonly resources: string[];
  readonly deprecated?: boolean;
}

const POD = ['Pod'];
const def = (name: string, resources: string[], deprecated = false): AnnotationDefinition => ({ name, resources, deprecated });

export const ANNOTATIONS = new Map<string, AnnotationDefinition>([
  def('alpha.istio.io/canonical-serviceaccounts', ['Service'], true),
  def('alpha.istio.io/kubernetes-serviceaccounts', ['Service'], true),
  def('ambient.istio.io/bypass-inbound-capture', POD),
  // Istio 1.25: istio-cni reads it to switch DNS capture off per pod.
  def('ambient.istio.io/dns-capture', POD),
  def('ambient.istio.io/redirection', POD),
  def('ambient.istio.io/waypoint-inbound-binding', ['GatewayClass', 'Gateway']),
  def('galley.istio.io/analyze-suppress', ['Any']),
  def('gateway.istio.io/controller-version', ['Any']),
  def('gateway.istio.io/name-override', ['Gateway']),
  def('gateway.istio.io/service-account', ['Gateway']),
  def('inject.istio.io/templates', POD),
  def('install.operator.istio.io/chart-owner', ['Any']),
  def('install.operator.istio.io/owner-generation', ['Any']),
  def('install.operator.istio.io/version', ['Any']),
  def('istio.io/autoRegistrationGroup', ['WorkloadEntry']),
  def('istio.io/connectedAt', ['WorkloadEntry']),
  def('istio.io/disconnectedAt', ['WorkloadEntry']),
  def('istio.io/dry-run', ['AuthorizationPolicy']),
  def('istio.io/rev', POD),
  def('istio.io/reroute-virtual-interfaces', POD),
  def('istio.io/workloadController', ['WorkloadEntry']),
  def('kubernetes.io/ingress.class', ['Ingress']),
  def('networking.istio.io/exportTo', ['Service']),
  def('networking.istio.io/service-type', ['Gateway']),
  def('networking.istio.io/traffic-distribution', ['Service', 'ServiceEntry']),
  def('prometheus.istio.io/merge-metrics', POD),
  def('proxy.istio.io/config', POD),
  def('proxy.istio.io/overrides', POD),
  def('readiness.status.sidecar.istio.io/applicationPorts', POD),
  def('readiness.status.sidecar.istio.io/failureThreshold', POD),
  def('readiness.status.sidecar.istio.io/initialDelaySeconds', POD),
  def('readiness.status.sidecar.istio.io/periodSeconds', POD),
  def('sidecar.istio.io/agentLogLevel', POD),
  def('sidecar.istio.io/bootstrapOverride', POD),
  def('sidecar.istio.io/componentLogLevel', POD),
  def('sidecar.istio.io/discoveryAddress', POD, true),
  def('sidecar.istio.io/enableCoreDump', POD),
  def('sidecar.istio.io/extraStatTags', POD, true),
  def('sidecar.istio.io/inject', POD, true),
  def('sidecar.istio.io/interceptionMode', POD),
  def('sidecar.istio.io/logLevel', POD),
  def('sidecar.istio.io/nativeSidecar', POD),
  def('sidecar.istio.io/proxyCPU', POD),
  def('sidecar.istio.io/proxyCPULimit', POD),
  def('sidecar.istio.io/proxyImage', POD),
  def('sidecar.istio.io/proxyImageType', POD),
  def('sidecar.istio.io/proxyMemory', POD),
  def('sidecar.istio.io/proxyMemoryLimit', POD),
  def('sidecar.istio.io/rewriteAppHTTPProbers', POD),
  def('sidecar.istio.io/statsEvictionInterval', POD),
  def('sidecar.istio.io/statsFlushInterval', POD),
  def('sidecar.istio.io/statsHistogramBuckets', POD),
  def('sidecar.istio.io/statsInclusionPrefixes', POD, true),
  def('sidecar.istio.io/statsInclusionRegexps', POD, true),
  def('sidecar.istio.io/statsInclusionSuffixes', POD, true),
  def('sidecar.istio.io/status', POD),
  def('sidecar.istio.io/userVolume', POD),
  def('sidecar.istio.io/userVolumeMount', POD),
  def('status.sidecar.istio.io/port', POD),
  def('topology.istio.io/controlPlaneClusters', ['Namespace']),
  def('traffic.istio.io/nodeSelector', ['Service']),
  def('traffic.sidecar.istio.io/excludeInboundPorts', POD),
  def('traffic.sidecar.istio.io/excludeInterfaces', POD),
  def('traffic.sidecar.istio.io/excludeOutboundIPRanges', POD),
  def('traffic.sidecar.istio.io/excludeOutboundPorts', POD),
  def('traffic.sidecar.istio.io/includeInboundPorts', POD),
  def('traffic.sidecar.istio.io/includeOutboundIPRanges', POD),
  def('traffic.sidecar.istio.io/includeOutboundPorts', POD),
  def('traffic.sidecar.istio.io/kubevirtInterfaces', POD),
].map(a => [a.name, a]));

/** Whether an annotation is in Istio's namespace (or the one Kubernetes annotation Istio documents). */
export function isIstioAnnotation(name: string): boolean {
  if (name === 'kubernetes.io/ingress.class') return true;
  return name.split('/')[0].endsWith('istio.io');
}

/** Extra advice when an annotation is deprecated. */
export const DEPRECATION_ADVICE: { [name: string]: string } = {
  'sidecar.istio.io/inject': ' in favor of the "sidecar.istio.io/inject" label',
};

function uint(bits: number): (v: string) => string | undefined {
  return v => {
    const t = v.trim();
    if (!/^\d+$/.test(t) || Number(t) >= 2 ** bits) return `failed parsing "${v}" as an unsigned ${bits}-bit integer`;
    return undefined;
  };
}

function bool(v: string): string | undefined {
  return ['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v) ? undefined : `"${v}" is not a boolean`;
}

function portList(v: string): string | undefined {
  for (const p of v.split(',').map(s => s.trim()).filter(s => s !== '')) {
    if (!/^\d+$/.test(p) || Number(p) > 65535) return `port "${p}" is not a port number`;
  }
  return undefined;
}

const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;

function cidrList(v: string): string | undefined {
  for (const c of v.split(',').map(s => s.trim()).filter(s => s !== '')) {
    if (!CIDR.test(c)) return `"${c}" is not an IP range in CIDR form`;
  }
  return undefined;
}

/** Value checks sidecar injection applies; each returns the problem, or undefined when the value is valid. */
export const ANNOTATION_VALIDATION: { [name: string]: (value: string) => string | undefined } = {
  'sidecar.istio.io/interceptionMode': v => (['REDIRECT', 'TPROXY', 'NONE'].includes(v) ? undefined : `interception mode "${v}" is not REDIRECT, TPROXY or NONE`),
  'sidecar.istio.io/enableCoreDump': bool,
  'prometheus.istio.io/merge-metrics': bool,
  'status.sidecar.istio.io/port': uint(16),
  'readiness.status.sidecar.istio.io/initialDelaySeconds': uint(32),
  'readiness.status.sidecar.istio.io/periodSeconds': uint(32),
  'readiness.status.sidecar.istio.io/failureThreshold': uint(32),
  'traffic.sidecar.istio.io/includeOutboundIPRanges': v => (v.trim() === '*' ? undefined : cidrList(v)),
  'traffic.sidecar.istio.io/excludeOutboundIPRanges': cidrList,
  'traffic.sidecar.istio.io/includeInboundPorts': v => (v.trim() === '*' ? undefined : portList(v)),
  'traffic.sidecar.istio.io/excludeInboundPorts': portList,
  'traffic.sidecar.istio.io/includeOutboundPorts': portList,
  'traffic.sidecar.istio.io/excludeOutboundPorts': portList,
  'proxy.istio.io/config': v => {
    try {
      const parsed = load(v);
      return parsed === null || parsed === undefined || (typeof parsed === 'object' && !Array.isArray(parsed)) ? undefined : 'not a ProxyConfig object';
    } catch (e) {
      return `not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`;
    }
  },
};
