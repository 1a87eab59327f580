// The one error family. Every error a user can act on is an InsightError: a code from the catalogue (./codes.ts)
// and a message in three parts, the rule, `Received: name=value`, then the fix. Subclasses only add fields.
import { exitCodeOf, httpStatusOf, type ErrorCode, type ServeErrorCode } from './codes';

/** An error the user can fix. `message` already contains rule, `Received: ...` and fix. */
export class InsightError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InsightError';
    this.code = code;
  }
  /** Process exit status of `insight` (from the catalogue). */
  get exitCode(): number {
    return exitCodeOf(this.code);
  }
  /** HTTP status of the answer (from the catalogue). */
  get httpStatus(): number {
    return httpStatusOf(this.code);
  }
}

/** An answer of the inference server: a SERVE_E_* code, and Retry-After seconds for 429 and 503 answers. */
export class ServeError extends InsightError {
  declare readonly code: ServeErrorCode;
  /** Seconds for the Retry-After header (429 and 503 answers). */
  readonly retryAfter?: number;
  constructor(code: ServeErrorCode, message: string, options: { retryAfter?: number; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.name = 'ServeError';
    if (options.retryAfter !== undefined) this.retryAfter = Math.max(1, Math.ceil(options.retryAfter));
  }
}
