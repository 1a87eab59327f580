// `insight ensemble <run|model...> --out <dir>` (or `--snapshots <run>`): one model averaging the members'
// probabilities (src/ensemble). The workflow (tfjs, the backend) loads inside the action, so `--help` stays fast.
import { Command } from 'commander';

import { ENSEMBLE_SCHEMA, resolveEnsembleConfig } from '../../ensemble/config';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';

export function ensembleCommand(io: CliIo): Command {
  const command = new Command('ensemble')
    .description('Build one model averaging the probabilities of several trained models (or of one run\'s per-epoch snapshots).')
    .argument('[members...]', 'run directories or model directories (with model.json), at least two');
  addConfigFileOption(command);
  addSchemaOptions(command, ENSEMBLE_SCHEMA);
  command.addHelpText('after', '\nExamples:\n' +
    '  insight ensemble runs/a runs/b runs/c --out ensembles/abc                 # equal weights\n' +
    '  insight ensemble runs/a runs/b --weights 2,1 --out ensembles/ab\n' +
    '  insight ensemble --snapshots runs/a --last 3 --out ensembles/a-last3      # a run trained with --keep-snapshots 3\n' +
    '  insight evaluate ensembles/abc --data cifar-10-binary-train.tar.gz        # then evaluate, predict or serve it');
  command.action(async (members: string[]) => {
    const settings = await givenSettings(command, ENSEMBLE_SCHEMA);
    const config = resolveEnsembleConfig({ ...settings, ...(members.length > 0 ? { members } : {}) }); // bad flags fail before tfjs loads
    const { ensemble } = await import('../../ensemble/ensemble');
    await ensemble(config, { say: (line) => io.stdout.write(`${line}\n`) });
  });
  return command;
}
