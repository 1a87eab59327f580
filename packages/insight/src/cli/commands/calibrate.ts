// `insight calibrate <model>`: temperature scaling fitted on the validation split (a run's own by default), stored in
// the model's metadata (in place, or a calibrated copy with --out), with calibration.json and reliability diagrams
// before and after. The workflow (tfjs, the backend, sharp) loads inside the action, so `--help` stays fast.
import { Command } from 'commander';

import { CALIBRATE_SCHEMA, resolveCalibrateConfig } from '../../calibrate/config';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';

export function calibrateCommand(io: CliIo): Command {
  const command = new Command('calibrate')
    .description('Fit a softmax temperature on validation data (temperature scaling), store it in the model for evaluate, predict and serve.')
    .argument('<model>', 'model directory (with model.json) or run directory');
  addConfigFileOption(command);
  addSchemaOptions(command, CALIBRATE_SCHEMA);
  command.addHelpText('after', '\nExamples:\n  insight calibrate runs/20261129-041812-a3f9            # in place; report in runs/<id>/calibration/\n' +
    '  insight calibrate runs/20261129-041812-a3f9 --out calibrated   # calibrated/model + the report in calibrated/\n' +
    '  insight calibrate model/ --data held-out/ --split all   # a separate calibration set (image folder)');
  command.action(async (model: string) => {
    const config = resolveCalibrateConfig({ ...await givenSettings(command, CALIBRATE_SCHEMA), model }); // bad flags fail before tfjs loads
    const [{ calibrate }, { formatCalibration }] = await Promise.all([import('../../calibrate/calibrate'), import('../../calibrate/text_report')]);
    io.stdout.write(formatCalibration(await calibrate(config)));
  });
  return command;
}
