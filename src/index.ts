// Generated L1 bindings, one namespace per API group (see imports/sources.json).
export * as networking from './imports/istio-networking';
export * as security from './imports/istio-security';
// 'telemetryapi', not 'telemetry': jsii submodule names must not clash with the Telemetry construct.
export * as telemetryapi from './imports/istio-telemetry';
export * as extensions from './imports/istio-extensions';
export * as gatewayapi from './imports/gateway-api';
export * as gatewayapi_experimental from './imports/gateway-api-experimental';
export * as flagger from './imports/flagger';
export * as argorollouts from './imports/argo-rollouts';
export * from './mesh';
export * from './traffic';
export * from './ingress';
export * from './observability';
export * from './egress';
export * from './ambient';
export * from './analysis';
export * from './security';
export * from './delivery';
