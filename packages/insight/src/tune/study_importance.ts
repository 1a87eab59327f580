// The parameter importance of a study from its records: PED-ANOVA (tune/importance.ts) over its space, finished
// trials only (a running trial has no value yet).
import type { StudyRecord, TrialRecord } from '../study/types';
import { paramImportance } from './importance';
import { parseSearchSpace } from './space/parse';

/** { param: share } summing to 1, largest first; {} before two trials have values. */
export function studyImportance(study: StudyRecord, trials: TrialRecord[]): Record<string, number> {
  const finished = trials.filter((t) => (t.state === 'completed' || t.state === 'pruned' || t.state === 'paused') && t.value !== null);
  if (finished.length < 2) return {};
  return paramImportance(parseSearchSpace(study.space, `search space of study ${study.name}`), trials, study.direction);
}
