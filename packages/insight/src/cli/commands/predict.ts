// `insight predict <model> <images...>`: the top-k classes of each image, with probabilities. A file that cannot be
// read as an image is reported on stderr (with the reason) and the others go on; --strict stops at it. The
// prediction workflow (tfjs, the backend, sharp) loads inside the action, so `insight predict --help` stays fast.
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
    const all = await predict(config);
    const skipped = all.filter((p) => p.error !== undefined);
    const predictions = all.filter((p) => p.error === undefined);
    if (config.json) {
      for (const p of all) io.stdout.write(`${JSON.stringify(p)}\n`); // skipped files as {"file", "top": [], "error"}
    } else {
      const k = predictions[0]?.top.length ?? 0;
      const header = ['image', ...Array.from({ length: k }, (_, i) => `#${i + 1}`)];
      const rows = predictions.map((p) => [p.file, ...p.top.map((t) => `${t.className} ${(t.probability * 100).toFixed(1)}%`)]);
      io.stdout.write(`${formatTable(header, rows, header.map(() => 'l'))}\n`);
    }
    if (skipped.length > 0) {
      io.stderr.write(`Skipped ${skipped.length} of ${all.length} files that could not be read as images (--strict stops at the first):\n`
        + skipped.map((p) => `  ${p.file}: ${p.error}\n`).join(''));
    }
  });
  return command;
}
