// `insight tune --workers N` when every worker stops on the same house error (a dataset gone, a bad config): the
// study ends with that error (and its exit status), not as an interruption; mixed or unknown errors stay an interruption.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { errorCodeOf, type WorkerExit } from '../../src/tune/local_workers';
import { sameWorkerError } from '../../src/tune/study';

const exit = (label: string, errorCode: string | null, code = 3): WorkerExit => ({ label, pid: 100, code, signal: null, errorCode });

describe('every local worker failing', () => {
  it('on the same house error ends the study with that error, naming the workers', () => {
    assert.throws(() => sameWorkerError([exit('w1', 'INSIGHT_E_DATA'), exit('w2', 'INSIGHT_E_DATA')], 'lr'), (e: Error & { code: string }) => {
      assert.equal(e.code, 'INSIGHT_E_DATA');
      assert.match(e.message, /^Every local worker of the study stopped on the same error; their messages are above, prefixed \[w1\], \[w2\], \.\.\. Received: study="lr", error="INSIGHT_E_DATA", workers="w1: exit status 3, w2: exit status 3"\. Fix what they say/);
      return true;
    });
  });

  it('leaves mixed, unknown, missing and interruption codes to the caller (an interruption)', () => {
    for (const exits of [[exit('w1', 'INSIGHT_E_DATA'), exit('w2', 'INSIGHT_E_CONFIG', 2)], [exit('w1', null), exit('w2', null)],
      [exit('w1', 'INSIGHT_E_DATA'), exit('w2', null)], [exit('w1', 'INSIGHT_E_NOT_A_CODE'), exit('w2', 'INSIGHT_E_NOT_A_CODE')],
      [exit('w1', 'INSIGHT_E_INTERRUPTED', 130), exit('w2', 'INSIGHT_E_INTERRUPTED', 130)]]) {
      assert.doesNotThrow(() => sameWorkerError(exits, 'lr'), JSON.stringify(exits));
    }
  });
});

describe('a worker\'s error line', () => {
  it('gives its house error code as the insight command prints it', () => {
    assert.equal(errorCodeOf('Error INSIGHT_E_DATA: The data path must exist. Received: data="/x". Pass ...'), 'INSIGHT_E_DATA');
    assert.equal(errorCodeOf('Note: study lr exists'), null);
    assert.equal(errorCodeOf('  at Error INSIGHT_E_DATA: nested'), null);
  });
});
