// openStudyStorage(url): the storage a `--storage` value names (study/storage_url.ts lists the forms). Each storage
// module, with its database client, loads only when used.
import * as fs from 'node:fs';

import { ruleError } from '../errors';
import type { PostgresStorageOptions } from './postgres_storage';
import type { SqliteStorageOptions } from './sqlite_storage';
import type { StudyStorage } from './storage';
import { parseStorageUrl } from './storage_url';

export interface OpenStorageOptions {
  sqlite?: SqliteStorageOptions;
  postgres?: PostgresStorageOptions;
  /** For readers and joiners of an existing study (`tune show`, `tune list`, `tune worker`): a SQLite file that does
   * not exist is an error, not a new empty storage left behind by a mistyped path. */
  mustExist?: boolean;
}

/**
 * Opens the study storage at `url`: `sqlite:<file>` or a plain path (relative to the working directory), or
 * `postgres://user:password@host:5432/db`. Creates the file or tables on first use.
 * Example: `const storage = await openStudyStorage('sqlite:runs/studies.db')`.
 */
export async function openStudyStorage(url: string, options: OpenStorageOptions = {}): Promise<StudyStorage> {
  const location = parseStorageUrl(url);
  if (location.kind === 'postgres') {
    const { PostgresStudyStorage } = await import('./postgres_storage');
    return PostgresStudyStorage.open(location.url, options.postgres);
  }
  if (options.mustExist === true && !fs.existsSync(location.file)) {
    throw ruleError('INSIGHT_E_STORAGE', 'A study storage that is read or joined must already exist.', { storage: `sqlite:${location.file}` },
      'Pass the --storage (or --runs-dir) that holds the study, or create the study first with `insight tune --study <name> --space <file>`.');
  }
  const { SqliteStudyStorage } = await import('./sqlite_storage');
  return SqliteStudyStorage.open(location.file, options.sqlite);
}
