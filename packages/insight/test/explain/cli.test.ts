// `insight explain` through main() in-process: on a saved tiny model (8x8 inputs, meanstd metadata) the files it
// writes (overlay and grid PNGs of the layout's sizes, .npy and JSON maps equal to the library's explain() on the
// same images, the manifest), --json lines and --format; on a short real training run (seed-cnn, 1 epoch on 24
// CIFAR JPEGs as an image folder) the run's explain/<id>/ folder, --neighbours from the run's memory index (built,
// then reused) and --evaluate on the run's validation images; and every error in the house format with its exit status.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';

import { initBackend } from '../../src/backend';
import { EXPLAIN_COMMAND_SCHEMA } from '../../src/explain/command_config';
import { explain } from '../../src/explain/explain';
import { gridLayout } from '../../src/explain/render/grid';
import { stripLayout } from '../../src/explain/render/neighbour_strip';
import { overlayLayout } from '../../src/explain/render/overlay';
import { EXPLANATION_FILES, imageStem } from '../../src/explain/write_outputs';
import { decodeNpy } from '../../src/format/npy';
import { setInsightMetadata } from '../../src/models/metadata';
import { fieldsOf } from '../../src/run/config_schema';
import { saveModel } from '../../src/run/model_io';
import { RunDir } from '../../src/run/run_dir';
import { compactFiles } from '../../src/cli/commands/explain';
import { runMain } from '../cli/io';
import { JPG_MINI } from '../shared_data';
import { CLASSES, NORMALIZATION as normalization, SIZE, tinyExplainModel } from './helpers';

const FILES = [path.join(JPG_MINI, 'cat', '0000.jpg'), path.join(JPG_MINI, 'ship', '0001.jpg')];
/** Small settings so every method runs in well under a second. */
const QUICK = ['--steps', '6', '--samples', '3', '--window', '4', '--stride', '2', '--internal-batch-size', '16'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-explain-cli-'));
const modelDir = path.join(tmp, 'tiny');
const denseDir = path.join(tmp, 'dense');
let runDir: string;

/** A model without a convolution: flatten → dense(3). */
function denseModel(): tfl.LayersModel {
  const model = tfl.sequential({
    name: 'dense_only',
    layers: [tfl.layers.flatten({ inputShape: [SIZE, SIZE, 3], name: 'flat' }),
      tfl.layers.dense({ units: CLASSES.length, kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }), name: 'logits' })],
  });
  setInsightMetadata(model, { formatVersion: 1, architecture: 'dense', architectureOptions: {}, inputShape: [SIZE, SIZE, 3], classNames: CLASSES, normalization });
  return model;
}

async function pngSize(file: string): Promise<{ width?: number; height?: number; format?: string }> {
  const { width, height, format } = await sharp(file).metadata();
  return { width, height, format };
}

function npy(file: string) {
  return decodeNpy(fs.readFileSync(file), file);
}

function readJson(file: string) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

