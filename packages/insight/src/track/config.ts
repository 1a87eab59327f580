// The options of `insight runs` (list), `insight runs compare` and `insight runs tag`, as config schemas like every
// command's: one definition gives the flags, their help and their validation. Filters, sort keys, columns and
// tags are then checked against the runs themselves by the run index (INSIGHT_E_QUERY).
import { Type, type Static } from '@sinclair/typebox';

import { FIELDS } from '../run/config_fields';
import { Nullable, Text, withOptions } from '../run/config_schema';

const RUNS_DIR = withOptions(FIELDS.runsDir, { help: 'Directory of run directories (as given to insight train --runs-dir).' });

export const RUNS_SCHEMA = Type.Object({
  runsDir: RUNS_DIR,
  sort: Nullable(Text(), { placeholder: '<key>',
    help: 'Sort by a metric (best value, best first), final.<metric>, a hyperparameter, or id/status/created/epochs (default: created, newest first).' }),
  reverse: Type.Boolean({ default: false, help: 'Reverse the sort order.' }),
  where: Type.Array(Type.String({ minLength: 1, description: 'filters' }), { default: [], repeatable: true, placeholder: '<filter>',
    help: 'Keep runs where <key><op><value>, op one of = != > >= < <= ~ (contains); repeatable, all must hold. E.g. optimizer=adamw, "val_accuracy>0.6".' }),
  tag: Type.Array(Type.String({ minLength: 1, description: 'tags' }), { default: [], repeatable: true, placeholder: '<tag>', help: 'Keep runs with this tag; repeatable.' }),
  columns: Nullable(Text(), { placeholder: '<list>', help: 'Comma-separated columns instead of the varying hyperparameters and headline metrics.' }),
  limit: Nullable(Type.Integer({ minimum: 1 }), { placeholder: '<n>', help: 'Show at most <n> runs.' }),
  json: Type.Boolean({ default: false, help: 'Print the runs as JSON (every param and metric) instead of a table.' }),
});
export type RunsOptions = Static<typeof RUNS_SCHEMA>;

export const RUNS_COMPARE_SCHEMA = Type.Object({ runsDir: RUNS_DIR });

export const RUNS_TAG_SCHEMA = Type.Object({
  remove: Type.Boolean({ default: false, help: 'Remove the tags instead of adding them.' }),
  runsDir: RUNS_DIR,
});
