// A worker's node command line: the launcher's node flags that matter to a program are kept (conditions, loaders,
// heap size), debugger and test-runner flags are not; from the sources tsx and the source condition are ensured
// before the guard (parent_watch), which comes before the program.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';

import type { InsightError } from '../../../src/errors';
import { insightBin, keptNodeFlags, workerArgv } from '../../../src/process/launch/worker_program';

const GUARD = pathToFileURL(path.resolve(__dirname, '..', '..', '..', 'src', 'process', 'launch', 'parent_watch.ts')).href;

describe('worker_program', () => {
  it('keeps the node flags a program needs and drops --inspect and the test runner\'s', () => {
    assert.deepEqual(keptNodeFlags(['--inspect=9229', '--conditions', 'source', '--test', '--test-reporter=tap', '--max-old-space-size=4096', '--import', 'tsx',
      '--expose-gc', '--watch', '-r', './preload.js']),
    ['--conditions', 'source', '--max-old-space-size=4096', '--import', 'tsx', '--expose-gc', '-r', './preload.js']);
  });

  it('runs the insight entry script after the guard, with tsx and the source condition when running from the sources', () => {
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    assert.deepEqual(workerArgv(['train', '--epochs', '3'], insightBin(), ['--inspect']),
      ['--conditions=source', '--import', tsx, '--import', GUARD, insightBin(), 'train', '--epochs', '3']);
    assert.deepEqual(workerArgv(['x'], '/w.js', ['-C', 'source', '--import', 'tsx']), ['-C', 'source', '--import', 'tsx', '--import', GUARD, '/w.js', 'x'],
      'flags already given are not repeated');
    assert.equal(path.relative(path.resolve(__dirname, '..', '..', '..'), insightBin()), path.join('bin', 'insight.js'));
  });

  it('without bin/insight.js above it the launcher fails with a house error', () => {
    assert.throws(() => insightBin('/proc/self'), (error: InsightError) => {
      assert.equal(error.code, 'INSIGHT_E_INTERNAL');
      assert.equal(error.message, 'A launcher starts its workers with the insight package\'s bin/insight.js, found in a folder above its own module. ' +
        'Received: from="/proc/self", bin="bin/insight.js (not found)". Reinstall the insight package (npm install), or pass a script to launch() ({ script: \'worker.js\' }) to run that instead.');
      return true;
    });
  });
});
