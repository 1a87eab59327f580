// House-style errors for the data layer: the rule, then `Received: name=value`, then the fix.
import { ruleMessage } from '../errors';

/** An error caused by the user's data or options (not a bug): callers may print `message` without a stack. */
export class DataError extends Error {
  override name = 'DataError';
}

/**
 * Builds a DataError whose message reads `<rule> Received: a=1, b="x". <fix>`.
 * Example: `ruleError('batchSize must be a positive integer.', { batchSize: 0 }, 'Pass e.g. batchSize: 64.')`.
 */
export function ruleError(rule: string, received: Record<string, unknown>, fix: string): DataError {
  return new DataError(ruleMessage(rule, received, fix));
}

/** Throws the house-style error unless `value` is an integer in [min, max]. */
export function checkInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER, fix = ''): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER
      ? (min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`)
      : `an integer in [${min}, ${max}]`;
    throw ruleError(`${name} must be ${range}.`, { [name]: value }, fix || `Pass ${name} as ${range}.`);
  }
}
