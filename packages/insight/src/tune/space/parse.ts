// Reads a search space written in YAML or JSON (a study file, `--space`) or given as an object (code), and checks it
// once: every key a training config key, every range and choice a legal value of that key, conditions naming
// categorical parameters of the space without cycles. What comes out is in sampling order (types.ts).
//
//   lr:        { type: float, low: 1e-4, high: 1e-2, log: true }
//   batchSize: { type: int, low: 32, high: 256, step: 32 }
//   optimizer: { type: categorical, choices: [adam, adamw, sgd] }      # or simply: optimizer: [adam, adamw, sgd]
//   momentum:  { type: float, low: 0.8, high: 0.99, when: { optimizer: sgd } }
import { parse as parseYaml } from 'yaml';

import { ruleError, show } from '../../errors';
import { checkKnownKeys, fieldsOf, type FieldInfo } from '../../run/config_schema';
import type { ParamValue } from '../../study/types';
import { RESUME_OVERRIDABLE, TRAIN_SCHEMA } from '../../train/config';
import type { CategoricalParam, Condition, FloatParam, IntParam, ParamSpec, SearchSpace } from './types';

/** Keys that say how a run executes or where it goes, not what it computes: never searched. */
const NOT_SEARCHABLE: readonly string[] = [...RESUME_OVERRIDABLE, 'runsDir', 'name'];

const FIELDS_OF: Record<ParamSpec['type'], readonly string[]> = {
  float: ['type', 'low', 'high', 'log', 'step', 'grid', 'gridPoints', 'when'],
  int: ['type', 'low', 'high', 'log', 'step', 'grid', 'gridPoints', 'when'],
  categorical: ['type', 'choices', 'when'],
};

/** The example shown in fixes. */
const EXAMPLE = 'lr: { type: float, low: 1e-4, high: 1e-2, log: true }';

/**
 * Parses and checks a search space: YAML or JSON text, or an object. Throws INSIGHT_E_CONFIG (rule, Received, fix)
 * on the first problem. Example: `parseSearchSpace('lr: { type: float, low: 1e-4, high: 1e-2, log: true }')`.
 */
export function parseSearchSpace(input: unknown, source = 'search space'): SearchSpace {
  const raw = typeof input === 'string' ? parseText(input, source) : input;
  checkKnownKeys(TRAIN_SCHEMA, raw, source);
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', `A ${source} needs at least one parameter.`, { [source]: raw }, `Write e.g. ${EXAMPLE}.`);
  }
  const fields = new Map(fieldsOf(TRAIN_SCHEMA).map((field) => [field.key, field]));
  const params = entries.map(([key, spec]) => parseParam(key, spec, fields.get(key) as FieldInfo));
  const byName = new Map(params.map((param) => [param.name, param]));
  for (const param of params) checkCondition(param, byName);
  const ordered = samplingOrder(params, byName);
  return { params: ordered, byName: new Map(ordered.map((param) => [param.name, param])) };
}

function parseText(text: string, source: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    throw ruleError('INSIGHT_E_CONFIG', `A ${source} must be valid YAML or JSON.`, { error: (error as Error).message.split('\n')[0] },
      `Write one line per parameter, e.g. ${EXAMPLE}.`, { cause: error });
  }
}

function parseParam(key: string, spec: unknown, field: FieldInfo): ParamSpec {
  if (NOT_SEARCHABLE.includes(key)) {
    throw ruleError('INSIGHT_E_CONFIG', 'A search space may only tune what a run computes, not how or where it runs.', { [key]: spec },
      `Set ${key} in the study's base config instead.`);
  }
  if (Array.isArray(spec)) return parseParam(key, { type: 'categorical', choices: spec }, field);
  if (spec === null || typeof spec !== 'object') {
    throw ruleError('INSIGHT_E_CONFIG', 'Each search-space entry must be { type: float | int | categorical, ... } or a list of choices.',
      { [key]: spec }, `Write e.g. ${EXAMPLE}.`);
  }
  const entry = spec as Record<string, unknown>;
  const type = entry.type;
  if (type !== 'float' && type !== 'int' && type !== 'categorical') {
    throw ruleError('INSIGHT_E_CONFIG', `${key}: type must be float, int or categorical.`, { [`${key}.type`]: type },
      `Write e.g. ${EXAMPLE}.`);
  }
  for (const [name, value] of Object.entries(entry)) {
    if (!FIELDS_OF[type].includes(name)) {
      throw ruleError('INSIGHT_E_CONFIG', `${key}: unknown field of a ${type} parameter.`, { [`${key}.${name}`]: value },
        `Use only: ${FIELDS_OF[type].join(', ')}.`);
    }
  }
  const when = parseWhen(key, entry.when);
  if (type === 'categorical') return parseCategorical(key, entry, field, when);
  return parseNumeric(key, type, entry, field, when);
}

