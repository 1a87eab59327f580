// `insight runs`: the run index in the terminal — list runs with their headline metrics first, then the
// hyperparameters that differ where they apply (names and kinds too), filtered (--where key<op>value, --tag) and
// sorted (--sort key, best-first for metrics); `runs compare` prints the config diff and a metric table of two or
// more runs; `runs tag` adds or removes tags. Options are validated by their schemas (track/config.ts); the index
// (better-sqlite3) loads inside the actions.
import { Command } from 'commander';

import { ruleError } from '../../errors';
import { validateConfig } from '../../run/config_schema';
import { RUNS_COMPARE_SCHEMA, RUNS_SCHEMA, RUNS_TAG_SCHEMA, type RunsOptions } from '../../track/config';
import type { RunIndex } from '../../track/run_index';
import type { RunSummary } from '../../track/run_summary';
import type { CliIo } from '../main';
import { addSchemaOptions, givenOptions } from '../options';

/** Opens the index of the runs directory, printing its warnings (rebuilt file, read-only directory) to stderr. */
async function openIndex(runsDir: string, io: CliIo): Promise<RunIndex> {
  const { RunIndex } = await import('../../track/run_index');
  return RunIndex.open(runsDir, { warn: (message) => io.stderr.write(`Warning: ${message}\n`) });
}

/** Each listed run's problems (missing files, skipped metrics lines) on stderr, at most 3 per run. */
function warnProblems(runs: RunSummary[], io: CliIo): void {
  for (const run of runs) {
    for (const problem of run.problems.slice(0, 3)) io.stderr.write(`Warning: run ${run.id}: ${problem}\n`);
    if (run.problems.length > 3) io.stderr.write(`Warning: run ${run.id}: ... and ${run.problems.length - 3} more problems\n`);
  }
}

/** --limit fails like the other query flags (INSIGHT_E_QUERY), before the schema reads it as an integer. */
function checkLimit(text: unknown): void {
  if (text === undefined) return;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw ruleError('INSIGHT_E_QUERY', '--limit must be an integer >= 1.', { limit: text }, 'Pass e.g. --limit 20.');
}

async function listAction(io: CliIo, opts: RunsOptions): Promise<void> {
  const [{ parseCondition }, { formatRunsTable }] = await Promise.all([import('../../track/run_query'), import('../../track/runs_text')]);
  const query = {
    where: opts.where.map(parseCondition), tags: opts.tag, sort: opts.sort ?? undefined, reverse: opts.reverse, limit: opts.limit ?? undefined,
  };
  const columns = opts.columns?.split(',').map((c) => c.trim()).filter((c) => c !== '');
  const index = await openIndex(opts.runsDir, io);
  try {
    const runs = index.list(query);
    const known = index.keys();
    if (opts.json) {
      io.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      return;
    }
    const total = index.list({}).length;
    if (runs.length === 0) {
      io.stdout.write(total === 0 ? `No runs in ${index.runsDir} yet: train one with \`insight train --runs-dir ${index.runsDir}\`.\n`
        : `No runs match (of ${total} in ${index.runsDir}).\n`);
      return;
    }
    io.stdout.write(`${formatRunsTable(runs, known, columns, query.sort)}\n`);
    io.stdout.write(`\n${runs.length} of ${total} run${total === 1 ? '' : 's'} in ${index.runsDir}\n`);
    warnProblems(runs, io);
  } finally {
    index.close();
  }
}

function compareCommand(io: CliIo): Command {
  const command = new Command('compare')
    .description('Compare runs: the config keys that differ, and every metric\'s final and best value side by side.')
    .argument('<runs...>', 'two or more run ids (or unique id prefixes, or run directories)');
  addSchemaOptions(command, RUNS_COMPARE_SCHEMA);
  command.action(async (refs: string[]) => {
    const opts = validateConfig(RUNS_COMPARE_SCHEMA, givenOptions(command, RUNS_COMPARE_SCHEMA), 'runs compare options');
    if (refs.length < 2) {
      throw ruleError('INSIGHT_E_USAGE', '`insight runs compare` needs at least two runs.', { runs: refs }, 'Pass e.g. `insight runs compare 20261129-0418 20261129-0502`.');
    }
    const { formatComparison } = await import('../../track/run_compare');
    const index = await openIndex(opts.runsDir, io);
    try {
      const runs = refs.map((ref) => index.resolve(ref));
      io.stdout.write(`${formatComparison(runs)}\n`);
      warnProblems(runs, io);
    } finally {
      index.close();
    }
  });
  return command;
}

function tagCommand(io: CliIo): Command {
  const command = new Command('tag')
    .description('Add tags to a run (or remove them with --remove); tags are stored in the run directory (tags.json).')
    .argument('<run>', 'run id (or unique id prefix, or run directory)')
    .argument('<tags...>', 'tags: letters, digits, _ . : -');
  addSchemaOptions(command, RUNS_TAG_SCHEMA);
  command.action(async (ref: string, tags: string[]) => {
    const opts = validateConfig(RUNS_TAG_SCHEMA, givenOptions(command, RUNS_TAG_SCHEMA), 'runs tag options');
    const { updateTags } = await import('../../track/run_tags');
    const index = await openIndex(opts.runsDir, io);
    try {
      const run = index.resolve(ref);
      const next = updateTags(run.dir, tags, opts.remove);
      index.refresh();
      io.stdout.write(`${run.id}: ${next.length ? next.join(', ') : '(no tags)'}\n`);
    } finally {
      index.close();
    }
  });
  return command;
}

export function runsCommand(io: CliIo): Command {
  const command = new Command('runs')
    .description('List, filter and sort training runs; compare and tag them (`insight runs compare A B`, `insight runs tag <run> <tag>`).')
    .allowExcessArguments(false);
  addSchemaOptions(command, RUNS_SCHEMA);
  command.addHelpText('after', '\nExamples:\n  insight runs --sort val_accuracy\n  insight runs --where optimizer=adamw --where "lr<0.01" --tag baseline\n' +
    '  insight runs --where kind=finetune --where "name~lora"\n' +
    '  insight runs compare 20261129-041812 20261129-050233\n  insight runs tag 20261129-041812-a3f9 baseline');
  command.addCommand(compareCommand(io));
  command.addCommand(tagCommand(io));
  command.action(() => {
    const given = givenOptions(command, RUNS_SCHEMA);
    checkLimit(given.limit);
    return listAction(io, validateConfig(RUNS_SCHEMA, given, 'runs options'));
  });
  return command;
}
