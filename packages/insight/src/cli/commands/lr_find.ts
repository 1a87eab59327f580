// `insight lr-find`: the learning-rate range test (Smith 2015, fastai's lr_find) of a fine-tuning setup — the same
// base, data and method flags as `insight finetune` — writing the plot and the numbers (see src/finetune/lr_find.ts).
// The workflow (tfjs, the backend, sharp) loads inside the action, so `insight lr-find --help` stays fast.
import { Command } from 'commander';

import { LR_FIND_SCHEMA, resolveLrFindConfig } from '../../finetune/lr_find_config';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';

export function lrFindCommand(io: CliIo): Command {
  const command = new Command('lr-find')
    .description('Learning-rate range test for fine-tuning: loss against an exponentially growing lr, a plot and a suggested --lr.');
  addConfigFileOption(command);
  addSchemaOptions(command, LR_FIND_SCHEMA);
  command.addHelpText('after', '\nExamples:\n' +
    '  insight lr-find --base runs/20261129-041812-a3f9 --data photos/ --method head      # lr-find/lr_find.png, lr_find.json\n' +
    '  insight lr-find --base runs/base --data cifar-10-binary.tar.gz --classes 8,9 --per-class 100 --method lora --out lr-lora');
  command.action(async () => {
    const { config } = resolveLrFindConfig(await givenSettings(command, LR_FIND_SCHEMA)); // bad flags fail before tfjs loads
    const { finetuneLrFind } = await import('../../finetune/lr_find_run');
    await finetuneLrFind(config, { out: io.stdout });
  });
  return command;
}
