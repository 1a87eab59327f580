// One loaded model version ("servable", as TF Serving calls it): what runs its forward passes (a ModelRunner: the
// tfjs model here, an ONNX Runtime session in onnx_servable.ts), its Insight metadata, and the dynamic batcher every
// request to it goes through. Requests hold a lease while they use it; a retired servable is disposed only when the
// last lease is released and its queue has drained, so a hot swap never fails a request that already resolved the
// old version.
import type * as tfl from '@tensorflow/tfjs-layers';

import { captureFunction, type CapturedFunction } from '@insight/tfjs-backend-torch';

import { tf } from '../../backend';
import { normalizationTable } from '../../data/normalize';
import { serveError } from '../../errors';
import { inferenceOutputs, PLAIN_INFERENCE, resolveInference, type ResolvedInference } from '../../models/inference_output';
import { getInsightMetadata, type InsightModelMetadata, type TtaSettings } from '../../models/metadata';
import { ttaViewCount } from '../../models/tta';
import { loadModel } from '../../run/model_io';
import type { ModelReadOptions } from '../../run/safe_files';
import { DynamicBatcher, type BatchObserver, type BatcherOptions, type BatchOutput } from '../batching/batcher';
import { inEnginePasses, instancesPerPass } from '../batching/engine_passes';

/** Runs a version's forward passes; the rest of serving (batching, leases, routes) is the same for every format. */
export interface ModelRunner {
  /** KServe v2 metadata's platform: 'tensorflowjs_layers' or 'onnxruntime_onnx'. */
  readonly platform: string;
  /** What forward applies to the model's output (the version's metadata, serve's --tta overriding its TTA). */
  readonly inference: ResolvedInference;
  /**
   * x: [rows, H, W, C] normalized floats → the reported logits and probabilities, [rows, numClasses] each, as the
   * version's inference settings say (models/inference_output.ts; plain: the model's logits and their softmax).
   * `underLoad`: other requests wait (batcher.ts ForwardFn), so compute off the event loop where the runner can.
   */
  forward(x: Float32Array, rows: number, underLoad?: boolean): Promise<BatchOutput>;
  /**
   * The tfjs model explanations differentiate, or null when the version has none (an ONNX graph has no gradients).
   * Explanations use the raw model (its own output, no temperature or TTA): they explain what the network computes.
   */
  readonly explanationModel: tfl.LayersModel | null;
  /** Frees the model (tensors or session). */
  dispose(): Promise<void>;
}

/** A tfjs layers model run on the active backend, its output turned into the reported one by `inference`. */
export class TfjsRunner implements ModelRunner {
  readonly platform = 'tensorflowjs_layers';
  /** A Sequential model's layers, called one after the other (see directLayers), or null: model.apply. */
  private chain: tfl.layers.Layer[] | null = null;

  /**
   * The pass (logits, then what `inference` makes of them) as a captured function: after two eager runs per batch
   * size, replayed natively in one call (tfjs-backend-torch's captureFunction; eager on other backends).
   */
  private pass: CapturedFunction<tf.Tensor[]>;

  constructor(private readonly model: tfl.LayersModel, private readonly inputShape: readonly [number, number, number],
    readonly inference: ResolvedInference = PLAIN_INFERENCE) {
    this.pass = this.capturedPass();
  }

  private capturedPass(): CapturedFunction<tf.Tensor[]> {
    return captureFunction((input: tf.Tensor) => {
      const out = inferenceOutputs((x) => this.logitsOf(x), input as tf.Tensor4D, this.inference);
      return [out.logits, out.probabilities];
    });
  }

  /** What the captured pass did: replays, recordings, and why a batch size stays eager. */
  get captureStats(): ReturnType<CapturedFunction<tf.Tensor[]>['stats']> {
    return this.pass.stats();
  }

  get explanationModel(): tfl.LayersModel {
    return this.model;
  }

