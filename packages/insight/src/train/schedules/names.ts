// The learning-rate schedule names, apart from the implementations so that configs and --help stay light.
export const SCHEDULE_NAMES = ['constant', 'step', 'cosine', 'onecycle'] as const;
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];
