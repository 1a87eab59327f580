// The data layer's integer check, in the house style: the rule, then `Received: name=value`, then the fix.
import { ruleError, type ErrorCode } from '../errors';

/**
 * Throws `code` unless `value` is an integer in [min, max].
 * Example: `checkInteger('INSIGHT_E_CONFIG', 'batchSize', 0, 1)` throws "batchSize must be a positive integer. Received: batchSize=0. ...".
 */
export function checkInteger(code: ErrorCode, name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER, fix = ''): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER
      ? (min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`)
      : `an integer in [${min}, ${max}]`;
    throw ruleError(code, `${name} must be ${range}.`, { [name]: value }, fix || `Pass ${name} as ${range}.`);
  }
}
