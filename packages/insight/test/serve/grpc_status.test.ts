// The gRPC error mapping (serve/grpc/status.ts) and the call gates (serve/grpc/service.ts) on their own: every
// SERVE_E_* code has a status, the house message is the details with our code in the trailing metadata, anything
// else is INTERNAL without internals, and authentication follows the REST rules (never echoing a key).
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { status } from '@grpc/grpc-js';

import { ERROR_CODES, ServeError, serveError } from '../../src/errors';
import { KeyRing } from '../../src/serve/auth/key_ring';
import { resolveServeConfig } from '../../src/serve/config';
import { authenticateCall, type GrpcContext } from '../../src/serve/grpc/service';
import { ERROR_CODE_KEY, GRPC_STATUS, RETRY_AFTER_KEY, statusName, toGrpcFailure } from '../../src/serve/grpc/status';
import { AuthThrottle } from '../../src/serve/limits/auth_throttle';
import { RateLimiter } from '../../src/serve/limits/rate_limiter';
import { ServeMetrics } from '../../src/serve/metrics';

describe('gRPC status mapping', () => {
  it('maps every SERVE_E_* code of the catalogue', () => {
    const codes = Object.keys(ERROR_CODES).filter((c) => c.startsWith('SERVE_E_')).sort();
    assert.deepEqual(Object.keys(GRPC_STATUS).sort(), codes);
  });

  it('follows the contract table', () => {
    const expected: [string, status][] = [
      ['SERVE_E_BAD_INPUT', status.INVALID_ARGUMENT], ['SERVE_E_BAD_JSON', status.INVALID_ARGUMENT], ['SERVE_E_BAD_IMAGE', status.INVALID_ARGUMENT],
      ['SERVE_E_UNSUPPORTED_MEDIA', status.INVALID_ARGUMENT], ['SERVE_E_MODEL_NOT_FOUND', status.NOT_FOUND], ['SERVE_E_VERSION_NOT_FOUND', status.NOT_FOUND],
      ['SERVE_E_UNAUTHORIZED', status.UNAUTHENTICATED], ['SERVE_E_FORBIDDEN', status.PERMISSION_DENIED], ['SERVE_E_RATE_LIMITED', status.RESOURCE_EXHAUSTED],
      ['SERVE_E_OVERLOADED', status.RESOURCE_EXHAUSTED], ['SERVE_E_PAYLOAD_TOO_LARGE', status.RESOURCE_EXHAUSTED], ['SERVE_E_TIMEOUT', status.DEADLINE_EXCEEDED],
      ['SERVE_E_SHUTTING_DOWN', status.UNAVAILABLE], ['SERVE_E_MODEL_UNAVAILABLE', status.UNAVAILABLE], ['SERVE_E_INTERNAL', status.INTERNAL],
    ];
    for (const [code, want] of expected) assert.equal(statusName(GRPC_STATUS[code as keyof typeof GRPC_STATUS]), statusName(want), code);
  });

  it('answers the house message as details, the code and retry-after as trailing metadata, without local paths', () => {
    const models = path.join(os.tmpdir(), 'repo');
    const error = serveError('SERVE_E_OVERLOADED', 'The queue is full.', { queue: path.join(models, 'm', '1') }, 'Retry later.', { retryAfter: 2.2 });
    const failure = toGrpcFailure(error, models);
    assert.equal(failure.code, status.RESOURCE_EXHAUSTED);
    assert.equal(failure.details, 'The queue is full. Received: queue="<models>/m/1". Retry later.');
    assert.deepEqual(failure.metadata.get(ERROR_CODE_KEY), ['SERVE_E_OVERLOADED']);
    assert.deepEqual(failure.metadata.get(RETRY_AFTER_KEY), ['3']);
  });

  it('answers anything else as INTERNAL with a request id and no internals', () => {
    const failure = toGrpcFailure(new TypeError('secret internals at /srv/x.ts:12'), '/srv', 'req-1');
    assert.equal(failure.code, status.INTERNAL);
    assert.ok(failure.details.includes('requestId="req-1"'), failure.details);
    assert.ok(!failure.details.includes('secret'), failure.details);
    assert.deepEqual(failure.metadata.get(ERROR_CODE_KEY), ['SERVE_E_INTERNAL']);
    assert.deepEqual(failure.metadata.get(RETRY_AFTER_KEY), []);
  });
});