before(async () => {
  await initBackend();
  for (const [dir, build] of [[modelDir, () => tinyExplainModel(5)], [denseDir, denseModel]] as const) {
    const model = build();
    await saveModel(model, dir);
    model.dispose();
  }
  // A real run: seed-cnn, 1 epoch on 3 classes x 8 CIFAR JPEGs (6 validate: 2 of each class, split seed 0).
  const data = path.join(tmp, 'data');
  for (const name of ['cat', 'dog', 'ship']) {
    fs.mkdirSync(path.join(data, name), { recursive: true });
    for (let i = 0; i < 8; i++) fs.copyFileSync(path.join(JPG_MINI, name, `${String(i).padStart(4, '0')}.jpg`), path.join(data, name, `${i}.jpg`));
  }
  const train = await runMain(['train', '--data', data, '--epochs', '1', '--batch-size', '8', '--validation-count', '6', '--runs-dir', path.join(tmp, 'runs'),
    '--progress', 'none', '--tensorboard', 'false', '--seed', '3']);
  assert.equal(train.status, 0, train.stderr);
  runDir = path.join(tmp, 'runs', fs.readdirSync(path.join(tmp, 'runs')).find((name) => !name.startsWith('index'))!);
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('insight explain <model dir> images', () => {
  it('writes an overlay and a .npy map per image and method, JSON per image, the grid and the manifest — maps equal to explain()', async () => {
    const out = path.join(tmp, 'out-all');
    const { status, stdout, stderr } = await runMain(['explain', modelDir, ...FILES, '--methods', 'gradcam,ig,occlusion', ...QUICK, '--out', out]);
    assert.equal(status, 0, stderr);
    const methods = ['gradcam', 'ig', 'occlusion'];
    const stems = ['000_0000', '001_0001'];
    const expected = [...stems.flatMap((stem) => [...methods.flatMap((m) => [`${stem}.${m}.png`, `${stem}.${m}.npy`]), `${stem}.json`]),
      'explanations.json', 'grid.png'];
    assert.deepEqual(fs.readdirSync(out).sort(), expected.sort());

    const library = await explain({ model: modelDir, images: FILES, methods: 'gradcam,ig,occlusion', steps: 6, samples: 3, window: 4, stride: 2, internalBatchSize: 16 });
    const overlay = overlayLayout(SIZE, SIZE);
    for (const [i, stem] of stems.entries()) {
      const perImage = readJson(path.join(out, `${stem}.json`));
      assert.equal(perImage.source, FILES[i]);
      assert.equal(perImage.predicted.index, library.images[i].predicted);
      assert.equal(perImage.target.className, CLASSES[library.images[i].target]);
      assert.equal(perImage.probabilities.length, 3);
      for (const method of methods) {
        const expectedMap = library.images[i].methods[method as 'ig']!.map;
        const array = npy(path.join(out, `${stem}.${method}.npy`));
        assert.deepEqual(array.shape, [SIZE, SIZE]);
        assert.ok(array.data instanceof Float32Array);
        assert.deepEqual(Array.from(array.data), Array.from(expectedMap), `${stem} ${method}: .npy = explain()'s map`);
        assert.deepEqual(perImage.methods[method].map.flat(), Array.from(expectedMap), `${stem} ${method}: JSON = explain()'s map`);
        assert.equal(perImage.methods[method].map.length, SIZE);
        assert.equal(perImage.methods[method].signed, method !== 'gradcam');
        assert.deepEqual(await pngSize(path.join(out, `${stem}.${method}.png`)), { width: overlay.width, height: overlay.height, format: 'png' });
      }
      assert.equal(perImage.methods.gradcam.layer, 'c2');
      assert.equal(typeof perImage.methods.ig.convergenceDelta, 'number');
    }
    const grid = gridLayout(2, 3, 2); // both colour maps: gradcam is sequential, ig and occlusion signed
    assert.deepEqual(await pngSize(path.join(out, 'grid.png')), { width: grid.width, height: grid.height, format: 'png' });

    const manifest = readJson(path.join(out, EXPLANATION_FILES.manifest));
    assert.deepEqual(manifest.methods, methods);
    assert.deepEqual(manifest.classNames, CLASSES);
    assert.equal(manifest.options.steps, 6);
    assert.deepEqual(manifest.images.map((image: { files: string[] }) => image.files.length), [7, 7]);
    assert.deepEqual(manifest.shared, ['explanations.json', 'grid.png']);

    // The summary: one row per image with predicted class, target and its files; then the shared files and the folder.
    assert.match(stdout, new RegExp(`^Model ${modelDir}, methods gradcam, ig, occlusion\n`));
    for (const [i, file] of FILES.entries()) {
      const row = stdout.split('\n').find((line) => line.startsWith(file))!;
      const p = (100 * library.images[i].probabilities[library.images[i].predicted]).toFixed(1);
      assert.ok(row.includes(`${CLASSES[library.images[i].predicted]} ${p}%`), row);
      assert.ok(row.endsWith(`${stems[i]}.{gradcam,ig,occlusion}.{png,npy} ${stems[i]}.json`), row);
    }
    assert.match(stdout, new RegExp(`Also: explanations.json, grid.png\nWritten to ${out}\n$`));
  });

  it('--json prints one object per image with absolute file paths; --format npy writes only maps and the manifest', async () => {
    const out = path.join(tmp, 'out-json');
    const { status, stdout, stderr } = await runMain(['explain', modelDir, ...FILES, '--method', 'saliency', '--class', 'dog', '--format', 'npy', '--json', '--out', out]);
    assert.equal(status, 0, stderr);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines.length, 2);
    for (const [i, line] of lines.entries()) {
      assert.equal(line.source, FILES[i]);
      assert.deepEqual(line.target.index, 1);
      assert.equal(line.target.className, 'dog');
      assert.ok(line.methods.saliency.min >= 0 && line.methods.saliency.max >= line.methods.saliency.min);
      assert.equal(line.methods.saliency.signed, false);
      assert.deepEqual(line.files, [path.join(out, `00${i}_000${i}.saliency.npy`)]);
      assert.deepEqual(npy(line.files[0]).shape, [SIZE, SIZE]);
    }
    assert.deepEqual(fs.readdirSync(out).sort(), ['000_0000.saliency.npy', '001_0001.saliency.npy', 'explanations.json']);
  });

  it('takes its settings from --config (flags over the file)', async () => {
    const out = path.join(tmp, 'out-config');
    const config = path.join(tmp, 'explain.json');
    fs.writeFileSync(config, JSON.stringify({ methods: ['saliency', 'occlusion'], format: 'npy', window: 4, stride: 4, out: path.join(tmp, 'unused') }));
    const { status, stderr } = await runMain(['explain', modelDir, FILES[0], '--config', config, '--methods', 'occlusion', '--out', out]);
    assert.equal(status, 0, stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), ['000_0000.occlusion.npy', 'explanations.json']);
    const manifest = readJson(path.join(out, EXPLANATION_FILES.manifest));
    assert.deepEqual([manifest.options.window, manifest.options.stride, manifest.formats], [4, 4, ['npy']]);
    assert.equal(fs.existsSync(path.join(tmp, 'unused')), false);
  });

  it('--attributions adds the [H, W, C] attributions; an existing --out keeps its other files', async () => {
    const out = path.join(tmp, 'out-existing');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const { status, stderr } = await runMain(['explain', modelDir, FILES[0], '--methods', 'ig', '--steps', '4', '--attributions', '--format', 'npy,json', '--out', out]);
    assert.equal(status, 0, stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), ['000_0000.ig.attributions.npy', '000_0000.ig.npy', '000_0000.json', 'explanations.json', 'notes.txt']);
    const attributions = npy(path.join(out, '000_0000.ig.attributions.npy'));
    assert.deepEqual(attributions.shape, [SIZE, SIZE, 3]);
    const map = npy(path.join(out, '000_0000.ig.npy')).data as Float32Array;
    // The map is the attributions summed over channels.
    for (let p = 0; p < SIZE * SIZE; p++) {
      const sum = (attributions.data[3 * p] as number) + (attributions.data[3 * p + 1] as number) + (attributions.data[3 * p + 2] as number);
      assert.ok(Math.abs(sum - map[p]) <= 1e-5 * Math.max(1, Math.abs(map[p])), `pixel ${p}`);
    }
    assert.equal(readJson(path.join(out, '000_0000.json')).methods.ig.attributions[0][0].length, 3);
    assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'mine');
  });
});

