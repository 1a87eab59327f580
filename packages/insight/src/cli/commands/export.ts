// `insight export <run|model>`: writes the model as ONNX (src/onnx: our own writer), fp32 or int8 QDQ calibrated by
// compress/quantize, into a directory with model.onnx that ONNX Runtime (and `insight serve`) runs. The workflow
// (tfjs, the backend) loads inside the action, so `insight export --help` stays fast.
import { Command } from 'commander';

import { EXPORT_SCHEMA, resolveExportConfig } from '../../onnx/export_config';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';

export function exportCommand(io: CliIo): Command {
  const command = new Command('export')
    .description('Export a trained model to ONNX (fp32, or int8 calibrated on images) for ONNX Runtime.')
    .argument('<run|model>', 'run directory or model directory (with model.json)');
  addConfigFileOption(command);
  addSchemaOptions(command, EXPORT_SCHEMA);
  command.addHelpText('after', '\nExamples:\n' +
    '  insight export runs/20261129-041812-a3f9                                  # fp32: runs/<id>/model-onnx/model.onnx\n' +
    '  insight export runs/20261129-041812-a3f9 --quantize int8 --calibration-images 512 --calibration-method entropy\n' +
    '  insight export my-model/ --quantize int8 --data cifar-10-binary.tar.gz --out repository/cifar/2');
  command.action(async (model: string) => {
    const config = resolveExportConfig({ ...await givenSettings(command, EXPORT_SCHEMA), model }); // bad flags fail before tfjs loads
    const { exportToOnnx } = await import('../../compress/export_onnx');
    await exportToOnnx(config, { say: (line) => io.stdout.write(`${line}\n`) });
  });
  return command;
}
