// `insight compress` end to end on small real data (300 CIFAR-10 JPEGs of the shared mini set, seed-cnn trained one
// epoch): fine-tuning with gradual global pruning writes a run whose sparsity equals the target within one weight,
// whose sparse model reloads bit for bit with the same accuracy; prune-only writes a model directory (per-layer
// sparsity exact; structured: fewer parameters and FLOPs, uint8 weights plain tfjs loads); config rules.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';


import { compress } from '../../src/compress/compress';
import type { CompressionSummary } from '../../src/compress/compress';
import { resolveCompressConfig } from '../../src/compress/config';
import { ensemble } from '../../src/ensemble/ensemble';
import type { SparsityReport } from '../../src/compress/prune';
import { isSparseModelDir } from '../../src/compress/storage';
import { InsightError } from '../../src/errors';
import { exportModel } from '../../src/onnx/export_model';
import { loadModel, MODEL_JSON, WEIGHTS_BIN, WEIGHTS_SPARSE_BIN } from '../../src/run/model_io';
import { COMPRESSION_FILES, RunDir } from '../../src/run/run_dir';
import { train } from '../../src/train/train';
import { runMain } from '../cli/io';
import { sink } from '../support/sink';
import { JPG_MINI } from '../shared_data';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-compress-'));
let sourceRun = '';

