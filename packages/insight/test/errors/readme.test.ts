// The README's error tables are the catalogue: the "Error codes" table lists every INSIGHT_E_* code with its exit
// and HTTP status, the "Serve error codes" table every SERVE_E_* code with its HTTP status, each with the
// catalogue's summary, in the catalogue's order — no code undocumented, no documented code stale.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { ERROR_CODES } from '../../src/errors';

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The text from `heading` to the next heading of the same or a higher level. */
function section(heading: string): string {
  const start = README.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has "${heading}"`);
  const level = heading.split(' ')[0];
  const next = new RegExp(`\\n#{1,${level.length}} `, 'g');
  next.lastIndex = start + heading.length + 1;
  const end = next.exec(README)?.index;
  return README.slice(start, end);
}

/** The rows of a section's table that document `prefix` codes, as written. */
const documentedRows = (text: string, prefix: string) => text.split('\n').filter((line) => line.startsWith(`| \`${prefix}`));

const catalogue = (prefix: string) => Object.entries(ERROR_CODES).filter(([code]) => code.startsWith(prefix));

describe('README error tables', () => {
  it('"Error codes": every INSIGHT_E_* code with its exit status, HTTP status and summary', () => {
    const expected = catalogue('INSIGHT_E_').map(([code, info]) => `| \`${code}\` | ${info.exitCode} | ${info.httpStatus ?? '—'} | ${info.summary} |`);
    const text = section('## Error codes');
    assert.ok(text.includes('| Code | Exit | HTTP | Meaning |'));
    assert.deepEqual(documentedRows(text, 'INSIGHT_E_'), expected, `the table should read:\n${expected.join('\n')}`);
  });

  it('"Serve error codes": every SERVE_E_* code with its HTTP status and summary', () => {
    const expected = catalogue('SERVE_E_').map(([code, info]) => `| \`${code}\` | ${info.httpStatus} | ${info.summary} |`);
    const text = section('### Serve error codes');
    assert.ok(text.includes('| Code | HTTP | Meaning |'));
    assert.deepEqual(documentedRows(text, 'SERVE_E_'), expected, `the table should read:\n${expected.join('\n')}`);
  });

  it('every code named anywhere in the README is a code of the catalogue', () => {
    const named = new Set([...README.matchAll(/\b((?:INSIGHT|SERVE)_E_[A-Z_]+)\b/g)].map((m) => m[1]));
    for (const code of named) assert.ok(code in ERROR_CODES, code);
  });
});
