// The inference server's errors. Every response that is not a success carries a stable code and its HTTP
// status, in the body shape both protocols use: `{"error": "<rule> Received: x=y. <fix>", "code": "SERVE_E_..."}`.
// The codes are listed here once, documented in the README's "insight serve" error table (a test checks), and
// never change meaning. Startup errors of `insight serve` (flags, key files, repository) are CLI errors
// (INSIGHT_E_*) and live in ../errors.ts.
import { ruleMessage, show } from '../errors';

/** Every code the server answers with: HTTP status and one line for the README. */
export const SERVE_ERROR_CODES = {
  SERVE_E_BAD_JSON: { status: 400, summary: 'The body is not valid JSON (syntax error, empty body, or a forbidden __proto__ key).' },
  SERVE_E_BAD_INPUT: {
    status: 400,
    summary: 'The request is well-formed JSON but breaks the protocol: wrong keys, shape, dtype, non-finite or non-numeric values, too many instances, a bad query parameter.',
  },
  SERVE_E_BAD_IMAGE: { status: 400, summary: 'Image bytes (raw body, multipart file or {"b64": ...}) are not a decodable JPEG, PNG, WebP or GIF, or are truncated.' },
  SERVE_E_UNAUTHORIZED: { status: 401, summary: 'No `Authorization: Bearer <key>` header, or the key matches none of the configured keys.' },
  SERVE_E_FORBIDDEN: { status: 403, summary: 'The key is valid but not allowed here: an inference key on an admin route, or the admin API is disabled (no admin keys).' },
  SERVE_E_NOT_FOUND: { status: 404, summary: 'No such route (path, method, or the verb after `:` in a TF Serving URL).' },
  SERVE_E_MODEL_NOT_FOUND: { status: 404, summary: 'No model of that name in the repository.' },
  SERVE_E_VERSION_NOT_FOUND: { status: 404, summary: 'The model exists but that version is not being served (not on disk, or older than --keep-versions).' },
  SERVE_E_PAYLOAD_TOO_LARGE: { status: 413, summary: 'The body, or a multipart file, exceeds --body-limit-mb; or too many multipart parts.' },
  SERVE_E_IMAGE_TOO_LARGE: { status: 413, summary: 'An image declares more pixels than --max-image-pixels (checked from its header, before decoding).' },
  SERVE_E_UNSUPPORTED_MEDIA: { status: 415, summary: 'The Content-Type is not accepted by the route (JSON routes take application/json; image routes take image/jpeg, image/png, image/webp, image/gif, application/octet-stream or multipart/form-data).' },
  SERVE_E_RATE_LIMITED: { status: 429, summary: 'The key (or client address, without keys) exceeded --rate-limit requests/s; Retry-After says when to retry.' },
  SERVE_E_INTERNAL: { status: 500, summary: 'An unexpected failure inside the server (a bug); the request id in the message finds it in the log.' },
  SERVE_E_LOAD_FAILED: { status: 500, summary: 'An admin load/reload could not load the model version (bad files); the version served before stays.' },
  SERVE_E_MODEL_UNAVAILABLE: { status: 503, summary: 'The model has no loaded version right now (loading, every version failed, or unloaded by an admin).' },
  SERVE_E_OVERLOADED: { status: 503, summary: 'The model\'s inference queue is full (--max-queue-size); Retry-After says when to retry.' },
  SERVE_E_SHUTTING_DOWN: { status: 503, summary: 'The server is shutting down and takes no new inference work.' },
  SERVE_E_TIMEOUT: { status: 504, summary: 'The inference did not finish within --timeout-ms (queue wait + forward pass).' },
} as const;

export type ServeErrorCode = keyof typeof SERVE_ERROR_CODES;

/** An error answered to the client: status from the code, message = rule + Received + fix. */
export class ServeError extends Error {
  readonly code: ServeErrorCode;
  /** Seconds for the Retry-After header (429 and 503 answers). */
  readonly retryAfter?: number;
  constructor(code: ServeErrorCode, message: string, options: { retryAfter?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ServeError';
    this.code = code;
    if (options.retryAfter !== undefined) this.retryAfter = Math.max(1, Math.ceil(options.retryAfter));
  }
  get status(): number {
    return SERVE_ERROR_CODES[this.code].status;
  }
}

/**
 * Builds the standard message: rule, `Received: name=value`, fix.
 * Example: `serveError('SERVE_E_BAD_INPUT', 'instances must be a list.', { instances: 3 }, 'Send {"instances": [...]}.')`.
 */
export function serveError(code: ServeErrorCode, rule: string, received: Record<string, unknown>, fix: string,
  options: { retryAfter?: number; cause?: unknown } = {}): ServeError {
  return new ServeError(code, ruleMessage(rule, received, fix, (value) => clip(show(value))), options);
}

/** Received values come from clients and can be huge: keep messages (and logs) short. */
function clip(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} chars)`;
}

/** A short description of a JSON value's type for messages: 'string', 'number', 'array(3)', 'object', 'null'. */
export function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array(${value.length})`;
  return typeof value;
}
