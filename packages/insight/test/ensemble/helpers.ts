// What the ensemble tests share: an assert.rejects / assert.throws matcher for a house error.
import assert from 'node:assert/strict';

import { InsightError } from '../../src/errors';

/** Matches an InsightError of `code` whose message matches `pattern`. */
export const rejectsWith = (code: string, pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof InsightError, String(e));
  assert.equal(e.code, code);
  assert.match(e.message, pattern);
  return true;
};
