// LoRA (Hu et al., 2021) as a TensorFlow.js layer: a Dense or Conv2D whose kernel W is frozen and whose output
// gets a trainable low-rank update, y = act(x·W + (alpha/r)·(x·A)·B + b). For a Conv2D, A has W's kernel size
// ([kh, kw, in, r]: a conv to r channels with W's strides, padding and dilation) and B is a 1x1 conv [1, 1, r, out],
// so the update is a conv with the kernel (alpha/r)·A·B. B starts at zero: the layer starts exactly as the original.
// Registered for serialisation, so a saved model with unmerged LoRA layers reloads with loadModel; `mergedKernel`
// gives W + (alpha/r)·A·B for merging back into a plain layer (see lora.ts).
import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';

/** The wrapped layer as tfjs serialises it: { className: 'Dense' | 'Conv2D', config }. */
export interface LoraTarget {
  className: 'Dense' | 'Conv2D';
  config: tf.serialization.ConfigDict;
}

export interface LoraLayerArgs {
  target: LoraTarget;
  /** Rank r of the update (>= 1). */
  rank: number;
  /** The update is scaled by alpha / rank. */
  alpha: number;
  /** Seeds A's initializer (Glorot uniform). */
  seed?: number;
  name?: string;
  trainable?: boolean;
}

export class LoraLayer extends tfl.layers.Layer {
  static readonly className = 'InsightLora';
  readonly target: LoraTarget;
  readonly rank: number;
  readonly alpha: number;
  private readonly seed: number | undefined;
  private readonly activationLayer: tfl.layers.Layer;
  private kernel!: tfl.LayerVariable;
  private bias: tfl.LayerVariable | null = null;
  private loraA!: tfl.LayerVariable;
  private loraB!: tfl.LayerVariable;

  constructor(args: LoraLayerArgs) {
    super({ name: args.name, trainable: args.trainable });
    this.target = args.target;
    this.rank = args.rank;
    this.alpha = args.alpha;
    this.seed = args.seed;
    const c = args.target.config;
    if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') {
      throw new Error(`LoRA supports channels-last convolutions only; layer ${String(c.name)} is ${String(c.dataFormat)}.`);
    }
    this.activationLayer = tfl.layers.activation({ activation: (c.activation as 'linear' | undefined) ?? 'linear' });
  }

  get scale(): number {
    return this.alpha / this.rank;
  }

  private get units(): number {
    const c = this.target.config;
    return (this.target.className === 'Dense' ? c.units : c.filters) as number;
  }

  private get kernelSize(): [number, number] {
    return pair(this.target.config.kernelSize as number | number[]);
  }

  /** Kernel shapes: W [in, units] or [kh, kw, in, units]; A [in, r] or [kh, kw, in, r]; B [r, units] or [1, 1, r, units]. */
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const inC = shape[shape.length - 1] as number;
    const dense = this.target.className === 'Dense';
    const [kh, kw] = dense ? [1, 1] : this.kernelSize;
    const k = (last: number) => (dense ? [inC, last] : [kh, kw, inC, last]);
    const zeros = tfl.initializers.zeros();
    this.kernel = this.addWeight('kernel', k(this.units), 'float32', zeros, undefined, false);
    if (this.target.config.useBias !== false) this.bias = this.addWeight('bias', [this.units], 'float32', zeros, undefined, false);
    this.loraA = this.addWeight('lora_a', k(this.rank), 'float32', tfl.initializers.glorotUniform({ seed: this.seed }), undefined, true);
    this.loraB = this.addWeight('lora_b', dense ? [this.rank, this.units] : [1, 1, this.rank, this.units], 'float32', zeros, undefined, true);
    this.built = true;
  }

  /**
   * x → act(x·(W + (alpha/r)·A·B) + b). The low-rank update is folded into the kernel before the one matmul or conv
   * (as loralib's ConvLoRA does): the same function as the two-branch form x·W + s·(x·A)·B, for the cost of a small
   * [k·k·in, r] x [r, out] product per step instead of two extra convolutions; gradients reach A and B through it.
   */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const kernel = this.effectiveKernel();
      let y: tf.Tensor;
      if (this.target.className === 'Dense') {
        const flat = tf.reshape(x, [-1, x.shape[x.shape.length - 1]]) as tf.Tensor2D;
        y = tf.reshape(tf.matMul(flat, kernel as tf.Tensor2D), [...x.shape.slice(0, -1), this.units]);
      } else {
        const c = this.target.config;
        const strides = pair(c.strides as number | number[] | undefined ?? 1);
        const dilations = pair(c.dilationRate as number | number[] | undefined ?? 1);
        y = tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, strides, c.padding as 'same' | 'valid', 'NHWC', dilations);
      }
      if (this.bias !== null) y = tf.add(y, this.bias.read());
      return this.activationLayer.apply(y) as tf.Tensor;
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    if (this.target.className === 'Dense') return [...shape.slice(0, -1), this.units];
    const c = this.target.config;
    const strides = pair(c.strides as number | number[] | undefined ?? 1);
    const dilations = pair(c.dilationRate as number | number[] | undefined ?? 1);
    const [kh, kw] = this.kernelSize;
    const out = (size: number | null, k: number, s: number, d: number) => {
      if (size === null) return null;
      return c.padding === 'same' ? Math.ceil(size / s) : Math.ceil((size - (k - 1) * d) / s);
    };
    return [shape[0], out(shape[1], kh, strides[0], dilations[0]), out(shape[2], kw, strides[1], dilations[1]), this.units];
  }

  /** Copies the wrapped layer's kernel and bias (a built Dense or Conv2D of the same shape) into this layer. */
  copyBaseWeights(layer: tfl.layers.Layer): void {
    const find = (suffix: string) => layer.weights.find((w) => w.originalName.endsWith(suffix) || w.name.endsWith(suffix));
    this.kernel.write(find('kernel')!.read());
    const bias = find('bias');
    if (this.bias !== null && bias !== undefined) this.bias.write(bias.read());
  }

  /** W + (alpha/r)·A·B in W's shape ([in, units] or [kh, kw, in, units]): the kernel the layer computes with. */
  private effectiveKernel(): tf.Tensor {
    const a = this.loraA.read();
    const product = tf.matMul(tf.reshape(a, [-1, this.rank]) as tf.Tensor2D, tf.reshape(this.loraB.read(), [this.rank, this.units]) as tf.Tensor2D);
    return tf.add(this.kernel.read(), tf.mul(tf.reshape(product, [...a.shape.slice(0, -1), this.units]), this.scale));
  }

  /** The kernel of the equivalent plain layer, W + (alpha/r)·A·B, as a new tensor; the caller disposes it. */
  mergedKernel(): tf.Tensor {
    return tf.tidy(() => this.effectiveKernel());
  }

  /** The bias of the wrapped layer, or null without one. */
  biasValue(): tf.Tensor | null {
    return this.bias === null ? null : this.bias.read().clone();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      target: this.target as unknown as tf.serialization.ConfigDictValue,
      rank: this.rank,
      alpha: this.alpha,
      seed: this.seed ?? null,
    };
  }

  static fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict,
  ): T {
    return new cls({ ...config, seed: config.seed ?? undefined });
  }
}

function pair(v: number | number[]): [number, number] {
  return Array.isArray(v) ? [v[0], v[v.length > 1 ? 1 : 0]] : [v, v];
}

tf.serialization.registerClass(LoraLayer);
