// Parameter importance of a study (tune/importance.ts) from its records: pending T1's module.
import type { StudyRecord, TrialRecord } from '../study/types';

export function studyImportance(_study: StudyRecord, _trials: TrialRecord[]): Record<string, number> {
  return {};
}
