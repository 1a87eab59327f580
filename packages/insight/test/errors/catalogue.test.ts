// Every code of the error catalogue can be produced: one or more real triggers per code (a CLI invocation, a
// library call, or an HTTP request to the server or the dashboard, in-process), each asserting the code, the
// message, and the exit or HTTP status the catalogue gives it. The README documents the same codes (readme.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it, mock } from 'node:test';

import type { FastifyInstance, InjectOptions } from 'fastify';

import { ERROR_CODES, type ErrorCode } from '../../src/errors';
import type { ServeInstance } from '../../src/serve/start';
import { startServe } from '../../src/serve/start';
import { openStudyStorage } from '../../src/study/open_storage';
import { buildDashboard } from '../../src/track/dashboard/server';
import { RunIndex } from '../../src/track/run_index';
import { ARCHIVE, BIN, NODE_FLAGS, runMain, signalledBin } from '../cli/io';
import {
  ADMIN_KEY, INFERENCE_KEY, KEYS, NO_KEYS, bearer, imageBytes, instance, saveVersion, tempRepository, testConfig, testServer,
} from '../serve/helpers';

/** What a trigger saw: the code and message, and the exit status (CLI) or HTTP status (HTTP) it came with. */
interface Observed {
  code: string;
  message: string;
  exitCode?: number;
  httpStatus?: number;
}

interface Trigger {
  how: string;
  run: () => Promise<Observed>;
  message: RegExp;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-catalogue-'));
const runsDir = path.join(tmp, 'runs');
const repository = path.join(tmp, 'models');
let modelDir: string;
let server: ServeInstance;
let dashboard: FastifyInstance;
let index: RunIndex;

before(async () => {
  fs.mkdirSync(runsDir);
  fs.mkdirSync(repository);
  modelDir = await saveVersion(repository, 'tiny', 1);
  server = await testServer(repository, {}, KEYS);
  index = RunIndex.open(runsDir);
  dashboard = buildDashboard({ runsDir, index, pollMs: 50, heartbeatMs: 1000 });
});

after(async () => {
  await server.close();
  await dashboard.close();
  index.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** `insight <argv>` in-process: the code and message of its one stderr line, and its exit status. */
async function cli(argv: string[]): Promise<Observed> {
  const { status, stdout, stderr } = await runMain(argv);
  assert.equal(stdout, '');
  const line = /^Error ([A-Z_]+): (.*)\n/.exec(stderr);
  assert.ok(line, stderr);
  return { code: line[1], message: line[2], exitCode: status };
}

/** An HTTP request answered `{ code, error }` (server) or `{ code, message }` (dashboard). */
async function http(app: FastifyInstance, request: InjectOptions | string): Promise<Observed> {
  const response = await app.inject(request);
  const body = response.json() as { code: string; error?: string; message?: string };
  return { code: body.code, message: body.error ?? body.message ?? '', httpStatus: response.statusCode };
}

/** Inference on the shared keyed server. */
const predict = (payload: unknown, url = '/v1/models/tiny:predict') =>
  http(server.app, { method: 'POST', url, payload: payload as string, headers: { ...bearer(INFERENCE_KEY), 'content-type': 'application/json' } });

/** A loaded server on the shared repository with `overrides`, closed after `fn`. */
async function withServer(overrides: Parameters<typeof testConfig>[1], fn: (s: ServeInstance) => Promise<Observed>): Promise<Observed> {
  const s = await testServer(repository, overrides);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** Raw bytes to a listening server on 127.0.0.1 with `overrides`: the status and house body of its answer. */
async function rawHttp(overrides: Parameters<typeof testConfig>[1], text: string): Promise<Observed> {
  return withServer(overrides, async (s) => {
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect((s.app.server.address() as net.AddressInfo).port, '127.0.0.1');
      let out = '';
      socket.on('data', (chunk) => void (out += chunk.toString()));
      socket.on('close', () => resolve(out));
      socket.on('error', () => resolve(out));
      socket.write(text);
    });
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { code: string; error: string };
    return { code: body.code, message: body.error, httpStatus: Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1]) };
  });
}

/** A port some other program listens on, for `fn`. */
async function withBusyPort(fn: (port: number) => Promise<Observed>): Promise<Observed> {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    return await fn((blocker.address() as net.AddressInfo).port);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
}

