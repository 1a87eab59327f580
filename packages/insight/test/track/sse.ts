// Test helper: a Server-Sent-Events client over fetch that hands out parsed events one by one, each wait bounded.

export interface SseEvent {
  event: string;
  data: unknown;
}

export class SseClient {
  private readonly controller = new AbortController();
  private buffer = '';
  private readonly queue: SseEvent[] = [];
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private readonly decoder = new TextDecoder();

  constructor(private readonly url: string) {}

  async open(): Promise<Response> {
    const response = await fetch(this.url, { signal: this.controller.signal });
    if (response.body) this.reader = response.body.getReader();
    return response;
  }

  /** The next event (heartbeat comments are skipped); rejects after `timeoutMs`. */
  async next(timeoutMs = 5000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0 || !this.reader) throw new Error(`no SSE event within ${timeoutMs} ms from ${this.url}`);
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), left); }),
      ]);
      clearTimeout(timer);
      if (chunk === null) continue;
      if (chunk.done) throw new Error('the SSE stream ended');
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const lines = block.split('\n');
        const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
        const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (event) this.queue.push({ event, data: JSON.parse(data) });
      }
    }
    return this.queue.shift()!;
  }

  /** Events until one named `name` arrives (returned last). */
  async until(name: string, timeoutMs = 5000): Promise<SseEvent[]> {
    const seen: SseEvent[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      seen.push(event);
      if (event.event === name) return seen;
    }
  }

  close(): void {
    this.controller.abort();
  }
}
