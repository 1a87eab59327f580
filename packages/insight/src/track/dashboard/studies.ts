// The dashboard's view of hyperparameter studies: the study storage it was given (--storage), or the SQLite file
// `insight tune` keeps under the runs directory (<runs dir>/tune.db) once it exists, opened on first use. The
// dashboard only reads it. track/ may import study/ (the storage), never tune/ (the search itself).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { openStudyStorage } from '../../study/open_storage';
import type { StudyStorage } from '../../study/storage';

export class StudySource {
  private storage: StudyStorage | null = null;
  private opening: Promise<StudyStorage> | null = null;

  /** `url`: the --storage given, or null for <runsDir>/tune.db when present. */
  constructor(private readonly url: string | null, private readonly runsDir: string) {}

  /** The default file's path (when no --storage was given). */
  get defaultFile(): string {
    return path.resolve(this.runsDir, 'tune.db');
  }

  /** The storage, or null while there is none (no --storage, and no tune.db in the runs directory yet). */
  async get(): Promise<StudyStorage | null> {
    if (this.storage !== null) return this.storage;
    if (this.url === null && !fs.existsSync(this.defaultFile)) return null;
    this.opening ??= openStudyStorage(this.url ?? `sqlite:${this.defaultFile}`);
    try {
      this.storage = await this.opening;
    } finally {
      this.opening = null;
    }
    return this.storage;
  }

  async close(): Promise<void> {
    const storage = this.storage ?? (this.opening ? await this.opening.catch(() => null) : null);
    this.storage = null;
    await storage?.close();
  }
}
