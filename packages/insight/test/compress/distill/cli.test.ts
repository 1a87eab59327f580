// `insight distill --help` shows every flag of its config and the examples, without loading TensorFlow.js's
// workflow; the README's "### insight distill" section (in the CLI reference) documents every flag.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { DISTILL_ONLY, DISTILL_SCHEMA } from '../../../src/compress/distill/config';
import { fieldsOf } from '../../../src/run/config_schema';
import { TRAIN_SCHEMA } from '../../../src/train/config';
import { runMain } from '../../cli/io';

const README = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');

describe('insight distill', () => {
  it('--help shows every flag of its config, with the distillation defaults, and examples', async () => {
    const { status, stdout, stderr } = await runMain(['distill', '--help']);
    assert.equal(status, 0);
    assert.equal(stderr, '');
    assert.match(stdout, /^Usage: insight distill /);
    for (const field of fieldsOf(DISTILL_SCHEMA)) {
      if (!field.noFlag) assert.ok(stdout.includes(`${field.flag}${field.kind === 'bool' ? '' : ' <'}`), field.flag);
    }
    const flat = stdout.replace(/\s+/g, ' ');
    for (const text of ['(default: 4)', '(default: 0.9)', '(default: seed-cnn)', '--config <file>', 'Examples:']) assert.ok(flat.includes(text), text);
    assert.ok(!flat.includes('--model <'), 'the student takes the place of --model');
  });

  it('takes every key of the training recipe but model and the batch transforms, with train\'s defaults', () => {
    // Mixup/CutMix and adversarial training rewrite the batch with a loss of their own; distillation has its own loss.
    const leftOut = ['model', 'mixup', 'cutmix', 'mixProb', 'mixSwitchProb',
      'adversarial', 'eps', 'advAlpha', 'advSteps', 'advGuardImages', 'advGuardSteps', 'advGuardDrop', 'advGuardRatio'];
    const train = fieldsOf(TRAIN_SCHEMA).filter((f) => !leftOut.includes(f.key));
    const distill = fieldsOf(DISTILL_SCHEMA).filter((f) => !(DISTILL_ONLY as readonly string[]).includes(f.key));
    assert.deepEqual(distill.map((f) => [f.key, f.default]), train.map((f) => [f.key, f.default]));
  });

  it('the README documents every flag in the CLI reference\'s "### insight distill"', () => {
    const reference = README.slice(README.indexOf('\n## CLI reference\n'), README.indexOf('\n## Run directory\n'));
    const start = reference.indexOf('### insight distill');
    assert.ok(start >= 0, '### insight distill inside the CLI reference');
    const end = reference.indexOf('### insight ', start + 1);
    const part = reference.slice(start, end < 0 ? undefined : end);
    for (const field of fieldsOf(DISTILL_SCHEMA)) if (!field.noFlag) assert.ok(part.includes(`\`${field.flag}`), field.flag);
  });
});
