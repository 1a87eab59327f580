// `insight evaluate <model>`: loss, accuracy, top-k, per-class precision/recall/F1 and the confusion matrix of a
// saved model on a dataset split; --out writes the report directory (with confusion.png).
import { Command, Option } from 'commander';

import { EVALUATE_SCHEMA } from '../../eval/config';
import { evaluate } from '../../eval/evaluate';
import { formatConfusionTable, formatPerClassTable } from '../../eval/text_report';
import { readConfigFile } from '../config_file';
import type { CliIo } from '../main';
import { addSchemaOptions, givenOptions } from '../options';

export function evaluateCommand(io: CliIo): Command {
  const command = new Command('evaluate')
    .description('Evaluate a saved model (a model directory or a completed run directory) on a dataset split.')
    .argument('<model>', 'model directory (with model.json) or run directory')
    .addOption(new Option('--config <file>', 'Read settings from a JSON or YAML file (flags override it).'));
  addSchemaOptions(command, EVALUATE_SCHEMA);
  command.addHelpText('after', '\nExamples:\n  insight evaluate runs/20261129-041812-a3f9                # the run\'s own validation split\n' +
    '  insight evaluate runs/20261129-041812-a3f9/model --data cifar-10-binary.tar.gz --split test --out eval-test');
  command.action(async (model: string) => {
    const opts = command.opts<{ config?: string }>();
    const fromFile = opts.config !== undefined ? readConfigFile(opts.config, EVALUATE_SCHEMA) : {};
    const result = await evaluate({ ...fromFile, ...givenOptions(command, EVALUATE_SCHEMA), model });
    io.stdout.write(`Model ${result.modelDir} on ${result.split}\n\n${formatPerClassTable(result.metrics)}\n\n` +
      `Confusion matrix (rows: true class, columns: predicted class)\n${formatConfusionTable(result.metrics)}\n`);
    if (result.reportDir) io.stdout.write(`\nReport: ${result.reportDir}\n`);
  });
  return command;
}
