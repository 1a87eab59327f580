// `insight serve --workers 2 --grpc-port 0`: the real binary as a cluster. Each worker binds its gRPC server after
// its HTTP one, so node:cluster hands every worker the same two ports (a worker's n-th listen on port 0 shares the
// primary's n-th handle): both ready lines name one `grpc` address, gRPC calls on fresh connections are answered,
// and SIGTERM stops everything.
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import { status } from '@grpc/grpc-js';

import { grpcClient } from './grpc_client';
import { INFERENCE_KEY, SIZE, saveVersion, tempRepository } from './helpers';

const BIN = path.join(__dirname, '..', '..', 'bin', 'insight.js');
const NODE_FLAGS = ['--conditions=source', '--import', pathToFileURL(require.resolve('tsx')).href];

let root: string;
let child: ChildProcess | null = null;
before(async () => {
  root = tempRepository();
  await saveVersion(root, 'tiny', 1);
});
after(() => child?.kill('SIGKILL'));

describe('insight serve --workers 2 --grpc-port 0', () => {
  it('shares one gRPC port across the workers and stops on SIGTERM', async () => {
    child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'serve', '--models', root, '--port', '0', '--grpc-port', '0', '--workers', '2', '--log-level', 'warn'], {
      env: { ...process.env, INSIGHT_QUIET_BACKEND_WARNING: '1', INSIGHT_API_KEYS: INFERENCE_KEY, INSIGHT_ADMIN_KEYS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = child;
    let output = '';
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const ready = await new Promise<{ pid: number; url: string; grpc: string }[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready lines within 60 s:\n${output}`)), 60_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const lines = output.split('\n').filter((l) => l.includes('"insight serve ready"'));
        // The banner goes to stderr, the ready lines to stdout: wait for both pipes.
        if (lines.length >= 2 && /^ {2}backend: /m.test(output)) {
          clearTimeout(timer);
          resolve(lines.map((l) => JSON.parse(l)));
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      void exited.then((code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
    });
    assert.equal(new Set(ready.map((r) => r.pid)).size, 2, 'two workers');
    assert.equal(new Set(ready.map((r) => r.url)).size, 1, 'one HTTP port');
    assert.equal(new Set(ready.map((r) => r.grpc)).size, 1, 'one gRPC port');
    assert.match(ready[0].grpc, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(ready[0].grpc.split(':')[1], new URL(ready[0].url).port);
    assert.match(output, /^ {2}grpc: {4}127\.0\.0\.1:\d+ \(tensorflow\.serving\.PredictionService, inference\.GRPCInferenceService\)$/m);
    // Fresh connections go round the workers; each answers.
    for (let i = 0; i < 4; i++) {
      const client = grpcClient('kserve/grpc_predict_v2.proto', 'inference.GRPCInferenceService', ready[0].grpc);
      const outcome = await client.call('ModelInfer', {
        model_name: 'tiny', inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, SIZE, SIZE, 3] }], raw_input_contents: [Buffer.alloc(SIZE * SIZE * 3, 7 * i)],
      }, INFERENCE_KEY);
      client.close();
      assert.ok(outcome.ok, JSON.stringify(outcome));
    }
    const metrics = await fetch(`${ready[0].url}/metrics`, { headers: { authorization: `Bearer ${INFERENCE_KEY}` } }).then((r) => r.text());
    assert.match(metrics, /^insight_serve_requests_total\{route="grpc \/inference\.GRPCInferenceService\/ModelInfer",method="GRPC",status="OK"\} 4$/m);
    proc.kill('SIGTERM');
    assert.equal(await exited, 0);
    child = null;
    const client = grpcClient('kserve/grpc_predict_v2.proto', 'inference.GRPCInferenceService', ready[0].grpc);
    const stopped = await client.call('ServerLive', {}, null, 2000);
    client.close();
    assert.ok(!stopped.ok && stopped.code === status.UNAVAILABLE, JSON.stringify(stopped));
  });
});
