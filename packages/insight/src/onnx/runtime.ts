// A small wrapper over onnxruntime-node for Insight's classifiers: load an .onnx file (or its bytes), run a batch
// of NHWC float32 pixels, read the output. Used by tests (tfjs vs ONNX Runtime), by quantisation (calibrated
// int8 graphs checked on data) and by serving (.onnx versions).
//
// Example:
//   const model = await OnnxModel.load('model/model.onnx', { threads: 1 });
//   const logits = await model.predict(pixels, 8); // pixels: [8, h, w, 3] flat; logits: [8, numClasses] flat
//   await model.dispose();
import * as ort from 'onnxruntime-node';
import { ruleError } from '../errors';

/** Options of OnnxModel.load. */
export interface OnnxLoadOptions {
  /** Intra-op threads of the session (ONNX Runtime's default: all cores). */
  threads?: number;
  /** Where ONNX Runtime writes the graph after its optimisations (to check which kernels it fused). */
  optimizedModelFilePath?: string;
}

/** One ONNX model loaded in ONNX Runtime: a single image input, a single output. */
export class OnnxModel {
  /** Name of the graph input (the NHWC float32 image batch). */
  readonly inputName: string;
  /** Name of the graph output (logits or probabilities). */
  readonly outputName: string;
  /** Input shape without the batch dimension: [height, width, channels]. */
  readonly inputShape: number[];
  /** Output shape without the batch dimension, e.g. [numClasses]. */
  readonly outputShape: number[];

  private constructor(private session: ort.InferenceSession | null) {
    const s = session as ort.InferenceSession;
    this.inputName = s.inputNames[0];
    this.outputName = s.outputNames[0];
    this.inputShape = fixedDims(s.inputMetadata[0]);
    this.outputShape = fixedDims(s.outputMetadata[0]);
  }

  /** Loads an ONNX model from a file path or from its bytes. */
  static async load(pathOrBytes: string | Uint8Array, options: OnnxLoadOptions = {}): Promise<OnnxModel> {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      ...(options.threads !== undefined ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
      ...(options.optimizedModelFilePath !== undefined ? { optimizedModelFilePath: options.optimizedModelFilePath } : {}),
    };
    let session: ort.InferenceSession;
    try {
      session = typeof pathOrBytes === 'string'
        ? await ort.InferenceSession.create(pathOrBytes, sessionOptions)
        : await ort.InferenceSession.create(pathOrBytes, sessionOptions);
    } catch (error) {
      throw ruleError('INSIGHT_E_MODEL', 'An ONNX model must be a valid .onnx file that ONNX Runtime can load.',
        { model: typeof pathOrBytes === 'string' ? pathOrBytes : `${pathOrBytes.byteLength} bytes`, error: (error as Error).message },
        'Export it again with `insight export`.', { cause: error });
    }
    if (session.inputNames.length !== 1 || session.outputNames.length !== 1) {
      const names = { inputs: session.inputNames, outputs: session.outputNames };
      await session.release();
      throw ruleError('INSIGHT_E_MODEL', 'An Insight ONNX model must have one image input and one output.', names,
        'Export the classifier with `insight export`.');
    }
    return new OnnxModel(session);
  }

  /**
   * Runs a batch. pixels: [batch, height, width, channels] float32, flat (NHWC, the tfjs model's input);
   * returns the output [batch, ...outputShape] flat.
   */
  async predict(pixels: Float32Array, batch: number): Promise<Float32Array> {
    const session = this.live();
    const perImage = this.inputShape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(batch) || batch < 1 || pixels.length !== batch * perImage) {
      throw ruleError('INSIGHT_E_CONFIG', 'predict takes batch * height * width * channels pixels.',
        { pixels: pixels.length, batch, inputShape: this.inputShape }, `Pass ${perImage} pixels per image.`);
    }
    const input = new ort.Tensor('float32', pixels, [batch, ...this.inputShape]);
    const outputs = await session.run({ [this.inputName]: input });
    const output = outputs[this.outputName];
    const data = output.data as Float32Array;
    output.dispose();
    return data;
  }

  /** Releases the ONNX Runtime session; the model cannot predict afterwards. Safe to call twice. */
  async dispose(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session) await session.release();
  }

  private live(): ort.InferenceSession {
    if (!this.session) {
      throw ruleError('INSIGHT_E_MODEL', 'An OnnxModel cannot predict after dispose().', { disposed: true },
        'Load the model again with OnnxModel.load.');
    }
    return this.session;
  }
}

/** The fixed dimensions of a tensor input/output after the (symbolic) batch dimension. */
function fixedDims(meta: ort.InferenceSession.ValueMetadata): number[] {
  if (!meta.isTensor) return [];
  return meta.shape.slice(1).map((d) => (typeof d === 'number' ? d : -1));
}
