// Runs TensorFlow.js's own test suite (the ~4,200 specs shipped in @tensorflow/tfjs-core's dist) against the
// `torch` backend, the way tfjs-node's run_tests does it, with tfjs's test-mode checks on (IS_TEST: the engine checks
// every kernel and customGrad op for leaked data ids) for every spec, as tfjs-core's describeWithFlags does for
// backend specs. Usage:
//   npm run conformance [-- --grep <regex>] [-- --backend cpu]
// Prints "N passed, N failed, N skipped" and exits non-zero on any failure.
/* eslint-disable @typescript-eslint/no-require-imports -- tfjs-core's spec files and jasmine are loaded in order, after the
   test environment is set, as tfjs-node's runner does; they are CommonJS without types. */
import { IGNORE_LIST } from './ignore_list';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const grep = new RegExp(flag('--grep') ?? '');
const backendName = flag('--backend') ?? 'torch';

Error.stackTraceLimit = Infinity;
process.on('unhandledRejection', (e) => { throw e; });

require('../../src/index');
require('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops');
require('@tensorflow/tfjs-core/dist/register_all_gradients');
const jasmineUtil = require('@tensorflow/tfjs-core/dist/jasmine_util');
const tf = require('@tensorflow/tfjs-core');
const Jasmine = require('jasmine');

jasmineUtil.setTestEnvs([{ name: `test-${backendName}`, backendName, flags: {}, isDataSync: true }]);

const runner = new Jasmine();
runner.loadConfig({ spec_files: [], random: false });
runner.exitOnCompletion = false;
// Before each spec's own setup (flags_test resets the environment in its own beforeEach and checks the default).
(globalThis as unknown as { beforeEach(fn: () => void): void }).beforeEach(() => tf.env().set('IS_TEST', true));
require('@tensorflow/tfjs-core/dist/tests');

/** The part of jasmine's global environment this runner uses. */
interface JasmineEnv {
  configure(options: { specFilter(spec: { getFullName(): string }): boolean }): void;
  clearReporters(): void;
  addReporter(reporter: {
    specDone(result: { status: string; fullName: string; failedExpectations: { message: string }[] }): void;
    jasmineDone(): void;
  }): void;
}
const env = (globalThis as unknown as { jasmine: { getEnv(): JasmineEnv } }).jasmine.getEnv();
const skipped: string[] = [];
env.configure({ specFilter: (spec: { getFullName(): string }) => {
  const name = spec.getFullName();
  if (!grep.test(name)) return false;
  if (IGNORE_LIST.some((entry) => name.includes(entry.spec))) {
    skipped.push(name);
    return false;
  }
  return true;
} });

let passed = 0;
let failed = 0;
const failures: string[] = [];
env.clearReporters();
env.addReporter({
  specDone(result: { status: string; fullName: string; failedExpectations: { message: string }[] }) {
    if (result.status === 'passed') passed++;
    else if (result.status === 'failed') {
      failed++;
      failures.push(`${result.fullName}\n    ${result.failedExpectations.map((f) => f.message.split('\n')[0]).join('\n    ')}`);
    }
  },
  jasmineDone() {
    for (const f of failures) console.log(`FAIL ${f}`);
    console.log(`conformance (tfjs-core ${require('@tensorflow/tfjs-core/package.json').version} specs on ${backendName}): ` +
      `${passed} passed, ${failed} failed, ${skipped.length} skipped (IS_TEST on)`);
    process.exitCode = failed > 0 ? 1 : 0;
  },
});
runner.execute();
