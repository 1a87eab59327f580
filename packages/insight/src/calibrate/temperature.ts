// Temperature scaling (Guo et al. 2017): one scalar T > 0 for a trained classifier, probabilities = softmax(logits / T),
// fitted by minimising the mean negative log-likelihood on held-out (validation) logits. Accuracy is unchanged (the
// argmax does not move); the confidence is stretched (T < 1) or flattened (T > 1).
// The NLL as a function of β = 1/T, f(β) = mean_i [logsumexp(β z_i) - β z_{i,y_i}], is convex (a log-sum-exp of
// functions linear in β), with f'(β) = mean_i [E_p[z_i] - z_{i,y_i}] and f''(β) = mean_i Var_p[z_i] >= 0 (p = softmax(β z_i)).
// So Newton's method on β finds the global minimum; a bracket [1/maxT, 1/minT] kept from the sign of f' takes a
// bisection step whenever Newton would leave it (f'' ~ 0, far starts), so the fit always converges, to a bound if the
// minimum lies beyond it (e.g. logits that separate every example correctly want T → 0).
import { tf } from '../backend';
import { ruleError } from '../errors';

export interface TemperatureFitOptions {
  /** Smallest and largest temperature considered (default 0.05 and 20). */
  minTemperature?: number;
  maxTemperature?: number;
  /** Stop when a step moves 1/T by less than this fraction (default 1e-7). */
  tolerance?: number;
  /** At most this many Newton/bisection steps (default 100). */
  maxIterations?: number;
}

export interface TemperatureFit {
  temperature: number;
  /** Mean NLL of softmax(logits) (T = 1) and of softmax(logits / T). */
  nllBefore: number;
  nllAfter: number;
  iterations: number;
  /** True when the minimum lies at (or beyond) minTemperature or maxTemperature. */
  atBound: boolean;
}

/** Logits [n, numClasses] (row-major) and their labels [n], checked to agree. */
function logitsTensor(logits: Float32Array, labels: Int32Array, numClasses: number): tf.Tensor2D {
  if (labels.length === 0 || logits.length !== labels.length * numClasses) {
    throw ruleError('INSIGHT_E_CONFIG', 'Temperature scaling needs one row of numClasses logits per label, and at least one example.',
      { logits: logits.length, labels: labels.length, numClasses }, 'Fit it on a non-empty validation split.');
  }
  return tf.tensor2d(logits, [labels.length, numClasses]);
}

/** [n, numClasses] float one-hot of labels [n] (tf.oneHot wants at least 2 classes). */
function labelMask(labels: Int32Array, numClasses: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.equal(tf.expandDims(tf.tensor1d(labels, 'int32'), 1), tf.expandDims(tf.range(0, numClasses, 1, 'int32'), 0)), 'float32') as tf.Tensor2D);
}

/** Mean NLL f(β), f'(β), f''(β) at β = 1/T over logits z [n, C] with one-hot labels [n, C]. */
function nllAndDerivatives(z: tf.Tensor2D, oneHot: tf.Tensor2D, beta: number): [number, number, number] {
  const values = tf.tidy(() => {
    const scaled = tf.mul(z, beta);
    const lse = tf.logSumExp(scaled, 1, true); // [n, 1]
    const p = tf.exp(tf.sub(scaled, lse)); // [n, C]
    const zTrue = tf.sum(tf.mul(z, oneHot), 1); // [n]
    const mean = tf.sum(tf.mul(p, z), 1, true); // [n, 1]: E_p[z]
    const variance = tf.sum(tf.mul(p, tf.square(tf.sub(z, mean))), 1); // [n]
    return tf.stack([
      tf.mean(tf.sub(tf.squeeze(lse, [1]), tf.mul(zTrue, beta))),
      tf.mean(tf.sub(tf.squeeze(mean, [1]), zTrue)),
      tf.mean(variance),
    ]);
  });
  const [f, g, h] = values.dataSync();
  values.dispose();
  return [f, g, h];
}

/** Mean NLL of softmax(logits / temperature) against labels; logits [n, numClasses] row-major. */
export function temperatureNll(logits: Float32Array, labels: Int32Array, numClasses: number, temperature: number): number {
  const z = logitsTensor(logits, labels, numClasses);
  const oneHot = labelMask(labels, numClasses);
  try {
    return nllAndDerivatives(z, oneHot, 1 / temperature)[0];
  } finally {
    tf.dispose([z, oneHot]);
  }
}

/** softmax(logits / temperature) as [n, numClasses] row-major probabilities. */
export function temperatureSoftmax(logits: Float32Array, numClasses: number, temperature: number): Float32Array {
  return tf.tidy(() => tf.softmax(tf.div(tf.tensor2d(logits, [logits.length / numClasses, numClasses]), temperature)).dataSync() as Float32Array);
}

/** The temperature minimising the mean NLL of softmax(logits / T) on `labels`; logits [n, numClasses] row-major. */
export function fitTemperature(logits: Float32Array, labels: Int32Array, numClasses: number, options: TemperatureFitOptions = {}): TemperatureFit {
  const minT = options.minTemperature ?? 0.05;
  const maxT = options.maxTemperature ?? 20;
  const tolerance = options.tolerance ?? 1e-7;
  const maxIterations = options.maxIterations ?? 100;
  if (!(minT > 0 && maxT > minT && Number.isFinite(maxT))) {
    throw ruleError('INSIGHT_E_CONFIG', 'The temperature range must satisfy 0 < minTemperature < maxTemperature < ∞.',
      { minTemperature: minT, maxTemperature: maxT }, 'Leave the defaults (0.05 and 20) or pass a valid range.');
  }
  const z = logitsTensor(logits, labels, numClasses);
  const oneHot = labelMask(labels, numClasses);
  try {
    let lo = 1 / maxT;
    let hi = 1 / minT;
    let beta = Math.min(Math.max(1, lo), hi);
    const [nllBefore] = nllAndDerivatives(z, oneHot, 1);
    let iterations = 0;
    while (iterations < maxIterations) {
      iterations++;
      const [, g, h] = nllAndDerivatives(z, oneHot, beta);
      if (g > 0) hi = beta;
      else lo = beta;
      if (g === 0) break;
      const newton = h > 0 ? beta - g / h : NaN;
      const next = newton > lo && newton < hi ? newton : Math.sqrt(lo * hi); // bisection in log β when Newton leaves the bracket
      const moved = Math.abs(next - beta);
      beta = next;
      if (moved <= tolerance * beta || hi / lo <= 1 + tolerance) break;
    }
    const atBound = beta * (1 + 1e-4) >= 1 / minT || beta * (1 - 1e-4) <= 1 / maxT;
    const [nllAfter] = nllAndDerivatives(z, oneHot, beta);
    return { temperature: 1 / beta, nllBefore, nllAfter, iterations, atBound };
  } finally {
    tf.dispose([z, oneHot]);
  }
}
