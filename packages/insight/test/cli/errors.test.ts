// Bad input: each case's exact message (rule, `Received: name=value`, fix), its stable code and exit status;
// and, through the real binary, no stack trace. (Every code of the catalogue is produced in test/errors/.)
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { formatError, inCliTerms, toInsightError } from '../../src/cli/errors';
import { loadCifar10 } from '../../src/data';
import { ERROR_CODES, InsightError, type ErrorCode } from '../../src/errors';
import { runBin, runMain } from './io';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-cli-errors-'));
const file = (name: string, text: string) => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
};

const cases: [string, string[], ErrorCode, string | RegExp][] = [
  ['unknown model', ['train', '--model', 'vgg16'], 'INSIGHT_E_CONFIG',
    'model must be one of: seed-cnn, resnet, or a file with your own model: a module (.ts, .mts, .cts, .js, .mjs, .cjs) or a model.json. ' +
      'Received: model="vgg16". Pass e.g. --model seed-cnn (default: seed-cnn), or --model ./my_model.ts.'],
  ['unknown optimizer', ['train', '--optimizer', 'rmsprop'], 'INSIGHT_E_CONFIG',
    'optimizer must be one of: adam, adamw, sgd. Received: optimizer="rmsprop". Pass e.g. --optimizer adam (default: adam).'],
  ['unknown schedule', ['train', '--schedule', 'linear'], 'INSIGHT_E_CONFIG',
    'schedule must be one of: constant, step, cosine, onecycle. Received: schedule="linear". Pass e.g. --schedule constant (default: constant).'],
  ['zero learning rate', ['train', '--lr', '0'], 'INSIGHT_E_CONFIG', 'lr must be a number > 0. Received: lr=0. Pass e.g. --lr 0.001 (default: 0.001).'],
  ['negative learning rate', ['train', '--lr', '-0.1'], 'INSIGHT_E_CONFIG', 'lr must be a number > 0. Received: lr=-0.1. Pass e.g. --lr 0.001 (default: 0.001).'],
  ['zero batch size', ['train', '--batch-size', '0'], 'INSIGHT_E_CONFIG',
    'batchSize must be an integer >= 1. Received: batchSize=0. Pass e.g. --batch-size 64 (default: 64).'],
  ['negative epochs', ['train', '--epochs', '-3'], 'INSIGHT_E_CONFIG', 'epochs must be an integer >= 1. Received: epochs=-3. Pass e.g. --epochs 10 (default: 10).'],
  ['non-numeric epochs', ['train', '--epochs', 'ten'], 'INSIGHT_E_CONFIG', 'epochs must be an integer >= 1. Received: epochs="ten". Pass e.g. --epochs 10 (default: 10).'],
  ['unknown backend', ['train', '--backend', 'gpu'], 'INSIGHT_E_CONFIG',
    'backend must be one of: auto, torch, cpu. Received: backend="gpu". Pass e.g. --backend auto (default: auto).'],
  ['resnet depth not 6n+2', ['train', '--model', 'resnet', '--depth', '21'], 'INSIGHT_E_CONFIG',
    'resnet depth must be 6n+2 (8, 14, 20, 32, 44, 56, 110 ...). Received: depth=21. Pass e.g. --depth 20.'],
  ['unknown config key in a file', ['train', '--config', file('typo.yaml', 'epochs: 2\nbatchsize: 32\n')], 'INSIGHT_E_CONFIG',
    /^A config file \(.*typo\.yaml\) may only use known keys\. Received: batchsize=32\. Did you mean 'batchSize'\? Valid keys: data, dataset, .*, progress, .*\.$/],
  ['bad value in a config file', ['train', '--config', file('bad.json', '{"optimizer": "lion"}')], 'INSIGHT_E_CONFIG',
    'optimizer must be one of: adam, adamw, sgd. Received: optimizer="lion". Pass e.g. --optimizer adam (default: adam).'],
  ['unparsable config file', ['train', '--config', file('broken.json', '{"epochs": ')], 'INSIGHT_E_CONFIG_FILE',
    /^The --config file must be valid JSON\. Received: config=".*broken\.json", error=".*"\. Fix the syntax at the position given\.$/],
  ['missing config file', ['train', '--config', path.join(tmp, 'nope.yaml')], 'INSIGHT_E_CONFIG_FILE',
    /^The --config file must exist and be readable\. Received: config=".*nope\.yaml", error="ENOENT.*"\. Check the path, e\.g\. --config train\.yaml\.$/],
  ['missing data', ['train', '--data', path.join(tmp, 'cifar.tar.gz')], 'INSIGHT_E_DATA',
    /^The data path must exist\. Received: data=".*cifar\.tar\.gz"\. Pass a CIFAR-10 archive \(cifar-10-binary\.tar\.gz\), its extracted folder, or an image folder/],
  ['corrupt data', ['train', '--data', file('corrupt.tar.gz', 'this is not a gzip archive'.repeat(40))], 'INSIGHT_E_DATA',
    /corrupt\.tar\.gz is not a readable CIFAR-10 archive: .* Received: path=".*corrupt\.tar\.gz"\. Download it again from /],
  ['validation larger than the limit', ['train', '--limit', '100', '--validation-count', '100'], 'INSIGHT_E_CONFIG',
    'validationCount must leave training images within --limit. Received: validationCount=100, limit=100. Lower --validation-count or raise --limit.'],
  ['validation monitor without validation', ['train', '--validation-count', '0'], 'INSIGHT_E_CONFIG',
    'Monitoring a validation metric needs a validation split. Received: validationCount=0, monitor="val_loss". Pass --monitor loss (or accuracy), or a validationCount > 0.'],
  ['unknown flag', ['train', '--epoch', '3'], 'INSIGHT_E_USAGE',
    'Only the documented flags are accepted. Received: flag="--epoch". Did you mean --epochs? Run `insight train --help` for the usage.'],
  ['flag without its value', ['train', '--epochs'], 'INSIGHT_E_USAGE',
    'This flag needs a value. Received: flag="--epochs <n>". Run `insight train --help` for the usage.'],
  ['unknown command', ['fit'], 'INSIGHT_E_USAGE',
    /^The command must be one of: train, evaluate, predict, explain, finetune, (?:[a-z-]+, )*runs, dashboard, serve\. Received: command="fit"\. Run `insight --help` for the commands\.$/],
  ['resume of a non-run', ['train', '--resume', tmp], 'INSIGHT_E_RESUME',
    /^A run directory must contain run\.json and config\.json\. Received: run=".*", exists=true\. Pass a directory created by `insight train`/],
  ['evaluate a missing model', ['evaluate', path.join(tmp, 'nothing')], 'INSIGHT_E_MODEL',
    /^The model path must be a directory with model\.json, or a completed run directory\. Received: model=".*nothing", exists=false\./],
  ['predict without images', ['predict', tmp], 'INSIGHT_E_USAGE',
    'The argument <images> is required. Received: images=null. Run `insight predict --help` for the usage.'],
  ['predict with a zero top-k', ['predict', tmp, 'x.jpg', '--top-k', '0'], 'INSIGHT_E_CONFIG',
    'topK must be an integer >= 1. Received: topK=0. Pass e.g. --top-k 3 (default: 3).'],
];

