// Configuration as data: a command's config is a flat object described by a schema (type, range, default,
// one line of help per key). The same schema validates library calls and config files, generates the CLI
// flags, and lists the keys in errors. Validation happens once, at the edge, and yields a typed object.
import { ruleError, show } from '../errors';

interface FieldBase {
  /** One line for --help and the README. */
  help: string;
  /** Shown in --help as the value's placeholder, e.g. '<n>'. */
  placeholder?: string;
  /** Not exposed as a CLI flag (config file / library only). */
  noFlag?: boolean;
  /** null is allowed (and means what `help` says). */
  nullable?: boolean;
}
export type FieldSpec =
  | (FieldBase & { type: 'int'; default: number | null; min?: number; max?: number })
  | (FieldBase & { type: 'number'; default: number | null; min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean })
  | (FieldBase & { type: 'enum'; default: string; values: readonly string[] })
  | (FieldBase & { type: 'bool'; default: boolean })
  | (FieldBase & { type: 'string'; default: string | null })
  | (FieldBase & { type: 'list'; default: string[]; values: readonly string[] })
  | (FieldBase & { type: 'paths'; default: string[] });

export type Schema = Record<string, FieldSpec>;

/** camelCase key → its CLI flag, e.g. batchSize → --batch-size. */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The closest key to `key` by edit distance, if close enough to be a likely typo. */
function suggest(key: string, keys: string[]): string | null {
  const distance = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      }
    }
    return d[a.length][b.length];
  };
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of keys) {
    const dist = distance(key, candidate);
    if (dist < bestDistance) [best, bestDistance] = [candidate, dist];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

/** Plain-language statement of a field's rule, e.g. 'lr must be a number > 0.'. */
function ruleOf(key: string, spec: FieldSpec): string {
  const orNull = spec.nullable ? ' (or null)' : '';
  switch (spec.type) {
    case 'int':
    case 'number': {
      const kind = spec.type === 'int' ? 'an integer' : 'a number';
      const bounds: string[] = [];
      const lowerExcl = spec.type === 'number' && spec.minExclusive;
      const upperExcl = spec.type === 'number' && spec.maxExclusive;
      if (spec.min !== undefined) bounds.push(`${lowerExcl ? '>' : '>='} ${spec.min}`);
      if (spec.max !== undefined) bounds.push(`${upperExcl ? '<' : '<='} ${spec.max}`);
      return `${key} must be ${kind}${bounds.length ? ` ${bounds.join(' and ')}` : ''}${orNull}.`;
    }
    case 'enum':
      return `${key} must be one of: ${spec.values.join(', ')}.`;
    case 'list':
      return `${key} must be a list (or comma-separated string) of: ${spec.values.join(', ')}; or 'none'.`;
    case 'bool':
      return `${key} must be true or false.`;
    case 'string':
      return `${key} must be a string${orNull}.`;
    case 'paths':
      return `${key} must be a list of paths.`;
  }
}

function fixOf(key: string, spec: FieldSpec): string {
  const example = spec.type === 'enum' ? spec.values[0]
    : spec.type === 'list' ? spec.values.slice(0, 2).join(',')
    : spec.default === null || Array.isArray(spec.default) ? undefined : spec.default;
  const where = spec.noFlag ? `'${key}'` : `${flagOf(key)}`;
  if (example === undefined) return `Fix ${where}.`;
  const plain = (v: unknown) => (Array.isArray(v) ? v.join(',') || 'none' : String(v));
  return `Pass e.g. ${spec.noFlag ? `${key}: ${show(example)}` : `${flagOf(key)} ${example}`} (default: ${plain(spec.default)}).`;
}

function parseField(key: string, spec: FieldSpec, raw: unknown): unknown {
  // A number typed on the command line arrives as a string; show it as the number it reads as.
  const shown = typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw)) && (spec.type === 'int' || spec.type === 'number') ? Number(raw) : raw;
  const fail = () => ruleError('INSIGHT_E_CONFIG', ruleOf(key, spec), { [key]: shown }, fixOf(key, spec));
  if (raw === null || (spec.nullable && raw === 'null')) {
    if (spec.nullable) return null;
    throw fail();
  }
  switch (spec.type) {
    case 'int':
    case 'number': {
      const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw fail();
      if (spec.type === 'int' && !Number.isInteger(value)) throw fail();
      const lowerExcl = spec.type === 'number' && spec.minExclusive;
      const upperExcl = spec.type === 'number' && spec.maxExclusive;
      if (spec.min !== undefined && (lowerExcl ? value <= spec.min : value < spec.min)) throw fail();
      if (spec.max !== undefined && (upperExcl ? value >= spec.max : value > spec.max)) throw fail();
      return value;
    }
    case 'enum':
      if (typeof raw !== 'string' || !spec.values.includes(raw)) throw fail();
      return raw;
    case 'bool':
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      throw fail();
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw fail();
      return raw;
    case 'list': {
      const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : raw;
      if (!Array.isArray(items) || items.some((item) => typeof item !== 'string')) throw fail();
      if (items.length === 1 && items[0] === 'none') return [];
      if (items.some((item) => !spec.values.includes(item))) throw fail();
      return [...new Set(items)];
    }
    case 'paths': {
      const items = typeof raw === 'string' ? [raw] : raw;
      if (!Array.isArray(items) || items.some((item) => typeof item !== 'string' || item === '')) throw fail();
      return [...items];
    }
  }
}

/**
 * Validates `input` (a library object, a parsed config file, or flags merged over it) against `schema`:
 * unknown keys and bad values throw INSIGHT_E_CONFIG with the rule, `Received: key=value` and the fix;
 * missing keys get their defaults. `source` names where the input came from, for unknown-key errors.
 */
export function validateConfig<T>(schema: Schema, input: unknown, source = 'config'): T {
  checkKnownKeys(schema, input, source);
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(input as Record<string, unknown>)) {
    if (raw === undefined) continue;
    out[key] = parseField(key, schema[key], raw);
  }
  for (const key of Object.keys(schema)) if (!(key in out)) out[key] = structuredClone(schema[key].default);
  return out as T;
}

/** Throws INSIGHT_E_CONFIG unless `input` is an object whose keys are all in `schema` (suggesting the likely key). */
export function checkKnownKeys(schema: Schema, input: unknown, source = 'config'): void {
  const keys = Object.keys(schema);
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw ruleError('INSIGHT_E_CONFIG', `A ${source} must be an object of key: value pairs.`, { [source]: input },
      `Use keys from: ${keys.join(', ')}.`);
  }
  for (const [key, raw] of Object.entries(input as Record<string, unknown>)) {
    if (Object.prototype.hasOwnProperty.call(schema, key)) continue;
    const guess = suggest(key, keys);
    throw ruleError('INSIGHT_E_CONFIG', `A ${source} may only use known keys.`, { [key]: raw },
      `${guess ? `Did you mean '${guess}'? ` : ''}Valid keys: ${keys.join(', ')}.`);
  }
}
