// A launcher in its own process, for the tests that signal or kill it or run it in a network namespace: launch() of
// <script> (a worker file in this folder) with the launch flags <flags-json>; prints the result as one JSON line
// (or the error's code and message). The workers' own settings come by environment.
import * as path from 'node:path';

import { resolveLaunchOptions } from '../../../src/process/launch/config';
import { launch } from '../../../src/process/launch/launcher';

const [script, flags] = process.argv.slice(2);
launch({ settings: resolveLaunchOptions(JSON.parse(flags)), args: [], script: path.join(__dirname, script), killAfterMs: 2000 }).then((result) => {
  process.stdout.write(`${JSON.stringify({ status: result.status, signal: result.signal, restarts: result.restarts })}\n`);
}, (error: Error & { code?: string }) => {
  process.stdout.write(`${JSON.stringify({ code: error.code, message: error.message })}\n`);
});