describe('bad input', () => {
  for (const [what, argv, code, message] of cases) {
    it(`${what}: ${code}, exit ${ERROR_CODES[code].exitCode}`, async () => {
      const { status, stdout, stderr } = await runMain(argv);
      assert.equal(status, ERROR_CODES[code].exitCode);
      assert.equal(stdout, '');
      const prefix = `Error ${code}: `;
      assert.ok(stderr.startsWith(prefix), stderr);
      const text = stderr.slice(prefix.length).replace(/\n$/, '');
      if (typeof message === 'string') assert.equal(text, message);
      else assert.match(text, message);
      assert.equal(stderr.split('\n').length, 2, 'one line, no stack trace');
    });
  }

  it('the real binary exits with the code\'s status and prints no stack trace', () => {
    const result = runBin(['train', '--lr', '-1']);
    assert.equal(result.status, 2);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'Error INSIGHT_E_CONFIG: lr must be a number > 0. Received: lr=-1. Pass e.g. --lr 0.001 (default: 0.001).\n');
    const data = runBin(['train', '--data', '/nonexistent/cifar.tar.gz']);
    assert.equal(data.status, 3);
    assert.doesNotMatch(data.stderr, /\bat .*\.ts:\d+/);
  });

  it('no run directory is left behind by input that fails before training', async () => {
    const runs = path.join(tmp, 'runs');
    await runMain(['train', '--data', path.join(tmp, 'missing'), '--runs-dir', runs]);
    assert.equal(fs.existsSync(runs), false);
  });
});

describe('library wording restated for the command line', () => {
  it('a fix naming loadCifar10\'s path option names --data when the error reaches the CLI', async () => {
    // The real error of an empty cache (as `insight train` without --data meets it offline), raised by the library.
    const cacheDir = fs.mkdtempSync(path.join(tmp, 'empty-cache-'));
    const error = await loadCifar10({ cacheDir, download: false }).then(() => null, (e: unknown) => e);
    assert.ok(error instanceof InsightError, String(error));
    assert.match(error.message, /or pass path: '<archive or folder>' to loadCifar10, /, 'the library names its own option');
    const shown = formatError(toInsightError(error));
    assert.match(shown, /^Error INSIGHT_E_DATA: CIFAR-10 is not in the cache and downloading is turned off\. Received: download=false, cacheDir=".*"\. /);
    assert.match(shown, /\(or its extracted folder at .*cifar-10-batches-bin\), or pass --data <archive or folder>, or set INSIGHT_HOME to /);
    assert.doesNotMatch(shown, /loadCifar10|path:/);
    assert.equal(toInsightError(error).code, 'INSIGHT_E_DATA');
    assert.equal(toInsightError(error).exitCode, 3);
  });

  it('only options the CLI has a flag for are restated; other errors pass through unchanged', () => {
    assert.equal(inCliTerms("Pass e.g. --lr 0.001, or pass path: 'x' to loadCifar10."), 'Pass e.g. --lr 0.001, or pass --data x.');
    assert.equal(inCliTerms("pass workers: '2' to createSupervisor"), "pass workers: '2' to createSupervisor");
    const plain = new InsightError('INSIGHT_E_CONFIG', 'lr must be a number > 0. Received: lr=0. Pass e.g. --lr 0.001.');
    assert.equal(toInsightError(plain), plain);
  });
});
