export * from './release-phases';
export * from './argo-cd-sync-waves';
export * from './argo-cd-ignore-difference';
export * from './flagger-metric-template';
export * from './flagger-canary';
export * from './argo-rollout';
