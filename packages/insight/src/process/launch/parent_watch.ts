// Loaded into every launched worker before its program (node --import, see worker_program.ts): the worker stops
// when its launcher is gone, as Linux's PR_SET_PDEATHSIG would make it, so a launcher killed with SIGKILL leaves
// no orphans training on. Two signs of a dead launcher: the IPC channel to it closes (at once, whatever killed it),
// and the parent pid is no longer the launcher's (checked every INSIGHT_LAUNCH_MONITOR_MS, for a channel-less start).
// The worker is sent SIGTERM (training saves a checkpoint and stops), then SIGKILL if it still runs after GRACE_MS;
// its output, which nobody reads any more, is dropped. A third sign can come first: a write to the launcher's closed
// pipe fails (EPIPE). That error is heard here from the start (bin/insight.js leaves a stream with a listener alone),
// so it stops the worker the same way instead of ending it at once with nothing saved.
import { isMainThread } from 'node:worker_threads';

import { LAUNCHER_PID_ENV, MONITOR_MS_ENV } from './worker_env';

const GRACE_MS = 10_000;
const STREAMS = [process.stdout, process.stderr];

function watchLauncher(): void {
  const launcherPid = Number(process.env[LAUNCHER_PID_ENV]);
  const intervalMs = Number(process.env[MONITOR_MS_ENV]) || 1000;
  // The worker's own children are not the launcher's: they must not inherit the watch.
  delete process.env[LAUNCHER_PID_ENV];
  delete process.env[MONITOR_MS_ENV];
  if (!Number.isInteger(launcherPid) || launcherPid <= 0) return;
  let gone = false;
  const stop = () => {
    if (gone) return;
    gone = true;
    clearInterval(timer);
    // The launcher read this worker's output: with it gone a write would fail (EPIPE) and end the worker before
    // its SIGTERM handler has saved anything. The output has no reader left; drop it.
    for (const stream of STREAMS) {
      stream.write = ((...args: unknown[]) => {
        const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
        if (callback) process.nextTick(callback);
        return true;
      }) as typeof stream.write;
    }
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), GRACE_MS).unref();
    process.kill(process.pid, 'SIGTERM');
  };
  for (const stream of STREAMS) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      stop();
    });
  }
  const timer = setInterval(() => {
    if (process.ppid !== launcherPid) stop();
  }, intervalMs).unref();
  if (process.channel) {
    process.on('disconnect', stop);
    process.channel.unref(); // the channel alone must not keep a finished worker alive
  }
  if (process.ppid !== launcherPid) stop();
}

if (isMainThread) watchLauncher();
