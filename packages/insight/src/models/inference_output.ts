// The one place where a model's raw output becomes the { logits, probabilities } that evaluate, predict and serve
// report, as the model's metadata `inference` settings say (output kind, temperature, test-time augmentation), with
// `--tta` overriding the stored TTA. Explanations (explain/, serve/explain/) do not come here: they differentiate
// the raw model's own output.
//
// Per view (the original image, or a TTA view: models/tta.ts), with r the model's raw output row and T the temperature:
//   output 'logits'        (default): z = r / T                    p = softmax(z)
//   output 'probabilities' (ensembles): z = log(max(r, 1e-30)) / T   p = r when T = 1, else softmax(z)
// One view: the reported "logits" are z and the probabilities p. Several views: p = the mean of the views'
// probabilities, and the reported "logits" are log(max(p, 1e-30)). So softmax(reported logits) = reported
// probabilities in every case (up to float rounding and the clamp), which keeps serve's "logits" signature
// meaningful and evaluate's cross-entropy of the logits equal to the NLL of the reported probabilities.
// Without settings (logits, T = 1, no TTA) this is exactly model output → softmax, with no extra op.
import { tf } from '../backend';
import { ruleError } from '../errors';
import type { InferenceSettings, InsightModelMetadata, TtaSettings } from './metadata';
import { ttaViewCount, ttaViews } from './tta';
import { checkTta, formatTta, NO_TTA } from './tta_settings';

/** Smallest probability whose log is taken (log 1e-30 = -69.08): a probability of 0 reports a finite log. */
export const MIN_LOG_PROBABILITY = 1e-30;

/** InferenceSettings with every field decided and checked. */
export interface ResolvedInference {
  output: 'logits' | 'probabilities';
  temperature: number;
  tta: TtaSettings;
}

/** No settings: softmax of the logits, T = 1, no TTA. */
export const PLAIN_INFERENCE: Readonly<ResolvedInference> = Object.freeze({ output: 'logits', temperature: 1, tta: NO_TTA });

/** What the reported outputs are, [n, numClasses] each. */
export interface InferenceOutputs {
  logits: tf.Tensor2D;
  probabilities: tf.Tensor2D;
}

/**
 * The settings to apply for a model: its metadata's `inference` (checked: INSIGHT_E_MODEL naming `source` when
 * wrong), with `tta` overriding the stored TTA when given (a checked --tta: INSIGHT_E_CONFIG when its shift is too
 * large for the model's input; `NO_TTA` turns a stored one off; null/undefined keeps the stored one).
 */
export function resolveInference(meta: Pick<InsightModelMetadata, 'inference' | 'inputShape'>, source: string, tta?: TtaSettings | null): ResolvedInference {
  const settings = (meta.inference ?? {}) as InferenceSettings;
  const fix = 'Fix `inference` in the model\'s Insight metadata (model.json userDefinedMetadata.insight), or save the model again.';
  if (typeof settings !== 'object' || settings === null) {
    throw ruleError('INSIGHT_E_MODEL', 'A model\'s inference settings must be an object { output?, temperature?, tta? }.', { model: source, inference: settings }, fix);
  }
  const output = settings.output ?? 'logits';
  if (output !== 'logits' && output !== 'probabilities') {
    throw ruleError('INSIGHT_E_MODEL', 'A model\'s inference.output must be \'logits\' or \'probabilities\'.', { model: source, output }, fix);
  }
  const temperature = settings.temperature ?? 1;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature <= 0) {
    throw ruleError('INSIGHT_E_MODEL', 'A model\'s inference.temperature must be a finite number > 0.', { model: source, temperature }, fix);
  }
  const resolvedTta = tta != null
    ? checkTta(tta, meta.inputShape, 'INSIGHT_E_CONFIG', '--tta')
    : settings.tta == null ? NO_TTA : checkTta(settings.tta, meta.inputShape, 'INSIGHT_E_MODEL', `${source} inference.tta`);
  return { output, temperature, tta: resolvedTta };
}

/** True when the settings change nothing: the model's output is logits and their softmax is reported. */
export function isPlainInference(settings: ResolvedInference): boolean {
  return settings.output === 'logits' && settings.temperature === 1 && ttaViewCount(settings.tta) === 1;
}

/** One line for people, e.g. 'temperature 1.5, test-time augmentation flip-shift=1 (6 views)'; 'softmax of the logits' when plain. */
export function describeInference(settings: ResolvedInference): string {
  const parts: string[] = [];
  if (settings.output === 'probabilities') parts.push('the model outputs probabilities');
  if (settings.temperature !== 1) parts.push(`temperature ${settings.temperature}`);
  const views = ttaViewCount(settings.tta);
  if (views > 1) parts.push(`test-time augmentation ${formatTta(settings.tta)} (${views} views)`);
  return parts.length === 0 ? 'softmax of the logits' : parts.join(', ');
}

/** Views per image the settings run (1 without TTA). */
export function inferenceViews(settings: ResolvedInference): number {
  return ttaViewCount(settings.tta);
}

/**
 * The reported outputs of a batch: x [n, H, W, C] (normalized) → { logits, probabilities } [n, numClasses].
 * `forward` is the model's forward pass ([rows, H, W, C] → raw output [rows, numClasses]); with TTA it runs once, on
 * all views concatenated along the batch axis. Call inside tf.tidy (intermediates are not disposed here).
 */
export function inferenceOutputs(forward: (x: tf.Tensor4D) => tf.Tensor2D, x: tf.Tensor4D, settings: ResolvedInference): InferenceOutputs {
  return outputsOfViews(forward(ttaViews(x, settings.tta)), inferenceViews(settings), settings);
}

/**
 * The reported outputs from the raw model outputs of every view: raw [views * n, numClasses], view-major (as
 * ttaViews lays them out) → { logits, probabilities } [n, numClasses]. For runners whose forward pass is not a tfjs
 * function (ONNX Runtime): ttaViews → the session → this. Call inside tf.tidy.
 */
export function outputsOfViews(raw: tf.Tensor2D, views: number, settings: ResolvedInference): InferenceOutputs {
  const perView = viewOutputs(raw, settings);
  if (views === 1) return perView;
  const [rows, classes] = perView.probabilities.shape;
  if (rows % views !== 0) throw new Error(`outputsOfViews: ${rows} rows are not ${views} views of the same images.`);
  const probabilities = tf.mean(tf.reshape(perView.probabilities, [views, rows / views, classes]), 0) as tf.Tensor2D;
  return { logits: clampedLog(probabilities), probabilities };
}

/** One view's outputs: temperature and output kind applied (see the header). */
function viewOutputs(raw: tf.Tensor2D, settings: ResolvedInference): InferenceOutputs {
  const { output, temperature } = settings;
  if (output === 'logits') {
    const logits = temperature === 1 ? raw : tf.div(raw, temperature) as tf.Tensor2D;
    return { logits, probabilities: tf.softmax(logits) };
  }
  const logProbabilities = clampedLog(raw);
  if (temperature === 1) return { logits: logProbabilities, probabilities: raw };
  const logits = tf.div(logProbabilities, temperature) as tf.Tensor2D;
  return { logits, probabilities: tf.softmax(logits) };
}

/** log(max(p, MIN_LOG_PROBABILITY)), elementwise: what stands in for the logits of a model that outputs probabilities. */
export function clampedLog(p: tf.Tensor2D): tf.Tensor2D {
  return tf.log(tf.maximum(p, MIN_LOG_PROBABILITY)) as tf.Tensor2D;
}
