// Gradient accumulation: the gradients of several micro-batches make one optimizer update, averaged weighted by
// batch size, so 4 micro-batches of 16 update exactly as one batch of 64 (a short last batch weighs less).
// With one micro-batch per update the gradients pass through untouched (no multiply and divide, bit for bit).
import { tf } from '../backend';

export class GradientAccumulator {
  /** One micro-batch: its gradients as given; several: the running sums of gradient x batch size. */
  private pending: tf.Tensor[] | null = null;
  private micro = 0;
  private examples = 0;

  /** microBatches: micro-batches per update (1 = none). */
  constructor(readonly microBatches: number) {}

  /** Micro-batches added since the last update (the dropout seed's micro-batch index). */
  get microBatch(): number {
    return this.micro;
  }

  /** Adds one micro-batch's mean gradients (grads[i] for variable i) over `size` examples; takes ownership of them. */
  add(grads: tf.Tensor[], size: number): void {
    if (this.microBatches === 1) {
      this.pending = grads;
    } else {
      const sums = this.pending;
      const weighted = tf.tidy(() => grads.map((g, i) => (sums ? tf.add(sums[i], tf.mul(g, size)) : tf.mul(g, size))));
      tf.dispose(grads);
      if (sums) tf.dispose(sums);
      this.pending = weighted;
    }
    this.micro++;
    this.examples += size;
  }

  /** True when an update is due: every `microBatches` micro-batches, and at the end of an epoch. */
  isDue(lastOfEpoch: boolean): boolean {
    return this.micro > 0 && (this.micro === this.microBatches || lastOfEpoch);
  }

  /** The mean gradients of the pending micro-batches and the examples they cover, and starts over; the caller owns them. */
  take(): { grads: tf.Tensor[]; examples: number } {
    const sums = this.pending ?? [];
    const examples = this.examples;
    // No examples (a data-parallel rank's empty slice of a short last batch): the sums are zeros and stay so.
    const grads = this.microBatches === 1 ? sums : tf.tidy(() => sums.map((g) => tf.div(g, Math.max(examples, 1))));
    if (grads !== sums) tf.dispose(sums);
    this.pending = null;
    this.micro = 0;
    this.examples = 0;
    return { grads, examples };
  }

  /** Drops pending gradients (training ended early, e.g. by an error). */
  dispose(): void {
    if (this.pending) tf.dispose(this.pending);
    this.pending = null;
    this.micro = 0;
    this.examples = 0;
  }
}