function parseWhen(key: string, when: unknown): Condition {
  if (when === undefined) return {};
  if (when === null || typeof when !== 'object' || Array.isArray(when) || Object.keys(when).length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', `${key}: when must map categorical parameters to the value (or list of values) that activate it.`,
      { [`${key}.when`]: when }, 'Write e.g. when: { optimizer: sgd }.');
  }
  const condition: Condition = {};
  for (const [name, values] of Object.entries(when)) condition[name] = Array.isArray(values) ? values as ParamValue[] : [values as ParamValue];
  return condition;
}

function parseCategorical(key: string, entry: Record<string, unknown>, field: FieldInfo, when: Condition): CategoricalParam {
  const { choices } = entry;
  if (!Array.isArray(choices) || choices.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', `${key}: a categorical parameter needs a non-empty list of choices.`, { [`${key}.choices`]: choices },
      `Write e.g. ${key}: { type: categorical, choices: [${exampleChoices(field)}] }.`);
  }
  // A list-valued key (augment) takes each choice as a list or a comma-separated string; it is kept as the string.
  const values = choices.map((choice: unknown) => (field.kind === 'list' && Array.isArray(choice) ? choice.join(',') : choice));
  for (const value of values) checkValue(key, `${key}.choices`, value, field);
  const seen = new Set<string>();
  for (const value of values as ParamValue[]) {
    if (seen.has(show(value))) {
      throw ruleError('INSIGHT_E_CONFIG', `${key}: choices must be distinct.`, { [`${key}.choices`]: choices }, 'List each choice once.');
    }
    seen.add(show(value));
  }
  return { name: key, type: 'categorical', choices: values as ParamValue[], when };
}

function parseNumeric(key: string, type: 'float' | 'int', entry: Record<string, unknown>, field: FieldInfo,
  when: Condition): FloatParam | IntParam {
  const { low, high } = entry;
  const integer = type === 'int';
  const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && (!integer || Number.isInteger(v));
  const kind = integer ? 'integers' : 'numbers';
  if (!isNumber(low) || !isNumber(high) || low > high) {
    throw ruleError('INSIGHT_E_CONFIG', `${key}: low and high must be ${kind} with low <= high.`, { [`${key}.low`]: low, [`${key}.high`]: high },
      isNumber(low) && isNumber(high) ? `Swap them: low: ${high}, high: ${low}.`
        : `Write e.g. ${key}: { type: ${type}, low: ${exampleLow(field, integer)}, high: ${exampleHigh(field, integer)} }.`);
  }
  if (field.kind !== 'int' && field.kind !== 'number') {
    throw ruleError('INSIGHT_E_CONFIG', `${key} is not a numeric config key: search it as a categorical parameter.`, { [`${key}.type`]: type },
      `Write ${key}: { type: categorical, choices: [${exampleChoices(field)}] }.`);
  }
  if (field.kind === 'int' && !integer) {
    throw ruleError('INSIGHT_E_CONFIG', `${key} is an integer config key: search it as an int (or categorical) parameter.`,
      { [`${key}.type`]: type }, `Write ${key}: { type: int, low: ${low}, high: ${high} }.`);
  }
  checkValue(key, `${key}.low`, low, field);
  checkValue(key, `${key}.high`, high, field);
  const log = entry.log ?? false;
  if (typeof log !== 'boolean') {
    throw ruleError('INSIGHT_E_CONFIG', `${key}: log must be true or false.`, { [`${key}.log`]: log }, 'Write log: true for a log-uniform range.');
  }
  if (log && low <= 0) {
    throw ruleError('INSIGHT_E_CONFIG', `${key}: a log-scale range must lie above 0.`, { [`${key}.low`]: low }, `Raise low above 0, or drop log: true.`);
  }
  const step = entry.step ?? (integer ? 1 : null);
  if (step !== null && (!isNumber(step) || step <= 0)) {
    throw ruleError('INSIGHT_E_CONFIG', `${key}: step must be ${integer ? 'an integer' : 'a number'} > 0.`, { [`${key}.step`]: step },
      `Write e.g. step: ${integer ? 1 : 0.1}.`);
  }
  if (log && step !== null && (!integer || step !== 1)) {
    throw ruleError('INSIGHT_E_CONFIG', `${key}: log and step cannot be combined (a log-scale int has step 1).`, { [`${key}.step`]: step, [`${key}.log`]: true },
      'Drop step, or drop log: true.');
  }
  if (step !== null && !onGrid(high, low, step)) {
    throw ruleError('INSIGHT_E_CONFIG', `${key}: high - low must be a whole number of steps.`, { [`${key}.low`]: low, [`${key}.high`]: high, [`${key}.step`]: step },
      `Set high to ${low + Math.floor((high - low) / step + 1e-9) * step}.`);
  }
  const base = { name: key, low, high, log, when };
  const grid = parseGrid(key, entry, base, step, integer);
  return integer ? { ...base, type: 'int', step: step as number, grid } : { ...base, type: 'float', step, grid };
}

