// The read side of studies for `insight tune show` and `tune list` (and the library): open the storage, summarize,
// close. Nothing here writes to the storage.
import { ruleError } from '../errors';
import { openStudyStorage } from '../study/open_storage';
import { storageUrlOf, type TuneListOptions, type TuneShowOptions } from './config';
import { summarizeStudy, type StudySummary } from './show';
import { studyImportance } from './study_importance';

/** The summary of one study (INSIGHT_E_CONFIG when the storage has no study of that name). */
export async function showStudy(options: Pick<TuneShowOptions, 'study' | 'storage' | 'runsDir'>): Promise<{ summary: StudySummary; storage: string }> {
  const storage = await openStudyStorage(storageUrlOf(options.storage, options.runsDir), { mustExist: true });
  try {
    const study = await storage.getStudy(options.study);
    if (study === null) {
      const names = (await storage.listStudies()).map((s) => s.name);
      throw ruleError('INSIGHT_E_CONFIG', '`insight tune show` needs a study of the storage.', { study: options.study, storage: storage.url, studies: names.join(', ') || '(none)' },
        names.length > 0 ? `Pass one of them, e.g. --study ${names[0]}.` : 'Pass the --storage (or --runs-dir) that holds the study.');
    }
    return { summary: await summarizeStudy(storage, study, studyImportance), storage: storage.url };
  } finally {
    await storage.close();
  }
}

/** Every study of the storage, summarized, oldest first. */
export async function listStudies(options: Pick<TuneListOptions, 'storage' | 'runsDir'>): Promise<{ summaries: StudySummary[]; storage: string }> {
  const storage = await openStudyStorage(storageUrlOf(options.storage, options.runsDir), { mustExist: true });
  try {
    const summaries: StudySummary[] = [];
    for (const study of await storage.listStudies()) summaries.push(await summarizeStudy(storage, study, studyImportance));
    return { summaries, storage: storage.url };
  } finally {
    await storage.close();
  }
}
