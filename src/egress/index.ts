export * from './egress-route';
export * from './allowed-external-service';
export * from './egress-control';
