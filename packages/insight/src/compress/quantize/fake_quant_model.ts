// A model trained as its int8 graph will compute: while attached, every Conv2D and Dense reads its kernel through
// per-channel int8 fake quantisation, and the model's input and every quantised activation (quantized_points.ts) pass
// through per-tensor uint8 fake quantisation at their current range — in training and in inference mode alike, so
// validation measures the quantised model. Gradients pass straight through (fake_quant.ts), to the float weights.
// Rounding happens where the ONNX writer puts QuantizeLinear/DequantizeLinear: not after layers that pass their
// input's grid on (max pooling, reshapes, dropout, padding), nor after a linear Conv2D/Dense or BatchNorm whose only
// consumer is a BatchNorm or a ReLU (the writer folds those in and quantises after them). Not modelled: the int32
// bias rounding, and BatchNorm folding during training (a convolution followed by BatchNorm trains its unfolded
// kernel's rounding; TF-MOT folds them, with batch statistics, in the training graph).
// The layers' calls are swapped (as models/inference_layers.ts swaps them) and given back by detach(): the model
// stays a plain tfjs model with float weights, which the int8 export quantises the same way.
// Activation ranges start from calibration and follow the batches' ranges by an exponential moving average (TF-MOT's
// MovingAverageQuantizer: decay 0.999, batch min ≤ 0 ≤ batch max): each training forward pass records its min and
// max, and the callback folds them in after the batch (TF-MOT folds them in just before; with decay 0.999 the
// difference is one batch's 0.1%). The callback's state is the ranges, so checkpoints carry them.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { ruleError } from '../../errors';
import { graphSteps } from '../../models/graph';
import type { ActivationRanges, ValueRange } from '../../onnx/quantization_params';
import type { Callback } from '../../train/callbacks/callback';
import { nativeBatchNormCall } from '../../train/native_batch_norm';
import { fakeQuantize, fakeQuantizePerChannel } from './fake_quant';
import { quantizedPoints } from './quantized_points';

type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
interface Swappable { call: Call; kernel?: { read(): tf.Tensor } }

/** Layer classes whose kernel ([..., out], per output channel) is fake-quantised. */
const KERNEL_CLASSES = ['Conv2D', 'Dense'];
/** Layers whose output keeps their input's quantisation in the int8 graph. */
const PASS_THROUGH = ['MaxPooling2D', 'Flatten', 'Reshape', 'Permute', 'ZeroPadding2D', 'Cropping2D',
  'Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout'];

/** Whether the int8 graph quantises `layer`'s output (see the file's header). */
function quantizesOutput(layer: tfl.layers.Layer): boolean {
  const className = layer.getClassName();
  if (PASS_THROUGH.includes(className)) return false;
  const activation = (layer as unknown as { activation?: { getClassName(): string } }).activation?.getClassName();
  const linear = className === 'BatchNormalization' || (KERNEL_CLASSES.includes(className) && activation === 'linear');
  const consumers = new Set(layer.outboundNodes.map((node) => node.outboundLayer));
  if (!linear || consumers.size !== 1) return true;
  const [next] = consumers;
  const nextActivation = (next as unknown as { activation?: { getClassName(): string } }).activation?.getClassName();
  const folds = (next.getClassName() === 'BatchNormalization' && className !== 'BatchNormalization')
    || (next.getClassName() === 'Activation' && nextActivation === 'relu') || next.getClassName() === 'ReLU';
  return !folds;
}
const INPUT = 'input';

/** The tensor of a single-tensor call's inputs or outputs (tfjs-layers passes a list of one in functional models). */
const one = (t: tf.Tensor | tf.Tensor[]) => (Array.isArray(t) ? t[0] : t);

/** The name of the layer whose output is the model's output. */
export function outputLayer(model: tfl.LayersModel): string {
  return model.outputs[0].sourceLayer.name;
}

/**
 * The ranges without the model output's: the int8 graph then keeps its output (the logits) in float32 — its last
 * Conv/Gemm still runs on int8 inputs and weights — so a close argmax is not decided by a 256-level output grid.
 */
export function withFloatOutput(model: tfl.LayersModel, ranges: ActivationRanges): ActivationRanges {
  const { [outputLayer(model)]: _output, ...layers } = ranges.layers;
  return { input: ranges.input, layers };
}

export interface FakeQuantOptions {
  /** Weight of the old range in each update (default 0.999, TF-MOT's). */
  emaDecay?: number;
}

export class FakeQuantization {
  /** Fold the training batches' ranges in (onBatchEnd); pass it to fit's callbacks. */
  readonly callback: Callback;
  private readonly ranges: Map<string, ValueRange>;
  private readonly decay: number;
  /** [min, max] of each training forward pass's activations, by name, until the next onBatchEnd. */
  private pending: { name: string; extremes: tf.Tensor }[] = [];
  private restore: (() => void)[] = [];

