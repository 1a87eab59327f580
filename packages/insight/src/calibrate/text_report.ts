// `insight calibrate`'s text output: the fitted temperature and the figures before and after, as an aligned table.
import { formatTable } from '../format/table';
import type { CalibrateResult } from './calibrate';

const percent = (v: number) => `${(100 * v).toFixed(2)}%`;

/** The temperature, the table (NLL, ECE, MCE, accuracy, mean confidence; before and after) and where things went. */
export function formatCalibration(r: CalibrateResult): string {
  const { before, after, fit } = r;
  const rows = [
    ['temperature', before.temperature.toFixed(4), after.temperature.toFixed(4)],
    ['NLL', before.nll.toFixed(4), after.nll.toFixed(4)],
    [`ECE (${before.calibration.bins.length} bins)`, percent(before.calibration.ece), percent(after.calibration.ece)],
    ['MCE', percent(before.calibration.mce), percent(after.calibration.mce)],
    ['accuracy', percent(before.calibration.accuracy), percent(after.calibration.accuracy)],
    ['mean confidence', percent(before.calibration.confidence), percent(after.calibration.confidence)],
  ];
  const bound = fit.atBound ? ' (at the end of the searched range 0.05-20: the data wants a more extreme T)' : '';
  const where = r.modelDir === r.sourceModelDir
    ? `Temperature stored in ${r.modelDir} (model.json inference.temperature; weights unchanged; was ${r.previousTemperature})`
    : `Calibrated copy: ${r.modelDir} (${r.sourceModelDir} unchanged)`;
  return `Model ${r.sourceModelDir} on ${r.split}\n` +
    `Fitted temperature ${fit.temperature.toFixed(4)} in ${fit.iterations} steps${bound}\n\n` +
    `${formatTable(['', 'before (T = 1)', 'after'], rows)}\n\n${where}\nReport: ${r.reportDir}\n`;
}
