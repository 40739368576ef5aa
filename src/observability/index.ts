export * from './telemetry';
export * from './mesh-diagram';
export * from './traffic-plan';
