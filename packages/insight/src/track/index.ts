// Experiment tracking as a library: the TensorBoard event writer, the run index, and the dashboard server. (The
// callback that logs a training run to TensorBoard lives with training: train/callbacks/tensorboard.ts.)
export { EventFileWriter, FILE_VERSION, type EventWriterOptions } from './event_writer';
export type { Histogram, SummaryValue } from './event_proto';
export { histogramOf } from './histogram';
export { RunIndex, type RefreshResult } from './run_index';
export { RUNS_INDEX_FILE } from '../run/run_dir';
export { parseCondition, type RunQuery, type Condition } from './run_query';
export { summarizeRun, type RunSummary } from './run_summary';
export { updateTags } from './run_tags';
export { startDashboard, buildDashboard, type RunningDashboard } from './dashboard/server';
export { resolveDashboardConfig, DASHBOARD_SCHEMA, type DashboardConfig } from './dashboard/config';
