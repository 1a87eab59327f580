#!/usr/bin/env node
// Builds the native addon against libtorch during `npm ci`. Without libtorch the install still succeeds:
// it prints how to get libtorch, and importing the package later says the same (Insight then runs on `cpu`).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { findLibtorch, HOW_TO_GET_LIBTORCH } = require('./libtorch-location.js');

const root = path.join(__dirname, '..');
const found = findLibtorch();
if (!found) {
  console.warn(`[@insight/tfjs-backend-torch] libtorch was not found, so the native backend was not built.\n${HOW_TO_GET_LIBTORCH}`);
  process.exit(0);
}
console.log(`[@insight/tfjs-backend-torch] building the native addon against libtorch at ${found.description}`);
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
const args = [nodeGyp, 'rebuild', '--release'];
// Debian ships Node's headers in /usr/include/node: build against them, downloading nothing.
if (!process.env.npm_config_nodedir && fs.existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
const result = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, INSIGHT_LIBTORCH_INCLUDE: found.include.join(' '), INSIGHT_LIBTORCH_LIB: found.lib },
});
if (result.status !== 0) {
  console.warn(`[@insight/tfjs-backend-torch] building the native addon failed (exit ${result.status}).\n` +
    `The package will run on TensorFlow.js's cpu backend until it builds. ${HOW_TO_GET_LIBTORCH}`);
}
process.exit(0);
