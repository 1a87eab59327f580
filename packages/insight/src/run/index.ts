export { writeFileAtomic, writeDirAtomic, resolveCompleteDir } from './atomic';
export { fileModelHandler, loadModel, saveModel, resolveModelDir } from './model_io';
export { writeCheckpoint, readCheckpoint, restoreWeights } from './checkpoint';
export { RunDir, newRunId, type RunInfo, type RunStatus } from './run_dir';
export { loadDataset, splitForRun, type DatasetSource } from './dataset_source';
export { startBackend } from './backend_choice';
