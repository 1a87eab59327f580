// Ensembles (a feature): several classifiers, or one run's per-epoch snapshots, as one servable model averaging their
// probabilities. Only cli/ and index.ts import it.
export { ensemble, type EnsembleResult } from './ensemble';
export { ENSEMBLE_SCHEMA, resolveEnsembleConfig, type EnsembleConfig, type EnsembleOptions } from './config';
export { buildEnsembleModel, memberPrefix, type GraphMember } from './build_model';
