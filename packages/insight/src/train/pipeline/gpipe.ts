// One training step of a pipeline stage on the GPipe schedule (Huang et al. 2019, "GPipe", section 2.2): the
// global batch is cut into M micro-batches; every stage runs the forward pass of all M (receiving activations
// from the stage before, sending its own to the stage after), then the backward passes in reverse order
// (receiving d loss / d output from the stage after, sending d loss / d input to the stage before),
// re-materialising each micro-batch's forward pass from its saved input. The last stage computes the loss with
// its backward right away (it has nothing to wait for) and, after the last micro-batch, sends its input gradients
// in reverse order: the order in which the stage before receives them (a send completes only once its peer posts
// the matching recv, so sends in another order would wait on each other).
// Parameter gradients are summed over micro-batches of a loss that is the global batch's mean, so they equal
// single-process gradients on the whole batch (up to float rounding; BatchNorm sees micro-batch statistics).
import { tf } from '../../backend';
import { ruleError } from '../../errors';
import { collective, type CollectiveWording } from '../distributed/data_parallel';
import { seedDropout } from '../dropout_seeds';
import { useNativeBatchNorm } from '../native_batch_norm';
import type { PipelineGroup, PipelineStage } from './stage';

/** The global batch. Every rank passes its size; stage 0 needs x, the last stage y. */
export interface PipelineBatch {
  size: number;
  /** [size, ...model input shape] float32 (stage 0). */
  x?: tf.Tensor;
  /** [size] int32 labels (last stage). */
  y?: tf.Tensor;
}

export interface PipelineStepOptions {
  /** M: micro-batches per step, at most the batch size (sizes differ by at most one). */
  microBatches: number;
  /** The update's index: seeds dropout (with `seed`) and tags the step's messages. */
  step: number;
  seed?: number;
  labelSmoothing?: number;
}

export interface PipelineStepResult {
  /** grads[i] is d loss / d stage.variables[i] for the global batch's mean loss; the caller owns them. */
  grads: tf.Tensor[];
  /** Mean loss and correct count over the global batch: on the last stage; null on the others. */
  loss: number | null;
  correct: number | null;
}

/** Steps whose tags stay distinct; later steps reuse them (a step's messages are all matched before the next starts). */
const TAGGED_STEPS = 1024;

/** The tag of micro-batch m's activation (forward) or gradient (backward) in a step: no two messages share one. */
export function pipelineTag(step: number, microBatches: number, m: number, direction: 'forward' | 'backward'): number {
  return (((step % TAGGED_STEPS) * microBatches + m) * 2) + (direction === 'forward' ? 0 : 1);
}

/** Sizes of M micro-batches of a batch of `size`: the first size % M get one more. */
export function microBatchSizes(size: number, microBatches: number): number[] {
  if (!Number.isInteger(microBatches) || microBatches < 1 || microBatches > size) {
    throw ruleError('INSIGHT_E_CONFIG', 'Micro-batches per step must be a whole number from 1 to the batch size.',
      { microBatches, batchSize: size }, `Pass e.g. microBatches: ${Math.min(4, size)}.`);
  }
  const base = Math.floor(size / microBatches);
  return Array.from({ length: microBatches }, (_, m) => base + (m < size % microBatches ? 1 : 0));
}

/**
 * Runs one GPipe step on this rank's stage and returns its parameter gradients; apply them with the stage's own
 * optimizer (`optimizer.apply(grads, lr)`, then dispose them). Every rank calls it with the same size and options.
 * Example (on every rank of a 2-process group):
 *   const stage = new PipelineStage(model, splitModel(model, { stages: 2 }), group);
 *   const adam = new Adam(paramsOf(stage.variables));
 *   const { grads, loss } = await pipelineStep(stage, { size: 64, x, y }, { microBatches: 4, step: t });
 *   adam.apply(grads, 1e-3); tf.dispose(grads);
 */
