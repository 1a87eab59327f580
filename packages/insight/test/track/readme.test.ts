// The README documents the tracking commands as they are: every flag of `insight runs` (and its subcommands) and
// of `insight dashboard`, the tracking error codes with their exit status, and the experiment-tracking section.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import type { Command } from 'commander';

import { dashboardCommand } from '../../src/cli/commands/dashboard';
import { runsCommand } from '../../src/cli/commands/runs';
import type { CliIo } from '../../src/cli/main';
import { ERROR_CODES } from '../../src/errors';

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const io = { stdout: process.stdout, stderr: process.stderr } as CliIo;

function part(start: string, end: string): string {
  const from = README.indexOf(start);
  assert.ok(from >= 0, `README has "${start}"`);
  const to = README.indexOf(end, from + start.length);
  return README.slice(from, to < 0 ? undefined : to);
}

/** Every long flag of a command and its subcommands (without the --no- negations and --help). */
function flags(command: Command): string[] {
  return [command, ...command.commands].flatMap((c) => c.options.map((o) => o.long!)).filter((f) => f && !f.startsWith('--no-'));
}

describe('README: experiment tracking', () => {
  it('documents every flag of insight runs and insight dashboard', () => {
    const runs = part('### insight runs', '### insight dashboard');
    for (const flag of flags(runsCommand(io))) assert.ok(runs.includes(`\`${flag}`), `runs ${flag}`);
    assert.match(runs, /insight runs compare/);
    assert.match(runs, /insight runs tag/);
    const dashboard = part('### insight dashboard', '\n## ');
    for (const flag of flags(dashboardCommand(io))) assert.ok(dashboard.includes(`\`${flag}`), `dashboard ${flag}`);
  });

  it('documents the tracking error codes with their exit status', () => {
    const table = part('## Error codes', '\n## Library');
    for (const code of ['INSIGHT_E_RUNS_DIR', 'INSIGHT_E_RUN_NOT_FOUND', 'INSIGHT_E_QUERY', 'INSIGHT_E_LISTEN'] as const) {
      assert.match(table, new RegExp(`\\| \`${code}\` \\| ${ERROR_CODES[code].exitCode} \\| \\S`), code);
    }
  });

  it('has the experiment-tracking section: files, TensorBoard tags, index and dashboard', () => {
    const section = part('## Experiment tracking', '\n## ');
    for (const text of ['events.out.tfevents.', 'predictions.png', 'tags.json', 'index.sqlite', '--no-tensorboard', 'weights/<weight>',
      'gradients/<weight>', 'system/cpu_percent', 'images/sample_predictions', 'images/confusion_matrix', '/api/stream']) {
      assert.ok(section.includes(text), text);
    }
  });
});
