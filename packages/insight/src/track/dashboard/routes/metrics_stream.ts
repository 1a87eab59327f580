// GET /api/stream?runs=<id>[:<offset>:<line>],...: the live view. One Server-Sent-Events stream follows several
// runs (browsers allow few connections per host, so not one stream per run): first each run's metrics.jsonl from
// the given position (default: the whole file), then every record appended, polled every ctx.pollMs. Events:
//   metrics  { run, reset, records, warnings, position }   new records (reset: the file was rewritten, start over)
//   status   { run, status }                               the run's status, when it changes (run.json's, or crashed
//                                                          once a running run's process is gone: run/liveness.ts)
//   deleted  { run }                                       the run directory is gone (or never existed)
//   ready    {}                                            the backlog of every run has been sent
// plus a comment line every ctx.heartbeatMs. The client reconnects with the last positions it saw.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { FastifyInstance } from 'fastify';

import { ruleError } from '../../../errors';
import { hasCrashed } from '../../../run/liveness';
import { RunDir, type RunInfo } from '../../../run/run_dir';
import { MetricsTail } from '../../metrics_tail';
import { isPlainName, type DashboardContext } from '../context';

const MAX_RUNS = 50;

interface Watched {
  id: string;
  runDir: RunDir;
  tail: MetricsTail;
  status: string | null;
  /** run.json as last read (re-read when its mtime or size changes). */
  info: RunInfo | null;
  statusStamp: string;
  gone: boolean;
}

/** 'a:120:3,b' → [{ id: 'a', offset: 120, line: 3 }, { id: 'b', offset: 0, line: 0 }]. */
export function parseStreamRuns(text: string | undefined): { id: string; offset: number; line: number }[] {
  const items = (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const parsed = items.map((item) => {
    const position = /^(.+?):(\d+):(\d+)$/.exec(item);
    return position ? { id: position[1], offset: Number(position[2]), line: Number(position[3]) } : { id: item, offset: 0, line: 0 };
  });
  if (parsed.length === 0 || parsed.length > MAX_RUNS || parsed.some((p) => !Number.isInteger(p.offset) || p.offset < 0 || !Number.isInteger(p.line) || p.line < 0)) {
    throw ruleError('INSIGHT_E_QUERY', `The stream's runs parameter must list 1 to ${MAX_RUNS} runs as <id>[:<offset>:<line>], comma-separated.`,
      { runs: text ?? null }, 'Reload the page.');
  }
  return parsed;
}

export function metricsStreamRoute(app: FastifyInstance, ctx: DashboardContext): void {
  app.get<{ Querystring: { runs?: string } }>('/api/stream', (request, reply) => {
    const requested = parseStreamRuns(request.query.runs);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const watched: Watched[] = requested.map(({ id, offset, line }) => {
      const runDir = RunDir.at(path.join(ctx.runsDir, isPlainName(id) ? id : '.invalid'));
      return { id, runDir, tail: new MetricsTail(runDir.metricsJsonl, { offset, line }), status: null, info: null, statusStamp: '', gone: !isPlainName(id) };
    });

    const check = (run: Watched) => {
      if (run.gone || !fs.existsSync(run.runDir.dir)) {
        run.gone = true;
        send('deleted', { run: run.id });
        return false;
      }
      try {
        const file = run.runDir.runJson;
        const stat = fs.statSync(file);
        const stamp = `${stat.mtimeMs}:${stat.size}`;
        if (stamp !== run.statusStamp) {
          run.statusStamp = stamp;
          run.info = JSON.parse(fs.readFileSync(file, 'utf8')) as RunInfo;
        }
      } catch {
        // run.json missing or being replaced: keep the last known status
      }
      if (run.info !== null) {
        // Checked on every poll, not only when run.json changes: a dead process never writes it again.
        const recorded = String(run.info.status ?? 'unknown');
        const status = recorded === 'running' && hasCrashed(run.info) ? 'crashed' : recorded;
        if (status !== run.status) send('status', { run: run.id, status });
        run.status = status;
      }
      const update = run.tail.poll(run.status !== null && run.status !== 'running');
      if (update.reset || update.records.length > 0 || update.warnings.length > 0) {
        send('metrics', { run: run.id, reset: update.reset, records: update.records, warnings: update.warnings, position: run.tail.at });
      }
      return true;
    };
    let active = watched;
    const tick = () => {
      active = active.filter(check);
    };

    tick();
    send('ready', {});
    const poll = setInterval(tick, ctx.pollMs);
    const heartbeat = setInterval(() => res.write(': ping\n\n'), ctx.heartbeatMs);
    request.raw.on('close', () => {
      clearInterval(poll);
      clearInterval(heartbeat);
    });
  });
}
