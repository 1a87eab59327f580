// Errors that a user can act on. Every one carries a stable code (documented in the README's error table and
// listed in `ERROR_CODES`), and a message in three parts: the rule, `Received: name=value`, then the fix.
// The CLI prints such errors without a stack trace and exits with the code's exit status.
//
// This module sits at the bottom of the dependency graph (models, run, eval, train and cli all throw these), so
// it imports nothing from Insight.

/** Every error code Insight raises, what it means, and the process exit status the CLI uses for it. */
export const ERROR_CODES = {
  INSIGHT_E_USAGE: { exitCode: 2, summary: 'The command line is malformed: an unknown flag, a missing argument or value.' },
  INSIGHT_E_CONFIG: {
    exitCode: 2,
    summary: 'A configuration value breaks a rule: unknown key, unknown model/optimizer/schedule name, ' +
      'a non-positive learning rate, batch size or epoch count, and so on.',
  },
  INSIGHT_E_CONFIG_FILE: { exitCode: 2, summary: 'The `--config` file is missing, unreadable, or not valid JSON/YAML.' },
  INSIGHT_E_DATA: { exitCode: 3, summary: 'The dataset is missing, incomplete or corrupt, or too small for the split asked for.' },
  INSIGHT_E_IMAGE: { exitCode: 3, summary: 'An image given to `predict` is missing or cannot be decoded.' },
  INSIGHT_E_MODEL: { exitCode: 4, summary: 'A model directory (or run directory) is missing, incomplete, or not an Insight model.' },
  INSIGHT_E_RESUME: {
    exitCode: 5,
    summary: 'A run cannot be resumed: it has no complete checkpoint, is already completed, or flags try to change its config.',
  },
  INSIGHT_E_BACKEND: { exitCode: 6, summary: 'The requested compute backend is not available on this machine.' },
  INSIGHT_E_RUNS_DIR: { exitCode: 7, summary: 'The runs directory given to `insight runs` or `insight dashboard` is missing or not a directory.' },
  INSIGHT_E_RUN_NOT_FOUND: { exitCode: 7, summary: 'A run id (or id prefix) matches no run in the runs directory, or more than one.' },
  INSIGHT_E_QUERY: { exitCode: 2, summary: 'A `--where`, `--sort`, `--columns` or tag argument of `insight runs` is malformed or names an unknown column.' },
  INSIGHT_E_LISTEN: { exitCode: 8, summary: 'The dashboard cannot listen on its host and port: the port is in use, or not permitted.' },
  INSIGHT_E_INTERNAL: { exitCode: 1, summary: 'An unexpected failure (a bug): the message and, with INSIGHT_DEBUG=1, the stack.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error the user can fix. `message` already contains rule, `Received: ...` and fix. */
export class InsightError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InsightError';
    this.code = code;
  }
  get exitCode(): number {
    return ERROR_CODES[this.code].exitCode;
  }
}

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

/**
 * Builds the standard message: rule, `Received: name=value`, fix.
 * Example: `ruleError('INSIGHT_E_CONFIG', 'lr must be a number > 0.', { lr: -1 }, 'Pass e.g. --lr 0.001.')`.
 */
export function ruleError(code: ErrorCode, rule: string, received: Record<string, unknown>, fix: string): InsightError {
  return new InsightError(code, ruleMessage(rule, received, fix));
}

/** The house message `<rule> Received: a=1, b="x". <fix>`, shared by every error family (data, CLI, serve). */
export function ruleMessage(rule: string, received: Record<string, unknown>, fix: string,
  render: (value: unknown) => string = show): string {
  const parts = Object.entries(received).map(([name, value]) => `${name}=${render(value)}`);
  return `${rule} Received: ${parts.join(', ')}. ${fix}`;
}
