// Measuring helpers of the serving benchmark (serve.ts, serve_grpc_load.ts): a latency histogram in microseconds
// (hdr-histogram-js, the histogram autocannon itself uses; autocannon's own keeps whole milliseconds, too coarse for
// a p50 target of 1 ms), a server's resident memory from /proc, and the least-squares slope of a memory series.
//   const latency = new Latency();  latency.record(0.42);      // ms
//   latency.summary()                                          // { count, p50, p99, mean } in ms
//   const rss = sampleRss(pid, 250);  ...;  rss.stop()          // MB samples every 250 ms
import * as fs from 'node:fs';

import * as hdr from 'hdr-histogram-js';

/** Latencies of completed requests, kept in whole microseconds (3 significant digits), reported in ms. */
export class Latency {
  private readonly histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });

  /** One request's latency in milliseconds. */
  record(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  summary(): { count: number; p50: number; p99: number; mean: number } {
    const h = this.histogram;
    return { count: h.totalCount, p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000, mean: h.mean / 1000 };
  }
}

/** The resident memory (VmRSS) of process `pid` in MB (2^20 bytes). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** Samples rssMb(pid) every `everyMs` from now on; stop() ends it and returns the samples (seconds since start, MB). */
export function sampleRss(pid: number, everyMs: number): { stop: () => { t: number[]; mb: number[] } } {
  const t0 = performance.now();
  const t: number[] = [];
  const mb: number[] = [];
  const take = () => {
    t.push((performance.now() - t0) / 1000);
    mb.push(rssMb(pid));
  };
  take();
  const timer = setInterval(take, everyMs);
  return { stop: () => { clearInterval(timer); take(); return { t, mb }; } };
}

/** Start, end, max and the least-squares slope over the second half of a memory series, in MB and MB/min. */
export function memoryTrend(series: { t: number[]; mb: number[] }): { start: number; end: number; max: number; slopeMbPerMin: number } {
  const { t, mb } = series;
  const half = Math.floor(t.length / 2);
  const xs = t.slice(half);
  const ys = mb.slice(half);
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return { start: mb[0], end: mb[mb.length - 1], max: Math.max(...mb), slopeMbPerMin: sxx > 0 ? (sxy / sxx) * 60 : 0 };
}