/** The values a grid search enumerates: an explicit `grid`, or `gridPoints` values spread evenly (log-spaced if log). */
function parseGrid(key: string, entry: Record<string, unknown>, range: { low: number; high: number; log: boolean },
  step: number | null, integer: boolean): number[] | null {
  const { grid, gridPoints } = entry;
  if (grid !== undefined && gridPoints !== undefined) {
    throw ruleError('INSIGHT_E_CONFIG', `${key}: give grid or gridPoints, not both.`, { [`${key}.grid`]: grid, [`${key}.gridPoints`]: gridPoints },
      'Keep one of them.');
  }
  if (grid !== undefined) {
    const inRange = (v: unknown) => typeof v === 'number' && v >= range.low && v <= range.high && (!integer || Number.isInteger(v))
      && (step === null || onGrid(v, range.low, step));
    if (!Array.isArray(grid) || grid.length === 0 || !grid.every(inRange) || new Set(grid).size !== grid.length) {
      throw ruleError('INSIGHT_E_CONFIG', `${key}: grid must list distinct values of the range${step === null ? '' : ' on its steps'}.`,
        { [`${key}.grid`]: grid, [`${key}.low`]: range.low, [`${key}.high`]: range.high }, `Write e.g. grid: [${range.low}, ${range.high}].`);
    }
    return [...grid] as number[];
  }
  if (gridPoints === undefined) return null;
  if (typeof gridPoints !== 'number' || !Number.isInteger(gridPoints) || gridPoints < 1) {
    throw ruleError('INSIGHT_E_CONFIG', `${key}: gridPoints must be an integer >= 1.`, { [`${key}.gridPoints`]: gridPoints }, 'Write e.g. gridPoints: 5.');
  }
  const to = range.log ? Math.log : (v: number) => v;
  const from = range.log ? Math.exp : (v: number) => v;
  const [a, b] = [to(range.low), to(range.high)];
  const points = Array.from({ length: gridPoints }, (_, i) => (gridPoints === 1 ? range.low : from(a + ((b - a) * i) / (gridPoints - 1))));
  const snapped = points.map((v) => {
    const s = step ?? (integer ? 1 : null);
    const on = s === null ? v : range.low + Math.round((v - range.low) / s) * s;
    return Math.min(range.high, Math.max(range.low, integer ? Math.round(on) : on));
  });
  return [...new Set(snapped)];
}

/** `value` is low + k·step for a whole k (to rounding). */
function onGrid(value: number, low: number, step: number): boolean {
  const k = (value - low) / step;
  return Math.abs(k - Math.round(k)) < 1e-9 * Math.max(1, Math.abs(k));
}

/** Throws unless `value` is a legal value of the config key (its type, bounds or allowed values). */
function checkValue(key: string, where: string, value: unknown, field: FieldInfo): void {
  if (valueFits(value, field)) return;
  throw ruleError('INSIGHT_E_CONFIG', `Every value a search space gives ${key} must be a legal ${key}: ${ruleText(field)}.`,
    { [where]: value }, `Keep ${key}'s range and choices within that rule (see insight train --help).`);
}

