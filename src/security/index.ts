export * from './mtls-mode';
export * from './authorization-rule';
export * from './authorization-policy';
export * from './peer-authentication';
export * from './request-authentication';
export * from './authorization-evaluator';
export * from './zero-trust-namespace';
