export * from './mesh';
export * from './gateway-workload';
export * from './service-identity';
export * from './host';
export * from './service-port';
export * from './workload-selector';