  /**
   * Runs a Sequential model as its layers' own calls, skipping what model.apply does around them for every pass
   * (symbolic checks, name scopes, the container's feed dictionary): a batch-1 pass of the seed CNN spends about as
   * long there as in its kernels. Used only when it gives exactly model.apply's outputs on `probe` inputs.
   */
  useDirectLayers(probe: Float32Array, rows: number): void {
    if (this.model.getClassName() !== 'Sequential') return;
    const layers = this.model.layers;
    let same = false;
    try {
      same = tf.tidy(() => {
        const input = tf.tensor4d(probe, [rows, ...this.inputShape]);
        const viaApply = this.model.apply(input, { training: false }) as tf.Tensor;
        const viaCalls = layers.reduce((h: tf.Tensor, layer) => layer.call(h, { training: false }) as tf.Tensor, input);
        return tf.all(tf.equal(viaApply, viaCalls)).dataSync()[0] === 1;
      });
    } catch {
      // A layer whose own call needs what apply gives it (custom layers, kwargs): model.apply it is.
    }
    this.chain = same ? layers : null;
    this.pass.dispose(); // record the chosen path afresh
    this.pass = this.capturedPass();
  }

  /** The model's logits for a batch: [rows, numClasses]. */
  private logitsOf(input: tf.Tensor4D): tf.Tensor2D {
    if (this.chain === null) return this.model.apply(input, { training: false }) as tf.Tensor2D;
    return this.chain.reduce((h: tf.Tensor, layer) => layer.call(h, { training: false }) as tf.Tensor, input) as tf.Tensor2D;
  }

  /**
   * One forward pass in inference mode (with TTA: one pass on every view of the batch, concatenated); every
   * intermediate tensor is freed. The direct-layers path serves every setting: it only replaces model.apply.
   * Under load a replayed pass computes on the backend's compute thread (callAsync), so the event loop takes in the next
   * requests meanwhile; a lone request's pass runs inline, saving the two thread hops.
   */
  async forward(x: Float32Array, rows: number, underLoad = false): Promise<BatchOutput> {
    const input = tf.tensor4d(x, [rows, ...this.inputShape]);
    let outputs: tf.Tensor[];
    try {
      outputs = underLoad ? await this.pass.callAsync(input) : tf.tidy(() => this.pass(input));
    } finally {
      input.dispose();
    }
    const [logits, probabilities] = outputs;
    try {
      return { logits: (await logits.data()) as Float32Array, probabilities: (await probabilities.data()) as Float32Array };
    } finally {
      tf.dispose([logits, probabilities]);
    }
  }

  async dispose(): Promise<void> {
    this.pass.dispose();
    this.model.dispose();
  }
}

export class Servable {
  private leases = 0;
  private retired: Promise<void> | null = null;
  private leaseWaiters: (() => void)[] = [];
  readonly batcher: DynamicBatcher;
  /** [height, width, channels] of one instance. */
  readonly inputShape: [number, number, number];
  readonly loadedAt = new Date();
  /** uint8 RGB → model input, from the metadata's normalization (see data/normalize.ts). */
  readonly normalizationLut: Float32Array;

  constructor(
    readonly name: string,
    readonly version: number,
    readonly dir: string,
    readonly fingerprint: string,
    private readonly runner: ModelRunner,
    readonly metadata: InsightModelMetadata,
    batcherOptions: BatcherOptions,
    observer: BatchObserver,
  ) {
    this.inputShape = [...metadata.inputShape];
    this.normalizationLut = normalizationTable(metadata.normalization);
    const rowSize = this.inputShape[0] * this.inputShape[1] * this.inputShape[2];
    // A pass holds at most --max-batch-size rows, TTA's views included (engine_passes.ts).
    const numClasses = metadata.classNames.length;
    const perPass = instancesPerPass(batcherOptions.maxBatchSize, ttaViewCount(runner.inference.tta));
    this.batcher = new DynamicBatcher(inEnginePasses((x, rows, underLoad) => this.runner.forward(x, rows, underLoad), rowSize, numClasses, perPass), rowSize,
      numClasses, batcherOptions, observer, `${name}/${version}`);
  }

  get numClasses(): number {
    return this.metadata.classNames.length;
  }

  /** KServe v2 metadata's platform ('tensorflowjs_layers', 'onnxruntime_onnx'). */
  get platform(): string {
    return this.runner.platform;
  }

  /** The inference settings its answers are computed with (output kind, temperature, TTA), as metadata routes report them. */
  get inference(): ResolvedInference {
    return this.runner.inference;
  }

