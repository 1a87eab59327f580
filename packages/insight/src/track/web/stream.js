// The live feed: one EventSource on /api/stream for every watched run, continuing from the last position seen
// of each (so a reconnect or a change of the watched set never replays or loses records). On an error it closes
// the source and reconnects after 2 s, telling the page it is "reconnecting".

export class MetricsStream {
  /** handlers: { onMetrics(event), onStatus(event), onDeleted(runId), onConnection(state) } */
  constructor(handlers) {
    this.handlers = handlers;
    this.ids = [];
    this.positions = new Map();
    this.source = null;
    this.retry = null;
  }

  /** Follows exactly these runs (reconnecting only when the set changes). */
  watch(ids) {
    const next = [...new Set(ids)].sort();
    if (next.length === this.ids.length && next.every((id, i) => id === this.ids[i]) && (this.source || this.retry || next.length === 0)) return;
    this.ids = next;
    this.connect();
  }

  /** Forget what was read of a run (its records were dropped): the next watch starts it from the beginning. */
  forget(id) {
    this.positions.delete(id);
  }

  close() {
    this.ids = [];
    this.disconnect();
  }

  disconnect() {
    clearTimeout(this.retry);
    this.retry = null;
    if (this.source) this.source.close();
    this.source = null;
  }

  connect() {
    this.disconnect();
    if (this.ids.length === 0) {
      this.handlers.onConnection?.('idle');
      return;
    }
    const runs = this.ids.map((id) => {
      const at = this.positions.get(id);
      return at ? `${id}:${at.offset}:${at.line}` : id;
    }).join(',');
    const source = new EventSource(`/api/stream?runs=${encodeURIComponent(runs)}`);
    this.source = source;
    const parse = (event) => JSON.parse(event.data);
    source.addEventListener('metrics', (event) => {
      const data = parse(event);
      this.positions.set(data.run, data.position);
      this.handlers.onMetrics?.(data);
    });
    source.addEventListener('status', (event) => this.handlers.onStatus?.(parse(event)));
    source.addEventListener('deleted', (event) => {
      const { run } = parse(event);
      this.positions.delete(run);
      this.handlers.onDeleted?.(run);
    });
    source.addEventListener('ready', () => this.handlers.onConnection?.('live'));
    source.onerror = () => {
      if (this.source !== source) return;
      source.close();
      this.source = null;
      this.handlers.onConnection?.('reconnecting');
      this.retry = setTimeout(() => this.connect(), 2000);
    };
  }
}
