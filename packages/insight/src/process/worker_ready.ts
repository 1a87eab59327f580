// The worker's side of readiness: a supervised worker (see supervisor.ts) tells its supervisor it is ready to work
// (model loaded, process group joined ...) by sending READY_MESSAGE over its IPC channel.

/** The message a worker sends once ready; namespaced like every Insight IPC message. */
const READY_MESSAGE = 'insight:ready';

/** True when `message` is a worker's readiness message. */
export function isReadyMessage(message: unknown): boolean {
  return (message as { type?: unknown } | null)?.type === READY_MESSAGE;
}

/**
 * Tells the supervisor this worker is ready (a no-op when the process was not started by one).
 * Example (in the worker program): `await loadEverything(); signalReady();`
 */
export function signalReady(): void {
  process.send?.({ type: READY_MESSAGE });
}
