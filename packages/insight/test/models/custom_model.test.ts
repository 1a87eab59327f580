// Custom models (issue 18 item 4): what `model` may name, loading a builder from a function, a .ts/.js/.mjs module
// (through tsx, into this process's module cache: one TensorFlow.js) or a model.json, the metadata they leave with,
// and every refusal as a house-style error: missing or broken files, wrong exports, wrong input shape or output
// size, a final softmax, layers that cannot be rebuilt, values that are not models. No leaked tensors.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { InsightError } from '../../src/errors';
import { buildCustomModel, resolveCustomModel, type CustomModelOptions, type ModelBuilder } from '../../src/models/custom_model';
import { getInsightMetadata } from '../../src/models/metadata';
import { modelChoiceOf } from '../../src/models/model_choice';
import { saveModel } from '../../src/run/model_io';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const EXAMPLE = path.join(REPO, 'packages', 'insight', 'examples', 'custom-model.ts');
const DATA: CustomModelOptions = { inputShape: [8, 8, 3], classNames: ['red', 'green', 'blue'], normalization: { kind: 'scale' }, seed: 7 };

/** A temporary folder whose modules resolve '@insight/insight' (and tsx) as a user's project does: node_modules. */
const project = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-custom-model-'));
fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(project, 'node_modules'));
function moduleFile(name: string, text: string): string {
  const file = path.join(project, name);
  fs.writeFileSync(file, text);
  return file;
}

/** conv 3x3 (4) → flatten → dense(numClasses [, activation]) on [size, size, 3], seeded. */
function tinyNet(inputShape: number[], units: number, seed: number, activation?: 'softmax'): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape, filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units, activation, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

