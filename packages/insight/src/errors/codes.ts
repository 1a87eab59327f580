// The error catalogue: every code Insight raises, in one table. Each code means one condition everywhere (the CLI,
// the library, the dashboard's API and the inference server), has a one-line summary (the README's error tables
// are these rows; a test checks), the `insight` exit status when it ends a command, and the HTTP status when an
// HTTP API answers it. Codes are stable: SERVE_E_* are part of the inference server's HTTP API.
//
// Two prefixes, two audiences: INSIGHT_E_* end commands and library calls; SERVE_E_* are HTTP answers (of
// `insight serve`, and for plain HTTP conditions such as an unknown path, of the dashboard too).

/** One row of the catalogue. */
export interface ErrorCodeInfo {
  /** One line for the README. */
  readonly summary: string;
  /** Process exit status of `insight` (INSIGHT_E_* only). */
  readonly exitCode?: number;
  /** HTTP status of the answer, for codes an HTTP API answers with. */
  readonly httpStatus?: number;
}

const CATALOGUE = {
  INSIGHT_E_USAGE: { exitCode: 2, summary: 'The command line is malformed: an unknown command or flag, a missing argument or value.' },
  INSIGHT_E_CONFIG: {
    exitCode: 2,
    summary: 'A configuration value breaks a rule: unknown key, unknown model/optimizer/schedule name, ' +
      'a non-positive learning rate, batch size or epoch count, and so on (flags, config files and library options alike).',
  },
  INSIGHT_E_CONFIG_FILE: { exitCode: 2, summary: 'A file named by a flag (`--config`, `--api-keys-file`, `--model <file>`) is missing, unreadable, not valid JSON/YAML, or a model module that fails to load.' },
  INSIGHT_E_DATA: { exitCode: 3, summary: 'The dataset is missing, incomplete or corrupt, or too small for the split asked for.' },
  INSIGHT_E_IMAGE: { exitCode: 3, summary: 'An image given to `predict` or `explain` is missing or cannot be decoded.' },
  INSIGHT_E_MODEL: { exitCode: 4, summary: 'A model directory (or run directory) is missing, incomplete, or not an Insight model.' },
  INSIGHT_E_RESUME: {
    exitCode: 5,
    summary: 'A run cannot be resumed: it has no complete checkpoint, is completed and no larger --epochs extends it, a live process on this host still trains it, or flags try to change its config.',
  },
  INSIGHT_E_INTERRUPTED: {
    exitCode: 130,
    summary: 'Training was stopped by SIGINT (Ctrl-C) or SIGTERM: its state was saved at the next optimizer update, the run is marked interrupted, and the message says how to resume.',
  },
  INSIGHT_E_BACKEND: { exitCode: 6, summary: 'The requested compute backend is not available on this machine, or training would fall back to the slow cpu backend without `--backend cpu`.' },
  INSIGHT_E_RUNS_DIR: { exitCode: 7, httpStatus: 404, summary: 'The runs directory given to `insight runs` or `insight dashboard` is missing or not a directory.' },
  INSIGHT_E_RUN_NOT_FOUND: { exitCode: 7, httpStatus: 404, summary: 'A run id (or id prefix) matches no run in the runs directory, or more than one.' },
  INSIGHT_E_QUERY: {
    exitCode: 2, httpStatus: 400,
    summary: 'A `--where`, `--sort`, `--columns` or tag argument of `insight runs` (or the same query of the dashboard\'s API) is malformed or names an unknown column.',
  },
  INSIGHT_E_LISTEN: {
    exitCode: 8,
    summary: '`insight dashboard` or `insight serve` cannot listen on its host and port: the port is in use, not permitted, or the host is not an address of this machine.',
  },
  INSIGHT_E_STORAGE: {
    exitCode: 9,
    summary: 'The study storage of `insight tune` (a SQLite file or a PostgreSQL database, --storage) cannot be opened or reached, refuses the login, stays locked past its retries, or was written by a newer Insight.',
  },
  INSIGHT_E_DISTRIBUTED: {
    exitCode: 10,
    summary: 'A distributed group failed: the rendezvous at MASTER_ADDR:MASTER_PORT timed out, a peer rank died or a collective failed, or `insight launch` gave up after its restarts.',
  },
  INSIGHT_E_INTERNAL: { exitCode: 1, summary: 'An unexpected failure (a bug): the message and, with INSIGHT_DEBUG=1, the stack.' },

  SERVE_E_BAD_JSON: { httpStatus: 400, summary: 'The body is not valid JSON (syntax error, empty body, or a forbidden __proto__ key).' },
  SERVE_E_BAD_INPUT: {
    httpStatus: 400,
    summary: 'The request is well-formed JSON but breaks the protocol: wrong keys, shape, dtype, non-finite or non-numeric values, too many instances, a bad query parameter; or the request itself is malformed (bad URL encoding, headers). Also the dashboard\'s answer to a malformed request.',
  },
  SERVE_E_BAD_IMAGE: { httpStatus: 400, summary: 'Image bytes (raw body, multipart file or {"b64": ...}) are not a decodable JPEG, PNG, WebP or GIF, or are truncated.' },
  SERVE_E_UNAUTHORIZED: { httpStatus: 401, summary: 'No `Authorization: Bearer <key>` header, or the key matches none of the configured keys.' },
  SERVE_E_FORBIDDEN: { httpStatus: 403, summary: 'The key is valid but not allowed here: an inference key on an admin route, or the admin API is disabled (no admin keys).' },
  SERVE_E_NOT_FOUND: { httpStatus: 404, summary: 'No such route (path, method, or the verb after `:` in a TF Serving URL). Also the dashboard\'s answer for an unknown page, asset or API path.' },
  SERVE_E_MODEL_NOT_FOUND: { httpStatus: 404, summary: 'No model of that name in the repository.' },
  SERVE_E_VERSION_NOT_FOUND: { httpStatus: 404, summary: 'The model exists but that version is not being served (not on disk, or older than --keep-versions).' },
  SERVE_E_REQUEST_TIMEOUT: { httpStatus: 408, summary: 'The client did not send its whole request (headers and body) within --request-timeout-ms; the connection closes.' },
  SERVE_E_PAYLOAD_TOO_LARGE: { httpStatus: 413, summary: 'The body, or a multipart file, exceeds --body-limit-mb; or too many multipart parts.' },
  SERVE_E_IMAGE_TOO_LARGE: { httpStatus: 413, summary: 'An image declares more pixels than --max-image-pixels (checked from its header, before decoding).' },
  SERVE_E_URI_TOO_LONG: { httpStatus: 414, summary: 'A URL path segment (model name, version) is longer than 100 characters.' },
  SERVE_E_UNSUPPORTED_MEDIA: {
    httpStatus: 415,
    summary: 'The Content-Type is not accepted by the route (JSON routes take application/json; image routes take image/jpeg, image/png, image/webp, image/gif, application/octet-stream or multipart/form-data).',
  },
  SERVE_E_RATE_LIMITED: {
    httpStatus: 429,
    summary: 'The key (or client address, without keys) exceeded --rate-limit requests/s, or the client address failed authentication too often; Retry-After says when to retry.',
  },
  SERVE_E_HEADERS_TOO_LARGE: { httpStatus: 431, summary: 'The request line and headers exceed 16 KiB; the connection closes.' },
  SERVE_E_INTERNAL: { httpStatus: 500, summary: 'An unexpected failure inside the server or the dashboard while answering (a bug); the server\'s log finds it by the request id in the message.' },
  SERVE_E_LOAD_FAILED: { httpStatus: 500, summary: 'An admin load/reload could not load the model version (bad files); the version served before stays.' },
  SERVE_E_MODEL_UNAVAILABLE: { httpStatus: 503, summary: 'The model has no loaded version right now (loading, every version failed, or unloaded by an admin).' },
  SERVE_E_OVERLOADED: { httpStatus: 503, summary: 'The model\'s inference queue is full (--max-queue-size); Retry-After says when to retry.' },
  SERVE_E_SHUTTING_DOWN: { httpStatus: 503, summary: 'The server is shutting down and takes no new inference work.' },
  SERVE_E_TIMEOUT: { httpStatus: 504, summary: 'The inference did not finish within --timeout-ms (queue wait + forward pass).' },
} satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof CATALOGUE;
/** The codes of the inference server's HTTP API. */
export type ServeErrorCode = Extract<ErrorCode, `SERVE_E_${string}`>;

/** Every error code: summary, exit status, HTTP status. */
export const ERROR_CODES: Readonly<Record<ErrorCode, ErrorCodeInfo>> = CATALOGUE;

/** The exit status of `insight` for `code`; a code without one (an HTTP answer) ends a command as a bug would. */
export function exitCodeOf(code: ErrorCode): number {
  return ERROR_CODES[code].exitCode ?? CATALOGUE.INSIGHT_E_INTERNAL.exitCode;
}

/** The HTTP status for `code`; a code no HTTP API answers with is a failure of the server (500). */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].httpStatus ?? CATALOGUE.SERVE_E_INTERNAL.httpStatus;
}
