// How a launched worker is started: this node binary (process.execPath) with the node flags this process runs
// with that matter to a program (module conditions, loaders, heap size; not --inspect or the test runner's), the
// launcher guard (parent_watch), then the `insight` entry script — so workers run from the TypeScript sources
// when the launcher does, and from the build when it does.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { ruleError } from '../../errors';

/** Node flags passed on to workers; those taking a value as the next argument are marked true. */
const KEPT_FLAGS: Readonly<Record<string, boolean>> = {
  '--conditions': true, '-C': true, '--import': true, '--require': true, '-r': true, '--loader': true, '--experimental-loader': true,
  '--max-old-space-size': true, '--stack-size': true, '--expose-gc': false, '--enable-source-maps': false, '--no-warnings': false,
  '--unhandled-rejections': true, '--disable-warning': true,
};

/** The kept node flags of `execArgv`, in order, e.g. ['--conditions=source', '--import', 'file:///.../tsx/...']. */
export function keptNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const [name, inline] = [execArgv[i].split('=')[0], execArgv[i].includes('=')];
    if (!(name in KEPT_FLAGS)) continue;
    kept.push(execArgv[i]);
    if (KEPT_FLAGS[name] && !inline && i + 1 < execArgv.length) kept.push(execArgv[++i]);
  }
  return kept;
}

/** True when this module runs from TypeScript sources (through tsx), not from the compiled dist/. */
const fromSources = () => path.extname(__filename) === '.ts';

/** The `insight` entry script (bin/insight.js above `from`, this module's folder, in the sources and in a compiled dist/). */
export function insightBin(from = __dirname): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const bin = path.join(dir, 'bin', 'insight.js');
    if (fs.existsSync(bin) && fs.existsSync(path.join(dir, 'package.json'))) return bin;
  }
  throw ruleError('INSIGHT_E_INTERNAL', 'A launcher starts its workers with the insight package\'s bin/insight.js, found in a folder above its own module.',
    { from, bin: 'bin/insight.js (not found)' },
    'Reinstall the insight package (npm install), or pass a script to launch() ({ script: \'worker.js\' }) to run that instead.');
}

/**
 * node's arguments for a worker running `script` (default: the insight command) with `args`.
 * Example: workerArgv(['train', '--epochs', '3']) → [...flags, '--import', '<parent_watch>', '<bin/insight.js>', 'train', '--epochs', '3'].
 */
export function workerArgv(args: readonly string[], script = insightBin(), execArgv: readonly string[] = process.execArgv): string[] {
  const flags = keptNodeFlags(execArgv);
  if (fromSources()) {
    // The guard is TypeScript here: tsx must load before it, and workspace packages resolve to their sources.
    const given = ` ${flags.join(' ')} `;
    if (!/ (--conditions|-C)[= ]source /.test(given)) flags.push('--conditions=source');
    if (!/[ /\\]tsx[ /\\]/.test(given)) flags.push('--import', pathToFileURL(require.resolve('tsx')).href);
  }
  const guard = path.join(__dirname, `parent_watch${path.extname(__filename)}`);
  return [...flags, '--import', pathToFileURL(guard).href, script, ...args];
}
