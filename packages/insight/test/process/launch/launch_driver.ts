// A launcher in its own process for the tests that signal or kill it: launch() of launch_worker.ts with
// <nproc> workers in <mode>, printing the result as JSON (or the error's code and message).
import * as path from 'node:path';

import { resolveLaunchOptions } from '../../../src/process/launch/config';
import { launch } from '../../../src/process/launch/launcher';

const [dir, mode, nproc] = process.argv.slice(2);
launch({
  settings: resolveLaunchOptions({ nprocPerNode: Number(nproc) }), args: [], script: path.join(__dirname, 'launch_worker.ts'),
  env: { ...process.env, LAUNCH_TEST_DIR: dir, LAUNCH_TEST_MODE: mode }, killAfterMs: 2000,
}).then((result) => {
  process.stdout.write(`${JSON.stringify({ status: result.status, signal: result.signal, restarts: result.restarts })}\n`);
}, (error: Error & { code?: string }) => {
  process.stdout.write(`${JSON.stringify({ code: error.code, message: error.message })}\n`);
});