describe('README', () => {
  it('documents every flag of insight explain in its CLI reference section', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const start = readme.indexOf('\n### insight explain\n');
    assert.ok(start >= 0, '### insight explain');
    const part = readme.slice(start, readme.indexOf('\n### ', start + 1));
    for (const field of fieldsOf(EXPLAIN_COMMAND_SCHEMA)) {
      if (!field.noFlag) assert.ok(part.includes(`| \`${field.flag}`), field.flag);
    }
  });
});

describe('file names', () => {
  it('start with the image\'s position and name (no dots); the summary lists them in brace form when it can', () => {
    assert.equal(imageStem(3, 10, 'photos/a cat.v2.jpeg'), '003_a_cat_v2');
    assert.equal(imageStem(12, 1001, '/x/.hidden.png'), '0012__hidden');
    assert.equal(compactFiles(['003_a.gradcam.png', '003_a.gradcam.npy', '003_a.ig.png', '003_a.ig.npy', '003_a.json']), '003_a.{gradcam,ig}.{png,npy} 003_a.json');
    assert.equal(compactFiles(['003_a.ig.npy']), '003_a.ig.npy');
    assert.equal(compactFiles(['003_a.ig.npy', '003_a.ig.attributions.npy', '003_a.gradcam.npy']), '003_a.ig.npy 003_a.ig.attributions.npy 003_a.gradcam.npy');
  });
});