  private constructor(ranges: ActivationRanges, options: FakeQuantOptions) {
    this.decay = options.emaDecay ?? 0.999;
    if (!(this.decay >= 0 && this.decay < 1)) {
      throw ruleError('INSIGHT_E_CONFIG', 'emaDecay must be in [0, 1).', { emaDecay: this.decay }, 'Pass e.g. emaDecay: 0.999 (TF-MOT).');
    }
    this.ranges = new Map([[INPUT, { ...ranges.input }], ...Object.entries(ranges.layers).map(([k, r]) => [k, { ...r }] as const)]);
    this.callback = {
      name: 'fakeQuantization',
      onBatchEnd: () => this.fold(),
      getState: () => this.current(),
      setState: (state) => {
        const saved = state as ActivationRanges;
        this.ranges.set(INPUT, { ...saved.input });
        for (const [name, r] of Object.entries(saved.layers)) this.ranges.set(name, { ...r });
      },
    };
  }

  /**
   * Swaps `model`'s layer calls for fake-quantised ones starting from `ranges` (calibrated: every layer whose output the
   * int8 graph quantises must have one, except the model's output layer, which stays float without one: withFloatOutput). Example: `const fq = FakeQuantization.attach(model, ranges); await fit(model, loader, { ...,
   * callbacks: [fq.callback] }); const qatRanges = await fq.detach();`.
   */
  static attach(model: tfl.LayersModel, ranges: ActivationRanges, options: FakeQuantOptions = {}): FakeQuantization {
    const points = quantizedPoints(model);
    const output = outputLayer(model);
    const missing = points.filter((p) => ranges.layers[p.layer] === undefined && p.layer !== output && quantizesOutput(model.getLayer(p.layer)))
      .map((p) => p.layer);
    if (missing.length > 0) {
      throw ruleError('INSIGHT_E_CONFIG', 'Quantisation-aware training needs a range for every quantised layer.',
        { missing }, 'Pass the ranges calibrate() gives for this model.');
    }
    const fq = new FakeQuantization(ranges, options);
    const input = model.inputs[0].id;
    let inputRecorded = false;
    try {
      for (const step of graphSteps(model)) {
        const layer = step.layer as unknown as Swappable;
        const own = layer.call;
        const inner = nativeBatchNormCall(step.layer); // own, or BatchNorm's training mode on the fused kernels
        const readsInput = step.inputs.some((t) => t.id === input);
        const recordsInput = readsInput && !inputRecorded;
        inputRecorded ||= readsInput;
        const name = step.layer.name;
        const quantized = quantizesOutput(step.layer) && ranges.layers[name] !== undefined; // the output may stay float
        layer.call = (inputs, kwargs) => {
          const training = kwargs?.training === true;
          const x = readsInput ? fq.quantize(INPUT, one(inputs), training && recordsInput) : inputs;
          const y = inner.call(layer, x, kwargs);
          return quantized ? fq.quantize(name, one(y), training) : y;
        };
        fq.restore.push(() => { layer.call = own; });
        if (KERNEL_CLASSES.includes(step.layer.getClassName()) && layer.kernel !== undefined) {
          const kernel = layer.kernel;
          layer.kernel = Object.create(kernel, { read: { value: () => fakeQuantizePerChannel(kernel.read()) } }) as { read(): tf.Tensor };
          fq.restore.push(() => { layer.kernel = kernel; });
        }
      }
    } catch (error) {
      fq.undo();
      throw error;
    }
    return fq;
  }

  /** The current ranges (a copy), in the calibration's layout. */
  current(): ActivationRanges {
    const { [INPUT]: input, ...layers } = Object.fromEntries([...this.ranges].map(([k, r]) => [k, { ...r }]));
    return { input, layers };
  }

  /** Folds pending batch ranges in, gives the layers their own calls and kernels back, and returns the ranges. */
  async detach(): Promise<ActivationRanges> {
    try {
      await this.fold();
    } finally {
      this.undo();
    }
    return this.current();
  }

  private undo(): void {
    for (const restore of this.restore.reverse()) restore();
    this.restore = [];
    tf.dispose(this.pending.map((p) => p.extremes));
    this.pending = [];
  }

  /** x fake-quantised at `name`'s range; in training, its [min, max] is kept for the moving average. */
  private quantize(name: string, x: tf.Tensor, record: boolean): tf.Tensor {
    if (record) this.pending.push({ name, extremes: tf.keep(tf.tidy(() => tf.stack([tf.min(x), tf.max(x)]))) });
    return fakeQuantize(x, this.ranges.get(name)!);
  }

  /** range ← decay·range + (1 − decay)·[min(batch min, 0), max(batch max, 0)] for each pending pass, in order. */
  private async fold(): Promise<void> {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    const stacked = tf.tidy(() => tf.stack(pending.map((p) => p.extremes)));
    tf.dispose(pending.map((p) => p.extremes));
    const values = await stacked.data();
    stacked.dispose();
    pending.forEach(({ name }, i) => {
      const r = this.ranges.get(name)!;
      r.min = Math.fround(this.decay * r.min + (1 - this.decay) * Math.min(values[2 * i], 0));
      r.max = Math.fround(this.decay * r.max + (1 - this.decay) * Math.max(values[2 * i + 1], 0));
    });
  }
}
