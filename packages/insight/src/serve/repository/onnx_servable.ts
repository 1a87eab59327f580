// A model version served from an .onnx file (as `insight export` writes it, fp32 or int8 QDQ) through ONNX Runtime:
// the same Servable (batcher, leases, hot swap, routes) with a session on its own worker thread (onnx_thread.ts)
// doing the forward passes, so the event loop keeps serving while a batch computes. Classes, input shape and
// normalization come from the file's metadata_props (onnx/metadata.ts), and so do the inference settings: the graph's
// output (logits, or probabilities for an ensemble) becomes the reported logits and probabilities through
// models/inference_output.ts with the backend's ops, as for a tfjs version (temperature, output kind). Test-time
// augmentation is supported: the views are made with tfjs ops and run through the session as ONE batch of
// views x rows images, then averaged. No gradients: such a version is not explained.
import { tf } from '../../backend';
import { inferenceViews, outputsOfViews, PLAIN_INFERENCE, resolveInference, type ResolvedInference } from '../../models/inference_output';
import type { InsightModelMetadata, TtaSettings } from '../../models/metadata';
import { ttaViews } from '../../models/tta';
import { ONNX_METADATA_KEY, readOnnxMetadata } from '../../onnx';
import { MODEL_ONNX } from '../../run/model_io';
import { ModelFileReader, type ModelReadOptions } from '../../run/safe_files';
import type { BatchObserver, BatcherOptions, BatchOutput } from '../batching/batcher';
import { OnnxThread } from './onnx_thread';
import { Servable, type ModelRunner } from './servable';

/**
 * An ONNX Runtime session on a worker thread: x [rows, H, W, C] → the graph's output [rows, numClasses] → the
 * reported logits and probabilities as `inference` says (with TTA, the session runs [views * rows, H, W, C]).
 */
export class OnnxRunner implements ModelRunner {
  readonly platform = 'onnxruntime_onnx';
  readonly explanationModel = null;

  constructor(private readonly model: OnnxThread, private readonly numClasses: number,
    private readonly inputShape: readonly [number, number, number], readonly inference: ResolvedInference = PLAIN_INFERENCE) {}

  async forward(x: Float32Array, rows: number): Promise<BatchOutput> {
    const views = inferenceViews(this.inference);
    const input = views === 1 ? x : await viewsOf(x, rows, this.inputShape, this.inference);
    const raw = await this.model.predict(input, views * rows);
    const [logits, probabilities] = tf.tidy(() => {
      const out = outputsOfViews(tf.tensor2d(raw, [views * rows, this.numClasses]), views, this.inference);
      return [out.logits, out.probabilities];
    });
    try {
      return { logits: (await logits.data()) as Float32Array, probabilities: (await probabilities.data()) as Float32Array };
    } finally {
      tf.dispose([logits, probabilities]);
    }
  }

  dispose(): Promise<void> {
    return this.model.dispose();
  }
}

/** The TTA views of a batch as one input for the session: x [rows, H, W, C] → [views * rows, H, W, C] (models/tta.ts). */
async function viewsOf(x: Float32Array, rows: number, inputShape: readonly [number, number, number], inference: ResolvedInference): Promise<Float32Array> {
  const views = tf.tidy(() => ttaViews(tf.tensor4d(x, [rows, ...inputShape]), inference.tta));
  try {
    return (await views.data()) as Float32Array;
  } finally {
    views.dispose();
  }
}

/**
 * Loads `<dir>/model.onnx` into an ONNX Runtime session (on its own thread, with `threads` intra-op threads) and
 * checks it can serve: Insight metadata present, input [batch, H, W, C] and output [batch, classNames.length]
 * matching it, valid inference settings (`tta`, serve's --tta, overriding the stored TTA when given), and a warm-up pass on two all-zero images (the batch dimension must be free) giving finite numbers. Throws an Error whose message
 * says what is wrong (the repository records it as the version's status). The file is checked and read as `read` says
 * (safe_files.ts: a regular file inside the repository, under the load's byte budget, within its timeout).
 */
export async function loadOnnxServable(name: string, version: number, dir: string, fingerprint: string,
  batcherOptions: BatcherOptions, observer: BatchObserver, threads?: number, read: ModelReadOptions = {}, tta: TtaSettings | null = null): Promise<Servable> {
  const files = new ModelFileReader(dir, read);
  const bytes = await files.read(MODEL_ONNX, { max: files.remainingBytes, what: 'the load\'s byte budget' });
  const metadata = servedMetadata(bytes, files.shown(`${dir}/${MODEL_ONNX}`));
  const model = await OnnxThread.start(bytes, threads);
  try {
    const [h, w, c] = metadata.inputShape;
    if (JSON.stringify(model.inputShape) !== JSON.stringify([h, w, c])) {
      throw new Error(`A served ONNX model must have one input of shape [batch, ${h}, ${w}, ${c}] (its metadata inputShape, NHWC). ` +
        `Received: input=${JSON.stringify(['batch', ...model.inputShape])}. Export the model again with \`insight export\`.`);
    }
    if (JSON.stringify(model.outputShape) !== JSON.stringify([metadata.classNames.length])) {
      throw new Error(`A served ONNX model must have one output of shape [batch, ${metadata.classNames.length}] (one logit per class name). ` +
        `Received: output=${JSON.stringify(['batch', ...model.outputShape])}. Export the model again with \`insight export\`.`);
    }
    const runner = new OnnxRunner(model, metadata.classNames.length, metadata.inputShape, resolveInference(metadata, dir, tta));
    const servable = new Servable(name, version, dir, fingerprint, runner, metadata, batcherOptions, observer);
    try {
      await servable.warmUp(2);
    } catch (error) {
      throw new Error('A served ONNX model must run a batch of 2 all-zero images to finite outputs (its batch dimension free). ' +
        `Received: error=${JSON.stringify((error as Error).message)}. Export the model again with \`insight export\`.`);
    }
    return servable;
  } catch (error) {
    await model.dispose();
    throw error;
  }
}

/** The Insight metadata of an .onnx file's bytes, checked for what serving reads; an Error naming `file` otherwise. */
function servedMetadata(bytes: Uint8Array, file: string): InsightModelMetadata {
  let meta: Partial<InsightModelMetadata> | null = null;
  let error: string | null = null;
  try {
    meta = readOnnxMetadata(bytes);
  } catch (e) {
    error = (e as Error).message;
  }
  const [h, w, c] = meta?.inputShape ?? [];
  if (meta === null || meta.formatVersion !== 1 || !Array.isArray(meta.classNames) || meta.classNames.length === 0
    || ![h, w, c].every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0) || typeof meta.normalization !== 'object' || meta.normalization === null) {
    const received = error !== null ? `error=${JSON.stringify(error)}` : `metadata=${JSON.stringify(meta).slice(0, 200)}`;
    throw new Error('A served ONNX model must carry Insight metadata (formatVersion 1, input shape, class names, normalization) as JSON in ' +
      `its metadata_props["${ONNX_METADATA_KEY}"]. Received: model=${JSON.stringify(file)}, ${received}. Export the model with \`insight export\`.`);
  }
  return meta as InsightModelMetadata;
}
