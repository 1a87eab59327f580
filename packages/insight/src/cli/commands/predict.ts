// `insight predict <model> <images...>`: the top-k classes of each image, with probabilities.
import { Command, Option } from 'commander';

import { PREDICT_SCHEMA, resolvePredictConfig } from '../../eval/config';
import { predict } from '../../eval/predict';
import { formatTable } from '../../format/table';
import type { CliIo } from '../main';
import { addSchemaOptions, givenOptions } from '../options';
import { readConfigFile } from '../config_file';

export function predictCommand(io: CliIo): Command {
  const command = new Command('predict')
    .description('Classify image files (any format sharp reads) with a saved model; prints the top-k classes.')
    .argument('<model>', 'model directory (with model.json) or run directory')
    .argument('<images...>', 'image files, or folders searched recursively')
    .addOption(new Option('--config <file>', 'Read settings from a JSON or YAML file (flags override it).'));
  addSchemaOptions(command, PREDICT_SCHEMA);
  command.addHelpText('after', '\nExample:\n  insight predict runs/20261129-041812-a3f9 cat.jpg photos/ --top-k 3');
  command.action(async (model: string, images: string[]) => {
    const opts = command.opts<{ config?: string }>();
    const fromFile = opts.config !== undefined ? readConfigFile(opts.config, PREDICT_SCHEMA) : {};
    const config = resolvePredictConfig({ ...fromFile, ...givenOptions(command, PREDICT_SCHEMA), model, images });
    const predictions = await predict(config);
    if (config.json) {
      for (const p of predictions) io.stdout.write(`${JSON.stringify(p)}\n`);
      return;
    }
    const k = predictions[0]?.top.length ?? 0;
    const header = ['image', ...Array.from({ length: k }, (_, i) => `#${i + 1}`)];
    const rows = predictions.map((p) => [p.file, ...p.top.map((t) => `${t.className} ${(t.probability * 100).toFixed(1)}%`)]);
    io.stdout.write(`${formatTable(header, rows, header.map(() => 'l'))}\n`);
  });
  return command;
}
