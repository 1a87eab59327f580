// Shared by the ONNX tests: export a tfjs model, run it in ONNX Runtime on the same input, compare; and the
// external validator (python3-onnx's onnx.checker) on a written file.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../src/backend';
import { exportOnnx, type ExportOnnxOptions } from '../../src/onnx/export';
import { ModelProtoType } from '../../src/onnx/onnx_proto';
import { OnnxModel } from '../../src/onnx/runtime';

/** tfjs's and ONNX Runtime's outputs for `x` ([batch, h, w, c]), and the exported bytes. */
export async function runBoth(model: tfl.LayersModel, x: tf.Tensor, options: ExportOnnxOptions = {}):
  Promise<{ tfjs: Float32Array; onnx: Float32Array; bytes: Uint8Array; maxDiff: number }> {
  const bytes = exportOnnx(model, options);
  const expected = tf.tidy(() => model.predict(x) as tf.Tensor);
  const tfjs = expected.dataSync() as Float32Array;
  expected.dispose();
  const session = await OnnxModel.load(bytes, { threads: 1 });
  try {
    const onnx = await session.predict(x.dataSync() as Float32Array, x.shape[0]);
    let maxDiff = onnx.length === tfjs.length ? 0 : Infinity;
    for (let k = 0; k < tfjs.length; k++) maxDiff = Math.max(maxDiff, Math.abs(tfjs[k] - onnx[k]));
    return { tfjs, onnx, bytes, maxDiff };
  } finally {
    await session.dispose();
  }
}

/** Runs onnx.checker (full_check) on `bytes`; throws with its message when the model is invalid. */
export function checkOnnx(bytes: Uint8Array): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-onnx-check-'));
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, bytes);
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'pipe' });
  } catch {
    throw new Error('python3-onnx is missing (/usr/bin/python3 cannot import onnx): run scripts/install-system-packages.sh.');
  }
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`onnx.checker rejects the model: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Gives BatchNorm statistics, biases and zero-initialised weights (LoRA's B, adapters' up projections, prompt
 * strips) seeded random values, so no path of the model is trivial; initialised kernels keep their scale.
 */
export function randomizeWeights(model: tfl.LayersModel, seed: number): void {
  model.weights.forEach((w, k) => {
    const name = w.originalName;
    const current = w.read();
    const zero = tf.tidy(() => tf.max(tf.abs(current)).dataSync()[0] === 0);
    const [lo, hi] = /moving_variance|gamma/.test(name) ? [0.5, 1.5] : /moving_mean|beta|bias/.test(name) ? [-0.3, 0.3] : zero ? [-0.2, 0.2] : [0, 0];
    if (hi > lo) w.write(tf.randomUniform(w.shape as number[], lo, hi, 'float32', seed * 1000 + k));
  });
}

/** How many nodes of each op type an .onnx model's graph has. */
export function opCounts(bytes: Uint8Array): Record<string, number> {
  const model = ModelProtoType.toObject(ModelProtoType.decode(bytes)) as { graph: { node: { op_type: string }[] } };
  const counts: Record<string, number> = {};
  for (const n of model.graph.node) counts[n.op_type] = (counts[n.op_type] ?? 0) + 1;
  return counts;
}