describe('gRPC call gates', () => {
  const KEY = 'grpc-inference-key-0123456789';
  const ADMIN = 'grpc-admin-key-0123456789abcdef';
  const context = (keys: KeyRing, throttle = new AuthThrottle(2, 0.2)): GrpcContext => ({
    config: resolveServeConfig({ models: '/srv/models' }), keys, authThrottle: throttle, metrics: new ServeMetrics({ defaultMetrics: false }),
    limiter: new RateLimiter(0, 1), lifecycle: { shuttingDown: false },
  } as unknown as GrpcContext);
  const codeOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      assert.ok(error instanceof ServeError);
      return `${error.code}: ${error.message}`;
    }
    return 'no error';
  };

  it('lets public methods and open servers through', () => {
    const ctx = context(new KeyRing([], []));
    assert.equal(authenticateCall(ctx, 'public', null, '127.0.0.1'), null);
    assert.deepEqual(authenticateCall(ctx, 'inference', null, '127.0.0.1'), { id: 'ip:127.0.0.1', scope: 'admin' });
  });

  it('checks Bearer keys and scopes, never echoing the key', () => {
    const ctx = context(new KeyRing([KEY], [ADMIN]), new AuthThrottle(10, 0.2));
    assert.equal(authenticateCall(ctx, 'inference', `Bearer ${KEY}`, '10.0.0.1')?.scope, 'inference');
    assert.equal(authenticateCall(ctx, 'admin', `bearer  ${ADMIN}`, '10.0.0.1')?.scope, 'admin');
    assert.match(codeOf(() => authenticateCall(ctx, 'inference', null, '10.0.0.1')), /^SERVE_E_UNAUTHORIZED: This method needs an API key\./);
    const wrong = codeOf(() => authenticateCall(ctx, 'inference', 'Bearer not-the-key-xyz', '10.0.0.1'));
    assert.match(wrong, /^SERVE_E_UNAUTHORIZED: The API key must match one of the configured keys\. Received: key="<15 characters, not shown>"\./);
    assert.ok(!wrong.includes('not-the-key'), wrong);
    const bare = codeOf(() => authenticateCall(ctx, 'inference', KEY, '10.0.0.1'));
    assert.match(bare, /^SERVE_E_UNAUTHORIZED: The authorization metadata must use the Bearer scheme\./);
    assert.ok(!bare.includes(KEY), bare);
    assert.match(codeOf(() => authenticateCall(ctx, 'admin', `Bearer ${KEY}`, '10.0.0.1')), /^SERVE_E_FORBIDDEN: /);
  });

  it('throttles an address after its burst of failures, before comparing keys', async () => {
    const ctx = context(new KeyRing([KEY], []), new AuthThrottle(2, 0.2));
    for (let i = 0; i < 2; i++) assert.match(codeOf(() => authenticateCall(ctx, 'inference', 'Bearer wrong', '10.0.0.9')), /^SERVE_E_UNAUTHORIZED/);
    assert.match(codeOf(() => authenticateCall(ctx, 'inference', `Bearer ${KEY}`, '10.0.0.9')), /^SERVE_E_RATE_LIMITED: A client address may fail authentication 2 times/);
    assert.equal(authenticateCall(ctx, 'inference', `Bearer ${KEY}`, '10.0.0.10')?.scope, 'inference');
    const failures = (await ctx.metrics.authFailures.get()).values.map((v) => [v.labels.outcome, v.value]);
    assert.deepEqual(failures.sort(), [['rejected', 2], ['throttled', 1]]);
  });
});