describe('insight explain <run>', () => {
  it('writes into a new folder of the run\'s explain/ directory; --neighbours builds the memory index once, then reuses it', async () => {
    const first = await runMain(['explain', runDir, FILES[0], '--neighbours', '3']);
    assert.equal(first.status, 0, first.stderr);
    const explainDir = RunDir.at(runDir).explainDir;
    const folders = fs.readdirSync(explainDir);
    assert.equal(folders.length, 1);
    assert.match(folders[0], /^\d{8}-\d{6}-[0-9a-f]{4}$/);
    const out = path.join(explainDir, folders[0]);
    assert.match(first.stdout, new RegExp(`Written to ${out}\n$`));
    assert.match(first.stdout, /Memory index: 18 training images, layer dense1 \(built now\)\n/);
    assert.deepEqual(fs.readdirSync(out).sort(), ['000_0000.gradcam.npy', '000_0000.gradcam.png', '000_0000.json', 'explanations.json', 'grid.png', 'neighbours.png']);
    assert.ok(fs.existsSync(RunDir.at(runDir).memoryJson));

    const image = readJson(path.join(out, EXPLANATION_FILES.manifest)).images[0];
    assert.equal(image.methods.gradcam.layer, 'conv3');
    assert.equal(image.neighbours.length, 3);
    const distances = image.neighbours.map((n: { distance: number }) => n.distance);
    assert.deepEqual([...distances].sort((a, b) => a - b), distances, 'nearest first');
    for (const n of image.neighbours) {
      assert.ok(Number.isInteger(n.index) && n.index >= 0 && n.index < 18);
      assert.equal(n.className, ['cat', 'dog', 'ship'][n.label]);
      assert.ok(n.distance >= -1e-6 && n.distance <= 2);
    }
    const strip = stripLayout(1, 3);
    assert.deepEqual(await pngSize(path.join(out, 'neighbours.png')), { width: strip.width, height: strip.height, format: 'png' });
    assert.deepEqual(readJson(path.join(out, '000_0000.json')).neighbours, image.neighbours);

    const again = await runMain(['explain', runDir, FILES[0], '--neighbours', '3', '--format', 'json']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /Memory index: 18 training images, layer dense1 \(reused\)\n/);
    assert.equal(fs.readdirSync(explainDir).length, 2);
  });

  it('--evaluate prints the faithfulness table for the run\'s first validation images and writes faithfulness.json', async () => {
    const out = path.join(tmp, 'out-evaluate');
    const { status, stdout, stderr } = await runMain(['explain', runDir, '--evaluate', '--methods', 'saliency,gradcam', '--evaluate-images', '4',
      '--curve-steps', '5', '--out', out]);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /^Model .*model on the first 4 of validation \(stratified 6 of 24 images, split seed 0\)\n\nFaithfulness on 4 images \(curves of 5 points, seed 0\)/);
    for (const row of ['saliency', 'gradcam', 'random']) assert.match(stdout, new RegExp(`\n${row} +\\d\\.\\d{3} +\\d\\.\\d{3}`));
    assert.match(stdout, new RegExp(`\nReport: ${path.join(out, 'faithfulness.json')}\n$`));
    const json = readJson(path.join(out, 'faithfulness.json'));
    assert.equal(json.evaluated, 'the first 4 of validation (stratified 6 of 24 images, split seed 0)');
    assert.equal(json.report.images, 4);
    assert.equal(json.report.steps, 5);
    assert.deepEqual(json.report.rows.map((row: { method: string }) => row.method), ['saliency', 'gradcam']);
    for (const row of json.report.rows) {
      assert.ok(row.deletionAuc >= 0 && row.deletionAuc <= 1 && row.insertionAuc >= 0 && row.insertionAuc <= 1);
      assert.equal(typeof row.sanityPassed, 'boolean');
    }
    assert.deepEqual(fs.readdirSync(out), ['faithfulness.json']);
  });

  it('--evaluate --json on given images prints the report as one line', async () => {
    const out = path.join(tmp, 'out-evaluate-json');
    const { status, stdout, stderr } = await runMain(['explain', modelDir, ...FILES, '--evaluate', '--methods', 'ig', '--steps', '4', '--curve-steps', '3',
      '--json', '--out', out]);
    assert.equal(status, 0, stderr);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]);
    assert.equal(line.evaluated, '2 given images');
    assert.equal(line.report.images, 2);
    assert.equal(line.file, path.join(out, 'faithfulness.json'));
    assert.equal(typeof line.report.rows[0].completeness.mean, 'number');
  });
});

