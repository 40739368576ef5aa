import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { configError } from './_errors';

/**
 * @internal Renders a Duration as Istio expects it: seconds with a fractional part (`0.25s`), the one form both
 * protobuf JSON and Go's duration parser accept. Envoy treats anything under 1ms as unset, so that is refused.
 */
export function istioDuration(scope: IConstruct, prop: string, duration: Duration): string {
  const ms = duration.toMilliseconds({ integral: false });
  if (!(ms >= 1)) throw configError(scope, prop, `${ms}ms`, 'use a duration of at least 1ms');
  return `${Number((ms / 1000).toFixed(3))}s`;
}
