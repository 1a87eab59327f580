// `insight train`: trains a model per flags and/or --config into a new run directory (or resumes one).
import { Command, Option } from 'commander';

import { RESUME_OVERRIDABLE, train } from '../../train/train';
import { TRAIN_SCHEMA } from '../../train/config';
import { readConfigFile } from '../config_file';
import { addSchemaOptions, givenOptions } from '../options';
import type { CliIo } from '../main';

export function trainCommand(io: CliIo): Command {
  const command = new Command('train')
    .description('Train an image classifier. With no flags: the reference recipe (seed-cnn on CIFAR-10, Adam 1e-3, batch 64, 10 epochs).')
    .addOption(new Option('--config <file>', 'Read settings from a JSON or YAML file (flags override it).'))
    .addOption(new Option('--resume <run dir>', `Continue an unfinished run from its last checkpoint (only ${RESUME_OVERRIDABLE.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} may be given with it).`));
  addSchemaOptions(command, TRAIN_SCHEMA);
  command.addHelpText('after', '\nExamples:\n  insight train                                   # the reference recipe\n' +
    '  insight train --data cifar-10-binary.tar.gz --limit 2000 --epochs 2\n' +
    '  insight train --model resnet --depth 20 --optimizer sgd --lr 0.1 --schedule cosine --augment crop,flip\n' +
    '  insight train --resume runs/20261129-041812-a3f9');
  command.action(async () => {
    const opts = command.opts<{ config?: string; resume?: string }>();
    const fromFile = opts.config !== undefined ? readConfigFile(opts.config, TRAIN_SCHEMA) : {};
    const result = await train({ ...fromFile, ...givenOptions(command, TRAIN_SCHEMA) }, { resume: opts.resume, out: io.stdout });
    result.model.dispose();
  });
  return command;
}