describe('insight explain errors', () => {
  const cases: { name: string; argv: () => string[]; status: number; message: RegExp }[] = [
    { name: 'Grad-CAM on a model without a convolution', argv: () => [denseDir, FILES[0]], status: 2,
      message: /^Error INSIGHT_E_CONFIG: Grad-CAM needs a convolutional layer \(a 4D kernel and a 4D \[n, h, w, c\] output\)\. Received: model="dense_only", layers=\["flat \(Flatten\)","logits \(Dense\)"\]\. Use a method that needs no convolution: saliency, ig, smoothgrad or occlusion\.\n$/ },
    { name: 'a layer that does not exist', argv: () => [modelDir, FILES[0], '--layer', 'conv9'], status: 2,
      message: /^Error INSIGHT_E_CONFIG: layer must name a layer of the model \(Grad-CAM reads its activations\)\. Received: layer="conv9"\. Use one of the layers with a 4D output: c1, c2\.\n$/ },
    { name: 'an unknown method', argv: () => [modelDir, FILES[0], '--methods', 'gradcam,lime'], status: 2,
      message: /^Error INSIGHT_E_CONFIG: methods must be a list \(or comma-separated string\) of: saliency, gradcam, gradcam\+\+, ig, smoothgrad, smoothgrad2, vargrad, occlusion; or 'none'\. Received: methods="gradcam,lime"\./ },
    { name: 'an image path that does not exist', argv: () => [modelDir, path.join(tmp, 'missing.jpg')], status: 3,
      message: /^Error INSIGHT_E_IMAGE: Every image path must exist\. Received: image=".*missing\.jpg"\. Check the path/ },
    { name: 'a file that is not an image', argv: () => [modelDir, path.join(modelDir, 'model.json')], status: 3,
      message: /^Error INSIGHT_E_IMAGE: Every image must be a file sharp can decode/ },
    { name: 'a model path that does not exist', argv: () => [path.join(tmp, 'nope'), FILES[0]], status: 4,
      message: /^Error INSIGHT_E_MODEL: The model path must be a directory with model\.json, or a completed run directory\./ },
    { name: 'no images', argv: () => [modelDir], status: 2,
      message: /^Error INSIGHT_E_CONFIG: explain needs at least one image file or folder \(or --evaluate, which can use the run's validation images\)\. Received: images=\[\]\./ },
    { name: '--neighbours on a model directory', argv: () => [modelDir, FILES[0], '--neighbours', '2'], status: 2,
      message: /^Error INSIGHT_E_CONFIG: --neighbours needs a run directory: the memory index is built over the run's training images and stored in the run\./ },
    { name: '--neighbours larger than the training set', argv: () => [runDir, FILES[0], '--neighbours', '19'], status: 2,
      message: /^Error INSIGHT_E_CONFIG: neighbours must be at most the run's 18 training images\. Received: neighbours=19, images=18\./ },
    { name: '--evaluate on a model directory without images', argv: () => [modelDir, '--evaluate'], status: 2,
      message: /^Error INSIGHT_E_CONFIG: --evaluate needs images: given as arguments, or a run directory whose validation images it uses\./ },
    { name: '--neighbours with --evaluate', argv: () => [runDir, '--evaluate', '--neighbours', '2'], status: 2,
      message: /^Error INSIGHT_E_CONFIG: --neighbours applies to explanations, not to --evaluate\./ },
    { name: 'a bad format', argv: () => [modelDir, FILES[0], '--format', 'png,gif'], status: 2,
      message: /^Error INSIGHT_E_CONFIG: format must be a list \(or comma-separated string\) of: png, json, npy; or 'none'\./ },
    { name: 'an alias given with its flag', argv: () => [modelDir, FILES[0], '--method', 'ig', '--methods', 'gradcam'], status: 2,
      message: /^Error INSIGHT_E_USAGE: --method is another name for --methods: give one of them\. Received: method="ig", methods="gradcam"\./ },
    { name: 'a class the model does not have', argv: () => [modelDir, FILES[0], '--classes', 'horse'], status: 2,
      message: /^Error INSIGHT_E_CONFIG: classes must be class indices in \[0, 3\) or class names of the model\. Received: class="horse"\./ },
  ];
  for (const { name, argv, status, message } of cases) {
    it(`${name}: exit ${status}, house-format message, nothing written`, async () => {
      const out = path.join(tmp, `out-error-${name.replace(/\W+/g, '-')}`);
      const result = await runMain(['explain', ...argv(), '--out', out]);
      assert.equal(result.status, status, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
      assert.equal(fs.existsSync(out), false);
    });
  }

  it('--out naming an existing file', async () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'x');
    const result = await runMain(['explain', modelDir, FILES[0], '--out', file]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^Error INSIGHT_E_CONFIG: out must be a directory \(or a path where one can be created\)\. Received: out=".*a-file"\./);
  });
});
