// Knowledge distillation: `distill(config)` (the run `insight distill` makes), its config, and its pieces — the loss,
// the teacher as fit()'s per-batch loss, and the conversion between two models' input normalizations.
export { DISTILL_SCHEMA, resolveDistillConfig, studentChoiceOf, type DistillConfig, type StudentChoice } from './config';
export { distill, type DistillOptions, type DistillResult, type TeacherSummary } from './distill';
export { distillationLoss, softKl, type DistillationLossOptions } from './loss';
export { renormalizer } from './renormalize';
export { teacherLogits, teacherLoss, type TeacherLossOptions } from './teacher_loss';
