// A model version served from an .onnx file (as `insight export` writes it, fp32 or int8 QDQ) through ONNX Runtime:
// the same Servable (batcher, leases, hot swap, routes) with a session on its own worker thread (onnx_thread.ts)
// doing the forward passes, so the event loop keeps serving while a batch computes. Classes, input shape and
// normalization come from the file's metadata_props (onnx/metadata.ts). The graph outputs logits; their softmax is
// taken with the backend's op, as for a tfjs version. No gradients: such a version is not explained.
import { tf } from '../../backend';
import type { InsightModelMetadata } from '../../models/metadata';
import { ONNX_METADATA_KEY, readOnnxMetadata } from '../../onnx';
import { MODEL_ONNX } from '../../run/model_io';
import { ModelFileReader, type ModelReadOptions } from '../../run/safe_files';
import type { BatchObserver, BatcherOptions, BatchOutput } from '../batching/batcher';
import { OnnxThread } from './onnx_thread';
import { Servable, type ModelRunner } from './servable';

/** An ONNX Runtime session on a worker thread: x [rows, H, W, C] → logits [rows, numClasses]. */
export class OnnxRunner implements ModelRunner {
  readonly platform = 'onnxruntime_onnx';
  readonly explanationModel = null;

  constructor(private readonly model: OnnxThread, private readonly numClasses: number) {}

  async forward(x: Float32Array, rows: number): Promise<BatchOutput> {
    const logits = await this.model.predict(x, rows);
    const probabilities = tf.tidy(() => tf.softmax(tf.tensor2d(logits, [rows, this.numClasses])));
    try {
      return { logits, probabilities: (await probabilities.data()) as Float32Array };
    } finally {
      probabilities.dispose();
    }
  }

  dispose(): Promise<void> {
    return this.model.dispose();
  }
}

/**
 * Loads `<dir>/model.onnx` into an ONNX Runtime session (on its own thread, with `threads` intra-op threads) and
 * checks it can serve: Insight metadata present, input [batch, H, W, C] and output [batch, classNames.length]
 * matching it, and a warm-up pass on two all-zero images (the batch dimension must be free) giving finite numbers. Throws an Error whose message
 * says what is wrong (the repository records it as the version's status). The file is checked and read as `read` says
 * (safe_files.ts: a regular file inside the repository, under the load's byte budget, within its timeout).
 */
export async function loadOnnxServable(name: string, version: number, dir: string, fingerprint: string,
  batcherOptions: BatcherOptions, observer: BatchObserver, threads?: number, read: ModelReadOptions = {}): Promise<Servable> {
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
    const servable = new Servable(name, version, dir, fingerprint, new OnnxRunner(model, metadata.classNames.length), metadata, batcherOptions, observer);
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
