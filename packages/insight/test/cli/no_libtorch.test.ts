// Without libtorch (the torch addon made unloadable with INSIGHT_TORCH_ADDON, in child processes): training refuses
// the cpu fallback unless it is named (--backend cpu, INSIGHT_BACKEND=cpu) and says how to get libtorch; inference
// (`insight predict`) still works on the cpu backend; and TensorFlow.js's own "install tfjs-node" banner never prints,
// only the backend package's one warning about libtorch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { resolveBackendChoice } from '../../src/run/backend_choice';
import { saveVersion } from '../serve/helpers';
import { BIN, MINI, NODE_FLAGS } from './io';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-no-libtorch-'));
const NO_TORCH: NodeJS.ProcessEnv = { ...process.env, INSIGHT_TORCH_ADDON: path.join(tmp, 'no-addon.node'), INSIGHT_HOME: tmp };
delete NO_TORCH.INSIGHT_QUIET_BACKEND_WARNING;
delete NO_TORCH.INSIGHT_BACKEND;
/** tfjs-backend-cpu's banner (MathBackendCPU.write in Node). */
const TFJS_BANNER = /tfjs-node|install our node backend|Hi, looks like you are running TensorFlow\.js/;
const HOW_TO = /To get libtorch: on Debian 12 \/ Ubuntu run `apt-get install libtorch-dev`/;
let modelDir: string;

function child(args: string[], timeout = 120_000) {
  return spawnSync(process.execPath, [...NODE_FLAGS, ...args], { encoding: 'utf8', timeout, killSignal: 'SIGKILL', env: NO_TORCH });
}

before(async () => {
  modelDir = await saveVersion(path.join(tmp, 'models'), 'tiny', 1);
});

describe('without libtorch', { timeout: 240_000 }, () => {
  it('training on auto is refused with how to get libtorch; named cpu trains; inference falls back to cpu', () => {
    const run = child([path.join(__dirname, 'no_libtorch_child.ts')]);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.equal(result.training.code, 'INSIGHT_E_BACKEND');
    assert.match(result.training.message, /^Training needs libtorch: the torch backend is unavailable, and TensorFlow\.js's cpu backend trains about 1,000 times slower \(seed-cnn: ~1\.5 images\/s instead of ~1,700\)\. Received: backend="auto", reason="the native addon could not be loaded \(Cannot find module '.*no-addon\.node'.*\)"\. To get libtorch: /);
    assert.match(result.training.message, /To train on the cpu backend anyway \(tiny models and tests\), pass --backend cpu or set INSIGHT_BACKEND=cpu\.$/);
    assert.deepEqual(result.inference, { backend: 'cpu' });
    assert.equal(result.explicitTorch.code, 'INSIGHT_E_BACKEND');
    assert.match(result.explicitTorch.message, /^The requested backend must be available\. Received: backend="torch", reason="The torch backend was requested but is unavailable\. Reason: the native addon could not be loaded/);
    assert.deepEqual(result.trainingNamed, { backend: 'cpu' });
    assert.deepEqual(result.trainingFromEnv, { backend: 'cpu' });
    assert.equal(result.badEnv.code, 'INSIGHT_E_CONFIG');
    assert.equal(result.badEnv.message, 'INSIGHT_BACKEND must be one of: auto, torch, cpu. Received: INSIGHT_BACKEND="gpu". Set INSIGHT_BACKEND=cpu, torch or auto, or unset it.');
    assert.equal(result.sum, 6);
    assert.equal(result.active, 'cpu');
    // One warning, from the backend package, saying how to get libtorch; no tfjs-node banner.
    assert.equal(run.stderr.match(/To get libtorch/g)?.length, 1, run.stderr);
    assert.match(run.stderr, HOW_TO);
    assert.doesNotMatch(run.stderr, TFJS_BANNER);
  });

  it('insight predict still works on the cpu backend, without the tfjs-node banner', () => {
    const image = path.join(MINI, 'cat', '0000.jpg');
    const run = child([BIN, 'predict', modelDir, image, '--top-k', '2']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /0000\.jpg/);
    assert.match(run.stdout, /cat|dog|ship/);
    assert.match(run.stderr, HOW_TO);
    assert.doesNotMatch(run.stderr, TFJS_BANNER);
    assert.doesNotMatch(run.stdout, TFJS_BANNER);
  });

  it('insight train without a backend named is refused at once, saying how to get libtorch', () => {
    // The refusal comes before any data is read; 20 s bound the child in case it trains instead.
    const run = child([BIN, 'train', '--data', MINI, '--limit', '20', '--epochs', '1', '--runs-dir', path.join(tmp, 'runs')], 20_000);
    assert.equal(run.status, 6, run.stderr);
    assert.match(run.stderr, /^Error INSIGHT_E_BACKEND: Training needs libtorch: /m);
    assert.match(run.stderr, /pass --backend cpu or set INSIGHT_BACKEND=cpu\.\n$/);
    assert.equal(fs.existsSync(path.join(tmp, 'runs')), false, 'no run directory is created');
  });
});

describe('INSIGHT_BACKEND', () => {
  it('sets the backend only when the command leaves it at auto', () => {
    assert.equal(resolveBackendChoice('auto', {}), 'auto');
    assert.equal(resolveBackendChoice('auto', { INSIGHT_BACKEND: 'cpu' }), 'cpu');
    assert.equal(resolveBackendChoice('auto', { INSIGHT_BACKEND: '' }), 'auto');
    assert.equal(resolveBackendChoice('torch', { INSIGHT_BACKEND: 'cpu' }), 'torch', 'a named backend wins');
    assert.throws(() => resolveBackendChoice('auto', { INSIGHT_BACKEND: 'tpu' }), /INSIGHT_BACKEND must be one of: auto, torch, cpu\. Received: INSIGHT_BACKEND="tpu"/);
  });
});
