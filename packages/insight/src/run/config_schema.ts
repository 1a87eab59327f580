// Configuration as data: a command's config is a flat TypeBox object schema, one property per key (type, range,
// default) carrying our annotations as schema options (see FieldAnnotations). The config's TypeScript type is
// `Static<typeof SCHEMA>`; the same schema validates library calls and config files, generates the CLI flags
// (cli/options.ts) and lists the keys in errors. Validation happens once, at the edge, and yields that type.
//
//   const DEMO_SCHEMA = Type.Object({
//     epochs: Type.Integer({ default: 10, minimum: 1, placeholder: '<n>', help: 'Epochs to train.' }),
//     limit: Nullable(Type.Integer({ minimum: 2 }), { placeholder: '<n>', help: 'Use only the first <n> images.' }),
//     optimizer: OneOf(['adam', 'sgd'], { default: 'adam', placeholder: '<name>', help: 'The optimizer.' }),
//   });
//   validateConfig(DEMO_SCHEMA, { epochs: '3' })  // → { epochs: 3, limit: null, optimizer: 'adam' }
//
// The property kinds understood (anything else is a programming error, thrown when the schema is first used):
// Integer, Number (minimum / maximum / exclusiveMinimum / exclusiveMaximum), Boolean, String (minLength),
// a Union of string Literals (OneOf), an Array of such a union (ListOf: comma-separated on the command line,
// 'none' = []), an Array of String (repeatable values, e.g. paths), each optionally in a Union with Null (Nullable).
// A property without a default is required: absent (or null) it fails with its `missing` rule.
import {
  CloneType, Kind, KindGuard, Type, type Static, type TArray, type TLiteral, type TNull, type TObject, type TSchema,
  type TString, type TUnion,
} from '@sinclair/typebox';

import { ruleError, show } from '../errors';

/** Our annotations on a config property, next to the JSON Schema keywords. */
export interface FieldAnnotations {
  /** One line for --help and the README. */
  help: string;
  /** Shown in --help as the value's placeholder, e.g. '<n>'. */
  placeholder?: string;
  /** Not exposed as a CLI flag (config file / library only, or a positional argument). */
  noFlag?: boolean;
  /** The flag may be given several times, each adding one value (arrays of strings). */
  repeatable?: boolean;
  /** Required keys (no default): the rule and fix when the key is absent or null. */
  missing?: { rule: string; fix: string };
}

/** Annotations plus a default of the property's own type. */
export type FieldOptions<D> = FieldAnnotations & { default?: D };

/** A config schema: a TypeBox object of annotated properties. */
export type ConfigSchema = TObject;

/** A Union of string Literals whose static type is the union of the strings (as TypeBox's TEnum). */
export interface TOneOf<T extends string> extends TSchema {
  [Kind]: 'Union';
  static: T;
  anyOf: TLiteral<T>[];
}

/** One of a fixed list of strings, e.g. OneOf(['adam', 'sgd'], { default: 'adam', help }). */
export function OneOf<const T extends readonly string[]>(values: T, options?: FieldOptions<T[number]>): TOneOf<T[number]> {
  // Type.Union's static type needs a literal tuple; the values' union is what it computes from one.
  return Type.Union(values.map((value) => Type.Literal(value)), options) as TOneOf<T[number]>;
}

/** A list of distinct values from `values` (the flag takes them comma-separated; 'none' = the empty list). */
export function ListOf<const T extends readonly string[]>(values: T, options: FieldOptions<T[number][]>): TArray<TOneOf<T[number]>> {
  return Type.Array(OneOf(values), { uniqueItems: true, ...options });
}

/** A non-empty string. */
export function Text(options?: FieldOptions<string>): TString {
  return Type.String({ minLength: 1, ...options });
}

/** `schema` or null; the default is null unless given. Annotations go on the union (the property). */
export function Nullable<T extends TSchema>(schema: T, options: FieldOptions<Static<T> | null>): TUnion<[T, TNull]> {
  return Type.Union([schema, Type.Null()], { default: null, ...options });
}

/** A shared field with command-specific annotations or default, e.g. withOptions(FIELDS.topK, { default: 3 }). */
export function withOptions<T extends TSchema>(field: T, options: Partial<FieldOptions<Static<T>>>): T {
  return { ...CloneType(field), ...options }; // CloneType's own options would not override the field's
}

/** What validation, flags and docs need to know about one property, read once from its schema. */
export interface FieldInfo extends FieldAnnotations {
  key: string;
  /** Its CLI flag, e.g. --batch-size. */
  flag: string;
  kind: 'int' | 'number' | 'bool' | 'string' | 'enum' | 'list' | 'strings';
  nullable: boolean;
  /** No default: the caller must give it. */
  required: boolean;
  /** The default (undefined for required keys). */
  default: unknown;
  /** enum, list: the allowed values. */
  values: readonly string[];
  /** int, number: the bounds. */
  min?: number;
  max?: number;
  minExclusive: boolean;
  maxExclusive: boolean;
  /** string, strings: the shortest allowed string. */
  minLength: number;
  /** strings: what the items are, for the rule ('paths'); from the item schema's description. */
  itemNoun: string;
}

