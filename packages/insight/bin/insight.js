#!/usr/bin/env node
'use strict';
// The `insight` command. Runs the compiled CLI (built by `npm ci` through the root `prepare` script), or the
// TypeScript sources through tsx when node runs with `--conditions=source` (development) or nothing is built.
const path = require('node:path');
const fs = require('node:fs');

// A reader that stops early (`insight runs | head`) closes the pipe: end quietly, as Unix tools do. A launched worker's
// guard (process/launch/parent_watch.ts, imported before this script) already listens: its launcher's pipe closing
// means the launcher is gone, and the worker stops with a checkpoint instead.
for (const stream of [process.stdout, process.stderr]) {
  if (stream.listenerCount('error') > 0) continue;
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

const compiled = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
const sourceMode = [...process.execArgv, ...(process.env.NODE_OPTIONS || '').split(/\s+/)]
  .some((arg) => /^--conditions[= ]?source$|^-C[= ]?source$/.test(arg));
if (sourceMode || !fs.existsSync(compiled)) {
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'src', 'cli', 'main.ts')).main(process.argv.slice(2));
} else {
  require(compiled).main(process.argv.slice(2));
}
