// Data-parallel training over a c10d Gloo process group (@insight/tfjs-backend-torch's ProcessGroup), as PyTorch's
// DistributedDataParallel does it:
//   - at the start (and after a resume) rank 0's weights — trained and not — and, resuming, its optimizer state and
//     trainer state (epoch, step, learning-rate scale) are broadcast, so every rank starts from the same model;
//   - at every update each rank's gradients (the mean over its slice of the global batch) are flattened into
//     buckets (gradient_buckets.ts), weighted by the rank's example count, summed by allreduce and divided by the
//     global count: the mean gradient of the whole global batch, the same on every rank, so every rank applies the
//     same update and the weights stay equal without being sent again. The batch sums (loss, correct, seen) go along,
//     so the logs are the global batch's, and so does rank 0's stop request (SIGINT/SIGTERM): every rank learns at
//     the same update that the group stops after it (rank 0 saving checkpoints/last there, as one process does).
//     The buckets are reduced after the backward pass, not during it.
//   - after every epoch rank 0's decisions (early stopping's stop, reduce-on-plateau's scale) are broadcast: rank 0
//     alone validates and runs the callbacks.
// State that gradients do not train (BatchNorm's moving statistics) stays each rank's own, as in DDP without
// SyncBatchNorm; rank 0's is the one checkpoints and the final model keep.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { InsightError, ruleError } from '../../errors';
import type { NamedTensor } from '../../run/checkpoint';
import type { Optimizer } from '../optimizers';
import type { TrainerState } from '../state';
import { GradientBuckets } from './gradient_buckets';

/** The collectives data parallelism uses (what @insight/tfjs-backend-torch's ProcessGroup offers); one tensor a call here. */
export interface Collectives {
  readonly rank: number;
  readonly worldSize: number;
  allreduce(tensors: tf.Tensor[], op?: 'sum' | 'avg' | 'max' | 'min'): Promise<tf.Tensor[]>;
  broadcast(tensors: tf.Tensor[], root: number): Promise<tf.Tensor[]>;
}

/** Running sums of some micro-batches: loss x examples, correct predictions, examples. */
export interface BatchSums { loss: number; correct: number; seen: number }

export interface DataParallelOptions {
  /** Bytes of gradients per allreduce bucket (default gradient_buckets.ts DEFAULT_BUCKET_BYTES). */
  bucketBytes?: number;
}

/** The part of fit's loop that talks to the other ranks (see FitOptions.parallel). */
export class DataParallel {
  readonly rank: number;
  readonly worldSize: number;
  private buckets: GradientBuckets | null = null;
  /** Seconds spent in reduce() waiting for the allreduce, since the group started (communication time). */
  allreduceSeconds = 0;
  /** This rank's wish to stop (rank 0: a signal arrived), sent with every update's sums. */
  stopRequested: () => boolean = () => false;
  /** Whether the last update's allreduce carried a stop request: every rank then stops after that update. */
  stopAgreed = false;

  constructor(private readonly group: Collectives, private readonly options: DataParallelOptions = {}) {
    this.rank = group.rank;
    this.worldSize = group.worldSize;
  }

  /** Number of allreduce buckets of the gradients (after start). */
  get bucketCount(): number {
    return this.buckets?.buckets.length ?? 0;
  }

  /**
   * This rank's mean gradients over its `sums.seen` examples → the global batch's mean gradients (new tensors: the
   * caller disposes both) and the sums over every rank.
   */
  async reduce(grads: readonly tf.Tensor[], sums: BatchSums): Promise<{ grads: tf.Tensor[]; sums: BatchSums }> {
    // Σ_r seen_r · mean_r / Σ_r seen_r: exact also when the ranks' slices differ (a short last batch).
    const buckets = this.buckets;
    if (buckets === null) {
      throw ruleError('INSIGHT_E_CONFIG', 'DataParallel.reduce() needs the group started: call start() with the model first.',
        { rank: this.rank, started: false }, 'Call `await parallel.start(model, optimizer, initialState)` before the first update.');
    }
    const flats = buckets.flatten(grads, sums.seen);
    const local = tf.tensor1d([sums.loss, sums.correct, sums.seen, this.stopRequested() ? 1 : 0], 'float32');
    let reduced: tf.Tensor[] = [];
    try {
      const waitStarted = performance.now();
      const calls = [...flats.map((flat) => this.group.allreduce([flat], 'sum')), this.group.allreduce([local], 'sum')];
      reduced = (await collective('allreduce of the gradients', this.rank, Promise.all(calls))).flat();
      this.allreduceSeconds += (performance.now() - waitStarted) / 1000;
      const [loss, correct, seen, stops] = await reduced[reduced.length - 1].data();
      this.stopAgreed = stops > 0;
      return { grads: buckets.split(reduced.slice(0, -1), 1 / Math.max(seen, 1)), sums: { loss, correct, seen } };
    } finally {
      tf.dispose([...flats, local, ...reduced]);
    }
  }

