// `insight tune`: hyperparameter search. `insight tune --study NAME --space space.yaml [train flags]` creates (or
// joins, or resumes) a study and runs its trials — each an ordinary training run in runs/, tagged study:<name> and
// trial:<n> — in this process or in --workers local processes; `tune worker` joins a study from any machine;
// `tune show` prints its trials, best trial and parameter importance; `tune list` its storage's studies. Options
// are validated by their schemas (tune/config.ts) before tfjs and the storage load.
import { Command } from 'commander';

import { ruleError } from '../../errors';
import { fieldsOf, validateConfig, type ConfigSchema } from '../../run/config_schema';
import { TRAIN_SCHEMA } from '../../train/config';
import {
  BASE_TRAIN_SCHEMA, resolveTuneOptions, resolveTuneWorkerOptions, TUNE_LIST_SCHEMA, TUNE_SCHEMA, TUNE_SHOW_SCHEMA, TUNE_WORKER_SCHEMA,
} from '../../tune/config';
import { readConfigFile } from '../config_file';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenOptions } from '../options';

/**
 * Throws INSIGHT_E_USAGE when flags of `insight tune` that the subcommand does not take were given, before or after
 * it (`tune worker --epochs 3`): commander hands `tune`'s own flags to `tune` wherever they stand (the program does
 * not use positional options), where the subcommand would silently ignore them. The flags both take (--study,
 * --storage, --runs-dir, ...) reach the subcommand through givenOptions, which reads the parents too.
 */
function refuseTuneFlags(command: Command, schema: ConfigSchema): void {
  const parent = command.parent!;
  const own = new Set(fieldsOf(schema).map((field) => field.key));
  const ignored = parent.options.filter((o) => parent.getOptionValueSource(o.attributeName()) === 'cli' && !own.has(o.attributeName()));
  if (ignored.length === 0) return;
  throw ruleError('INSIGHT_E_USAGE', `\`insight tune ${command.name()}\` takes only its own flags; the training flags, --config and tune's other flags are set when a study is created.`,
    { flags: ignored.map((o) => o.long ?? o.flags).join(' ') }, `Drop them (\`insight tune ${command.name()} --help\` lists its flags).`);
}

function workerCommand(io: CliIo): Command {
  const command = new Command('worker')
    .description('Join an existing study (its space, base config, sampler and pruner come from the storage) and run its trials until the budget is spent.');
  addSchemaOptions(command, TUNE_WORKER_SCHEMA);
  command.addHelpText('after', '\nExamples:\n  insight tune worker --study lr-search                                  # sqlite:runs/tune.db\n' +
    '  insight tune worker --study lr-search --storage postgres://tune@db.lan:5432/tune   # from another machine');
  command.action(async () => {
    refuseTuneFlags(command, TUNE_WORKER_SCHEMA);
    const options = resolveTuneWorkerOptions(givenOptions(command, TUNE_WORKER_SCHEMA));
    const { tuneWorker } = await import('../../tune/study');
    const result = await tuneWorker(options, { out: io.stdout });
    const count = new Set(result.trials.map((t) => t.number)).size; // a promoted trial ran once to its pause and again after
    io.stdout.write(`Worker ${result.workerId}: ${count} trial${count === 1 ? '' : 's'} run; the study's budget is spent.\n`);
  });
  return command;
}

function showCommand(io: CliIo): Command {
  const command = new Command('show')
    .description('Show a study: its trials (state, value, params, epochs, run), counts by state, the best trial and parameter importance.');
  addSchemaOptions(command, TUNE_SHOW_SCHEMA);
  command.addHelpText('after', '\nExamples:\n  insight tune show --study lr-search\n  insight tune show --study lr-search --storage postgres://tune@db.lan:5432/tune --json');
  command.action(async () => {
    refuseTuneFlags(command, TUNE_SHOW_SCHEMA);
    const options = validateConfig(TUNE_SHOW_SCHEMA, givenOptions(command, TUNE_SHOW_SCHEMA), 'tune show options');
    const { showStudy } = await import('../../tune/study_view');
    const { summary, storage } = await showStudy(options);
    const { formatStudy } = await import('../../tune/show');
    io.stdout.write(options.json ? `${JSON.stringify({ storage, ...summary }, null, 2)}\n` : `${formatStudy(summary, storage)}\n`);
  });
  return command;
}

function listCommand(io: CliIo): Command {
  const command = new Command('list').description('List the studies of a storage with their trial counts and best values.');
  addSchemaOptions(command, TUNE_LIST_SCHEMA);
  command.action(async () => {
    refuseTuneFlags(command, TUNE_LIST_SCHEMA);
    const options = validateConfig(TUNE_LIST_SCHEMA, givenOptions(command, TUNE_LIST_SCHEMA), 'tune list options');
    const { listStudies } = await import('../../tune/study_view');
    const { summaries, storage } = await listStudies(options);
    const { formatStudyList } = await import('../../tune/show');
    io.stdout.write(options.json ? `${JSON.stringify({ storage, studies: summaries.map(({ trials: _t, ...s }) => s) }, null, 2)}\n`
      : `${formatStudyList(summaries, storage)}\n`);
  });
  return command;
}

export function tuneCommand(io: CliIo): Command {
  const command = new Command('tune')
    .description('Hyperparameter search (TPE, random or grid; ASHA or median pruning): each trial an ordinary run; studies resume, in SQLite or PostgreSQL.')
    .allowExcessArguments(false);
  addSchemaOptions(command, TUNE_SCHEMA);
  addConfigFileOption(command);
  addSchemaOptions(command, BASE_TRAIN_SCHEMA);
  command.addHelpText('after', '\nThe training flags (and --config, which may also set train\'s --seed and --workers) give the base config every trial starts from;\n' +
    'the space file says which of its keys to search, e.g.\n' +
    '  lr:        { type: float, low: 1e-4, high: 1e-2, log: true }\n' +
    '  optimizer: [adam, adamw, sgd]\n' +
    '  momentum:  { type: float, low: 0.8, high: 0.99, when: { optimizer: sgd } }\n' +
    '\nExamples:\n  insight tune --study lr-search --space space.yaml --trials 20 --epochs 10 --limit 5000\n' +
    '  insight tune --study lr-search --space space.yaml --workers 2 --sampler random --pruner median\n' +
    '  insight tune --study lr-search                  # resume it (trials whose worker died are retried)\n' +
    '  insight tune --study big --space space.yaml --storage postgres://tune@db.lan:5432/tune\n' +
    '  insight tune worker --study big --storage postgres://tune@db.lan:5432/tune   # on another machine\n' +
    '  insight tune show --study lr-search\n  insight tune list');
  command.addCommand(workerCommand(io));
  command.addCommand(showCommand(io));
  command.addCommand(listCommand(io));
  command.action(async () => {
    const given = givenOptions(command, TUNE_SCHEMA);
    const file = command.opts<{ config?: string }>().config;
    const baseConfig = { ...(file !== undefined ? await readConfigFile(file, TRAIN_SCHEMA) : {}), ...givenOptions(command, BASE_TRAIN_SCHEMA) };
    const options = resolveTuneOptions(given); // bad flags fail before tfjs and the storage load
    const { tune } = await import('../../tune/study');
    const result = await tune({ ...options, baseConfig }, { out: io.stdout, err: io.stderr });
    const { formatStudy } = await import('../../tune/show');
    io.stdout.write(`\n${formatStudy(result, result.storage)}\n`);
  });
  return command;
}
