// `insight explain <model> [images...]`: heat maps of why the model chose (or would choose) a class — overlays, a
// grid, .npy and JSON maps, nearest training images — or, with --evaluate, how faithful each method is. The
// workflow (tfjs, the backend, sharp) loads inside the action, so `insight explain --help` stays fast.
import * as path from 'node:path';

import { Command, Option } from 'commander';

import { ruleError } from '../../errors';
import { EXPLAIN_COMMAND_SCHEMA, resolveExplainCommandConfig } from '../../explain/command_config';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';

/** The spelling, `--method gradcam,ig` and `--class cat`: hidden aliases of --methods and --classes. */
const ALIASES = { method: 'methods', class: 'classes' } as const;

/** The settings with the aliases folded into their keys; an alias given together with its key is a usage error. */
function withAliases(command: Command, settings: Record<string, unknown>): Record<string, unknown> {
  const opts = command.opts<Record<string, unknown>>();
  const merged = { ...settings };
  for (const [alias, key] of Object.entries(ALIASES)) {
    if (opts[alias] === undefined) continue;
    if (command.getOptionValueSource(key) === 'cli') {
      throw ruleError('INSIGHT_E_USAGE', `--${alias} is another name for --${key}: give one of them.`, { [alias]: opts[alias], [key]: opts[key] },
        `Pass only --${key} ${String(opts[key])}.`);
    }
    merged[key] = opts[alias];
  }
  return merged;
}

/**
 * An image's files in shell-brace form: `003_cat.{gradcam,ig}.{png,npy} 003_cat.json` when every method has the
 * same kinds of file (as the writer makes them), else the names one by one.
 */
export function compactFiles(files: string[]): string {
  const [stem] = files[0]?.split('.') ?? [''];
  const byMethod = new Map<string, string[]>();
  const single: string[] = [];
  for (const name of files) {
    const [, method, ...ext] = name.split('.');
    if (ext.length === 0) single.push(name);
    else byMethod.set(method, [...(byMethod.get(method) ?? []), ext.join('.')]);
  }
  const kinds = [...byMethod.values()].map((exts) => exts.join(','));
  if (byMethod.size === 0 || new Set(kinds).size !== 1) return files.join(' ');
  const brace = (items: string[]) => (items.length === 1 ? items[0] : `{${items.join(',')}}`);
  return [`${stem}.${brace([...byMethod.keys()])}.${brace(kinds[0].split(','))}`, ...single].join(' ');
}

export function explainCommand(io: CliIo): Command {
  const command = new Command('explain')
    .description('Explain a model\'s decisions on images: Grad-CAM, Integrated Gradients, saliency, SmoothGrad, occlusion, nearest training images; --evaluate measures faithfulness.')
    .argument('<model>', 'model directory (with model.json) or run directory')
    .argument('[images...]', 'image files, or folders searched recursively (optional with --evaluate on a run)');
  addConfigFileOption(command);
  addSchemaOptions(command, EXPLAIN_COMMAND_SCHEMA);
  command.addOption(new Option('--method <list>').hideHelp());
  command.addOption(new Option('--class <list>').hideHelp());
  command.addHelpText('after', '\nExamples:\n' +
    '  insight explain runs/20261129-041812-a3f9 cat.jpg photos/ --methods gradcam,ig --neighbours 5\n' +
    '  insight explain runs/20261129-041812-a3f9/model dog.png --classes cat --format png --out why-cat\n' +
    '  insight explain runs/20261129-041812-a3f9 --evaluate --methods saliency,gradcam,ig --evaluate-images 32');
  command.action(async (model: string, images: string[]) => {
    const settings = { ...withAliases(command, await givenSettings(command, EXPLAIN_COMMAND_SCHEMA)), model, images };
    const config = resolveExplainCommandConfig(settings); // bad flags fail before tfjs loads
    const [workflow, { formatTable }] = await Promise.all([import('../../explain/explain_command'), import('../../format/table')]);
    if (config.evaluate) {
      const { formatFaithfulness } = await import('../../explain/faithfulness/report_table');
      const result = await workflow.evaluateExplanations(config);
      if (config.json) {
        io.stdout.write(`${JSON.stringify({ model: result.modelDir, evaluated: result.description, file: result.file, report: result.report })}\n`);
        return;
      }
      io.stdout.write(`Model ${result.modelDir} on ${result.description}\n\n${formatFaithfulness(result.report)}\n\nReport: ${result.file}\n`);
      return;
    }
    const result = await workflow.explainToFiles(config);
    if (config.json) {
      for (const image of result.images) {
        io.stdout.write(`${JSON.stringify({ ...image, files: image.files.map((name) => path.join(result.outDir, name)) })}\n`);
      }
      return;
    }
    const percent = (p: number) => `${(100 * p).toFixed(1)}%`;
    const rows = result.images.map((image) => [
      image.source, `${image.predicted.className} ${percent(image.predicted.probability)}`,
      `${image.target.className} ${percent(image.target.probability)}`,
      ...(image.neighbours ? [image.neighbours.map((n) => n.className).join(',')] : []),
      compactFiles(image.files),
    ]);
    const header = ['image', 'predicted', 'target', ...(result.images[0]?.neighbours ? ['neighbours'] : []), 'files'];
    io.stdout.write(`Model ${result.modelDir}, methods ${config.methods.join(', ')}\n\n${formatTable(header, rows, header.map(() => 'l'))}\n\n`);
    if (result.memory) {
      io.stdout.write(`Memory index: ${result.memory.count} training images, layer ${result.memory.layer} (${result.memory.built ? 'built now' : 'reused'})\n`);
    }
    io.stdout.write(`Also: ${result.shared.join(', ')}\nWritten to ${result.outDir}\n`);
  });
  return command;
}
