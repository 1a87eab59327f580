// `insight train`: trains a model per flags and/or --config into a new run directory (or resumes one).
// The training workflow (tfjs, the backend) loads inside the action, so `insight train --help` stays fast.
import { Command, Option } from 'commander';

import { flagOf } from '../../run/config_schema';
import { RESUME_OVERRIDABLE, resolveTrainConfig, TRAIN_SCHEMA } from '../../train/config';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';

export function trainCommand(io: CliIo): Command {
  const command = new Command('train')
    .description('Train an image classifier. With no flags: the reference recipe (seed-cnn on CIFAR-10, Adam 1e-3, batch 64, 10 epochs).');
  addConfigFileOption(command)
    .addOption(new Option('--resume <run dir>', `Continue an unfinished run (interrupted by Ctrl-C, crashed) from its last checkpoint, or extend a completed one with a larger --epochs (only ${RESUME_OVERRIDABLE.map(flagOf).join(', ')} and --epochs may be given with it).`));
  addSchemaOptions(command, TRAIN_SCHEMA);
  command.addHelpText('after', '\nExamples:\n  insight train                                   # the reference recipe\n' +
    '  insight train --data cifar-10-binary.tar.gz --limit 2000 --epochs 2\n' +
    '  insight train --model resnet --depth 20 --optimizer sgd --lr 0.1 --schedule cosine --augment crop,flip\n' +
    '  insight train --model ./my_model.ts --data photos/   # your own model: the module\'s default export builds it\n' +
    '  insight train --resume runs/20261129-041812-a3f9\n' +
    '  insight train --resume runs/20261129-041812-a3f9 --epochs 20   # a completed run, trained on to 20 epochs');
  command.action(async () => {
    const { resume } = command.opts<{ resume?: string }>();
    const settings = await givenSettings(command, TRAIN_SCHEMA);
    // A bad flag fails here, before tfjs loads (a resumed run's config is its saved one, checked by train()).
    const config = resume === undefined ? resolveTrainConfig(settings) : settings;
    const { train } = await import('../../train/train');
    const result = await train(config, { resume, out: io.stdout });
    result.model.dispose();
  });
  return command;
}
