// Helpers for CLI tests: run main() in-process with captured output, or the real `insight` binary in a child.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { main, type CliIo } from '../../src/cli/main';
import { CIFAR_ARCHIVE, JPG_MINI } from '../shared_data';

export const BIN = path.join(__dirname, '..', '..', 'bin', 'insight.js');
export const ARCHIVE = CIFAR_ARCHIVE;
export const MINI = JPG_MINI;

function sink(): NodeJS.WriteStream & { text: string } {
  const stream = { text: '', isTTY: false, columns: 100, write(chunk: string) { stream.text += chunk; return true; } };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

/** main(argv) with stdout/stderr captured. */
export async function runMain(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const io = { stdout: sink(), stderr: sink() };
  const status = await main(argv, io as CliIo);
  process.exitCode = 0;
  return { status, stdout: io.stdout.text, stderr: io.stderr.text };
}

/**
 * Node flags for a child running the CLI: workspace packages resolve to their TypeScript sources (the `source`
 * export condition), as in this test process, and tsx loads them — also when bin/insight.js runs a compiled
 * dist/ of this package (after `npm run build`, as in CI).
 */
export const NODE_FLAGS = ['--conditions=source', '--import', pathToFileURL(require.resolve('tsx')).href];

/** The real `insight` command in a child process. */
export function runBin(argv: string[], options: { cwd?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...NODE_FLAGS, BIN, ...argv], {
    encoding: 'utf8', cwd: options.cwd, timeout: options.timeout ?? 240_000, env: { ...process.env, INSIGHT_QUIET_BACKEND_WARNING: '1' },
  });
}

/**
 * The real `insight <argv>` in a child, sent `signal` (default SIGINT, as Ctrl-C) once its stdout matches `when`
 * (default: the run's first line, printed once training listens for signals); a list sends one signal per pattern,
 * in turn. Returns how it ended and its output.
 */
export async function signalledBin(argv: string[], options: { signal?: NodeJS.Signals; when?: RegExp | RegExp[]; timeout?: number } = {}):
  Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const patterns = [options.when ?? /^(Run|Resuming) .*\n/m].flat();
  const child = spawn(process.execPath, [...NODE_FLAGS, BIN, ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INSIGHT_QUIET_BACKEND_WARNING: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    while (patterns.length > 0 && patterns[0].test(stdout)) {
      patterns.shift();
      child.kill(options.signal ?? 'SIGINT');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 240_000);
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (code, sig) => resolve([code, sig])));
  clearTimeout(timer);
  return { status, signal, stdout, stderr };
}