export async function pipelineStep(stage: PipelineStage, batch: PipelineBatch, options: PipelineStepOptions): Promise<PipelineStepResult> {
  const sizes = microBatchSizes(batch.size, options.microBatches);
  const { x, y } = checkBatch(stage, batch);
  const { group, plan } = stage;
  const M = sizes.length;
  const offsets = sizes.map((_, m) => sizes.slice(0, m).reduce((a, b) => a + b, 0));
  const tag = (m: number, direction: 'forward' | 'backward') => pipelineTag(options.step, M, m, direction);
  const seed = options.seed ?? 0;

  const inputs: (tf.Tensor | null)[] = new Array(M).fill(null);
  // The last stage's d loss / d input per micro-batch, kept until its forward loop ends (then sent, M-1 first).
  const inputGrads: (tf.Tensor | null)[] = new Array(M).fill(null);
  let sums: tf.Tensor[] | null = null;
  const losses: tf.Scalar[] = [];
  const corrects: tf.Scalar[] = [];
  const link = new Link(group);
  const accumulate = (grads: tf.Tensor[]) => {
    const previous = sums;
    sums = previous === null ? grads : grads.map((g, i) => tf.add(previous[i], g));
    if (previous !== null) tf.dispose([...previous, ...grads]);
  };
  // Dropout seeded for the micro-batch, BatchNorm on the backend's fused kernels (as trainStep runs them).
  const withDropout = <T>(m: number, f: () => T): T => {
    const restore = seedDropout(stage.model, seed, options.step, m);
    const restoreBatchNorm = useNativeBatchNorm(stage.model);
    try {
      return f();
    } finally {
      restoreBatchNorm();
      restore();
    }
  };

  try {
    // Forward: micro-batches in order.
    for (let m = 0; m < M; m++) {
      const input = x !== null
        ? tf.slice(x, offsets[m], sizes[m])
        : await link.recv([sizes[m], ...plan.inputShape], group.rank - 1, tag(m, 'forward'), `recv of micro-batch ${m}'s activations`);
      if (stage.isLast) {
        const labels = tf.slice(y!, offsets[m], sizes[m]);
        const result = withDropout(m, () => stage.lossBackward(input, labels, sizes[m] / batch.size, options.labelSmoothing ?? 0));
        tf.dispose([input, labels]);
        losses.push(result.loss);
        corrects.push(result.correct);
        accumulate(result.grads);
        inputGrads[m] = result.dx;
      } else {
        inputs[m] = input;
        link.send(withDropout(m, () => stage.forward(input)), group.rank + 1, tag(m, 'forward'), `send of micro-batch ${m}'s activations`);
      }
    }
    // Backward: micro-batches in reverse order (the last stage computed its own above and now sends them).
    if (stage.isLast) {
      for (let m = M - 1; m >= 0; m--) {
        const dx = inputGrads[m];
        inputGrads[m] = null;
        if (dx !== null) link.send(dx, group.rank - 1, tag(m, 'backward'), `send of micro-batch ${m}'s input gradients`);
      }
    } else {
      for (let m = M - 1; m >= 0; m--) {
        const dy = await link.recv([sizes[m], ...plan.outputShape], group.rank + 1, tag(m, 'backward'), `recv of micro-batch ${m}'s output gradients`);
        const result = withDropout(m, () => stage.backward(inputs[m]!, dy));
        tf.dispose([dy, inputs[m]!]);
        inputs[m] = null;
        accumulate(result.grads);
        if (result.dx !== null) link.send(result.dx, group.rank - 1, tag(m, 'backward'), `send of micro-batch ${m}'s input gradients`);
      }
    }
    await link.flush();
    const grads = sums ?? [];
    sums = null;
    if (!stage.isLast) return { grads, loss: null, correct: null };
    const totals = [tf.addN(losses), tf.addN(corrects)];
    try {
      const [loss, correct] = await Promise.all(totals.map((t) => t.data()));
      return { grads, loss: loss[0], correct: correct[0] };
    } catch (error) {
      tf.dispose(grads);
      throw error;
    } finally {
      tf.dispose(totals);
    }
  } finally {
    await link.close();
    tf.dispose([...losses, ...corrects, ...[...inputs, ...inputGrads].filter((t) => t !== null), ...(sums ?? [])]);
  }
}