/** camelCase key → its CLI flag, e.g. batchSize → --batch-size. */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function literalValues(schema: TSchema): string[] | null {
  if (!KindGuard.IsUnion(schema)) return null;
  const values = schema.anyOf.map((member) => (KindGuard.IsLiteral(member) && typeof member.const === 'string' ? member.const : null));
  return values.every((v): v is string => v !== null) ? values : null;
}

function describeField(key: string, property: TSchema): FieldInfo {
  const nullable = KindGuard.IsUnion(property) && property.anyOf.some((member) => KindGuard.IsNull(member));
  const others = nullable ? (property as TUnion).anyOf.filter((member) => !KindGuard.IsNull(member)) : [property];
  const inner = others.length === 1 ? others[0] : Type.Union(others);
  const annotations = property as TSchema & FieldAnnotations;
  const info: FieldInfo = {
    key, flag: flagOf(key), kind: 'string', nullable, required: !('default' in property), default: property.default,
    help: annotations.help, placeholder: annotations.placeholder, noFlag: annotations.noFlag, repeatable: annotations.repeatable,
    missing: annotations.missing, values: [], minExclusive: false, maxExclusive: false, minLength: 0, itemNoun: 'strings',
  };
  const enumValues = literalValues(inner);
  if (KindGuard.IsInteger(inner) || KindGuard.IsNumber(inner)) {
    info.kind = KindGuard.IsInteger(inner) ? 'int' : 'number';
    info.minExclusive = inner.exclusiveMinimum !== undefined;
    info.maxExclusive = inner.exclusiveMaximum !== undefined;
    info.min = inner.exclusiveMinimum ?? inner.minimum;
    info.max = inner.exclusiveMaximum ?? inner.maximum;
  } else if (KindGuard.IsBoolean(inner)) {
    info.kind = 'bool';
  } else if (KindGuard.IsString(inner)) {
    info.minLength = inner.minLength ?? 0;
  } else if (enumValues) {
    [info.kind, info.values] = ['enum', enumValues];
  } else if (KindGuard.IsArray(inner) && literalValues(inner.items)) {
    [info.kind, info.values] = ['list', literalValues(inner.items) as string[]];
  } else if (KindGuard.IsArray(inner) && KindGuard.IsString(inner.items)) {
    [info.kind, info.minLength, info.itemNoun] = ['strings', inner.items.minLength ?? 0, inner.items.description ?? 'strings'];
  } else {
    throw new Error(`Config key ${key}: a config property must be an integer, number, boolean, string, OneOf, ListOf or array of strings (optionally Nullable).`);
  }
  if (typeof info.help !== 'string') throw new Error(`Config key ${key}: every config property needs a help line.`);
  return info;
}

const described = new WeakMap<ConfigSchema, FieldInfo[]>();

