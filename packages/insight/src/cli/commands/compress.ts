// `insight compress <run|model>`: prunes a trained model (magnitude, global or per layer, on TF-MOT's polynomial
// schedule during fine-tuning, or structured: filters removed), fine-tunes it into a new run (or, with --epochs 0,
// writes a model directory) and stores its weights as float32, float16, uint8 or sparse (see src/compress).
// The workflow (tfjs, the backend) loads inside the action, so `insight compress --help` stays fast.
import { Command } from 'commander';

import { COMPRESS_SCHEMA, resolveCompressConfig } from '../../compress/config';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';

export function compressCommand(io: CliIo): Command {
  const command = new Command('compress')
    .description('Compress a trained model: magnitude or structured pruning, fine-tuning, and float16/uint8/sparse weights.')
    .argument('<run|model>', 'run directory or model directory (with model.json)');
  addConfigFileOption(command);
  addSchemaOptions(command, COMPRESS_SCHEMA);
  command.addHelpText('after', '\nExamples:\n' +
    '  insight compress runs/20261129-041812-a3f9 --sparsity 0.9 --epochs 2 --weights sparse     # gradual, fine-tuned run\n' +
    '  insight compress runs/20261129-041812-a3f9 --structured --sparsity 0.5 --epochs 3         # filters removed\n' +
    '  insight compress runs/20261129-041812-a3f9 --epochs 0 --sparsity 0.5 --weights uint8 --out small/   # prune only');
  command.action(async (model: string) => {
    const config = resolveCompressConfig({ ...await givenSettings(command, COMPRESS_SCHEMA), model }); // bad flags fail before tfjs loads
    const { compress } = await import('../../compress/compress');
    const result = await compress(config, { out: io.stdout });
    result.model.dispose();
  });
  return command;
}
