// `insight evaluate <model>`: loss, accuracy, top-k, per-class precision/recall/F1 and the confusion matrix of a
// saved model on a dataset split (a run's own validation images by default; data with some of the model's classes
// is scored on those); --out writes the report directory (with confusion.png). The evaluation
// workflow (tfjs, the backend, sharp) loads inside the action, so `insight evaluate --help` stays fast.
import { Command } from 'commander';

import { EVALUATE_SCHEMA, resolveEvaluateConfig } from '../../eval/config';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';

export function evaluateCommand(io: CliIo): Command {
  const command = new Command('evaluate')
    .description('Evaluate a saved model (a model directory or a completed run directory) on a dataset split.')
    .argument('<model>', 'model directory (with model.json) or run directory');
  addConfigFileOption(command);
  addSchemaOptions(command, EVALUATE_SCHEMA);
  command.addHelpText('after', '\nExamples:\n  insight evaluate runs/20261129-041812-a3f9                # the run\'s own validation images\n' +
    '  insight evaluate runs/20261129-041812-a3f9/model --data cifar-10-binary.tar.gz --split test --out eval-test\n' +
    '  insight evaluate runs/20261129-041812-a3f9 --data photos/ --split all    # photos/<class>/: some of the model\'s classes\n' +
    '  insight evaluate runs/20261129-041812-a3f9 --attack pgd --eps 8/255 --steps 20 --attack-limit 500   # robust accuracy too');
  command.action(async (model: string) => {
    const config = resolveEvaluateConfig({ ...await givenSettings(command, EVALUATE_SCHEMA), model }); // bad flags fail before tfjs loads
    const [{ evaluate }, { formatConfusionTable, formatPerClassTable }, { describeInference, isPlainInference }] = await Promise.all([
      import('../../eval/evaluate'), import('../../eval/text_report'), import('../../models/inference_output')]);
    const result = await evaluate(config);
    const inference = isPlainInference(result.inference) ? '' : ` (${describeInference(result.inference)})`;
    io.stdout.write(`Model ${result.modelDir}${inference} on ${result.split}\n\n${formatPerClassTable(result.metrics)}\n\n` +
      `Confusion matrix (rows: true class, columns: predicted class)\n${formatConfusionTable(result.metrics)}\n`);
    if (result.metrics.robust) io.stdout.write(`\n${(await import('../../robust/attacks/robust_accuracy')).formatRobust(result.metrics.robust)}\n`);
    if (result.reportDir) io.stdout.write(`\nReport: ${result.reportDir}\n`);
  });
  return command;
}
