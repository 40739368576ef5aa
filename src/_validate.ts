import { IConstruct } from 'constructs';
import { configError } from './_errors';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** @internal RFC 1123 label: names of namespaces, services, versions, ports. */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

/** @internal RFC 1123 subdomain: names of most Kubernetes objects. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && DNS_SUBDOMAIN.test(value);
}

/** @internal Throws unless `value` is a DNS label. */
export function requireDnsLabel(scope: IConstruct, prop: string, value: string): string {
  if (!isDnsLabel(value)) {
    throw configError(scope, prop, value, 'use a DNS label: lowercase letters, digits and \'-\', at most 63 characters, starting and ending with a letter or digit');
  }
  return value;
}

/** @internal Throws when a list holds the same value twice. */
export function requireUnique(scope: IConstruct, prop: string, values: string[]): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw configError(scope, prop, v, 'each value may appear only once');
    seen.add(v);
  }
}

/** @internal Throws unless `value` is a percentage in [0, 100]. */
export function requirePercent(scope: IConstruct, prop: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 100) {
    throw configError(scope, prop, value, 'use a percentage from 0 to 100');
  }
  return value;
}

/** @internal Throws unless `value` is a whole percentage in [0, 100], for the CRD fields that are integers. */
export function requireWholePercent(scope: IConstruct, prop: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 100) {
    throw configError(scope, prop, value, 'use a whole percentage from 0 to 100 (Istio takes an integer here)');
  }
  return value;
}

/** @internal Throws unless `value` is a whole number of at least `min`. */
export function requireInteger(scope: IConstruct, prop: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw configError(scope, prop, value, `use a whole number of at least ${min}`);
  }
  return value;
}
