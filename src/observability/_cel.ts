import { IConstruct } from 'constructs';
import { configError } from '../_errors';

const CLOSING: { [open: string]: string } = { '(': ')', '[': ']', '{': '}' };

/**
 * @internal A minimal check of a CEL expression (access log filters, metric tag values): not blank, quotes closed,
 * brackets balanced. Istio compiles the expression in the proxy, where a broken one is logged and ignored, so the
 * obvious mistakes are caught here.
 */
export function requireCelExpression(scope: IConstruct, prop: string, expression: string): string {
  if (expression.trim() === '') {
    throw configError(scope, prop, expression, 'give a CEL expression such as response.code >= 400');
  }
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === '\'') {
      quote = c;
    } else if (CLOSING[c]) {
      stack.push(CLOSING[c]);
    } else if (c === ')' || c === ']' || c === '}') {
      if (stack.pop() !== c) throw configError(scope, prop, expression, `'${c}' at position ${i} closes nothing: balance the brackets`);
    }
  }
  if (quote) throw configError(scope, prop, expression, `close the string opened with ${quote}`);
  if (stack.length) throw configError(scope, prop, expression, `add the missing '${stack.reverse().join('')}'`);
  return expression;
}
