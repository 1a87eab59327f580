// Sparsity schedules of gradual pruning, as TF-MOT defines them (tfmot.sparsity.keras.PolynomialDecay and
// ConstantSparsity): the target sparsity at an optimizer step, and whether the masks are recomputed at that step.
//   PolynomialDecay: s_t = s_f + (s_i - s_f) · (1 - p)^power, p = clip((t - begin) / (end - begin), 0, 1), power 3
//   pruning at every step t with begin <= t <= end and (t - begin) % frequency == 0 (TF-MOT's _should_prune_in_step).
// A step here is the number of optimizer updates done (0 before the first); after `end` the masks stay as they are.

import { ruleError } from '../../errors';

export interface SparsitySchedule {
  /** The target sparsity at `step` (0..1). */
  sparsityAt(step: number): number;
  /** True when the masks are recomputed (from the weights' magnitudes) at `step`. */
  prunesAt(step: number): boolean;
  /** The last step that prunes: the schedule's final sparsity holds from there on. */
  readonly endStep: number;
}

export interface PolynomialDecayOptions {
  initialSparsity: number;
  finalSparsity: number;
  beginStep: number;
  endStep: number;
  /** Recompute masks every this many steps (TF-MOT's default 100). */
  frequency?: number;
  /** TF-MOT's default 3. */
  power?: number;
}

/** TF-MOT's PolynomialDecay. Example: `new PolynomialDecay({ initialSparsity: 0, finalSparsity: 0.75, beginStep: 0, endStep: 100, frequency: 10 })`. */
export class PolynomialDecay implements SparsitySchedule {
  readonly endStep: number;
  private readonly frequency: number;
  private readonly power: number;

  constructor(private readonly options: PolynomialDecayOptions) {
    if (!(options.endStep > options.beginStep)) throw ruleError('INSIGHT_E_CONFIG', 'PolynomialDecay needs endStep > beginStep.', { beginStep: options.beginStep, endStep: options.endStep },
      'Pass an endStep after beginStep, e.g. the last update of the fine-tuning.');
    this.endStep = options.endStep;
    this.frequency = options.frequency ?? 100;
    this.power = options.power ?? 3;
  }

  sparsityAt(step: number): number {
    const { initialSparsity: si, finalSparsity: sf, beginStep, endStep } = this.options;
    const p = Math.min(1, Math.max(0, (step - beginStep) / (endStep - beginStep)));
    return sf + (si - sf) * (1 - p) ** this.power;
  }

  prunesAt(step: number): boolean {
    return step >= this.options.beginStep && step <= this.endStep && (step - this.options.beginStep) % this.frequency === 0;
  }
}

/** TF-MOT's ConstantSparsity: `sparsity` at every pruning step from beginStep (one-shot: one step, frequency ∞). */
export class ConstantSparsity implements SparsitySchedule {
  constructor(private readonly sparsity: number, private readonly beginStep = 0, readonly endStep = beginStep, private readonly frequency = 100) {}

  sparsityAt(): number {
    return this.sparsity;
  }

  prunesAt(step: number): boolean {
    return step >= this.beginStep && step <= this.endStep && (step - this.beginStep) % this.frequency === 0;
  }
}

/**
 * The polynomial schedule compress uses for `totalSteps` fine-tuning updates: from 0 to `finalSparsity` over the
 * first three quarters of the updates, pruning about 10 times (frequency = ceil(end / 10), at most TF-MOT's 100), the
 * end rounded down to a pruning step so the final sparsity is reached; the last quarter recovers at that sparsity.
 */
export function fineTuningSchedule(finalSparsity: number, totalSteps: number, frequency: number | null = null): PolynomialDecay {
  const span = Math.max(1, Math.floor(totalSteps * 0.75));
  const every = Math.max(1, Math.min(frequency ?? Math.min(100, Math.ceil(span / 10)), span));
  const endStep = Math.max(every, Math.floor(span / every) * every);
  return new PolynomialDecay({ initialSparsity: 0, finalSparsity, beginStep: 0, endStep, frequency: every });
}
