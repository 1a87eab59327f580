// `insight distill`: trains a student on a trained teacher's softened outputs and the labels, into a new run
// directory (see src/compress/distill). The workflow (tfjs, the backend) loads inside the action, so
// `insight distill --help` stays fast.
import { Command } from 'commander';

import { DISTILL_SCHEMA, resolveDistillConfig } from '../../compress/distill/config';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';

export function distillCommand(io: CliIo): Command {
  const command = new Command('distill')
    .description('Knowledge distillation: train a student (zoo model, file or run) on a trained teacher\'s temperature-softened outputs and the labels.');
  addConfigFileOption(command);
  addSchemaOptions(command, DISTILL_SCHEMA);
  command.addHelpText('after', '\nExamples:\n' +
    '  insight distill --teacher runs/resnet20 --student seed-cnn --epochs 30 --augment crop,flip\n' +
    '  insight distill --teacher runs/resnet20 --student runs/seed-cnn --temperature 2 --alpha 0.5 --lr 3e-4\n' +
    '  insight distill --teacher runs/big --student ./small_model.ts --data photos/ --image-size 64');
  command.action(async () => {
    const config = resolveDistillConfig(await givenSettings(command, DISTILL_SCHEMA)); // bad flags fail before tfjs loads
    const { distill } = await import('../../compress/distill/distill');
    const result = await distill(config, { out: io.stdout });
    result.model.dispose();
  });
  return command;
}
