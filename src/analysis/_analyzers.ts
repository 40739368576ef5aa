// Every analyzer, in the order they run.
import { ambientWaypointAnalyzer } from './_ambient-analyzers';
import { Analyzer } from './_analyzer';
import { caCertificateAnalyzer, podNotSelectedAnalyzer } from './_destinationrule-analyzers';
import { envoyPatchAnalyzer } from './_envoyfilter-analyzers';
import {
  certificateAnalyzer, conflictingGatewayAnalyzer, ingressGatewayPortAnalyzer, kubernetesGatewaySelectorAnalyzer, secretAnalyzer,
} from './_gateway-analyzers';
import {
  authorizationPoliciesAnalyzer, blockedCidrsAnalyzer, denyByDefaultAnalyzer, mtlsConflictAnalyzer, principalAnalyzer,
} from './_security-analyzers';
import { protocolAddressesAnalyzer } from './_serviceentry-analyzers';
import { sidecarSelectorAnalyzer } from './_sidecar-analyzers';
import {
  lightstepAnalyzer, telemetryDefaultSelectorAnalyzer, telemetryProviderAnalyzer, telemetryProviderReferenceAnalyzer, telemetrySelectorAnalyzer,
} from './_telemetry-analyzers';
import {
  conflictingMeshGatewayHostsAnalyzer, destinationHostAnalyzer, destinationRuleAnalyzer, gatewayAnalyzer, jwtClaimRouteAnalyzer,
  regexAnalyzer, routeRuleAnalyzer,
} from './_virtualservice-analyzers';
import {
  annotationsAnalyzer, applicationUidAnalyzer, deprecationAnalyzer, injectionAnalyzer, portNameAnalyzer, serviceAssociationAnalyzer,
} from './_workload-analyzers';

export const ANALYZERS: readonly Analyzer[] = [
  annotationsAnalyzer,
  authorizationPoliciesAnalyzer,
  blockedCidrsAnalyzer,
  applicationUidAnalyzer,
  serviceAssociationAnalyzer,
  deprecationAnalyzer,
  caCertificateAnalyzer,
  podNotSelectedAnalyzer,
  envoyPatchAnalyzer,
  certificateAnalyzer,
  conflictingGatewayAnalyzer,
  ingressGatewayPortAnalyzer,
  secretAnalyzer,
  injectionAnalyzer,
  kubernetesGatewaySelectorAnalyzer,
  routeRuleAnalyzer,
  portNameAnalyzer,
  protocolAddressesAnalyzer,
  sidecarSelectorAnalyzer,
  lightstepAnalyzer,
  telemetryProviderAnalyzer,
  telemetrySelectorAnalyzer,
  telemetryDefaultSelectorAnalyzer,
  conflictingMeshGatewayHostsAnalyzer,
  destinationHostAnalyzer,
  destinationRuleAnalyzer,
  gatewayAnalyzer,
  jwtClaimRouteAnalyzer,
  // Checks Istio removed or never had.
  mtlsConflictAnalyzer,
  regexAnalyzer,
  ambientWaypointAnalyzer,
  denyByDefaultAnalyzer,
  principalAnalyzer,
  telemetryProviderReferenceAnalyzer,
];
