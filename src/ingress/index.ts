export * from './ingress-gateway';