const quiet = { progress: 'none', backend: 'auto', workers: 0 } as const;
const readJson = <T>(file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

before(async () => {
  process.env.INSIGHT_TORCH_THREADS ??= '1';
  const result = await train({ data: JPG_MINI, limit: 300, validationCount: 60, epochs: 1, batchSize: 32, runsDir: path.join(tmp, 'runs'), tensorboard: false, ...quiet },
    { handleSignals: false });
  result.model.dispose();
  sourceRun = result.runDir;
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('insight compress', () => {
  it('fine-tunes with gradual global pruning into a run: exact sparsity, sparse weights reload bit for bit', async () => {
    const result = await compress({ model: sourceRun, sparsity: 0.75, epochs: 2, batchSize: 32, lr: 1e-4, weights: 'sparse',
      runsDir: path.join(tmp, 'compressed'), ...quiet }, { handleSignals: false });
    const run = RunDir.at(result.runDir!);
    // The source run's data and split: 240 training images, 60 validating.
    assert.equal(readJson<{ validation: { count: number } }>(run.dataJson).validation.count, 60);
    const sparsity = readJson<SparsityReport>(run.sparsityJson);
    assert.deepEqual(sparsity.layers.map((r) => [r.layer, r.pruned]), [['conv1', false], ['conv2', true], ['conv3', true], ['dense1', true], ['logits', false]]);
    const target = Math.round(0.75 * sparsity.pruned.params);
    assert.ok(Math.abs(sparsity.pruned.zeros - target) <= 1, `${sparsity.pruned.zeros} zeros, target ${target}`);
    // The saved float32 model holds the same zeros (pruned weights stayed 0 through fine-tuning).
    const saved = await loadModel(run.dir);
    const zeros = ['conv2', 'conv3', 'dense1'].reduce((a, name) => a + Array.from(saved.getLayer(name).getWeights()[0].dataSync()).filter((v) => v === 0).length, 0);
    assert.equal(zeros, sparsity.pruned.zeros);
    // model_compressed/ is sparse, reloads to the same bits (through Insight's model loader, which evaluate, predict
    // and serve use), and scored the same accuracy.
    assert.ok(isSparseModelDir(run.compressedModelDir));
    const sparse = await loadModel(run.compressedModelDir);
    saved.getWeights().forEach((w, i) => assert.deepEqual(Array.from(sparse.getWeights()[i].dataSync()), Array.from(w.dataSync())));
    const summary = readJson<CompressionSummary>(run.compressionJson);
    assert.equal(summary.accuracy!.stored, summary.accuracy!.float32);
    assert.equal(summary.accuracy!.float32, result.report!.accuracy);
    assert.equal(summary.weights.bytes, fs.statSync(path.join(run.compressedModelDir, WEIGHTS_SPARSE_BIN)).size);
    assert.equal(summary.weights.denseBytes, 4 * saved.countParams());
    assert.ok(summary.weights.ratio < 0.35 && summary.weights.gzipBytes < summary.weights.bytes, JSON.stringify(summary.weights));
    assert.deepEqual(summary.method, { structured: false, sparsity: 0.75, scope: 'global', schedule: 'polynomial', skip: ['conv1', 'logits'], epochs: 2 });
    assert.equal(run.readInfo().status, 'completed');
    [saved, sparse, result.model].forEach((m) => m.dispose());
  });

  it('--qat-epochs: quantisation-aware training keeps the pruned zeros; its ranges and uint8 weights go into the run', async () => {
    const result = await compress({ model: sourceRun, sparsity: 0.5, pruneScope: 'layer', epochs: 1, qatEpochs: 1, batchSize: 32, weights: 'uint8',
      runsDir: path.join(tmp, 'qat'), ...quiet }, { handleSignals: false });
    const run = RunDir.at(result.runDir!);
    const sparsity = readJson<SparsityReport>(run.sparsityJson);
    for (const row of sparsity.layers.filter((r) => r.pruned)) assert.ok(Math.abs(row.zeros - Math.round(0.5 * row.params)) <= 1, row.layer);
    const summary = readJson<CompressionSummary>(run.compressionJson);
    assert.equal(summary.qat!.epochs, 1);
    for (const layer of ['conv1', 'conv2', 'conv3', 'dense1']) assert.ok(summary.qat!.ranges.layers[layer].max > summary.qat!.ranges.layers[layer].min, layer);
    assert.ok(summary.qat!.ranges.input.max > summary.qat!.ranges.input.min);
    assert.equal(typeof summary.qat!.valAccuracy, 'number');
    // uint8 keeps 0 exact: the stored model has the same zeros.
    const stored = await loadModel(run.compressedModelDir);
    const zeros = ['conv2', 'conv3', 'dense1'].reduce((a, name) => a + Array.from(stored.getLayer(name).getWeights()[0].dataSync()).filter((v) => v === 0).length, 0);
    assert.equal(zeros, sparsity.pruned.zeros);
    assert.equal(summary.weights.ratio, 0.25);
    // insight export --quantize int8 on this run takes the QAT ranges instead of calibrating.
    const lines: string[] = [];
    const exported = await exportModel({ model: run.dir, quantize: 'int8', out: path.join(tmp, 'qat-int8') }, { say: (line) => lines.push(line) });
    assert.deepEqual(exported.calibration, { images: 0, description: 'quantisation-aware training (the run\'s report/compression.json)', method: 'qat' });
    assert.ok(lines.some((line) => line.startsWith('int8 ranges from the run\'s quantisation-aware training')), lines.join('\n'));
    assert.ok(fs.statSync(exported.onnxFile).size < fs.statSync(path.join(run.modelDir, WEIGHTS_BIN)).size / 3);
    [stored, result.model].forEach((m) => m.dispose());
  });

  it('--epochs 0, layer scope: a model directory with every pruned layer at the target within one weight', async () => {
    const out = path.join(tmp, 'layer');
    const result = await compress({ model: sourceRun, epochs: 0, sparsity: 0.6, pruneScope: 'layer', skipLayers: 'none', weights: 'float16', out, ...quiet },
      { out: { write: () => true } as unknown as NodeJS.WriteStream });
    const report = readJson<SparsityReport>(path.join(out, COMPRESSION_FILES.sparsity));
    assert.equal(report.layers.length, 5);
    for (const row of report.layers) assert.ok(Math.abs(row.zeros - Math.round(0.6 * row.params)) <= 1, `${row.layer} ${row.zeros}/${row.params}`);
    const summary = readJson<CompressionSummary>(path.join(out, COMPRESSION_FILES.sizes));
    assert.equal(summary.weights.ratio, 0.5);
    const loaded = await loadModel(out); // float16 manifests: plain tfjs decoding
    assert.equal(loaded.countParams(), result.model.countParams());
    [loaded, result.model].forEach((m) => m.dispose());
  });

  it('the CLI, --structured --epochs 0 --weights uint8: a smaller model directory, as it says', async () => {
    const out = path.join(tmp, 'structured');
    const { status, stdout, stderr } = await runMain(['compress', sourceRun, '--structured', '--sparsity', '0.5', '--epochs', '0', '--weights', 'uint8',
      '--out', out, '--backend', 'auto']);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /^Channels kept: conv2 32\/64, conv3 32\/64$/m);
    assert.match(stdout, /^Weights \(uint8\): [\d.]+ KiB \(0\.250x of float32 [\d.]+ KiB\), gzip/m);
    assert.ok(stdout.endsWith(`Model: ${out}\n`));
    const summary = readJson<CompressionSummary>(path.join(out, COMPRESSION_FILES.sizes));
    assert.match(stdout, new RegExp(`Parameters ${summary.parameters.before.toLocaleString('en-US')} -> ${summary.parameters.after.toLocaleString('en-US')}`));
    assert.ok(summary.parameters.after < summary.parameters.before * 0.6);
    assert.ok(summary.flops.after < summary.flops.before);
    const manifest = readJson<{ weightsManifest: { weights: { quantization?: { dtype: string } }[] }[] }>(path.join(out, MODEL_JSON));
    assert.ok(manifest.weightsManifest[0].weights.every((w) => w.quantization?.dtype === 'uint8'));
    const loaded = await loadModel(out);
    assert.equal(loaded.countParams(), summary.parameters.after);
    assert.deepEqual(loaded.getLayer('conv3').getWeights()[0].shape, [3, 3, 32, 32]);
    loaded.dispose();
  });

  it('drops the source\'s calibration temperature (fitted to logits pruning changes), and says so', async () => {
    // The source model with a temperature in its metadata, as `insight calibrate` leaves it.
    const calibrated = path.join(tmp, 'calibrated');
    fs.cpSync(path.join(sourceRun, 'model'), calibrated, { recursive: true });
    const modelJson = JSON.parse(fs.readFileSync(path.join(calibrated, 'model.json'), 'utf8')) as { userDefinedMetadata: { insight: Record<string, unknown> } };
    modelJson.userDefinedMetadata.insight.inference = { temperature: 1.7 };
    fs.writeFileSync(path.join(calibrated, 'model.json'), JSON.stringify(modelJson));
    const out = path.join(tmp, 'calibrated-pruned');
    const printed = sink();
    const result = await compress({ model: calibrated, epochs: 0, sparsity: 0.5, out, ...quiet }, { handleSignals: false, out: printed });
    result.model.dispose();
    assert.match(printed.text, /Calibration: the source's temperature 1\.7 was fitted to its own logits; pruning changes them, so the compressed model has none \(fit one again with `insight calibrate <run or model>`\)\.\nModel: /);
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')) as { userDefinedMetadata: { insight: { inference?: Record<string, unknown> } } };
    assert.deepEqual(saved.userDefinedMetadata.insight.inference, {});
  });

  it('refuses to fine-tune an ensemble (its output is probabilities, fine-tuning trains logits) before training', async () => {
    const ensembled = path.join(tmp, 'ensemble');
    await ensemble({ members: [sourceRun, sourceRun], out: ensembled });
    await assert.rejects(compress({ model: ensembled, sparsity: 0.5, epochs: 1, runsDir: path.join(tmp, 'never'), ...quiet }, { handleSignals: false }), (e: unknown) => {
      assert.ok(e instanceof InsightError && e.code === 'INSIGHT_E_MODEL', String(e));
      assert.match(e.message, /^Fine-tuning trains a model's output as logits, and an ensemble outputs probabilities .*Received: model=.*output="probabilities"\. Compress each member/);
      return true;
    });
    assert.equal(fs.existsSync(path.join(tmp, 'never')), false);
  });

  it('config rules: polynomial needs epochs, prune-only needs --out, structured has no schedule', () => {
    const rule = (input: Record<string, unknown>, pattern: RegExp) => assert.throws(() => resolveCompressConfig({ model: 'x', ...input }),
      (e: InsightError) => e.code === 'INSIGHT_E_CONFIG' && pattern.test(e.message));
    rule({ epochs: 0, schedule: 'polynomial', out: 'o' }, /needs --epochs > 0/);
    rule({ epochs: 0 }, /it needs --out/);
    rule({ epochs: 1, out: 'o' }, /not --out/);
    rule({ structured: true, schedule: 'polynomial' }, /has no schedule/);
    rule({ sparsity: 1 }, /sparsity/);
    rule({ epochs: 0, out: 'o', qatEpochs: 1 }, /needs --epochs > 0/);
  });
});
