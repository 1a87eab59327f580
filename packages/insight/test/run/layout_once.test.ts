// The run directory's layout is spelled once: every file and folder name of a run lives in src/run/run_dir.ts,
// a model directory's file names in src/run/model_io.ts. This test reads those names out of the two modules and
// fails when any other source file spells one as a string literal (comments and prose are allowed).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { sourceFiles, SRC } from '../source_files';

const RUN_DIR = path.join('run', 'run_dir.ts');
const MODEL_IO = path.join('run', 'model_io.ts');

/** The string constants a module defines: `const X = 'name'` and `key: 'name'` (in a const object). */
function definedNames(file: string): string[] {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  return [...text.matchAll(/(?:^|\s)(?:export\s+)?const\s+[A-Z_]+\s*=\s*'([^']+)'|^\s+[a-zA-Z]+:\s*'([^']+)',$/gm)]
    .map((m) => m[1] ?? m[2]);
}

/** The code of a file without its comments (line comments and block-comment lines). */
function codeLines(file: string): { line: number; text: string }[] {
  return fs.readFileSync(file, 'utf8').split('\n').map((text, i) => ({ line: i + 1, text }))
    .filter(({ text }) => !/^\s*(\/\/|\/\*|\*)/.test(text));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A string literal that is the name, or a path ending or starting with it ('x', "report/x", `${dir}/x`). */
function literalOf(name: string): RegExp {
  const end = name.endsWith('.') ? '' : '(?=[\'"`/])';
  return new RegExp(`['"\`/]${escape(name)}${end}`);
}

/** A folder name as a path.join argument: path.join(dir, 'model'). */
function folderArgument(name: string): RegExp {
  return new RegExp(`path\\.join\\([^)]*['"]${escape(name)}['"]`);
}

describe('run layout is defined once', () => {
  const runNames = definedNames(RUN_DIR);
  const modelNames = definedNames(MODEL_IO);

  it('run_dir.ts and model_io.ts define the names the layout is made of', () => {
    for (const name of ['run.json', 'config.json', 'metrics.jsonl', 'tags.json', 'checkpoints', 'model', 'report', 'forgetting.json',
      'metrics.json', 'confusion.png', 'per_class.txt', 'confusion.txt', 'predictions.png', 'predictions.json', 'events.out.tfevents.', 'index.sqlite']) {
      assert.ok(runNames.includes(name), `run_dir.ts defines ${name}`);
    }
    assert.deepEqual(modelNames.sort(), ['model.json', 'model.onnx', 'weights.bin', 'weights.sparse.bin']);
  });

  it('no other source file spells a run or model file name', () => {
    const offences: string[] = [];
    for (const file of sourceFiles(SRC, /\.ts$/)) {
      const relative = path.relative(SRC, file);
      if (relative === RUN_DIR) continue;
      const names = relative === MODEL_IO ? runNames : [...runNames, ...modelNames];
      for (const { line, text } of codeLines(file)) {
        for (const name of names) {
          const pattern = name.includes('.') || name === 'checkpoints' ? literalOf(name) : folderArgument(name);
          if (pattern.test(text)) offences.push(`${relative}:${line} spells '${name}': ${text.trim()}`);
        }
      }
    }
    assert.deepEqual(offences, [], 'ask RunDir (src/run/run_dir.ts) or model_io.ts for the path instead');
  });
});
