// The README's "insight serve" section documents what the server does: every flag and every route. (Its error
// table is checked against the catalogue in test/errors/readme.test.ts.)
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { flagOf } from '../../src/run/config_schema';
import { SERVE_SCHEMA } from '../../src/serve/config';
import type { ServeContext } from '../../src/serve/http/context';
import { ROUTES } from '../../src/serve/routes';
import { VERBS } from '../../src/serve/routes/v1/verbs';

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const SECTION = (() => {
  const start = README.indexOf('\n## insight serve\n');
  assert.ok(start >= 0, 'README has a "## insight serve" section');
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
})();

describe('README: insight serve', () => {
  it('documents every flag', () => {
    for (const key of Object.keys(SERVE_SCHEMA.properties)) assert.ok(SECTION.includes(`| \`${flagOf(key)} `), flagOf(key));
  });

  it('documents every route', () => {
    // "`POST /v1/models/{m}[/versions/{v}]:predict[?top_k=k]`" documents the path with and without the version.
    const documented = new Set<string>();
    for (const [, method, docPath] of SECTION.matchAll(/`((?:GET|POST)(?:\/POST)?) (\/[^`\s?]*)/g)) {
      const clean = docPath.replace(/\[$/, ''); // `...:classify-image[?top_k=k]` stops at the question mark
      for (const form of [clean.replace('[/versions/{v}]', ''), clean.replace('[/versions/{v}]', '/versions/{v}')]) {
        for (const m of method.split('/')) documented.add(`${m} ${form}`);
      }
    }
    const routes = ROUTES.flatMap((factory) => factory({} as ServeContext));
    for (const route of routes) {
      const url = route.url.replace(':model', '{m}').replace(':version', '{v}');
      const target = url.includes('/versions/') ? '{v}' : '{m}';
      const urls = url.endsWith(':target') ? Object.keys(VERBS).map((verb) => url.replace(':target', `${target}:${verb}`)) : [url];
      for (const u of urls) assert.ok(documented.has(`${String(route.method)} ${u}`), `${String(route.method)} ${u}`);
    }
  });
});
