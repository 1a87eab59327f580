// `insight predict <model> <images...>`: the top-k classes of each image, with probabilities. The prediction
// workflow (tfjs, the backend, sharp) loads inside the action, so `insight predict --help` stays fast.
import { Command } from 'commander';

import { PREDICT_SCHEMA, resolvePredictConfig } from '../../eval/config';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';

export function predictCommand(io: CliIo): Command {
  const command = new Command('predict')
    .description('Classify image files (any format sharp reads) with a saved model; prints the top-k classes.')
    .argument('<model>', 'model directory (with model.json) or run directory')
    .argument('<images...>', 'image files, or folders searched recursively');
  addConfigFileOption(command);
  addSchemaOptions(command, PREDICT_SCHEMA);
  command.addHelpText('after', '\nExample:\n  insight predict runs/20261129-041812-a3f9 cat.jpg photos/ --top-k 3');
  command.action(async (model: string, images: string[]) => {
    const config = resolvePredictConfig({ ...await givenSettings(command, PREDICT_SCHEMA), model, images });
    const [{ predict }, { formatTable }] = await Promise.all([import('../../eval/predict'), import('../../format/table')]);
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