/** Builds `source` for DATA; the promise's error must be an InsightError with `code` and a message matching `message`. */
async function refuses(build: () => Promise<unknown>, code: string, message: RegExp | string): Promise<void> {
  await assert.rejects(build(), (e: unknown) => {
    assert.ok(e instanceof InsightError, String(e));
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

before(async () => {
  await initBackend();
});
after(() => fs.rmSync(project, { recursive: true, force: true }));

describe('model choice', () => {
  it('reads zoo names, module and JSON files, and the recorded "custom"; refuses anything else', () => {
    assert.deepEqual(modelChoiceOf('resnet'), { kind: 'zoo', name: 'resnet' });
    for (const file of ['./my_model.ts', 'm.mts', 'm.cts', 'lib/m.js', 'm.mjs', 'm.cjs']) assert.deepEqual(modelChoiceOf(file), { kind: 'module', path: file });
    assert.deepEqual(modelChoiceOf('export/model.json'), { kind: 'json', path: 'export/model.json' });
    assert.deepEqual(modelChoiceOf('custom'), { kind: 'custom' });
    assert.throws(() => modelChoiceOf('vgg16'), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' &&
      e.message === 'model must be one of: seed-cnn, resnet, or a file with your own model: a module (.ts, .mts, .cts, .js, .mjs, .cjs) or a model.json. ' +
        'Received: model="vgg16". Pass e.g. --model seed-cnn (default: seed-cnn), or --model ./my_model.ts.');
  });
});

describe('building a custom model', () => {
  it('calls a builder with the data\'s input shape, class count, seed and class names, and sets the metadata', async () => {
    const calls: unknown[] = [];
    const build: ModelBuilder = (inputShape, numClasses, options) => {
      calls.push({ inputShape, numClasses, options });
      return tinyNet(inputShape, numClasses, options.seed);
    };
    const model = await buildCustomModel(await resolveCustomModel({ kind: 'custom' }, build), DATA);
    assert.deepEqual(calls, [{ inputShape: [8, 8, 3], numClasses: 3, options: { seed: 7, classNames: ['red', 'green', 'blue'] } }]);
    assert.deepEqual(getInsightMetadata(model, 'test'), {
      formatVersion: 1, architecture: 'custom', architectureOptions: { source: 'function', name: model.name },
      inputShape: [8, 8, 3], classNames: ['red', 'green', 'blue'], normalization: { kind: 'scale' },
    });
    // Same seed, same weights: the builder's initialisers took the run's seed.
    const again = tinyNet([8, 8, 3], 3, 7);
    model.getWeights().forEach((w, i) => assert.deepEqual(Array.from(w.dataSync()), Array.from(again.getWeights()[i].dataSync())));
    again.dispose();
    model.dispose();
  });

  it('takes a LayersModel as it is (the same object) and accepts free height and width', async () => {
    const input = tfl.input({ shape: [null, null, 3] });
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(tfl.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(input)) as tfl.SymbolicTensor;
    const given = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 3 }).apply(pooled) as tfl.SymbolicTensor, name: 'any_size' });
    const model = await buildCustomModel(await resolveCustomModel({ kind: 'custom' }, given), DATA);
    assert.equal(model, given);
    assert.deepEqual(getInsightMetadata(model, 'test').architectureOptions, { source: 'model', name: 'any_size' });
    assert.deepEqual(getInsightMetadata(model, 'test').inputShape, [8, 8, 3]);
    model.dispose();
  });

  it('loads the example module through tsx: its tfl is Insight\'s own (no second TensorFlow.js, no platform warning)', async () => {
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => { warnings.push(args.join(' ')); };
    let model: tfl.LayersModel;
    try {
      const source = await resolveCustomModel(modelChoiceOf(EXAMPLE));
      assert.equal(source.kind, 'module');
      assert.equal(typeof source.value, 'function');
      model = await buildCustomModel(source, { ...DATA, inputShape: [16, 16, 3] });
    } finally {
      console.warn = warn;
    }
    assert.deepEqual(warnings, []);
    assert.ok(model instanceof tfl.LayersModel, 'built with the tfjs-layers Insight runs on');
    assert.equal(model.name, 'small_convnet');
    assert.deepEqual(model.outputs[0].shape, [null, 3]);
    assert.deepEqual(getInsightMetadata(model, 'test').architectureOptions, { source: 'module', path: EXAMPLE, name: 'small_convnet' });
    model.dispose();
  });

  it('loads CommonJS (module.exports = builder) and ES module (.mjs default export) JavaScript', async () => {
    const cjs = moduleFile('cjs_model.js', `const { tfl } = require('@insight/insight');
module.exports = (inputShape, numClasses) => tfl.sequential({ name: 'from_cjs', layers: [tfl.layers.flatten({ inputShape }), tfl.layers.dense({ units: numClasses })] });\n`);
    const esm = moduleFile('esm_model.mjs', `import { tfl } from '@insight/insight';
export default (inputShape, numClasses) => tfl.sequential({ name: 'from_esm', layers: [tfl.layers.flatten({ inputShape }), tfl.layers.dense({ units: numClasses })] });\n`);
    for (const [file, name] of [[cjs, 'from_cjs'], [esm, 'from_esm']]) {
      const model = await buildCustomModel(await resolveCustomModel(modelChoiceOf(file)), DATA);
      assert.equal(model.name, name);
      assert.equal(model.countParams(), 8 * 8 * 3 * 3 + 3);
      model.dispose();
    }
  });

  it('loads a model.json with its weights, and a Keras architecture JSON with fresh weights', async () => {
    const saved = tinyNet([8, 8, 3], 3, 11);
    const dir = path.join(project, 'saved');
    await saveModel(saved, dir);
    const fromFile = await buildCustomModel(await resolveCustomModel(modelChoiceOf(path.join(dir, 'model.json'))), DATA);
    saved.getWeights().forEach((w, i) => assert.deepEqual(Array.from(fromFile.getWeights()[i].dataSync()), Array.from(w.dataSync())));
    assert.equal(getInsightMetadata(fromFile, 'test').architectureOptions.source, 'json');
    fromFile.dispose();

    const architecture = moduleFile('keras_architecture.json', JSON.stringify(saved.toJSON(null, false)));
    const fromKeras = await buildCustomModel(await resolveCustomModel(modelChoiceOf(architecture)), DATA);
    assert.deepEqual(fromKeras.layers.map((l) => l.getClassName()), ['Conv2D', 'Flatten', 'Dense']);
    assert.equal(fromKeras.countParams(), saved.countParams());
    fromKeras.dispose();
    saved.dispose();
  });
});

