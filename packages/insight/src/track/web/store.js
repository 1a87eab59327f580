// What the page knows about runs' metrics: the records streamed so far per run, their warnings (skipped lines),
// live status and deletions. Views subscribe and are redrawn at most once per animation frame.
import { MetricsStream } from './stream.js';

const listeners = new Set();
let scheduled = false;

export const store = {
  records: new Map(),
  warnings: new Map(),
  status: new Map(),
  /** run → Date.now() of its last appended record (the live panel's "updated ... ago"). */
  lastUpdate: new Map(),
  deleted: new Set(),
  connection: 'idle',
};

function notify() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    for (const listener of listeners) listener();
  });
}

/** Calls `listener` after every change; returns the unsubscribe function. */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const stream = new MetricsStream({
  onMetrics({ run, reset, records, warnings }) {
    if (reset || !store.records.has(run)) store.records.set(run, []);
    store.records.get(run).push(...records);
    if (reset) store.warnings.set(run, []);
    if (warnings.length) store.warnings.set(run, [...(store.warnings.get(run) ?? []), ...warnings]);
    if (records.length) store.lastUpdate.set(run, Date.now());
    store.deleted.delete(run);
    notify();
  },
  onStatus({ run, status }) {
    store.status.set(run, status);
    notify();
  },
  onDeleted(run) {
    store.deleted.add(run);
    notify();
  },
  onConnection(state) {
    store.connection = state;
    notify();
  },
});

/** Watch these runs live (their records accumulate in store.records). */
export function watchRuns(ids) {
  stream.watch(ids);
}
