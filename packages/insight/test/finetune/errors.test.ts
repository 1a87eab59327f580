// Bad fine-tuning options fail early with the house error: a stable code, the rule, `Received: name=value`, and
// the fix; every code the finetune module raises is documented in the README (error table and finetune section).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { initBackend } from '../../src/backend';
import { InsightError } from '../../src/errors';
import { buildFinetuneModel } from '../../src/finetune/build';
import { FINETUNE_SCHEMA, resolveFinetuneConfig } from '../../src/finetune/config';
import { flagOf } from '../../src/run/config_schema';
import { configureMethod } from '../../src/finetune/methods';
import { loadBaseModel } from '../../src/finetune/base_model';
import { createModel } from '../../src/models';
import { getInsightMetadata, setInsightMetadata } from '../../src/models/metadata';
import { saveModel } from '../../src/run/model_io';
import { runMain } from '../cli/io';
import { tinyBase } from './tiny_base';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-finetune-errors-'));
before(async () => {
  await initBackend();
  await saveModel(tinyBase(1), path.join(tmp, 'base'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function throwsInsight(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InsightError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('fine-tuning errors', () => {
  const cases: [string, () => unknown, string, RegExp][] = [
    ['unknown layer to cut at', () => buildFinetuneModel(tinyBase(1), { numClasses: 2, method: 'head', cutAt: 'nope' }),
      'INSIGHT_E_CONFIG', /^cutAt must name a layer of the base model\. Received: cutAt="nope"\. Use one of: c1, bn1, r1, c2, bn2, r2, flatten, features \(default: .*features\)\.$/],
    ['cutting at the output layer', () => buildFinetuneModel(tinyBase(1), { numClasses: 2, method: 'head', cutAt: 'logits' }),
      'INSIGHT_E_CONFIG', /cutAt must be a layer before the output layer .* Received: cutAt="logits"\. Use e\.g\. features\./],
    ['cutting inside a residual block', () => buildFinetuneModel(createModel('resnet', { inputShape: [16, 16, 3], numClasses: 3, depth: 8 }), { numClasses: 2, method: 'head', cutAt: 'stage1_block1_conv1' }),
      'INSIGHT_E_CONFIG', /every path from input to output passes through .* Received: cutAt="stage1_block1_conv1"\. Cut at a block boundary/],
    ['rank 0', () => resolveFinetuneConfig({ base: 'b', method: 'lora', rank: 0 }),
      'INSIGHT_E_CONFIG', /rank must be an integer >= 1\. Received: rank=0\./],
    ['a head for 1 class', () => buildFinetuneModel(tinyBase(1), { numClasses: 1, method: 'head' }),
      'INSIGHT_E_CONFIG', /^A new head needs at least 2 classes\. Received: classes=1\. Fine-tune on a dataset with two or more classes/],
    ['unknown method', () => resolveFinetuneConfig({ base: 'b', method: 'prefix-tuning' }),
      'INSIGHT_E_CONFIG', /method must be one of: full, head, bn\+head, adapter, lora, prompt\. Received: method="prefix-tuning"\./],
    ['no base', () => resolveFinetuneConfig({}), 'INSIGHT_E_CONFIG', /Fine-tuning needs a base model\. Received: base=null\. Pass --base/],
    ['bn+head without BatchNorm', () => {
      const ft = buildFinetuneModel(createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 3 }), { numClasses: 2, method: 'bn+head' });
      configureMethod(ft, 'bn+head', 0.1);
    }, 'INSIGHT_E_CONFIG', /bn\+head needs BatchNorm layers .* Received: method="bn\+head", cutAt="dense1", batchNormLayers=0\. Use --method head/],
    ['head epochs with gradual unfreezing', () => resolveFinetuneConfig({ base: 'b', method: 'full', unfreezeEvery: 2, headEpochs: 1 }),
      'INSIGHT_E_CONFIG', /Training the head alone first is a schedule of method full without gradual unfreezing .* Received: method="full", headEpochs=1, unfreezeEvery=2\./],
    ['prompt width without method prompt', () => resolveFinetuneConfig({ base: 'b', method: 'lora', promptWidth: 4 }),
      'INSIGHT_E_CONFIG', /promptWidth sets the visual prompt of method prompt\. Received: method="lora", promptWidth=4\./],
    ['gradual unfreezing with lora', () => resolveFinetuneConfig({ base: 'b', method: 'lora', unfreezeEvery: 2 }),
      'INSIGHT_E_CONFIG', /Gradual unfreezing is a schedule of method full\. Received: method="lora", unfreezeEvery=2\./],
    ['L2-SP with a frozen base', () => resolveFinetuneConfig({ base: 'b', method: 'head', l2sp: 0.01 }),
      'INSIGHT_E_CONFIG', /it needs a method that trains base weights .* Received: method="head", l2sp=0\.01\./],
    ['an unknown LoRA target', () => buildFinetuneModel(tinyBase(1), { numClasses: 2, method: 'lora', loraTargets: ['bn1'] }),
      'INSIGHT_E_CONFIG', /LoRA target must be a Dense or Conv2D layer .* Received: loraTargets=\["bn1"\], unknown="bn1"\. Use some of: c1, c2, features\./],
  ];
  for (const [name, fn, code, pattern] of cases) it(name, () => throwsInsight(fn, code, pattern));

  it('refuses an ensemble as the base: its output is probabilities, not logits', async () => {
    const ensemble = tinyBase(1);
    setInsightMetadata(ensemble, {
      ...getInsightMetadata(ensemble, 'tiny'), inference: { output: 'probabilities' },
      ensemble: { kind: 'members', members: [1, 2].map((i) => ({ path: `runs/m${i}/model`, weight: 0.5, fingerprint: String(i), architecture: 'tiny', temperature: 1 })) },
    });
    await saveModel(ensemble, path.join(tmp, 'ensemble'));
    await assert.rejects(loadBaseModel(path.join(tmp, 'ensemble')), (error: unknown) => error instanceof InsightError && error.code === 'INSIGHT_E_MODEL' &&
      /^A base model must output logits; an ensemble outputs its members' averaged probabilities\. Received: model=".*ensemble", output="probabilities", members="runs\/m1\/model, runs\/m2\/model"\. Fine-tune one of its members/.test(error.message));
    const plain = await loadBaseModel(path.join(tmp, 'base'));
    assert.equal(plain.described, true, 'a plain base still loads');
    plain.model.dispose();
  });

  it('the CLI reports them in one line with the code and its exit status', async () => {
    const bad = await runMain(['finetune', '--base', path.join(tmp, 'base'), '--method', 'nope']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^Error INSIGHT_E_CONFIG: method must be one of: .* Received: method="nope"\./);
    const missing = await runMain(['finetune', '--base', path.join(tmp, 'missing'), '--data', tmp]);
    assert.equal(missing.status, 4);
    assert.match(missing.stderr, /^Error INSIGHT_E_MODEL: /);
  });

  it('every code raised under src/finetune is in the README error table and the finetune section', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const dir = path.join(__dirname, '..', '..', 'src', 'finetune');
    const codes = new Set(fs.readdirSync(dir).flatMap((f) => [...fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/'(INSIGHT_E_[A-Z_]+)'/g)].map((m) => m[1])));
    assert.ok(codes.size >= 3);
    const section = readme.slice(readme.indexOf('\n## Fine-tuning\n'));
    assert.ok(readme.includes('\n## Fine-tuning\n'), 'README has a "## Fine-tuning" section');
    for (const code of codes) {
      assert.match(readme, new RegExp(`\\| \`${code}\` \\| \\d+ \\|`), `${code} in the error table`);
      assert.ok(section.includes(`\`${code}\``), `${code} in the finetune section`);
    }
  });

  it('every insight finetune flag is in the README\'s finetune section', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Fine-tuning\n'));
    for (const key of Object.keys(FINETUNE_SCHEMA.properties)) assert.ok(section.includes(`| \`${flagOf(key)}`), flagOf(key));
  });
});
