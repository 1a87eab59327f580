// `insight finetune`: fine-tunes a base model on new classes into a new run directory (see src/finetune).
import { Command, Option } from 'commander';

import { FINETUNE_SCHEMA } from '../../finetune/config';
import { finetune } from '../../finetune/finetune';
import { readConfigFile } from '../config_file';
import type { CliIo } from '../main';
import { addSchemaOptions, givenOptions } from '../options';

export function finetuneCommand(io: CliIo): Command {
  const command = new Command('finetune')
    .description('Fine-tune a trained model on new classes: full, head (linear probe), bn+head, adapter or lora.')
    .addOption(new Option('--config <file>', 'Read settings from a JSON or YAML file (flags override it).'));
  addSchemaOptions(command, FINETUNE_SCHEMA);
  command.addHelpText('after', '\nExamples:\n' +
    '  insight finetune --base runs/20261129-041812-a3f9 --data photos/ --method lora --rank 4\n' +
    '  insight finetune --base runs/base --data cifar-10-binary.tar.gz --classes 5,6,7,8,9 --per-class 100 --method head\n' +
    '  insight finetune --base runs/base --data cifar-10-binary.tar.gz --classes 5,6,7,8,9 --method full --unfreeze-every 2 \\\n' +
    '    --l2sp 0.01 --forgetting-classes 0,1,2,3,4');
  command.action(async () => {
    const opts = command.opts<{ config?: string }>();
    const fromFile = opts.config !== undefined ? readConfigFile(opts.config, FINETUNE_SCHEMA) : {};
    const result = await finetune({ ...fromFile, ...givenOptions(command, FINETUNE_SCHEMA) }, { out: io.stdout });
    result.model.dispose();
  });
  return command;
}