  /** After every epoch: rank 0's stop decision and learning-rate scale on every rank. */
  async shareDecisions(state: TrainerState): Promise<void> {
    const decided = await this.broadcastJson({ stopTraining: state.stopTraining, lrScale: state.lrScale }, 'the epoch\'s decisions');
    state.stopTraining = decided.stopTraining;
    state.lrScale = decided.lrScale;
  }

  /**
   * Makes every rank start as rank 0: its model weights (all of model.weights) and, when rank 0 resumes (its
   * `initial` trainer state is given), its optimizer state and trainer state. Returns the trainer state to start
   * from (undefined: a fresh start). The gradient buckets are made for the model's trainable weights.
   */
  async start(model: tfl.LayersModel, optimizer: Optimizer, initial: TrainerState | undefined): Promise<TrainerState | undefined> {
    this.buckets = new GradientBuckets(model.trainableWeights.map((w) => w.shape as number[]), this.options.bucketBytes);
    const own = this.rank === 0 && initial !== undefined ? optimizer.getState() : [];
    try {
      const plan = await this.broadcastJson({
        trainer: initial ?? null,
        optimizer: own.map(({ name, tensor }) => ({ name, shape: tensor.shape, dtype: tensor.dtype })),
      }, 'the starting state');
      const weights = await this.broadcastTensors(model.weights.map((w) => w.read()), 'the model weights');
      try {
        model.setWeights(weights);
      } finally {
        tf.dispose(weights);
      }
      if (plan.trainer === null) return undefined;
      const mine = this.rank === 0 ? own.map(({ tensor }) => tensor)
        : plan.optimizer.map(({ shape, dtype }) => tf.zeros(shape, dtype as 'float32' | 'int32'));
      const received = await this.broadcastTensors(mine, 'the optimizer state');
      try {
        if (this.rank !== 0) optimizer.setState(Object.fromEntries(plan.optimizer.map(({ name }, i) => [name, received[i]])));
      } finally {
        tf.dispose(received);
        if (this.rank !== 0) tf.dispose(mine);
      }
      return plan.trainer;
    } finally {
      for (const { tensor } of own as NamedTensor[]) tensor.dispose();
    }
  }

  /** Rank 0's `value` (JSON) on every rank; the others' `value` is ignored. */
  async broadcastJson<T>(value: T, what: string): Promise<T> {
    const bytes = this.rank === 0 ? Buffer.from(JSON.stringify(value) ?? 'null', 'utf8') : null;
    const [length] = await this.broadcastTensors([tf.tensor1d([bytes?.length ?? 0], 'int32')], `the size of ${what}`, true);
    const n = (await length.data())[0];
    length.dispose();
    const [text] = await this.broadcastTensors([bytes ? tf.tensor1d(Int32Array.from(bytes), 'int32') : tf.zeros([n], 'int32')], what, true);
    const received = Buffer.from(Uint8Array.from(await text.data()));
    text.dispose();
    return JSON.parse(received.toString('utf8')) as T;
  }

  /** Rank 0's `tensors` on every rank (new tensors: the caller disposes them); `owned`: dispose the inputs. */
  private async broadcastTensors(tensors: tf.Tensor[], what: string, owned = false): Promise<tf.Tensor[]> {
    if (tensors.length === 0) return [];
    try {
      // One call a tensor: Gloo's collectives take lists of equal-sized tensors only.
      const calls = tensors.map((t) => this.group.broadcast([t], 0));
      return (await collective(`broadcast of ${what}`, this.rank, Promise.all(calls))).flat();
    } finally {
      if (owned) tf.dispose(tensors);
    }
  }
}

/** How collective() words its error for a kind of training other than data parallel (the pipeline's). */
export interface CollectiveWording {
  /** The rule's subject, e.g. 'Pipeline training'. */
  training: string;
  fix: string;
}

const DATA_PARALLEL: CollectiveWording = {
  training: 'Data-parallel training',
  fix: 'Read the first error of the other ranks (a rank that failed or was killed ends the group); `insight launch` restarts the group from the last checkpoint while restarts remain.',
};

/**
 * `work`, with a failed collective (a peer died, the group timed out) turned into INSIGHT_E_DISTRIBUTED naming
 * what this rank was doing.
 */
export async function collective<T>(what: string, rank: number, work: Promise<T>, wording: CollectiveWording = DATA_PARALLEL): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof InsightError) throw error;
    throw ruleError('INSIGHT_E_DISTRIBUTED', `${wording.training} needs every rank of its group alive: a collective failed.`,
      { rank, collective: what, error: (error as Error).message ?? String(error) }, wording.fix);
  }
}