/** A thrown error as seen by a library caller. */
async function thrown(fn: () => Promise<unknown>): Promise<Observed> {
  try {
    await fn();
  } catch (error) {
    const e = error as { code: string; message: string; httpStatus?: number };
    return { code: e.code, message: e.message, httpStatus: e.httpStatus };
  }
  assert.fail('expected an error');
}

const TRIGGERS: Record<ErrorCode, Trigger[]> = {
  INSIGHT_E_USAGE: [{
    how: 'insight fit', run: () => cli(['fit']),
    message: /^The command must be one of: train, evaluate, predict, explain, finetune, (?:[a-z-]+, )*runs, dashboard, serve\. Received: command="fit"\. Run `insight --help`/,
  }],
  INSIGHT_E_CONFIG: [{
    how: 'insight train --lr 0', run: () => cli(['train', '--lr', '0']),
    message: /^lr must be a number > 0\. Received: lr=0\. Pass e\.g\. --lr 0\.001 \(default: 0\.001\)\.$/,
  }],
  INSIGHT_E_CONFIG_FILE: [{
    how: 'insight train --config <missing>', run: () => cli(['train', '--config', path.join(tmp, 'nope.yaml')]),
    message: /^The --config file must exist and be readable\. Received: config=".*nope\.yaml", error="ENOENT/,
  }, {
    how: 'insight serve --api-keys-file <missing>', run: () => cli(['serve', '--models', repository, '--api-keys-file', path.join(tmp, 'no-keys')]),
    message: /^The --api-keys-file file must exist and be readable\. Received: api-keys-file=".*no-keys", error="ENOENT"\. Check the path and permissions\.$/,
  }],
  INSIGHT_E_DATA: [{
    how: 'insight train --data <missing>', run: () => cli(['train', '--data', path.join(tmp, 'cifar.tar.gz')]),
    message: /^The data path must exist\. Received: data=".*cifar\.tar\.gz"\./,
  }],
  INSIGHT_E_IMAGE: [{
    how: 'insight predict <model> <missing image>', run: () => cli(['predict', modelDir, path.join(tmp, 'cat.jpg')]),
    message: /^Every image path must exist\. Received: image=".*cat\.jpg"\. Check the path/,
  }, {
    how: 'insight explain <model> <folder without images>', run: () => cli(['explain', modelDir, fs.mkdtempSync(path.join(tmp, 'no-images-'))]),
    message: /^The image paths must hold at least one image \(predict and explain read files and folders alike\)\. Received: images=\[".*no-images-.*"\]\./,
  }],
  INSIGHT_E_MODEL: [{
    how: 'insight evaluate <missing>', run: () => cli(['evaluate', path.join(tmp, 'nothing')]),
    message: /^The model path must be a directory with model\.json, or a completed run directory\. Received: model=".*nothing", exists=false\./,
  }],
  INSIGHT_E_RESUME: [{
    how: 'insight train --resume <not a run>', run: () => cli(['train', '--resume', repository]),
    message: /^A run directory must contain run\.json and config\.json\. Received: run=".*models", exists=true\./,
  }],
  INSIGHT_E_INTERRUPTED: [{
    how: 'insight train, Ctrl-C (SIGINT) once it runs (child process)',
    run: async () => {
      const child = await signalledBin(['train', '--data', ARCHIVE, '--limit', '64', '--validation-count', '0', '--monitor', 'loss',
        '--epochs', '1', '--batch-size', '16', '--no-tensorboard', '--runs-dir', path.join(tmp, 'interrupted')]);
      const line = /^Error ([A-Z_]+): (.*)\n/.exec(child.stderr);
      assert.ok(line, child.stderr);
      return { code: line[1], message: line[2], exitCode: child.status ?? -1 };
    },
    message: /^Training stops at SIGINT or SIGTERM, after saving its state at the next optimizer update\. Received: signal="SIGINT", run=".*interrupted.*", savedAt="epoch 1, batch 1\/4 \(step 1\)"\. Resume with: insight train --resume .*interrupted/,
  }],
  INSIGHT_E_BACKEND: [{
    how: 'insight serve --backend torch, without the torch addon (child process)',
    run: async () => {
      const child = spawnSync(process.execPath, [...NODE_FLAGS, BIN, 'serve', '--models', repository, '--backend', 'torch', '--log-level', 'silent'], {
        encoding: 'utf8', timeout: 120_000, env: { ...process.env, INSIGHT_TORCH_ADDON: path.join(tmp, 'no-addon.node'), INSIGHT_QUIET_BACKEND_WARNING: '1' },
      });
      const line = /^Error ([A-Z_]+): (.*)\n/.exec(child.stderr);
      assert.ok(line, child.stderr);
      return { code: line[1], message: line[2], exitCode: child.status ?? -1 };
    },
    message: /^The requested backend must be available\. Received: backend="torch", reason="The torch backend was requested but is unavailable\./,
  }],
  INSIGHT_E_RUNS_DIR: [{
    how: 'insight runs --runs-dir <missing>', run: () => cli(['runs', '--runs-dir', path.join(tmp, 'no-runs')]),
    message: /^The runs directory must be an existing directory\. Received: runsDir=".*no-runs", exists=false\./,
  }, {
    how: 'dashboard GET /api/runs after the runs directory was deleted',
    run: async () => {
      const dir = fs.mkdtempSync(path.join(tmp, 'gone-'));
      const goneIndex = RunIndex.open(dir);
      const app = buildDashboard({ runsDir: dir, index: goneIndex, pollMs: 50, heartbeatMs: 1000 });
      try {
        fs.rmSync(dir, { recursive: true });
        return await http(app, '/api/runs');
      } finally {
        await app.close();
        goneIndex.close();
      }
    },
    message: /^The runs directory must be an existing directory\./,
  }],
  INSIGHT_E_RUN_NOT_FOUND: [{
    how: 'insight runs compare <unknown> <unknown>', run: () => cli(['runs', 'compare', 'nope', 'nada', '--runs-dir', runsDir]),
    message: /^A run must be a run id \(or unique prefix\) in the runs directory\. Received: run="nope"/,
  }, {
    how: 'dashboard GET /api/runs/nope', run: () => http(dashboard, '/api/runs/nope'),
    message: /^A run page needs a run directory in the runs directory\. Received: run="nope", runsDir=".*"\. It may have been deleted/,
  }],
  INSIGHT_E_QUERY: [{
    how: 'insight runs --where optimizer', run: () => cli(['runs', '--where', 'optimizer', '--runs-dir', runsDir]),
    message: /^A --where filter must be <key><operator><value> with one of != >= <= = > < ~\. Received: where="optimizer"\./,
  }, {
    how: 'dashboard GET /api/runs?where=optimizer', run: () => http(dashboard, '/api/runs?where=optimizer'),
    message: /^A --where filter must be <key><operator><value> .* Received: where="optimizer"\./,
  }],
  INSIGHT_E_LISTEN: [{
    how: 'insight dashboard --port <busy>',
    run: () => withBusyPort((port) => cli(['dashboard', '--port', String(port), '--runs-dir', runsDir])),
    message: /^Port in use: the dashboard needs a port no other program listens on\. Received: port=\d+, host="127\.0\.0\.1"\. Stop the other program/,
  }, {
    how: 'startServe on a busy port (as insight serve --port <busy>)',
    run: () => withBusyPort((port) => thrown(() => startServe(testConfig(repository, { port }), NO_KEYS))),
    message: /^insight serve needs a free port on an address of this machine\. Received: host="127\.0\.0\.1", port=\d+, error="EADDRINUSE"\. Stop the other server/,
  }],
  INSIGHT_E_STORAGE: [{
    how: 'openStudyStorage(<a folder>) (as insight tune --storage <folder>)',
    run: () => thrown(() => openStudyStorage(tmp)),
    message: /^A SQLite study storage must be a file, not a folder\. Received: storage="sqlite:.*insight-catalogue-\w+"\. Name a file, e\.g\. --storage sqlite:.*study\.db\.$/,
  }],
  INSIGHT_E_DISTRIBUTED: [{
    how: 'insight train as rank 1 of 2 (torchrun\'s variables) with no rank 0 to meet, a 1 s group timeout',
    run: async () => {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const group = { MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), RANK: '1', WORLD_SIZE: '2', INSIGHT_DIST_TIMEOUT_MS: '1000' };
      const saved = { ...process.env };
      Object.assign(process.env, group);
      try {
        return await cli(['train', '--data', ARCHIVE, '--limit', '64', '--epochs', '1', '--batch-size', '16', '--runs-dir', path.join(tmp, 'distributed')]);
      } finally {
        for (const key of Object.keys(group)) {
          if (saved[key] === undefined) delete process.env[key];
          else process.env[key] = saved[key];
        }
      }
    },
    message: /^Data-parallel training needs every rank of its group alive: a collective failed\. Received: rank=1, collective="rendezvous at 127\.0\.0\.1:\d+", error=".*joining the process group \(rank 1 of 2, store 127\.0\.0\.1:\d+\) failed: .*"\. Read the first error of the other ranks/,
  }],
  INSIGHT_E_INTERNAL: [{
    how: 'insight runs with a fault injected into the run index',
    run: async () => {
      const fault = mock.method(RunIndex, 'open', () => {
        throw new Error('injected fault');
      });
      try {
        const { status, stderr } = await runMain(['runs', '--runs-dir', runsDir]);
        assert.match(stderr, /\nThis is a bug in Insight; run with INSIGHT_DEBUG=1 for the stack trace and report it\.\n$/);
        const [, code, message] = /^Error ([A-Z_]+): (.*)\n/.exec(stderr)!;
        return { code, message, exitCode: status };
      } finally {
        fault.mock.restore();
      }
    },
    message: /^injected fault$/,
  }],

  SERVE_E_BAD_JSON: [{
    how: 'POST :predict with a truncated body', run: () => predict('{"instances": ['),
    message: /^The body must be valid JSON\./,
  }],
  SERVE_E_BAD_INPUT: [{
    how: 'POST :predict {"instances": 3}', run: () => predict({ instances: 3 }),
    message: /^"instances" must be a non-empty list with one entry per image\. Received: instances="number"\. Send "instances": \[<image>, \.\.\.\]\.$/,
  }, {
    how: 'GET with a malformed URL encoding', run: () => http(server.app, { method: 'GET', url: '/v1/models/%E0%A4%A', headers: bearer(INFERENCE_KEY) }),
    message: /^The URL path must be valid percent-encoded UTF-8\. Received: path="<19 characters, not shown>"\. Percent-encode names/,
  }, {
    how: 'dashboard GET with a malformed URL encoding', run: () => http(dashboard, '/api/runs/%E0%A4%A'),
    message: /^A dashboard request must be well-formed\. Received: url="\/api\/runs\/%E0%A4%A"/,
  }, {
    how: 'POST :explain beyond --explain-max-work', run: () => predict({ instances: [instance(1)], methods: 'ig', steps: 100_000 }, '/v1/models/tiny:explain'),
    message: /^One explanation request may cost at most --explain-max-work=\d+ model passes \(images x passes per image, summed over methods\)\. Received: work=100000, images=1/,
  }],
  SERVE_E_BAD_IMAGE: [{
    how: 'POST :classify-image with bytes that are no image',
    run: () => http(server.app, {
      method: 'POST', url: '/v1/models/tiny:classify-image', payload: Buffer.from('not an image at all'),
      headers: { ...bearer(INFERENCE_KEY), 'content-type': 'image/png' },
    }),
    message: /^An image must be a complete JPEG, PNG, WebP or GIF file\. Received: body="19 bytes", error=".*"\. Send the whole file/,
  }],
  SERVE_E_UNAUTHORIZED: [{
    how: 'POST :predict without a key',
    run: () => http(server.app, { method: 'POST', url: '/v1/models/tiny:predict', payload: { instances: [instance(1)] } }),
    message: /Authorization: Bearer/,
  }],
  SERVE_E_FORBIDDEN: [{
    how: 'an inference key on an admin route',
    run: () => http(server.app, { method: 'POST', url: '/admin/models/tiny/reload', headers: bearer(INFERENCE_KEY) }),
    message: /admin/,
  }],
  SERVE_E_NOT_FOUND: [{
    how: 'GET /nope on the server', run: () => http(server.app, { method: 'GET', url: '/nope', headers: bearer(INFERENCE_KEY) }),
    message: /^The request must address one of the server's routes\. Received: method="GET", path="\/nope"\./,
  }, {
    how: 'GET /nope on the dashboard', run: () => http(dashboard, '/nope'),
    message: /^No such page or API endpoint\. Received: url="\/nope"\. Open \/ for the dashboard\.$/,
  }, {
    how: 'GET /assets/nope.js on the dashboard', run: () => http(dashboard, '/assets/nope.js'),
    message: /^No such dashboard asset\. Received: name="nope\.js"\. Reload the page\.$/,
  }],
  SERVE_E_MODEL_NOT_FOUND: [{
    how: 'POST /v1/models/nope:predict', run: () => predict({ instances: [instance(1)] }, '/v1/models/nope:predict'),
    message: /^A request must name a model of the repository\. Received: model="nope"/,
  }],
  SERVE_E_VERSION_NOT_FOUND: [{
    how: 'POST /v1/models/tiny/versions/9:predict', run: () => predict({ instances: [instance(1)] }, '/v1/models/tiny/versions/9:predict'),
    message: /^A request may name only a version that is being served\. Received: model="tiny", version=9/,
  }],
  SERVE_E_PAYLOAD_TOO_LARGE: [{
    how: 'a body over --body-limit-mb',
    run: () => withServer({ bodyLimitMb: 0.001 }, (s) => http(s.app, {
      method: 'POST', url: '/v1/models/tiny:predict', payload: JSON.stringify({ instances: [instance(1), instance(2)] }), headers: { 'content-type': 'application/json' },
    })),
    message: /^A request body \(or uploaded file\) may be at most --body-limit-mb \(1048 bytes\)\./,
  }],
  SERVE_E_REQUEST_TIMEOUT: [{
    how: 'a body not sent within --request-timeout-ms',
    run: () => rawHttp({ requestTimeoutMs: 300 }, 'POST /v1/models/tiny:predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"inst'),
    message: /^A client must send its whole request within --request-timeout-ms \(300 ms\)\./,
  }],
  SERVE_E_IMAGE_TOO_LARGE: [{
    how: 'an image over --max-image-pixels',
    run: () => withServer({ maxImagePixels: 100 }, async (s) => http(s.app, {
      method: 'POST', url: '/v1/models/tiny:classify-image', payload: await imageBytes(20, 20), headers: { 'content-type': 'image/png' },
    })),
    message: /^An image may have at most --max-image-pixels=100 pixels\. Received: body="20x20 = 400 pixels"\./,
  }],
  SERVE_E_URI_TOO_LONG: [{
    how: 'a model name of 150 characters',
    run: () => http(server.app, { method: 'GET', url: `/v1/models/${'m'.repeat(150)}`, headers: bearer(INFERENCE_KEY) }),
    message: /^A URL path segment \(model name, version\) may be at most 100 characters\. Received: path="<161 characters, not shown>"\./,
  }],
  SERVE_E_UNSUPPORTED_MEDIA: [{
    how: 'POST :predict as text/plain',
    run: () => http(server.app, { method: 'POST', url: '/v1/models/tiny:predict', payload: 'hello', headers: { ...bearer(INFERENCE_KEY), 'content-type': 'text/plain' } }),
    message: /^The Content-Type must be application\/json, multipart\/form-data or one of .* Received: content-type="text\/plain"\./,
  }],
  SERVE_E_RATE_LIMITED: [{
    how: 'a second request beyond --rate-limit 1 --rate-burst 1',
    run: () => withServer({ rateLimit: 1, rateBurst: 1 }, async (s) => {
      const send = () => http(s.app, { method: 'POST', url: '/v1/models/tiny:predict', payload: { instances: [instance(1)] } });
      await send();
      return send();
    }),
    message: /rate-limit/,
  }],
  SERVE_E_HEADERS_TOO_LARGE: [{
    how: 'a 20 KB header',
    run: () => rawHttp({}, `GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    message: /^The request line and headers may be at most 16 KiB\./,
  }],
  SERVE_E_INTERNAL: [{
    how: 'POST :predict with a fault injected into the repository',
    run: async () => {
      const fault = mock.method(server.ctx.repository, 'acquire', () => {
        throw new Error('injected fault');
      });
      try {
        return await predict({ instances: [instance(1)] });
      } finally {
        fault.mock.restore();
      }
    },
    message: /^The server failed unexpectedly while answering\. Received: requestId=".+"\. Retry; if it persists, report it with the request id/,
  }, {
    how: 'dashboard GET /api/runs with a fault injected into the run index',
    run: async () => {
      const fault = mock.method(index, 'list', () => {
        throw new Error('injected fault');
      });
      try {
        return await http(dashboard, '/api/runs');
      } finally {
        fault.mock.restore();
      }
    },
    message: /^The dashboard failed unexpectedly while answering\. Received: requestId=".+", error="injected fault"\. Reload the page/,
  }],
  SERVE_E_LOAD_FAILED: [{
    how: 'admin reload of a model with a broken version',
    run: async () => {
      const root = tempRepository();
      await saveVersion(root, 'tiny', 1);
      const s = await testServer(root, {}, KEYS);
      try {
        const broken = path.join(root, 'tiny', '2');
        fs.mkdirSync(broken);
        fs.writeFileSync(path.join(broken, 'model.json'), '{"modelTopology": "truncated');
        return await http(s.app, { method: 'POST', url: '/admin/models/tiny/reload', headers: bearer(ADMIN_KEY) });
      } finally {
        await s.close();
        fs.rmSync(root, { recursive: true, force: true });
      }
    },
    message: /^An admin reload must be able to load every version it reloads\. Received: model="tiny", failed=/,
  }],
  SERVE_E_MODEL_UNAVAILABLE: [{
    how: 'POST :predict after an admin unload',
    run: () => withServer({}, async (s) => {
      await s.ctx.repository.unload('tiny');
      return http(s.app, { method: 'POST', url: '/v1/models/tiny:predict', payload: { instances: [instance(1)] } });
    }),
    message: /^A model unloaded by an admin serves no requests\. Received: model="tiny"/,
  }],
  SERVE_E_OVERLOADED: [{
    how: 'a request beyond --max-queue-size',
    run: () => withServer({ maxBatchSize: 64, maxQueueDelayMs: 300, maxQueueSize: 1, maxInstances: 1 }, async (s) => {
      const send = () => http(s.app, { method: 'POST', url: '/v1/models/tiny:predict', payload: { instances: [instance(1)] } });
      const queued = send();
      await new Promise((resolve) => setTimeout(resolve, 30));
      const rejected = await send();
      await queued;
      return rejected;
    }),
    message: /^The inference queue of a model holds at most 1 instances\. Received: model="tiny\/1", queued=1, requested=1\./,
  }],
  SERVE_E_SHUTTING_DOWN: [{
    how: 'POST :predict while the server shuts down',
    run: () => withServer({}, async (s) => {
      s.ctx.lifecycle.shuttingDown = true;
      return http(s.app, { method: 'POST', url: '/v1/models/tiny:predict', payload: { instances: [instance(1)] } });
    }),
    message: /^A server that is shutting down takes no new requests\. Received: method="POST", path="\/v1\/models\/tiny:predict"\./,
  }],
  SERVE_E_TIMEOUT: [{
    how: 'a request not answered within --timeout-ms',
    run: () => withServer({ maxBatchSize: 64, maxQueueDelayMs: 400, timeoutMs: 50 }, (s) =>
      http(s.app, { method: 'POST', url: '/v1/models/tiny:predict', payload: { instances: [instance(1)] } })),
    message: /^An inference must finish within --timeout-ms=50 ms\. Received: model="tiny\/1"/,
  }],
};

describe('error catalogue', () => {
  it('every code has a summary and its statuses: INSIGHT_E_* an exit status, SERVE_E_* an HTTP status', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^(INSIGHT|SERVE)_E_[A-Z_]+$/);
      assert.ok(info.summary.length > 10, code);
      if (code.startsWith('INSIGHT_E_')) assert.ok(Number.isInteger(info.exitCode) && info.exitCode! > 0, code);
      else assert.equal(info.exitCode, undefined, code);
      if (code.startsWith('SERVE_E_')) assert.ok(Number.isInteger(info.httpStatus), code);
      if (info.httpStatus !== undefined) assert.ok(info.httpStatus >= 400 && info.httpStatus < 600, code);
    }
  });

  it('every code has a trigger, and every trigger a code of the catalogue', () => {
    assert.deepEqual(Object.keys(TRIGGERS).sort(), Object.keys(ERROR_CODES).sort());
  });

  it('a code a command can end with is produced by a command, with its exit status', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      if (info.exitCode !== undefined) assert.ok(TRIGGERS[code as ErrorCode].some((t) => !t.how.startsWith('dashboard') && !t.how.startsWith('startServe')), code);
    }
  });

  for (const [code, triggers] of Object.entries(TRIGGERS) as [ErrorCode, Trigger[]][]) {
    for (const trigger of triggers) {
      it(`${code}: ${trigger.how}`, async () => {
        const seen = await trigger.run();
        assert.equal(seen.code, code, seen.message);
        assert.match(seen.message, trigger.message);
        if (seen.exitCode !== undefined) assert.equal(seen.exitCode, ERROR_CODES[code].exitCode, 'exit status from the catalogue');
        if (seen.httpStatus !== undefined) assert.equal(seen.httpStatus, ERROR_CODES[code].httpStatus ?? 500, 'HTTP status from the catalogue');
      });
    }
  }
});
