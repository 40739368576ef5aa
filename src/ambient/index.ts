export * from './waypoint';
