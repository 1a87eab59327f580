// The launched worker's guard (process/launch/parent_watch.ts) when the first sign of a dead launcher is a write to
// its closed pipe (EPIPE): the worker is stopped with SIGTERM — its handler saves and it ends normally — instead
// of dying of the unhandled write error with nothing saved; and it does so through bin/insight.js too, whose own
// "end quietly on a closed pipe" would otherwise exit first. Without the guard, the bin still ends quietly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';

import { LAUNCHER_PID_ENV, MONITOR_MS_ENV } from '../../../src/process/launch/worker_env';

const GUARD = pathToFileURL(path.resolve(__dirname, '..', '..', '..', 'src', 'process', 'launch', 'parent_watch.ts')).href;
const BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'insight.js');

/** A program that writes a line every 5 ms and, on SIGTERM, writes `marker` and exits 0 (as training saves and stops). */
function tickerProgram(dir: string, marker: string): string {
  const file = path.join(dir, 'ticker.js');
  fs.writeFileSync(file, `
process.on('SIGTERM', () => { require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'saved'); process.exit(0); });
setInterval(() => process.stdout.write('tick\\n'), 5);
`);
  return file;
}

/** Starts `args` under node with the guard watching this process, closes its stdout after the first line, and waits for its exit. */
async function closeItsPipe(args: string[], guarded: boolean): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  // The guard is TypeScript here: tsx loads it (a launcher's workerArgv does the same from the sources).
  const child = spawn(process.execPath, guarded ? ['--import', pathToFileURL(require.resolve('tsx')).href, '--import', GUARD, ...args] : args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, [LAUNCHER_PID_ENV]: String(process.pid), [MONITOR_MS_ENV]: '60000' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  const started = await Promise.race([new Promise<true>((resolve) => child.stdout.once('data', () => resolve(true))), exited.then(() => false)]);
  assert.ok(started, `the program wrote nothing before it exited: ${stderr}`);
  child.stdout.destroy(); // the launcher's end of the pipe closes: the next write fails with EPIPE
  const timeout = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code, signal] = await exited;
  clearTimeout(timeout);
  return { code, signal, stderr };
}

describe('parent_watch: the launcher\'s pipe closes first', () => {
  it('stops the worker with SIGTERM, so it saves and ends normally, rather than dying of the write error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-parent-watch-'));
    const marker = path.join(dir, 'saved');
    const result = await closeItsPipe([tickerProgram(dir, marker)], true);
    assert.deepEqual([result.code, result.signal], [0, null], result.stderr);
    assert.equal(fs.readFileSync(marker, 'utf8'), 'saved');
    assert.doesNotMatch(result.stderr, /EPIPE/);
  });

  it('without the guard the same program dies of the unhandled EPIPE (what the guard prevents)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-parent-watch-'));
    const marker = path.join(dir, 'saved');
    const result = await closeItsPipe([tickerProgram(dir, marker)], false);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /EPIPE/);
    assert.equal(fs.existsSync(marker), false);
  });

  it('bin/insight.js leaves the guarded worker\'s pipe errors to the guard; unguarded, it ends quietly', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-parent-watch-'));
    const script = path.join(dir, 'through_bin.js');
    const marker = path.join(dir, 'saved');
    // The bin's listener is what matters: load it as the program does (its CLI then runs --version and returns),
    // and keep writing as a worker would.
    fs.writeFileSync(script, `
process.argv = [process.argv[0], ${JSON.stringify(BIN)}, '--version'];
require(${JSON.stringify(BIN)});
process.on('SIGTERM', () => { require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'saved'); process.exit(0); });
setInterval(() => process.stdout.write('tick\\n'), 5);
`);
    const guarded = await closeItsPipe([script], true);
    assert.deepEqual([guarded.code, guarded.signal], [0, null], guarded.stderr);
    assert.equal(fs.readFileSync(marker, 'utf8'), 'saved', 'stopped by the guard, not ended by the bin');
    fs.rmSync(marker);
    const plain = await closeItsPipe([script], false);
    assert.deepEqual([plain.code, plain.signal], [0, null], plain.stderr);
    assert.equal(fs.existsSync(marker), false, 'ended quietly by the bin at once');
  });
});