  /**
   * The served model, for explanations (serve/explain/): they run in their own queue beside the batcher, only read
   * the model, and hold a lease while they do. Views they build over it (Grad-CAM's tap) are freed by retire().
   * A version without a tfjs model (ONNX) cannot be explained: 400 SERVE_E_BAD_INPUT.
   */
  get explanationModel(): tfl.LayersModel {
    const model = this.runner.explanationModel;
    if (model === null) {
      throw serveError('SERVE_E_BAD_INPUT', 'Explanations need gradients, so only a version served as a tfjs model (model.json) can be explained.',
        { model: this.name, version: this.version, platform: this.platform },
        'Explain with a tfjs version of the model: serve it beside the ONNX one and POST to /v1/models/<model>/versions/<v>:explain, or run `insight explain` on the run.');
    }
    return model;
  }

  /** Floats per instance. */
  get rowSize(): number {
    return this.batcher.rowSize;
  }

  /** x: [rows, H, W, C] normalized floats → the reported logits and probabilities (ModelRunner.forward), [rows, numClasses] each. */
  infer(x: Float32Array, rows: number): Promise<BatchOutput> {
    return this.batcher.submit(x, rows);
  }

  acquire(): void {
    this.leases++;
  }

  release(): void {
    this.leases--;
    if (this.leases === 0) for (const resolve of this.leaseWaiters.splice(0)) resolve();
  }

  /** Disposes the model once no request holds or queues on it. Idempotent. */
  retire(): Promise<void> {
    this.retired ??= (async () => {
      if (this.leases > 0) await new Promise<void>((resolve) => this.leaseWaiters.push(resolve));
      await this.batcher.close();
      await this.runner.dispose();
    })();
    return this.retired;
  }

  /** One pass on `rows` all-zero instances: compiles kernels before the first request, and catches broken weights. */
  async warmUp(rows = 1): Promise<void> {
    const { probabilities } = await this.runner.forward(new Float32Array(rows * this.rowSize), rows);
    if (!probabilities.every(Number.isFinite)) {
      throw new Error('A served model must compute finite outputs. Received: non-finite outputs on an all-zero input. Check the weights.');
    }
  }
}

/**
 * Loads `dir` (its files checked and read as `read` says: safe_files.ts) and checks it can serve: Insight metadata
 * present, one input [null, H, W, C] matching the metadata, one output [null, classNames.length], valid inference
 * settings (`tta`, serve's --tta, overriding the stored TTA when given), and a warm-up pass on zeros that gives finite
 * numbers. Throws an Error whose message says what is wrong (the repository records it as the version's status).
 */
export async function loadServable(name: string, version: number, dir: string, fingerprint: string,
  batcherOptions: BatcherOptions, observer: BatchObserver, read: ModelReadOptions = {}, tta: TtaSettings | null = null): Promise<Servable> {
  const model = await loadModel(dir, read);
  try {
    const metadata = getInsightMetadata(model, dir);
    const input = model.inputs.map((t) => t.shape);
    const output = model.outputs.map((t) => t.shape);
    const [h, w, c] = metadata.inputShape;
    if (input.length !== 1 || JSON.stringify(input[0]) !== JSON.stringify([null, h, w, c])) {
      throw new Error(`A served model must have one input of shape [null, ${h}, ${w}, ${c}] (its metadata inputShape). ` +
        `Received: inputs=${JSON.stringify(input)}. Re-save the model with matching metadata.`);
    }
    if (output.length !== 1 || JSON.stringify(output[0]) !== JSON.stringify([null, metadata.classNames.length])) {
      throw new Error(`A served model must have one output of shape [null, ${metadata.classNames.length}] (one logit per class name). ` +
        `Received: outputs=${JSON.stringify(output)}. Re-save the model with matching classNames.`);
    }
    const runner = new TfjsRunner(model, metadata.inputShape, resolveInference(metadata, dir, tta));
    runner.useDirectLayers(probeInput(2 * h * w * c), 2);
    const servable = new Servable(name, version, dir, fingerprint, runner, metadata, batcherOptions, observer);
    await servable.warmUp();
    return servable;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** Seeded values in [-1, 1): an input on which two ways of running a model must agree. */
function probeInput(length: number): Float32Array {
  const out = new Float32Array(length);
  let state = 2463534242;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = (state >>> 0) / 2 ** 31 - 1;
  }
  return out;
}