function checkBatch(stage: PipelineStage, batch: PipelineBatch): { x: tf.Tensor | null; y: tf.Tensor | null } {
  const need = (name: 'x' | 'y', shape: number[], dtype: string): tf.Tensor => {
    const t = batch[name];
    if (t === undefined || !tf.util.arraysEqual(t.shape, shape) || t.dtype !== dtype) {
      throw ruleError('INSIGHT_E_CONFIG', `Pipeline stage ${stage.plan.index} needs the batch's ${name}: ${dtype === 'int32' ? 'an' : 'a'} ${dtype} tensor of shape [${shape.join(', ')}].`,
        { [name]: t === undefined ? 'missing' : `${t.dtype}[${t.shape.join(', ')}]`, size: batch.size },
        name === 'x' ? 'Pass x (the images) to stage 0.' : 'Pass y (the int32 labels) to the last stage.');
    }
    return t;
  };
  return {
    x: stage.isFirst ? need('x', [batch.size, ...stage.plan.inputShape], 'float32') : null,
    y: stage.isLast ? need('y', [batch.size], 'int32') : null,
  };
}

const PIPELINE: CollectiveWording = {
  training: 'Pipeline training',
  fix: 'Read the first error of the other ranks (a stage that failed or was killed ends the pipeline), then start every stage again.',
};

/**
 * A step's messages: sends go out without waiting (the next micro-batch computes meanwhile) and free their tensor
 * when they settle; the first failed send fails the receive being awaited at once (rather than at its timeout),
 * and every later one. A failure is INSIGHT_E_DISTRIBUTED naming the rank and the message, e.g. "pipeline recv of
 * micro-batch 3's output gradients from rank 1".
 */
class Link {
  private readonly sends: Promise<void>[] = [];
  private failure: unknown = null;
  private onFailure: (error: unknown) => void = () => undefined;
  private readonly failed = new Promise<never>((_, reject) => {
    this.onFailure = reject;
  });

  constructor(private readonly group: PipelineGroup) {
    this.failed.catch(() => undefined); // observed through recv and flush
  }

  /** `what`: e.g. "send of micro-batch 2's activations". */
  send(tensor: tf.Tensor, dst: number, tag: number, what: string): void {
    const sent = this.wrap(`${what} to rank ${dst}`, this.group.send(tensor, dst, tag));
    this.sends.push(sent.then(() => tensor.dispose(), (error: unknown) => {
      tensor.dispose();
      this.failure ??= error;
      this.onFailure(error);
    }));
  }

  /** A float32 tensor from rank `src`, or the first send failure. `what`: e.g. "recv of micro-batch 2's activations". */
  async recv(shape: number[], src: number, tag: number, what: string): Promise<tf.Tensor> {
    if (this.failure !== null) throw this.failure;
    const received = this.wrap(`${what} from rank ${src}`, this.group.recv(shape, 'float32', src, tag));
    try {
      return await Promise.race([received, this.failed]);
    } catch (error) {
      received.then((t) => t.dispose(), () => undefined); // abandoned: freed if it still arrives
      throw error;
    }
  }

  /** `work`, failing as INSIGHT_E_DISTRIBUTED (the rank, "pipeline <what>", the group's error). */
  private wrap<T>(what: string, work: Promise<T>): Promise<T> {
    return collective(`pipeline ${what}`, this.group.rank, work, PIPELINE);
  }

  /** Waits for every send; throws the first failure. */
  async flush(): Promise<void> {
    await Promise.all(this.sends);
    if (this.failure !== null) throw this.failure;
  }

  /** Waits for sends still in flight (they read their tensors) after success or failure. */
  async close(): Promise<void> {
    await Promise.all(this.sends);
  }
}
