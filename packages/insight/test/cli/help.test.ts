// --help of every command: the commands, every config key as a flag, and the examples.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { COMPRESS_SCHEMA } from '../../src/compress/config';
import { DISTILL_SCHEMA } from '../../src/compress/distill/config';
import { EVALUATE_SCHEMA, PREDICT_SCHEMA } from '../../src/eval/config';
import { EXPLAIN_COMMAND_SCHEMA } from '../../src/explain/command_config';
import { EXPORT_SCHEMA } from '../../src/onnx/export_config';
import { FINETUNE_SCHEMA } from '../../src/finetune/config';
import { fieldsOf, type ConfigSchema } from '../../src/run/config_schema';
import { SERVE_SCHEMA } from '../../src/serve/config';
import { RUNS_COMPARE_SCHEMA, RUNS_SCHEMA, RUNS_TAG_SCHEMA } from '../../src/track/config';
import { DASHBOARD_SCHEMA } from '../../src/track/dashboard/config';
import { TRAIN_SCHEMA } from '../../src/train/config';
import { runMain } from './io';

describe('insight --help', () => {
  it('lists the commands; no arguments prints the same help', async () => {
    const help = await runMain(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: insight \[options\] \[command\]/);
    for (const command of ['train', 'evaluate', 'predict', 'explain']) assert.match(help.stdout, new RegExp(`\\n  ${command} `));
    const bare = await runMain([]);
    assert.equal(bare.stdout, help.stdout);
  });

  const cases: [string, ConfigSchema, string[]][] = [
    ['train', TRAIN_SCHEMA, ['--config <file>', '--resume <run dir>']],
    ['evaluate', EVALUATE_SCHEMA, ['<model>', '--config <file>']],
    ['predict', PREDICT_SCHEMA, ['<model>', '<images...>', '--config <file>']],
    ['explain', EXPLAIN_COMMAND_SCHEMA, ['<model>', '[images...]', '--config <file>', '(default: gradcam)', '(default: png,json,npy)']],
    ['finetune', FINETUNE_SCHEMA, ['--config <file>']],
    ['serve', SERVE_SCHEMA, ['--config <file>']],
    ['compress', COMPRESS_SCHEMA, ['<run|model>', '--config <file>']],
    ['distill', DISTILL_SCHEMA, ['--config <file>']],
    ['export', EXPORT_SCHEMA, ['<run|model>']],
    ['dashboard', DASHBOARD_SCHEMA, []],
    ['runs', RUNS_SCHEMA, ['compare', 'tag']],
    ['runs compare', RUNS_COMPARE_SCHEMA, ['<runs...>']],
    ['runs tag', RUNS_TAG_SCHEMA, ['<run>', '<tags...>']],
  ];
  for (const [command, schema, extra] of cases) {
    it(`insight ${command} --help shows every flag of its config`, async () => {
      const { status, stdout, stderr } = await runMain([...command.split(' '), '--help']);
      assert.equal(status, 0);
      assert.equal(stderr, '');
      assert.match(stdout, new RegExp(`^Usage: insight ${command} `));
      for (const field of fieldsOf(schema)) {
        if (!field.noFlag) assert.ok(stdout.includes(`${field.flag}${field.kind === 'bool' ? '' : ' <'}`), `${command}: ${field.flag}`);
      }
      for (const text of extra) assert.ok(stdout.includes(text), text);
      if (!command.startsWith('runs ')) assert.match(stdout, /Example/);
    });
  }

  it('train --help states the reference defaults', async () => {
    const { stdout } = await runMain(['train', '--help']);
    for (const text of ['(default: seed-cnn)', '(default: adam)', '(default: 0.001)', '(default: 64)', '(default: 10)', 'the last 5,000 of CIFAR-10\'s 50,000']) {
      assert.ok(stdout.replace(/\s+/g, ' ').includes(text), text);
    }
  });

  it('--version prints the version', async () => {
    const { status, stdout } = await runMain(['--version']);
    assert.equal(status, 0);
    assert.match(stdout, /^\d+\.\d+\.\d+\n$/);
  });

  it('ends quietly with status 0 when the reader closes the pipe early (insight --help | head -1)', async () => {
    const bin = path.join(__dirname, '..', '..', 'bin', 'insight.js');
    const child = spawn(process.execPath, ['--conditions=source', bin, 'train', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdout.once('data', () => child.stdout.destroy());
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(status, 0);
  });
});
