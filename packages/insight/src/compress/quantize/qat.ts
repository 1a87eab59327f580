// Quantisation-aware training: fine-tune a model with its int8 graph's rounding in the loop (fake_quant_model.ts),
// starting from calibrated activation ranges, with Insight's training loop; for when post-training quantisation loses
// more than the budget. The result is the model (float weights, trained to survive rounding; still a plain tfjs
// model) and the activation ranges to export it with: `exportOnnx(model, { int8: ranges })`.
import type * as tfl from '@tensorflow/tfjs-layers';

import type { DataLoader } from '../../data';
import { ruleError } from '../../errors';
import type { ActivationRanges } from '../../onnx/quantization_params';
import type { Callback } from '../../train/callbacks/callback';
import { TRAIN_DEFAULTS } from '../../train/config';
import { createOptimizer, paramsOf, type OptimizerName } from '../../train/optimizers';
import { ConstantSchedule, type LearningRateSchedule } from '../../train/schedules';
import type { TrainerState } from '../../train/state';
import { fit, trainableVariables } from '../../train/trainer';
import { calibrate, type CalibrateOptions } from './calibrate';
import type { CalibrationSource } from './calibration_source';
import { FakeQuantization, withFloatOutput } from './fake_quant_model';

export interface QatOptions {
  epochs: number;
  /** Learning rate (constant unless `schedule` is given); QAT fine-tunes, so ~1/10 of training's (e.g. 1e-4). */
  lr: number;
  /** Default 'adam' (the training recipe's other defaults: betas, epsilon, momentum). */
  optimizer?: OptimizerName;
  weightDecay?: number;
  schedule?: LearningRateSchedule;
  /** Starting activation ranges (e.g. the post-training calibration's); else calibrated here per `calibration`. */
  ranges?: ActivationRanges;
  /** How to calibrate the starting ranges when `ranges` is absent (default: 512 images of `train`'s epoch 0, min-max). */
  calibration?: Partial<CalibrateOptions> & { source?: CalibrationSource };
  /** Moving-average decay of the activation ranges (default 0.999). */
  emaDecay?: number;
  /** Seeds dropout (the loaders carry their own seeds). */
  seed?: number;
  /** Evaluated after every epoch, fake-quantised (val_loss, val_accuracy). */
  validation?: DataLoader | null;
  /** More callbacks for fit (a run session's); the ranges' callback runs first. */
  callbacks?: Callback[];
  /** Continue from a checkpoint's trainer state (its 'fakeQuantization' callback state restores the ranges). */
  initialState?: TrainerState;
}

export interface QatResult {
  /** The activation ranges after training, for the int8 export. */
  ranges: ActivationRanges;
  /** The ranges training started from. */
  initialRanges: ActivationRanges;
  state: TrainerState;
}

/**
 * Trains `model` in place (its own float weights) with fake quantisation, for `options.epochs` epochs of `train`.
 * Example: `const { ranges } = await quantizationAwareTraining(model, trainLoader, { epochs: 1, lr: 1e-4,
 *   ranges: ptqRanges, validation })`, then `exportOnnx(model, { int8: ranges })`.
 */
export async function quantizationAwareTraining(model: tfl.LayersModel, train: DataLoader, options: QatOptions): Promise<QatResult> {
  if (!(Number.isFinite(options.lr) && options.lr > 0)) {
    throw ruleError('INSIGHT_E_CONFIG', 'lr must be a number > 0.', { lr: options.lr }, 'Pass e.g. lr: 1e-4 (about a tenth of training\'s).');
  }
  const { source = train, ...calibration } = options.calibration ?? {};
  const calibrated = options.ranges ?? await calibrate(model, source, {
    ...calibration, method: calibration.method ?? 'minmax', images: calibration.images ?? Math.min(512, train.order(0).length),
  });
  // The int8 graph keeps the model's output (the logits) float, so training does not round it either.
  const initialRanges = withFloatOutput(model, calibrated);
  const fq = FakeQuantization.attach(model, initialRanges, { emaDecay: options.emaDecay });
  const optimizer = createOptimizer(options.optimizer ?? 'adam', paramsOf(trainableVariables(model)),
    { ...TRAIN_DEFAULTS, weightDecay: options.weightDecay ?? 0 });
  let state: TrainerState;
  try {
    state = await fit(model, train, {
      epochs: options.epochs, optimizer, schedule: options.schedule ?? new ConstantSchedule(options.lr), seed: options.seed,
      validation: options.validation ?? null, callbacks: [fq.callback, ...(options.callbacks ?? [])], initialState: options.initialState,
    });
  } finally {
    optimizer.dispose();
    await fq.detach();
  }
  return { ranges: fq.current(), initialRanges, state };
}
