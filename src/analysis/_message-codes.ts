// The message types the analyzers report. Istio's codes, names and levels are those of Istio 1.30
// (pkg/config/analysis/msg/messages.yaml); CIS codes are this library's own checks, documented in docs/analysis.md.
import { AnalysisLevel, AnalysisMessageType } from './finding';

/** @internal */
export const MESSAGE_TYPES: { readonly [name: string]: AnalysisMessageType } = indexByName([
  {
    code: 'IST0002',
    name: 'Deprecated',
    level: AnalysisLevel.WARNING,
    description: 'A feature that the configuration is depending on is now deprecated.',
  },
  {
    code: 'IST0101',
    name: 'ReferencedResourceNotFound',
    level: AnalysisLevel.ERROR,
    description: 'A resource being referenced does not exist.',
  },
  {
    code: 'IST0102',
    name: 'NamespaceNotInjected',
    level: AnalysisLevel.INFO,
    description: 'A namespace is not enabled for Istio injection.',
  },
  {
    code: 'IST0103',
    name: 'PodMissingProxy',
    level: AnalysisLevel.WARNING,
    description: 'A pod is missing the Istio proxy.',
  },
  {
    code: 'IST0107',
    name: 'MisplacedAnnotation',
    level: AnalysisLevel.WARNING,
    description: 'An Istio annotation is applied to the wrong kind of resource.',
  },
  {
    code: 'IST0108',
    name: 'UnknownAnnotation',
    level: AnalysisLevel.WARNING,
    description: 'An Istio annotation is not recognized for any kind of resource',
  },
  {
    code: 'IST0109',
    name: 'ConflictingMeshGatewayVirtualServiceHosts',
    level: AnalysisLevel.ERROR,
    description: 'Conflicting hosts on VirtualServices associated with mesh gateway',
  },
  {
    code: 'IST0110',
    name: 'ConflictingSidecarWorkloadSelectors',
    level: AnalysisLevel.ERROR,
    description: 'A Sidecar resource selects the same workloads as another Sidecar resource',
  },
  {
    code: 'IST0111',
    name: 'MultipleSidecarsWithoutWorkloadSelectors',
    level: AnalysisLevel.ERROR,
    description: 'More than one sidecar resource in a namespace has no workload selector',
  },
  {
    code: 'IST0112',
    name: 'VirtualServiceDestinationPortSelectorRequired',
    level: AnalysisLevel.ERROR,
    description: 'A VirtualService routes to a service with more than one port exposed, but does not specify which to use.',
  },
  {
    code: 'IST0116',
    name: 'DeploymentAssociatedToMultipleServices',
    level: AnalysisLevel.WARNING,
    description: 'The resulting pods of a service mesh deployment can\'t be associated with multiple services using the same port but different protocols.',
  },
  {
    code: 'IST0118',
    name: 'PortNameIsNotUnderNamingConvention',
    level: AnalysisLevel.INFO,
    description: 'Port name is not under naming convention. Protocol detection is applied to the port.',
  },
  {
    code: 'IST0123',
    name: 'NamespaceMultipleInjectionLabels',
    level: AnalysisLevel.WARNING,
    description: 'A namespace has more than one type of injection labels',
  },
  {
    code: 'IST0125',
    name: 'InvalidAnnotation',
    level: AnalysisLevel.WARNING,
    description: 'An Istio annotation that is not valid',
  },
  {
    code: 'IST0127',
    name: 'NoMatchingWorkloadsFound',
    level: AnalysisLevel.WARNING,
    description: 'There aren\'t workloads matching the resource labels',
  },
  {
    code: 'IST0128',
    name: 'NoServerCertificateVerificationDestinationLevel',
    level: AnalysisLevel.WARNING,
    description: 'No caCertificates are set in DestinationRule, this results in no verification of presented server certificate.',
  },
  {
    code: 'IST0129',
    name: 'NoServerCertificateVerificationPortLevel',
    level: AnalysisLevel.WARNING,
    description: 'No caCertificates are set in DestinationRule, this results in no verification of presented server certificate for traffic to a given port.',
  },
  {
    code: 'IST0130',
    name: 'VirtualServiceUnreachableRule',
    level: AnalysisLevel.WARNING,
    description: 'A VirtualService rule will never be used because a previous rule uses the same match.',
  },
  {
    code: 'IST0131',
    name: 'VirtualServiceIneffectiveMatch',
    level: AnalysisLevel.INFO,
    description: 'A VirtualService rule match duplicates a match in a previous rule.',
  },
  {
    code: 'IST0132',
    name: 'VirtualServiceHostNotFoundInGateway',
    level: AnalysisLevel.WARNING,
    description: 'Host defined in VirtualService not found in Gateway.',
  },
  {
    code: 'IST0134',
    name: 'ServiceEntryAddressesRequired',
    level: AnalysisLevel.WARNING,
    description: 'Virtual IP addresses are required for ports serving TCP (or unset) protocol when PILOT_ENABLE_IP_AUTOALLOCATE is not set on a proxy',
  },
  {
    code: 'IST0135',
    name: 'DeprecatedAnnotation',
    level: AnalysisLevel.INFO,
    description: 'A resource is using a deprecated Istio annotation.',
  },
  {
    code: 'IST0137',
    name: 'DeploymentConflictingPorts',
    level: AnalysisLevel.WARNING,
    description: 'Two services selecting the same workload with the same targetPort MUST refer to the same port.',
  },
  {
    code: 'IST0138',
    name: 'GatewayDuplicateCertificate',
    level: AnalysisLevel.WARNING,
    description: 'Duplicate certificate in multiple gateways may cause 404s if clients re-use HTTP2 connections.',
  },
  {
    code: 'IST0140',
    name: 'IngressRouteRulesNotAffected',
    level: AnalysisLevel.WARNING,
    description: 'Route rules have no effect on ingress gateway requests',
  },
  {
    code: 'IST0144',
    name: 'InvalidApplicationUID',
    level: AnalysisLevel.WARNING,
    description: 'Application pods should not run as user ID (UID) 1337',
  },
  {
    code: 'IST0145',
    name: 'ConflictingGateways',
    level: AnalysisLevel.ERROR,
    description: 'Gateway should not have the same selector, port and matched hosts of server',
  },
  {
    code: 'IST0148',
    name: 'NamespaceInjectionEnabledByDefault',
    level: AnalysisLevel.INFO,
    description: 'user namespace should be injectable if Istio is installed with enableNamespacesByDefault enabled and neither injection label is set.',
  },
  {
    code: 'IST0149',
    name: 'JwtClaimBasedRoutingWithoutRequestAuthN',
    level: AnalysisLevel.ERROR,
    description: 'Virtual service using JWT claim based routing without request authentication.',
  },
  {
    code: 'IST0150',
    name: 'ExternalNameServiceTypeInvalidPortName',
    level: AnalysisLevel.WARNING,
    description: 'Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly for ExternalName services.',
  },
  {
    code: 'IST0151',
    name: 'EnvoyFilterUsesRelativeOperation',
    level: AnalysisLevel.WARNING,
    description: 'This EnvoyFilter does not have a priority and has a relative patch operation set which can cause the EnvoyFilter not to be applied. Using the INSERT_FIRST or ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly.',
  },
  {
    code: 'IST0152',
    name: 'EnvoyFilterUsesReplaceOperationIncorrectly',
    level: AnalysisLevel.ERROR,
    description: 'The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER.',
  },
  {
    code: 'IST0153',
    name: 'EnvoyFilterUsesAddOperationIncorrectly',
    level: AnalysisLevel.ERROR,
    description: 'The ADD operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.',
  },
  {
    code: 'IST0154',
    name: 'EnvoyFilterUsesRemoveOperationIncorrectly',
    level: AnalysisLevel.ERROR,
    description: 'The REMOVE operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.',
  },
  {
    code: 'IST0155',
    name: 'EnvoyFilterUsesRelativeOperationWithProxyVersion',
    level: AnalysisLevel.WARNING,
    description: 'This EnvoyFilter does not have a priority and has a relative patch operation (NSTERT_BEFORE/AFTER, REPLACE, MERGE, DELETE) and proxyVersion set which can cause the EnvoyFilter not to be applied during an upgrade. Using the INSERT_FIRST or ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly.',
  },
  {
    code: 'IST0157',
    name: 'InvalidTelemetryProvider',
    level: AnalysisLevel.WARNING,
    description: 'The Telemetry with empty providers will be ignored',
  },
  {
    code: 'IST0159',
    name: 'ConflictingTelemetryWorkloadSelectors',
    level: AnalysisLevel.ERROR,
    description: 'A Telemetry resource selects the same workloads as another Telemetry resource',
  },
  {
    code: 'IST0160',
    name: 'MultipleTelemetriesWithoutWorkloadSelectors',
    level: AnalysisLevel.ERROR,
    description: 'More than one telemetry resource in a namespace has no workload selector',
  },
  {
    code: 'IST0162',
    name: 'GatewayPortNotDefinedOnService',
    level: AnalysisLevel.WARNING,
    description: 'Gateway port not exposed by service',
  },
  {
    code: 'IST0166',
    name: 'IneffectiveSelector',
    level: AnalysisLevel.WARNING,
    description: 'Selector has no effect when applied to Kubernetes Gateways.',
  },
  {
    code: 'IST0167',
    name: 'IneffectivePolicy',
    level: AnalysisLevel.WARNING,
    description: 'The policy applied has no impact.',
  },
  {
    code: 'IST0173',
    name: 'DestinationRuleSubsetNotSelectPods',
    level: AnalysisLevel.ERROR,
    description: 'Subsets defined in destination does not select any pods.',
  },
  {
    code: 'IST0174',
    name: 'UnknownDestinationRuleHost',
    level: AnalysisLevel.WARNING,
    description: 'Host defined in destination rule does not match any services in the mesh.',
  },
  {
    code: 'IST0175',
    name: 'JwksUriFetchUnrestricted',
    level: AnalysisLevel.WARNING,
    description: 'RequestAuthentication resources exist but BLOCKED_CIDRS_IN_JWKS_URIS is not configured on istiod.',
  },
  // Checks Istio removed or never had.
  {
    code: 'CIS0001',
    name: 'MtlsModeConflict',
    level: AnalysisLevel.ERROR,
    description: 'A DestinationRule TLS mode contradicts the PeerAuthentication mTLS mode of the workloads it sends to.',
  },
  {
    code: 'CIS0002',
    name: 'InvalidMatchRegexp',
    level: AnalysisLevel.ERROR,
    description: 'A regular expression in a match is not valid RE2, so Istio rejects the resource or Envoy the configuration.',
  },
  {
    code: 'CIS0003',
    name: 'AmbientL7PolicyWithoutWaypoint',
    level: AnalysisLevel.ERROR,
    description: 'An authorization policy with L7 rules applies to ambient workloads that no waypoint serves; ztunnel cannot enforce it.',
  },
  {
    code: 'CIS0004',
    name: 'AmbientRouteWithoutWaypoint',
    level: AnalysisLevel.WARNING,
    description: 'A mesh route for a service in an ambient namespace has no waypoint to apply it; in-mesh clients bypass it.',
  },
  {
    code: 'CIS0005',
    name: 'WorkloadDeniedByDefault',
    level: AnalysisLevel.WARNING,
    description: 'A workload in a deny-by-default namespace is admitted by no ALLOW policy, so every request to it is denied.',
  },
]);

function indexByName(types: AnalysisMessageType[]): { [name: string]: AnalysisMessageType } {
  const out: { [name: string]: AnalysisMessageType } = {};
  for (const t of types) out[t.name] = t;
  return out;
}