/** The fields of `schema`, in its order (the order of --help and the README). */
export function fieldsOf(schema: ConfigSchema): FieldInfo[] {
  let fields = described.get(schema);
  if (!fields) {
    fields = Object.entries(schema.properties).map(([key, property]) => describeField(key, property));
    described.set(schema, fields);
  }
  return fields;
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
function ruleOf(field: FieldInfo): string {
  const { key } = field;
  const orNull = field.nullable ? ' (or null)' : '';
  switch (field.kind) {
    case 'int':
    case 'number': {
      const kind = field.kind === 'int' ? 'an integer' : 'a number';
      const bounds: string[] = [];
      if (field.min !== undefined) bounds.push(`${field.minExclusive ? '>' : '>='} ${field.min}`);
      if (field.max !== undefined) bounds.push(`${field.maxExclusive ? '<' : '<='} ${field.max}`);
      return `${key} must be ${kind}${bounds.length ? ` ${bounds.join(' and ')}` : ''}${orNull}.`;
    }
    case 'enum':
      return `${key} must be one of: ${field.values.join(', ')}.`;
    case 'list':
      return `${key} must be a list (or comma-separated string) of: ${field.values.join(', ')}; or 'none'.`;
    case 'bool':
      return `${key} must be true or false.`;
    case 'string':
      return `${key} must be a string${orNull}.`;
    case 'strings':
      return `${key} must be a list of ${field.itemNoun}.`;
  }
}

function fixOf(field: FieldInfo): string {
  const { key } = field;
  const example = field.kind === 'enum' ? field.values[0]
    : field.kind === 'list' ? field.values.slice(0, 2).join(',')
    : field.default === null || field.default === undefined || Array.isArray(field.default) ? undefined : field.default;
  const where = field.noFlag ? `'${key}'` : field.flag;
  if (example === undefined) return `Fix ${where}.`;
  const plain = (v: unknown) => (Array.isArray(v) ? v.join(',') || 'none' : String(v));
  return `Pass e.g. ${field.noFlag ? `${key}: ${show(example)}` : `${field.flag} ${example}`} (default: ${plain(field.default)}).`;
}

/**
 * A number typed on the command line: a decimal ('0.1', '1e-3') or a fraction of two ('8/255', as attack radii are
 * written); NaN otherwise.
 */
function numberOf(raw: string): number {
  const fraction = /^\s*([^/\s]+)\s*\/\s*([^/\s]+)\s*$/.exec(raw);
  if (fraction) {
    const [numerator, denominator] = [Number(fraction[1]), Number(fraction[2])];
    return denominator === 0 ? NaN : numerator / denominator;
  }
  return raw.trim() === '' ? NaN : Number(raw);
}

/** `raw` (a library value, or a string from the command line) as the field's type; throws its rule on failure. */
function parseField(field: FieldInfo, raw: unknown): unknown {
  const numeric = field.kind === 'int' || field.kind === 'number';
  // A number typed on the command line arrives as a string; show it as the number it reads as.
  const shown = typeof raw === 'string' && Number.isFinite(numberOf(raw)) && numeric ? numberOf(raw) : raw;
  const fail = () => ruleError('INSIGHT_E_CONFIG', ruleOf(field), { [field.key]: shown }, fixOf(field));
  if (raw === null || (field.nullable && raw === 'null')) {
    if (field.nullable) return null;
    throw fail();
  }
  switch (field.kind) {
    case 'int':
    case 'number': {
      const value = typeof raw === 'string' ? numberOf(raw) : raw;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw fail();
      if (field.kind === 'int' && !Number.isInteger(value)) throw fail();
      if (field.min !== undefined && (field.minExclusive ? value <= field.min : value < field.min)) throw fail();
      if (field.max !== undefined && (field.maxExclusive ? value >= field.max : value > field.max)) throw fail();
      return value;
    }
    case 'enum':
      if (typeof raw !== 'string' || !field.values.includes(raw)) throw fail();
      return raw;
    case 'bool':
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      throw fail();
    case 'string':
      if (typeof raw !== 'string' || raw.length < field.minLength) throw fail();
      return raw;
    case 'list': {
      const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : raw;
      if (!Array.isArray(items) || items.some((item) => typeof item !== 'string')) throw fail();
      if (items.length === 1 && items[0] === 'none') return [];
      if (items.some((item) => !field.values.includes(item))) throw fail();
      return [...new Set(items)];
    }
    case 'strings': {
      const items = typeof raw === 'string' ? [raw] : raw;
      if (!Array.isArray(items) || items.some((item) => typeof item !== 'string' || item.length < Math.max(1, field.minLength))) throw fail();
      return [...items];
    }
  }
}

/**
 * Validates `input` (a library object, a parsed config file, or flags merged over it) against `schema`:
 * unknown keys and bad values throw INSIGHT_E_CONFIG with the rule, `Received: key=value` and the fix;
 * missing keys get their defaults (required keys throw their `missing` rule). Command-line strings are read as
 * the field's type ('32' → 32, '8/255' → 8/255, 'crop,flip' → ['crop', 'flip'], 'null' → null where allowed). `source` names
 * where the input came from, for unknown-key errors. Example: `validateConfig(TRAIN_SCHEMA, { epochs: '2' }).epochs === 2`.
 */
export function validateConfig<T extends ConfigSchema>(schema: T, input: unknown, source = 'config'): Static<T> {
  checkKnownKeys(schema, input, source);
  const fields = new Map(fieldsOf(schema).map((field) => [field.key, field]));
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(input as Record<string, unknown>)) {
    const field = fields.get(key) as FieldInfo;
    if (raw === undefined || (raw === null && field.required)) continue; // a required key given as null is missing
    out[key] = parseField(field, raw);
  }
  for (const field of fields.values()) {
    if (field.key in out) continue;
    if (field.required) {
      const missing = field.missing ?? { rule: `${field.key} is required.`, fix: `Pass ${field.noFlag ? `'${field.key}'` : `${field.flag} ${field.placeholder ?? '<value>'}`}.` };
      throw ruleError('INSIGHT_E_CONFIG', missing.rule, { [field.key]: null }, missing.fix);
    }
    out[field.key] = structuredClone(field.default);
  }
  // parseField gave every key a value of its property's type, so `out` is the schema's static type.
  return out as Static<T>;
}

/** Throws INSIGHT_E_CONFIG unless `input` is an object whose keys are all in `schema` (suggesting the likely key). */
export function checkKnownKeys(schema: ConfigSchema, input: unknown, source = 'config'): void {
  const keys = Object.keys(schema.properties);
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw ruleError('INSIGHT_E_CONFIG', `A ${source} must be an object of key: value pairs.`, { [source]: input },
      `Use keys from: ${keys.join(', ')}.`);
  }
  for (const [key, raw] of Object.entries(input as Record<string, unknown>)) {
    if (Object.prototype.hasOwnProperty.call(schema.properties, key)) continue;
    const guess = suggest(key, keys);
    throw ruleError('INSIGHT_E_CONFIG', `A ${source} may only use known keys.`, { [key]: raw },
      `${guess ? `Did you mean '${guess}'? ` : ''}Valid keys: ${keys.join(', ')}.`);
  }
}
