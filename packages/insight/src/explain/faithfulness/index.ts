// Faithfulness checks of explanation methods (`insight explain --evaluate`): deletion/insertion AUC against random
// maps, the model-randomisation sanity check, and Integrated Gradients' completeness.
export { CURVE_STEPS, SANITY_THRESHOLD, evaluateFaithfulness, sanityLimitOf, type FaithfulnessReport, type FaithfulnessRow,
  type FaithfulnessSettings } from './evaluate';
export { formatFaithfulness } from './report_table';
export { deletionInsertion, pixelRanks, trapezoid, type CurveSettings, type Curves } from './deletion_insertion';
export { betweenImages, cascadeUnits, cloneModel, modelRandomisation, passDepthOf, reinitialise, type NamedMethod, type SanityDepth } from './randomisation';
export { completenessErrors, summarizeCompleteness } from './completeness';
