// The house message, `<rule> Received: a=1, b="x". <fix>`, and the builders that throw it for every error family.
import type { ErrorCode, ServeErrorCode } from './codes';
import { InsightError, ServeError } from './insight_error';

/** Renders a value for `Received: name=value`: strings quoted, everything else as JSON. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** The house message `<rule> Received: a=1, b="x". <fix>`. */
export function ruleMessage(rule: string, received: Record<string, unknown>, fix: string,
  render: (value: unknown) => string = show): string {
  const parts = Object.entries(received).map(([name, value]) => `${name}=${render(value)}`);
  return `${rule} Received: ${parts.join(', ')}. ${fix}`;
}

/**
 * Builds the standard error: rule, `Received: name=value`, fix.
 * Example: `ruleError('INSIGHT_E_CONFIG', 'lr must be a number > 0.', { lr: -1 }, 'Pass e.g. --lr 0.001.')`.
 */
export function ruleError(code: ErrorCode, rule: string, received: Record<string, unknown>, fix: string,
  options?: { cause?: unknown }): InsightError {
  return new InsightError(code, ruleMessage(rule, received, fix), options);
}

/**
 * The server's ruleError: received values come from clients and are clipped to keep messages (and logs) short.
 * Example: `serveError('SERVE_E_BAD_INPUT', 'instances must be a list.', { instances: 3 }, 'Send {"instances": [...]}.')`.
 */
export function serveError(code: ServeErrorCode, rule: string, received: Record<string, unknown>, fix: string,
  options: { retryAfter?: number; cause?: unknown } = {}): ServeError {
  return new ServeError(code, ruleMessage(rule, received, fix, (value) => clip(show(value))), options);
}

function clip(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} chars)`;
}

/** A short description of a JSON value's type for messages: 'string', 'number', 'array(3)', 'object', 'null'. */
export function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array(${value.length})`;
  return typeof value;
}
