export * from './finding';
export * from './analysis-mesh-config';
export * from './analysis-report';
export * from './mesh-analyzer';
export * from './mesh-analysis';