function valueFits(value: unknown, field: FieldInfo): boolean {
  switch (field.kind) {
    case 'int':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value) || (field.kind === 'int' && !Number.isInteger(value))) return false;
      if (field.min !== undefined && (field.minExclusive ? value <= field.min : value < field.min)) return false;
      return field.max === undefined || (field.maxExclusive ? value < field.max : value <= field.max);
    }
    case 'bool':
      return typeof value === 'boolean';
    case 'enum':
      return typeof value === 'string' && field.values.includes(value);
    case 'list': {
      if (typeof value !== 'string') return false;
      const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
      return (items.length === 1 && items[0] === 'none') || items.every((item) => field.values.includes(item));
    }
    case 'string':
      return typeof value === 'string' && value.length >= Math.max(1, field.minLength);
    case 'strings':
      return false; // a list of paths is not a hyperparameter
  }
}

function ruleText(field: FieldInfo): string {
  switch (field.kind) {
    case 'int':
    case 'number': {
      const bounds: string[] = [];
      if (field.min !== undefined) bounds.push(`${field.minExclusive ? '>' : '>='} ${field.min}`);
      if (field.max !== undefined) bounds.push(`${field.maxExclusive ? '<' : '<='} ${field.max}`);
      return `${field.kind === 'int' ? 'an integer' : 'a number'}${bounds.length ? ` ${bounds.join(' and ')}` : ''}`;
    }
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${field.values.join(', ')}`;
    case 'list':
      return `a comma-separated list of ${field.values.join(', ')} ("" = none)`;
    case 'string':
      return 'a non-empty string';
    case 'strings':
      return 'a list of paths, which a search space cannot vary';
  }
}

function exampleChoices(field: FieldInfo): string {
  if (field.kind === 'enum') return field.values.slice(0, 2).join(', ');
  if (field.kind === 'list') return `"", ${field.values[0]}`;
  if (field.kind === 'bool') return 'true, false';
  return show(field.default ?? 'a');
}

function exampleLow(field: FieldInfo, integer: boolean): number {
  if (field.min === undefined) return 0;
  if (!field.minExclusive) return field.min;
  // An open lower bound (lr > 0): a tenth of the default when it has one.
  return integer ? field.min + 1 : typeof field.default === 'number' && field.default > field.min ? field.default / 10 : field.min + 1;
}

function exampleHigh(field: FieldInfo, integer: boolean): number {
  return field.max !== undefined ? (field.maxExclusive && integer ? field.max - 1 : field.max) : (integer ? 10 : 1);
}

/** Conditions may only name categorical parameters of the space, with values among their choices. */
function checkCondition(param: ParamSpec, byName: ReadonlyMap<string, ParamSpec>): void {
  for (const [name, values] of Object.entries(param.when)) {
    const parent = byName.get(name);
    if (!parent || parent.type !== 'categorical' || parent === param) {
      throw ruleError('INSIGHT_E_CONFIG', `${param.name}: when may only name other categorical parameters of the space.`,
        { [`${param.name}.when`]: param.when, [name]: parent ? `a ${parent.type} parameter` : 'not in the space' },
        `Add ${name} as { type: categorical, choices: [...] }, or drop the condition.`);
    }
    for (const value of values) {
      if (!parent.choices.some((choice) => choice === value)) {
        throw ruleError('INSIGHT_E_CONFIG', `${param.name}: when values must be choices of ${name}.`,
          { [`${param.name}.when.${name}`]: value, [`${name}.choices`]: parent.choices }, `Use one of: ${parent.choices.map((c) => show(c)).join(', ')}.`);
      }
    }
  }
}

/** Every parameter after the parameters its condition names (declaration order otherwise); a cycle is an error. */
function samplingOrder(params: ParamSpec[], byName: ReadonlyMap<string, ParamSpec>): ParamSpec[] {
  const ordered: ParamSpec[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (param: ParamSpec, trail: string[]): void => {
    if (state.get(param.name) === 'done') return;
    if (state.get(param.name) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(param.name)), param.name];
      throw ruleError('INSIGHT_E_CONFIG', 'Search-space conditions must not form a cycle.', { cycle: cycle.join(' -> ') },
        'Make one of these parameters unconditional.');
    }
    state.set(param.name, 'visiting');
    for (const name of Object.keys(param.when)) visit(byName.get(name) as ParamSpec, [...trail, param.name]);
    state.set(param.name, 'done');
    ordered.push(param);
  };
  for (const param of params) visit(param, []);
  return ordered;
}
