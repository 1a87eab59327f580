// Each optimizer's update against values computed by hand (float64 formulas written out here), plus state
// save/restore continuing identically.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { Adam, AdamW, createOptimizer, decaysByDefault, paramsOf, Sgd, type Optimizer } from '../../src/train/optimizers';

before(async () => {
  await initBackend();
});

const W0 = [1, -2, 0.5, 3];
const G = [0.5, -1, 0.25, 0];

function close(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * Math.max(1, Math.abs(expected[i])), `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

/** Applies `steps` updates of the constant gradient G to a [2, 2] kernel starting at W0. */
function run(make: (v: tf.Variable) => Optimizer, steps: number, lr: number): Float32Array {
  const variable = tf.variable(tf.tensor2d(W0, [2, 2]));
  const optimizer = make(variable);
  const grad = tf.tensor2d(G, [2, 2]);
  for (let t = 0; t < steps; t++) optimizer.apply([grad], lr);
  const out = variable.dataSync() as Float32Array;
  optimizer.dispose();
  tf.dispose([variable, grad]);
  return out;
}

describe('Adam (Keras formulation)', () => {
  /** Reference: m += (g - m)(1 - b1); v += (g² - v)(1 - b2); w -= lr √(1 - b2^t)/(1 - b1^t) m/(√v + ε). */
  function reference(steps: number, lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-7, decoupled = 0, l2 = 0): number[] {
    const w = [...W0];
    const m = [0, 0, 0, 0];
    const v = [0, 0, 0, 0];
    for (let t = 1; t <= steps; t++) {
      for (let i = 0; i < 4; i++) {
        w[i] -= lr * decoupled * w[i];
        const g = G[i] + l2 * w[i];
        m[i] += (g - m[i]) * (1 - b1);
        v[i] += (g * g - v[i]) * (1 - b2);
        w[i] -= ((lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t)) * (m[i] / (Math.sqrt(v[i]) + eps));
      }
    }
    return w;
  }

  it('one step from zero moments moves each weight by about lr·sign(g)', () => {
    const w = run((v) => new Adam(paramsOf([v])), 1, 0.1);
    close(w, reference(1, 0.1));
    // First step: m/√v = sign(g)·√(1-b2)/(1-b1)·(1-b1)/√(1-b2) = sign(g), so w ≈ w0 - 0.1·sign(g) (g = 0 stays).
    close(w, [0.9, -1.9, 0.4, 3], 1e-5);
  });

  it('the torch kernel and the cpu reference kernel give the same weights, for Adam, L2 and AdamW', async () => {
    assert.equal(tf.getBackend(), 'torch');
    const cases = [
      [(v: tf.Variable) => new Adam(paramsOf([v])), reference(4, 0.01)],
      [(v: tf.Variable) => new Adam(paramsOf([v]), { weightDecay: 0.1 }), reference(4, 0.01, 0.9, 0.999, 1e-7, 0, 0.1)],
      [(v: tf.Variable) => new AdamW(paramsOf([v]), { weightDecay: 0.1 }), reference(4, 0.01, 0.9, 0.999, 1e-7, 0.1, 0)],
    ] as const;
    for (const backend of ['torch', 'cpu']) {
      await tf.setBackend(backend);
      for (const [make, ref] of cases) close(run(make, 4, 0.01), ref as number[]);
    }
    await tf.setBackend('torch');
  });

  it('three steps match the formula (bias correction, epsilon 1e-7 default)', () => {
    close(run((v) => new Adam(paramsOf([v])), 3, 0.01), reference(3, 0.01));
  });

  it('custom betas and epsilon', () => {
    close(run((v) => new Adam(paramsOf([v]), { beta1: 0.5, beta2: 0.9, epsilon: 1e-3 }), 2, 0.01), reference(2, 0.01, 0.5, 0.9, 1e-3));
  });

  it('weightDecay is L2 added to the gradient', () => {
    close(run((v) => new Adam(paramsOf([v]), { weightDecay: 0.1 }), 2, 0.01), reference(2, 0.01, 0.9, 0.999, 1e-7, 0, 0.1));
  });

  it('AdamW decays the weights, decoupled from the gradient: w -= lr·wd·w, then Adam', () => {
    close(run((v) => new AdamW(paramsOf([v]), { weightDecay: 0.1 }), 2, 0.01), reference(2, 0.01, 0.9, 0.999, 1e-7, 0.1, 0));
  });
});

describe('SGD (Keras formulation)', () => {
  it('plain: w -= lr·g', () => {
    close(run((v) => new Sgd(paramsOf([v])), 2, 0.1), W0.map((w, i) => w - 2 * 0.1 * G[i]));
  });

  it('momentum 0.9: two steps move by lr·g·(1 + 1.9)', () => {
    close(run((v) => new Sgd(paramsOf([v]), { momentum: 0.9 }), 2, 0.1), W0.map((w, i) => w - 2.9 * 0.1 * G[i]));
  });

  it('Nesterov 0.9: two steps move by lr·g·(1.9 + 2.71)', () => {
    close(run((v) => new Sgd(paramsOf([v]), { momentum: 0.9, nesterov: true }), 2, 0.1), W0.map((w, i) => w - 4.61 * 0.1 * G[i]));
  });

  it('weightDecay adds wd·w to the gradient', () => {
    close(run((v) => new Sgd(paramsOf([v]), { weightDecay: 0.5 }), 1, 0.1), W0.map((w, i) => w - 0.1 * (G[i] + 0.5 * w)));
  });
});

describe('weight decay mask', () => {
  it('decays kernels (rank >= 2) but not biases or BatchNorm vectors', () => {
    const kernel = tf.variable(tf.ones([2, 2]));
    const bias = tf.variable(tf.ones([2]));
    assert.equal(decaysByDefault(kernel), true);
    assert.equal(decaysByDefault(bias), false);
    const optimizer = new AdamW(paramsOf([kernel, bias]), { weightDecay: 0.5 });
    optimizer.apply([tf.zeros([2, 2]), tf.zeros([2])], 0.1);
    close(kernel.dataSync(), [0.95, 0.95, 0.95, 0.95]);
    close(bias.dataSync(), [1, 1]);
    optimizer.dispose();
    tf.dispose([kernel, bias]);
  });
});

describe('optimizer state', () => {
  for (const name of ['adam', 'adamw', 'sgd'] as const) {
    it(`${name}: state saved after 2 steps and restored into a fresh optimizer continues identically`, () => {
      const settings = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, momentum: 0.9, nesterov: false, weightDecay: 0.01 };
      const grad = tf.tensor2d(G, [2, 2]);
      const a = tf.variable(tf.tensor2d(W0, [2, 2]));
      const straight = createOptimizer(name, paramsOf([a]), settings);
      for (let t = 0; t < 4; t++) straight.apply([grad], 0.05);

      const b = tf.variable(tf.tensor2d(W0, [2, 2]));
      const first = createOptimizer(name, paramsOf([b]), settings);
      first.apply([grad], 0.05);
      first.apply([grad], 0.05);
      const state = first.getState();
      const second = createOptimizer(name, paramsOf([b]), settings);
      second.setState(Object.fromEntries(state.map(({ name: n, tensor }) => [n, tensor])));
      assert.equal(second.iterations, 2);
      second.apply([grad], 0.05);
      second.apply([grad], 0.05);
      assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
      for (const o of [straight, first, second]) o.dispose();
      tf.dispose([grad, a, b, ...state.map((s) => s.tensor)]);
    });
  }

  it('does not leak tensors per step', () => {
    const v = tf.variable(tf.tensor2d(W0, [2, 2]));
    const g = tf.tensor2d(G, [2, 2]);
    const optimizer = new Adam(paramsOf([v]));
    optimizer.apply([g], 0.01);
    const before = tf.memory().numTensors;
    for (let t = 0; t < 5; t++) optimizer.apply([g], 0.01);
    assert.equal(tf.memory().numTensors, before);
    optimizer.dispose();
    tf.dispose([v, g]);
  });
});
