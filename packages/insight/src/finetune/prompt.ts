// Visual prompting in input space (Bahng et al., 2022, "Exploring Visual Prompts for Adapting Large-Scale Models"):
// a learnable image-sized perturbation is added to every input, x' = x + prompt, and only the prompt (with the new
// head) trains while the base stays frozen. The padding prompt, the paper's best, is non-zero only on a frame
// `width` pixels wide along the image's edges (their PadPrompter: 4 strips around a zero centre); a width of at
// least half the shorter side covers the whole image (an additive prompt). The prompt lives in the model's input
// space, i.e. after the preprocessing (x/255 or mean/std), and starts at zero: the prompted model starts as the base.
//
// Built from plain tfjs-layers layers, so a saved prompted model is an ordinary TensorFlow.js model (predict, serve
// and evaluate load it like any other, in Node or a browser). A layer cannot own a free-standing weight, so each
// strip is the bias of a Dense layer whose input is exactly zero: `prompt_zero`, a frozen Dense(1) with zero
// weights on the image's channel means. The strips' kernels see only that zero, so their gradient is zero and they
// stay zero (the method gives them learning-rate scale 0, so they do not count as trained parameters either).
import * as tfl from '@tensorflow/tfjs-layers';

import { ruleError } from '../errors';

type SymbolicTensor = tfl.SymbolicTensor;
type Layer = tfl.layers.Layer;

export interface PromptLayers {
  /** image + prompt, of the image's shape [batch, h, w, 3]. */
  output: SymbolicTensor;
  /** Layers whose biases are the prompt (their kernels stay zero). */
  strips: Layer[];
  /** The other layers of the block (zero source, reshapes, padding, sums); `prompt_zero` is built frozen. */
  fixed: Layer[];
  /** Prompt values: 3 x (h·w − (h − 2·width)·(w − 2·width)), or 3·h·w for a whole-image prompt. */
  size: number;
}

/** The default frame width: an eighth of the shorter side (4 px on 32x32), near the paper's 30 px on 224x224. */
export function defaultPromptWidth(height: number, width: number): number {
  return Math.max(1, Math.round(Math.min(height, width) / 8));
}

/**
 * Adds a padding prompt of frame width `width` (a whole-image prompt when 2·width >= min(h, w)) to `image`
 * ([batch, h, w, 3]). Layers are named `prompt_*`.
 * Example: `const { output } = applyPrompt(tfl.input({ shape: [32, 32, 3] }), 4)` → 1,344 prompt values.
 */
export function applyPrompt(image: SymbolicTensor, width: number): PromptLayers {
  const [h, w, c] = image.shape.slice(1) as number[];
  if (!Number.isInteger(width) || width < 1) {
    throw ruleError('INSIGHT_E_CONFIG', 'A prompt\'s frame width must be an integer >= 1.', { promptWidth: width },
      `Pass e.g. --prompt-width ${defaultPromptWidth(h, w)} (an eighth of the shorter side).`);
  }
  const strips: Layer[] = [];
  const fixed: Layer[] = [];
  const add = <L extends Layer>(layer: L, list: Layer[]): L => {
    list.push(layer);
    return layer;
  };
  const pooled = add(tfl.layers.globalAveragePooling2d({ name: 'prompt_pool' }), fixed).apply(image) as SymbolicTensor;
  const zero = add(tfl.layers.dense({ units: 1, name: 'prompt_zero', kernelInitializer: 'zeros', trainable: false }), fixed)
    .apply(pooled) as SymbolicTensor;
  /** A [rows, cols, c] block of prompt values: the bias of a Dense on the zero input. */
  const strip = (name: string, rows: number, cols: number): SymbolicTensor => {
    const values = add(tfl.layers.dense({ units: rows * cols * c, name: `prompt_${name}`, kernelInitializer: 'zeros' }), strips)
      .apply(zero) as SymbolicTensor;
    return add(tfl.layers.reshape({ targetShape: [rows, cols, c], name: `prompt_${name}_reshape` }), fixed).apply(values) as SymbolicTensor;
  };
  let prompt: SymbolicTensor;
  if (2 * width >= Math.min(h, w)) {
    prompt = strip('image', h, w);
  } else {
    const top = strip('top', width, w);
    const bottom = strip('bottom', width, w);
    const left = strip('left', h - 2 * width, width);
    const right = strip('right', h - 2 * width, width);
    const pad = (x: SymbolicTensor, name: string, before: number, after: number) =>
      add(tfl.layers.zeroPadding2d({ padding: [[0, 0], [before, after]], name: `prompt_${name}_pad` }), fixed).apply(x) as SymbolicTensor;
    // The middle rows: the left strip, zeros, the right strip ([h − 2·width, w, c]).
    const middle = add(tfl.layers.add({ name: 'prompt_middle' }), fixed)
      .apply([pad(left, 'left', 0, w - width), pad(right, 'right', w - width, 0)]) as SymbolicTensor;
    prompt = add(tfl.layers.concatenate({ axis: 1, name: 'prompt_frame' }), fixed).apply([top, middle, bottom]) as SymbolicTensor;
  }
  const output = add(tfl.layers.add({ name: 'prompt_add' }), fixed).apply([image, prompt]) as SymbolicTensor;
  const size = 2 * width >= Math.min(h, w) ? h * w * c : c * (h * w - (h - 2 * width) * (w - 2 * width));
  return { output, strips, fixed, size };
}
