// `insight runs`: the run index in the terminal — list runs with their varying hyperparameters and headline
// metrics, filtered (--where key<op>value, --tag) and sorted (--sort key, best-first for metrics); `runs compare`
// prints the config diff and a metric table of two or more runs; `runs tag` adds or removes tags.
import { Command, Option } from 'commander';

import { ruleError } from '../../errors';
import { formatComparison } from '../../track/run_compare';
import { RunIndex } from '../../track/run_index';
import { parseCondition, type RunQuery } from '../../track/run_query';
import type { RunSummary } from '../../track/run_summary';
import { updateTags } from '../../track/run_tags';
import { formatRunsTable } from '../../track/runs_text';
import type { CliIo } from '../main';

const RUNS_DIR_HELP = 'Directory of run directories (default: runs)';
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

interface ListOptions { runsDir?: string; sort?: string; reverse?: boolean; where?: string[]; tag?: string[]; columns?: string; limit?: string; json?: boolean }

/** Opens the index of the runs directory, printing its warnings (rebuilt file, read-only directory) to stderr. */
function openIndex(runsDir: string | undefined, io: CliIo): RunIndex {
  return RunIndex.open(runsDir ?? 'runs', { warn: (message) => io.stderr.write(`Warning: ${message}\n`) });
}

/** Each listed run's problems (missing files, skipped metrics lines) on stderr, at most 3 per run. */
function warnProblems(runs: RunSummary[], io: CliIo): void {
  for (const run of runs) {
    for (const problem of run.problems.slice(0, 3)) io.stderr.write(`Warning: run ${run.id}: ${problem}\n`);
    if (run.problems.length > 3) io.stderr.write(`Warning: run ${run.id}: ... and ${run.problems.length - 3} more problems\n`);
  }
}

function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw ruleError('INSIGHT_E_QUERY', '--limit must be an integer >= 1.', { limit: text }, 'Pass e.g. --limit 20.');
  return n;
}

function listAction(io: CliIo, opts: ListOptions): void {
  const query: RunQuery = {
    where: (opts.where ?? []).map(parseCondition), tags: opts.tag ?? [], sort: opts.sort, reverse: opts.reverse, limit: parseLimit(opts.limit),
  };
  const columns = opts.columns?.split(',').map((c) => c.trim()).filter((c) => c !== '');
  const index = openIndex(opts.runsDir, io);
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
    io.stdout.write(`${formatRunsTable(runs, known, columns, opts.sort)}\n`);
    io.stdout.write(`\n${runs.length} of ${total} run${total === 1 ? '' : 's'} in ${index.runsDir}\n`);
    warnProblems(runs, io);
  } finally {
    index.close();
  }
}

function compareCommand(io: CliIo): Command {
  const command = new Command('compare')
    .description('Compare runs: the config keys that differ, and every metric\'s final and best value side by side.')
    .argument('<runs...>', 'two or more run ids (or unique id prefixes, or run directories)')
    .addOption(new Option('--runs-dir <dir>', RUNS_DIR_HELP));
  command.action((refs: string[]) => {
    const opts = command.optsWithGlobals<{ runsDir?: string }>();
    if (refs.length < 2) {
      throw ruleError('INSIGHT_E_USAGE', '`insight runs compare` needs at least two runs.', { runs: refs }, 'Pass e.g. `insight runs compare 20261129-0418 20261129-0502`.');
    }
    const index = openIndex(opts.runsDir, io);
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
    .argument('<tags...>', 'tags: letters, digits, _ . : -')
    .addOption(new Option('--remove', 'Remove the tags instead of adding them.'))
    .addOption(new Option('--runs-dir <dir>', RUNS_DIR_HELP));
  command.action((ref: string, tags: string[]) => {
    const opts = command.optsWithGlobals<{ runsDir?: string; remove?: boolean }>();
    const index = openIndex(opts.runsDir, io);
    try {
      const run = index.resolve(ref);
      const next = updateTags(run.dir, tags, Boolean(opts.remove));
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
    .addOption(new Option('--runs-dir <dir>', RUNS_DIR_HELP))
    .addOption(new Option('--sort <key>', 'Sort by a metric (best value, best first), final.<metric>, a hyperparameter, or id/status/created/epochs (default: created, newest first).'))
    .addOption(new Option('--reverse', 'Reverse the sort order.'))
    .addOption(new Option('--where <filter>', 'Keep runs where <key><op><value>, op one of = != > >= < <= ~ (contains); repeatable, all must hold. E.g. optimizer=adamw, "val_accuracy>0.6".').argParser(collect))
    .addOption(new Option('--tag <tag>', 'Keep runs with this tag; repeatable.').argParser(collect))
    .addOption(new Option('--columns <list>', 'Comma-separated columns instead of the varying hyperparameters and headline metrics.'))
    .addOption(new Option('--limit <n>', 'Show at most <n> runs.'))
    .addOption(new Option('--json', 'Print the runs as JSON (every param and metric) instead of a table.'))
    .allowExcessArguments(false);
  command.addHelpText('after', '\nExamples:\n  insight runs --sort val_accuracy\n  insight runs --where optimizer=adamw --where "lr<0.01" --tag baseline\n' +
    '  insight runs compare 20261129-041812 20261129-050233\n  insight runs tag 20261129-041812-a3f9 baseline');
  command.addCommand(compareCommand(io));
  command.addCommand(tagCommand(io));
  command.action(() => listAction(io, command.opts<ListOptions>()));
  return command;
}
