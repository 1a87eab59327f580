// The README documents what the code does: every flag of every command is in the CLI reference. (The error
// tables are checked against the catalogue in test/errors/readme.test.ts.)
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { EVALUATE_SCHEMA, PREDICT_SCHEMA } from '../../src/eval/config';
import { fieldsOf } from '../../src/run/config_schema';
import { RUNS_COMPARE_SCHEMA, RUNS_SCHEMA, RUNS_TAG_SCHEMA } from '../../src/track/config';
import { DASHBOARD_SCHEMA } from '../../src/track/dashboard/config';
import { TRAIN_SCHEMA } from '../../src/train/config';

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has a "## ${title}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

describe('README', () => {
  it('documents every flag of train, evaluate, predict, runs (list, compare, tag) and dashboard', () => {
    const reference = section('CLI reference');
    const commands = [['train', TRAIN_SCHEMA], ['evaluate', EVALUATE_SCHEMA], ['predict', PREDICT_SCHEMA], ['runs', RUNS_SCHEMA],
      ['runs', RUNS_COMPARE_SCHEMA], ['runs', RUNS_TAG_SCHEMA], ['dashboard', DASHBOARD_SCHEMA]] as const;
    for (const [command, schema] of commands) {
      const start = reference.indexOf(`### insight ${command}`);
      assert.ok(start >= 0, `### insight ${command}`);
      const end = reference.indexOf('### insight ', start + 1);
      const part = reference.slice(start, end < 0 ? undefined : end);
      for (const field of fieldsOf(schema)) {
        if (!field.noFlag) assert.ok(part.includes(`\`${field.flag}`), `${command} ${field.flag}`);
      }
    }
  });

  it('has a library example using the exported functions', () => {
    assert.match(section('Library'), /await train\(\{[^]*await evaluate\(\{[^]*await predict\(\{/);
  });
});
