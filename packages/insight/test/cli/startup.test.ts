// Start-up: `--help` of every command, `--version`, and a config error answer without loading tfjs, the backend,
// sharp, fastify or better-sqlite3 (commands import their workflows inside the action). Checked on what the
// process loaded, not on time: the real `insight` binary runs with a preload that lists every loaded module.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { BIN, NODE_FLAGS } from './io';

const PRELOAD = path.join(__dirname, 'loaded_modules.cjs');

/** What must not load before a command computes something: each a pattern over resolved file paths. */
const HEAVY: [string, RegExp][] = [
  ['tfjs', /node_modules\/@tensorflow\//],
  ['the torch backend', /tfjs-backend-torch\/|\.node$/],
  ['src/backend.ts', /insight\/(src|dist\/src)\/backend\.(ts|js)$/],
  ['sharp', /node_modules\/sharp\//],
  ['fastify', /node_modules\/(fastify|@fastify)\//],
  ['better-sqlite3', /node_modules\/better-sqlite3\//],
];

/** Runs `insight <argv>` and returns its exit status, output and the modules it loaded. */
function loadedBy(argv: string[]): { status: number | null; stdout: string; stderr: string; modules: string[] } {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'insight-startup-')), 'modules.json');
  const child = spawnSync(process.execPath, [...NODE_FLAGS, '--require', PRELOAD, BIN, ...argv], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, LOADED_MODULES_FILE: file },
  });
  const modules = JSON.parse(fs.readFileSync(file, 'utf8')) as string[];
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr, modules };
}

const COMMANDS = ['--help', '--version', 'train --help', 'finetune --help', 'evaluate --help', 'predict --help', 'explain --help', 'serve --help',
  'dashboard --help', 'runs --help', 'runs compare --help', 'runs tag --help', 'lr-find --help', 'compress --help', 'distill --help', 'export --help',
  'tune --help', 'launch --help', 'ensemble --help', 'calibrate --help'];

describe('insight start-up', () => {
  it('the preload sees what a process loads (so the checks below can fail)', () => {
    const { modules } = loadedBy(['--help']);
    assert.ok(modules.some((m) => /insight\/(src|dist\/src)\/cli\/main\.(ts|js)$/.test(m)), 'the CLI itself is listed');
    assert.ok(modules.some((m) => /node_modules\/commander\//.test(m)), 'commander is listed');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'insight-startup-')), 'modules.json');
    spawnSync(process.execPath, ['--require', PRELOAD, '-e', 'require("@tensorflow/tfjs-core")'], { cwd: __dirname, env: { ...process.env, LOADED_MODULES_FILE: file } });
    const heavy = JSON.parse(fs.readFileSync(file, 'utf8')) as string[];
    assert.ok(heavy.some((m) => HEAVY[0][1].test(m)), 'a process that loads tfjs is caught');
  });

  for (const command of COMMANDS) {
    it(`insight ${command} loads no tfjs, backend, sharp, fastify or better-sqlite3`, () => {
      const { status, stdout, modules } = loadedBy(command.split(' '));
      assert.equal(status, 0);
      assert.ok(stdout.length > 0);
      for (const [name, pattern] of HEAVY) {
        assert.deepEqual(modules.filter((m) => pattern.test(m)), [], `insight ${command} loads ${name}`);
      }
    });
  }

  it('a bad flag fails with the config error before anything heavy loads', () => {
    const { status, stderr, modules } = loadedBy(['train', '--lr', '-1']);
    assert.equal(status, 2);
    assert.equal(stderr, 'Error INSIGHT_E_CONFIG: lr must be a number > 0. Received: lr=-1. Pass e.g. --lr 0.001 (default: 0.001).\n');
    for (const [name, pattern] of HEAVY) assert.deepEqual(modules.filter((m) => pattern.test(m)), [], `loads ${name}`);
  });
});
