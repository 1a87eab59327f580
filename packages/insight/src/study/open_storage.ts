// openStudyStorage(url): the storage a `--storage` value names (study/storage_url.ts lists the forms). Each storage
// module, with its database client, loads only when used.
import type { PostgresStorageOptions } from './postgres_storage';
import type { SqliteStorageOptions } from './sqlite_storage';
import type { StudyStorage } from './storage';
import { parseStorageUrl } from './storage_url';

export interface OpenStorageOptions {
  sqlite?: SqliteStorageOptions;
  postgres?: PostgresStorageOptions;
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
  const { SqliteStudyStorage } = await import('./sqlite_storage');
  return SqliteStudyStorage.open(location.file, options.sqlite);
}
