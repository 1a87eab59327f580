// How long a fine-tuning run trains, and its learning-rate curve, when the config leaves them open.
//
// The step budget scales with the data, not a fixed epoch count: as Big Transfer's BiT-HyperRule (Kolesnikov et
// al., 2020) sets the schedule length by dataset size, a run makes at least MIN_UPDATES optimizer updates and at
// least MIN_EPOCHS passes over its images, whichever is more, in whole epochs and at most MAX_EPOCHS:
//   epochs = min(MAX_EPOCHS, max(MIN_EPOCHS, ceil(MIN_UPDATES / updates per epoch)))
// so 40+40 images (3 updates of 32 an epoch) get 167 epochs (501 updates), 2 x 100 images 72 epochs, 5 x 500 images
// 7 epochs, and 45,000 images 3 epochs (4,221 updates). Ten epochs, the old default, are 30 updates on 80 images.
//
// Under method full the run starts with the head alone (head_first.ts) for HEAD_SHARE of the epochs (at least 1),
// then the learning-rate curve restarts for the whole model: a linear warmup over WARMUP_SHARE of the remaining
// updates, then the schedule (cosine to 0, or constant). Other methods have one curve over the whole run, without
// warmup unless asked: their new weights start at zero (head, adapter up-projections, LoRA B, the prompt), so the
// first updates change nothing the base computes.
import { ConstantSchedule, CosineSchedule, type LearningRateSchedule } from '../train/schedules';
import type { FinetuneConfig } from './config';
import { PhasedSchedule } from './phased_schedule';

export const MIN_UPDATES = 500;
export const MIN_EPOCHS = 3;
export const MAX_EPOCHS = 200;
/** full: the share of the epochs (rounded, at least 1) that train the head alone. */
export const HEAD_SHARE = 0.2;
/** full: the warmup after the head phase, as a share of the updates that follow it. */
export const WARMUP_SHARE = 0.1;

/** The epochs of a run with `updatesPerEpoch` optimizer updates an epoch when --epochs is not given. */
export function autoEpochs(updatesPerEpoch: number): number {
  return Math.min(MAX_EPOCHS, Math.max(MIN_EPOCHS, Math.ceil(MIN_UPDATES / updatesPerEpoch)));
}

export interface TrainingPlan {
  epochs: number;
  totalSteps: number;
  /** full: epochs with the base frozen (0: none). */
  headEpochs: number;
  /** Warmup updates (after the head phase under full). */
  warmupSteps: number;
  schedule: LearningRateSchedule;
  /** e.g. '167 epochs (501 updates: at least 500 updates, 3 epochs), head alone for 33 epochs'. */
  description: string;
}

/** The plan of `config` for `updatesPerEpoch` updates an epoch: epochs, head phase, warmup and the lr curve. */
export function planTraining(config: FinetuneConfig, updatesPerEpoch: number): TrainingPlan {
  const epochs = config.epochs ?? autoEpochs(updatesPerEpoch);
  const totalSteps = epochs * updatesPerEpoch;
  const headFirst = config.method === 'full' && config.unfreezeEvery === 0;
  const headEpochs = !headFirst ? 0 : Math.min(epochs - 1, config.headEpochs ?? Math.max(1, Math.round(epochs * HEAD_SHARE)));
  const headSteps = headEpochs * updatesPerEpoch;
  const rest = totalSteps - headSteps;
  const warmupEpochs = config.warmupEpochs ?? (config.method === 'full' ? (rest / updatesPerEpoch) * WARMUP_SHARE : 0);
  const warmupSteps = Math.min(rest, Math.round(warmupEpochs * updatesPerEpoch));
  const curve = new CosineSchedule(config.lr, rest, warmupSteps, config.schedule === 'constant' ? config.lr : 0);
  const schedule = headSteps > 0 ? new PhasedSchedule([{ start: 0, schedule: new ConstantSchedule(config.lr) }, { start: headSteps, schedule: curve }]) : curve;
  const budget = config.epochs === null
    ? `${epochs} epochs (${totalSteps} updates: at least ${MIN_UPDATES} updates and ${MIN_EPOCHS} epochs, at most ${MAX_EPOCHS} epochs)`
    : `${epochs} epochs (${totalSteps} updates)`;
  return {
    epochs, totalSteps, headEpochs, warmupSteps, schedule,
    description: `${budget}${headEpochs > 0 ? `, head alone for the first ${headEpochs} (then the base at lr x ${config.baseLrFactor})` : ''}`,
  };
}