describe('refusals', () => {
  const custom = async (value: unknown, options = DATA) => buildCustomModel(await resolveCustomModel({ kind: 'custom' }, value), options);
  const file = async (name: string) => buildCustomModel(await resolveCustomModel(modelChoiceOf(name)), DATA);

  it('a model file that does not exist, or a module that fails to load: INSIGHT_E_CONFIG_FILE', async () => {
    const missing = path.join(project, 'nope.ts');
    await refuses(() => file(missing), 'INSIGHT_E_CONFIG_FILE',
      `The model file must exist. Received: model=${JSON.stringify(missing)}, exists=false. Check the path (relative to the working directory), e.g. --model ./my_model.ts.`);
    const broken = moduleFile('broken.ts', 'export default function build() {\n  throw new Error(\'never\');\n}\nthrow new Error(\'the module fails on import\');\n');
    await refuses(() => file(broken), 'INSIGHT_E_CONFIG_FILE',
      `The model module must load without errors. Received: model=${JSON.stringify(broken)}, error="the module fails on import". ` +
      `Run it on its own to see the whole error (node --import tsx ${broken}), and fix it.`);
  });

  it('a module without a default export names what it exports', async () => {
    const named = moduleFile('named.ts', 'import { tfl } from \'@insight/insight\';\nexport function buildModel() { return tfl.sequential(); }\nexport const size = 8;\n');
    await refuses(() => file(named), 'INSIGHT_E_CONFIG',
      'A model module must export a model builder as its default export, (inputShape, numClasses, { seed, classNames }) => LayersModel, or a LayersModel. ' +
      `Received: model=${JSON.stringify(named)}, exports=["buildModel","size"], default=undefined. Add \`export default build\` (or \`module.exports = build\`) for your builder function.`);
  });

  it('wrong input shape, wrong output size and a final softmax, each with the shapes received', async () => {
    const before = tf.memory().numTensors;
    await refuses(() => custom((_: unknown, n: number) => tinyNet([28, 28, 1], n, 1)), 'INSIGHT_E_CONFIG',
      'A custom model\'s input must take the data\'s images, [batch, height, width, 3]. Received: model="function (anonymous)", ' +
      'modelInput=[null,28,28,1], dataInput=[null,8,8,3]. Build the input from the builder\'s inputShape argument (e.g. tfl.input({ shape: inputShape })), ' +
      'or resize the images to the model\'s size (--image-size for an image folder).');
    await refuses(() => custom(function fiveClasses(shape: number[]) { return tinyNet(shape, 5, 1); }), 'INSIGHT_E_CONFIG',
      'A custom model must output one logit per class of the data, [batch, numClasses]. Received: model="function fiveClasses", modelOutput=[null,5], numClasses=3. ' +
      'End the model with tfl.layers.dense({ units: numClasses }) (the builder\'s second argument).');
    await refuses(() => custom((shape: number[], n: number) => tinyNet(shape, n, 1, 'softmax')), 'INSIGHT_E_CONFIG',
      /^A custom model must output logits: Insight's loss and predict apply the softmax themselves\. Received: model="function \(anonymous\)", lastLayer="dense_\w+", activation="softmax"\. Drop the final softmax/);
    assert.equal(tf.memory().numTensors, before, 'the refused models the builders made are disposed');
  });

  it('a layer class that is not registered (checkpoints could not rebuild it)', async () => {
    class Doubler extends tfl.layers.Layer {
      static className = 'TestDoublerUnregistered';
      call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 2);
      }
    }
    const doubled = tfl.sequential({ layers: [new Doubler({ inputShape: [8, 8, 3] }), tfl.layers.flatten(), tfl.layers.dense({ units: 3 })] });
    await refuses(() => custom(doubled), 'INSIGHT_E_CONFIG',
      'Every layer class of a custom model must be registered, so that checkpoints and resume can rebuild it from its topology. ' +
      `Received: model="LayersModel '${doubled.name}'", unregistered=["TestDoublerUnregistered"]. Register each class once, after defining it: ` +
      'tf.serialization.registerClass(MyLayer) (with a static className).');
    doubled.dispose();
  });

  it('values that are not models, builders that return none, and builders that throw', async () => {
    await refuses(() => custom({ layers: 3 }), 'INSIGHT_E_CONFIG',
      'A custom model must be a tf.layers LayersModel (tfl.sequential(), tfl.model()) or a function returning one. Received: model="train({ model })", received="Object". ' +
      'Pass e.g. train({ model: (inputShape, numClasses) => tfl.sequential({ layers: [...] }) }).');
    await refuses(() => custom(async function noModel() { return 42; }), 'INSIGHT_E_CONFIG',
      /^A custom model must be a tf\.layers LayersModel .* Received: model="what function noModel returned", received="number"\./);
    await refuses(() => custom(() => tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'sideways' as 'same' })] })),
      'INSIGHT_E_CONFIG', /^A model builder must build a model for the data it is given\. Received: model="function \(anonymous\)", inputShape=\[8,8,3\], numClasses=3, error=".*sideways.*"\. Fix the builder/);
  });

  it('a model.json that is not JSON, or JSON that is no model: INSIGHT_E_MODEL', async () => {
    const garbled = moduleFile('garbled.json', '{"modelTopology": ');
    await refuses(() => file(garbled), 'INSIGHT_E_MODEL', new RegExp(`^A model\\.json must be valid JSON\\. Received: model=${JSON.stringify(garbled).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}, error=".+"\\.`));
    const other = moduleFile('settings.json', '{"epochs": 3, "lr": 0.1}');
    await refuses(() => file(other), 'INSIGHT_E_MODEL',
      `A model.json must hold a TensorFlow.js layers model (modelTopology) or a Keras architecture (class_name, config). Received: model=${JSON.stringify(other)}, keys=["epochs","lr"]. ` +
      'Pass the model.json that model.save() or tensorflowjs_converter wrote, or Keras\'s model.to_json().');
  });
});
