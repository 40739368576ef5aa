import { IConstruct } from 'constructs';

/**
 * The error every construct throws for bad input: it names the construct path, the prop, the value received and
 * the fix, lowercase and without a trailing period (AWS CDK guidelines).
 * @internal
 */
export function configError(scope: IConstruct, prop: string, received: unknown, fix: string): Error {
  return new Error(`${scope.node.path}: ${prop} ${describe(received)}: ${fix}`);
}

function describe(value: unknown): string {
  if (value === undefined) return 'is missing';
  const shown = typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
  return `got ${shown}`;
}
