// Prometheus metrics: request counts by route pattern and status, latency histograms, batch sizes, queue depth,
// model version states and load outcomes, live tensors — in the text exposition format.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { ServeInstance } from '../../src/serve/start';
import { instance, saveVersion, tempRepository, testServer } from './helpers';

let server: ServeInstance;
let root: string;

before(async () => {
  root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  fs.mkdirSync(path.join(root, 'broken', '1'), { recursive: true });
  fs.writeFileSync(path.join(root, 'broken', '1', 'model.json'), '{ not json');
  server = await testServer(root, { maxBatchSize: 8, maxQueueDelayMs: 50 });
});
after(() => server.close());

describe('GET /metrics', () => {
  it('exposes the expected series', async () => {
    await Promise.all([1, 2, 3].map((i) => server.app.inject({ method: 'POST', url: '/v1/models/tiny:predict', payload: { instances: [instance(i)] } })));
    await server.app.inject({ method: 'POST', url: '/v1/models/tiny:predict', payload: { instances: [] } });
    await server.app.inject({ method: 'GET', url: '/v1/models/tiny' });
    const res = await server.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    const text = res.body;
    const expect = (pattern: RegExp) => assert.match(text, pattern);
    expect(/^insight_serve_requests_total\{route="\/v1\/models\/:model:predict",method="POST",status="200"\} 3$/m);
    expect(/^insight_serve_requests_total\{route="\/v1\/models\/:model:predict",method="POST",status="400"\} 1$/m);
    expect(/^insight_serve_requests_total\{route="\/v1\/models\/:model",method="GET",status="200"\} 1$/m);
    expect(/^insight_serve_request_duration_seconds_bucket\{le="0\.1",route="\/v1\/models\/:model:predict",method="POST"\} \d+$/m);
    expect(/^insight_serve_request_duration_seconds_count\{route="\/v1\/models\/:model:predict",method="POST"\} 4$/m);
    expect(/^insight_serve_batch_size_bucket\{le="4",model="tiny"\} 1$/m); // the three requests shared one pass
    expect(/^insight_serve_batch_size_sum\{model="tiny"\} 3$/m);
    expect(/^insight_serve_forward_duration_seconds_count\{model="tiny"\} 1$/m);
    expect(/^insight_serve_queue_wait_seconds_count\{model="tiny"\} 3$/m);
    expect(/^insight_serve_queue_depth\{model="tiny",version="1"\} 0$/m);
    expect(/^insight_serve_model_version_state\{model="tiny",version="1",state="AVAILABLE",error="0"\} 1$/m);
    expect(/^insight_serve_model_version_state\{model="broken",version="1",state="END",error="1"\} 1$/m);
    expect(/^insight_serve_model_loads_total\{model="tiny",outcome="ok"\} 1$/m);
    expect(/^insight_serve_model_loads_total\{model="broken",outcome="failed"\} 1$/m);
    expect(/^insight_serve_in_flight_requests 1$/m); // this scrape itself
    expect(/^insight_serve_tensors \d+$/m);
    expect(/^insight_serve_process_resident_memory_bytes \d+/m);
    expect(/^insight_serve_nodejs_eventloop_lag_p99_seconds /m);
  });
});
