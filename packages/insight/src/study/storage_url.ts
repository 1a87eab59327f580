// The study storage's address, as `--storage` takes it: `sqlite:<file>` or a plain file path (one machine), or
// `postgres://user:password@host:port/db` / `postgresql://...` (workers on several machines). Passwords never reach a
// message, a log or a record: `redactUrl` replaces them with ***.
import * as path from 'node:path';

import { ruleError } from '../errors';

export type StorageLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

const ACCEPTED_FORMS = 'sqlite:<file> (e.g. sqlite:study.db), a plain file path (study.db), ' +
  'or postgres://user:password@host:5432/database (postgresql:// too)';

/** `postgres://u:secret@h/db?password=x` → `postgres://u:***@h/db?password=***`; other text unchanged. */
export function redactUrl(url: string): string {
  let text = url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  if (scheme) {
    const rest = text.slice(scheme[0].length);
    const at = rest.lastIndexOf('@');
    const colon = rest.indexOf(':');
    if (at > 0 && colon >= 0 && colon < at) text = `${scheme[0]}${rest.slice(0, colon)}:***@${rest.slice(at + 1)}`;
  }
  return text.replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/**
 * Where `url` points. `sqlite:` takes a path relative to `cwd` or absolute; SQLAlchemy's (and Optuna's)
 * `sqlite:///rel.db` and `sqlite:////abs.db` mean the same as `sqlite:rel.db` and `sqlite:/abs.db`.
 */
export function parseStorageUrl(url: string, cwd = process.cwd()): StorageLocation {
  const bad = (rule: string) => ruleError('INSIGHT_E_CONFIG', rule, { storage: redactUrl(url) }, `Pass ${ACCEPTED_FORMS}.`);
  if (typeof url !== 'string' || url.trim() === '') throw bad('The study storage must be a SQLite file or a PostgreSQL URL.');
  if (/^postgres(ql)?:\/\//i.test(url)) {
    try {
      new URL(url); // only checks the syntax
    } catch {
      throw bad('A PostgreSQL storage URL must be well-formed: postgres://user:password@host:port/database (special characters of a password %-encoded).');
    }
    return { kind: 'postgres', url };
  }
  let file = url;
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(url); // two letters at least: `C:` would be a drive, not a scheme
  if (scheme) {
    if (scheme[1].toLowerCase() !== 'sqlite') throw bad(`The study storage must be a SQLite file or a PostgreSQL URL; "${scheme[1]}:" is neither.`);
    file = url.slice(scheme[0].length);
    if (file.startsWith('///')) file = file.slice(3);
    else if (file.startsWith('//')) throw bad('A sqlite: storage names a file, not a host: sqlite:<file> or sqlite:///<file>.');
    if (file === '') throw bad('A sqlite: storage must name its file.');
  }
  return { kind: 'sqlite', file: path.resolve(cwd, file) };
}
