// Small structural checks shared by the protocol parsers, with house-style messages.
import { serveError, typeOf } from '../../errors';
import { DenseList } from './dense_json';

/**
 * `value` as an object, or SERVE_E_BAD_INPUT naming it (`name`, e.g. 'body', 'examples[2]') and showing `example`.
 * A packed numeric list (DenseList) is a list, as JSON.parse would have given it.
 */
export function requireObject(value: unknown, name: string, example: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof DenseList) {
    throw serveError('SERVE_E_BAD_INPUT', `${name} must be a JSON object.`, { [name]: value instanceof DenseList ? `array(${value.length})` : typeOf(value) },
      `Send ${example}.`);
  }
  return value as Record<string, unknown>;
}

/** Rejects keys outside `allowed` (typos would otherwise be ignored silently). */
export function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw serveError('SERVE_E_BAD_INPUT', `${what} may only have the keys ${allowed.map((k) => `"${k}"`).join(', ')}.`,
      { unknownKeys: unknown.slice(0, 5) }, 'Remove the other keys (check the spelling).');
  }
}
