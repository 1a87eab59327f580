// `insight finetune`: fine-tunes a base model on new classes into a new run directory (see src/finetune).
// The workflow (tfjs, the backend) loads inside the action, so `insight finetune --help` stays fast.
import { Command } from 'commander';

import { FINETUNE_SCHEMA, resolveFinetuneConfig } from '../../finetune/config';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';

export function finetuneCommand(io: CliIo): Command {
  const command = new Command('finetune')
    .description('Fine-tune a trained model on new classes: full, head (linear probe), bn+head, adapter or lora.');
  addConfigFileOption(command);
  addSchemaOptions(command, FINETUNE_SCHEMA);
  command.addHelpText('after', '\nExamples:\n' +
    '  insight finetune --base runs/20261129-041812-a3f9 --data photos/ --method lora --rank 4\n' +
    '  insight finetune --base runs/base --data cifar-10-binary.tar.gz --classes 5,6,7,8,9 --per-class 100 --method head\n' +
    '  insight finetune --base runs/base --data cifar-10-binary.tar.gz --classes 5,6,7,8,9 --method full --unfreeze-every 2 \\\n' +
    '    --l2sp 0.01 --forgetting-classes 0,1,2,3,4');
  command.action(async () => {
    const config = resolveFinetuneConfig(await givenSettings(command, FINETUNE_SCHEMA)); // bad flags fail before tfjs loads
    const { finetune } = await import('../../finetune/finetune');
    const result = await finetune(config, { out: io.stdout });
    result.model.dispose();
  });
  return command;
}
