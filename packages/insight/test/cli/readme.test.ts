// The README documents what the code does: every flag of every command is in the CLI reference, and every name
// it imports or lists from the package is exported by that entry point (package.json "exports"). (The error
// tables are checked against the catalogue in test/errors/readme.test.ts.)
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { CALIBRATE_SCHEMA } from '../../src/calibrate/config';
import { COMPRESS_SCHEMA } from '../../src/compress/config';
import { DISTILL_SCHEMA } from '../../src/compress/distill/config';
import { EVALUATE_SCHEMA, PREDICT_SCHEMA } from '../../src/eval/config';
import { EXPLAIN_COMMAND_SCHEMA } from '../../src/explain/command_config';
import { EXPORT_SCHEMA } from '../../src/onnx/export_config';
import { fieldsOf } from '../../src/run/config_schema';
import { RUNS_COMPARE_SCHEMA, RUNS_SCHEMA, RUNS_TAG_SCHEMA } from '../../src/track/config';
import { DASHBOARD_SCHEMA } from '../../src/track/dashboard/config';
import { TRAIN_SCHEMA } from '../../src/train/config';

const PACKAGE_DIR = path.join(__dirname, '..', '..');
const README = fs.readFileSync(path.join(PACKAGE_DIR, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
  name: string; exports: Record<string, string | { source?: string }>;
};

function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has a "## ${title}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/**
 * What the README says the package gives: entry point (e.g. '@insight/insight/serve') → runtime names, from its
 * `import { ... } from '<entry>'` lines (types left out), the Library section's table of entry points, and
 * sentences such as "The pieces come from `<entry>` (`a`, `b`)".
 */
function documentedNames(): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  const add = (entry: string, list: string[]) => {
    const set = names.get(entry) ?? new Set<string>();
    for (const name of list) if (/^[A-Za-z_$][\w$]*$/.test(name)) set.add(name);
    names.set(entry, set);
  };
  const entry = `${PACKAGE.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?:/[a-z]+)?`;
  const quoted = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  for (const [, list, from] of README.matchAll(new RegExp(`import \\{([^}]*)\\} from '(${entry})'`, 'g'))) {
    const parts = list.split(',').map((part) => part.trim()).filter((part) => !part.startsWith('type '));
    add(from, parts.map((part) => part.split(/\s+as\s+/)[0]));
  }
  for (const [, from, cell] of section('Library').matchAll(new RegExp(`^\\| \`(${entry})\` \\|([^|]*)\\|$`, 'gm'))) add(from, quoted(cell));
  for (const [, from, list] of README.matchAll(new RegExp(`from \`(${entry})\` \\(([^)]*)\\)`, 'g'))) add(from, quoted(list));
  return names;
}

/** The module behind an entry point of the package, from package.json "exports" (its TypeScript source). */
function entryModule(entry: string): string {
  const target = PACKAGE.exports[`.${entry.slice(PACKAGE.name.length)}`];
  assert.ok(target !== undefined && typeof target === 'object' && target.source, `package.json exports ${entry} (with a source)`);
  return path.join(PACKAGE_DIR, target.source);
}

describe('README', () => {
  it('documents every flag of train, evaluate, predict, calibrate, explain, runs (list, compare, tag), dashboard, compress, distill and export', () => {
    const reference = section('CLI reference');
    const commands = [['train', TRAIN_SCHEMA], ['evaluate', EVALUATE_SCHEMA], ['predict', PREDICT_SCHEMA], ['calibrate', CALIBRATE_SCHEMA], ['explain', EXPLAIN_COMMAND_SCHEMA], ['runs', RUNS_SCHEMA],
      ['runs', RUNS_COMPARE_SCHEMA], ['runs', RUNS_TAG_SCHEMA], ['dashboard', DASHBOARD_SCHEMA], ['compress', COMPRESS_SCHEMA], ['distill', DISTILL_SCHEMA], ['export', EXPORT_SCHEMA]] as const;
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

  it('names only what the entry points export', async () => {
    const documented = documentedNames();
    assert.deepEqual([...documented.keys()].sort(), Object.keys(PACKAGE.exports).filter((key) => key !== './package.json')
      .map((key) => `${PACKAGE.name}${key.slice(1)}`).sort(), 'the README shows every entry point');
    const missing: string[] = [];
    for (const [entry, names] of documented) {
      const exported = (await import(entryModule(entry))) as Record<string, unknown>;
      for (const name of names) if (!(name in exported)) missing.push(`${name} (from '${entry}')`);
    }
    assert.deepEqual(missing, [], 'the README names these, but their entry point does not export them');
  });
});
