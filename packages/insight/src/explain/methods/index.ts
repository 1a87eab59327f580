// Every explanation method, registered from one list: name (method_names.ts) → AttributionMethod (attribution.ts).
import type { AttributionMethod } from '../attribution';
import type { ExplainMethod } from '../method_names';
import { gradCam, gradCamPlusPlus } from './grad_cam';
import { integratedGradients } from './integrated_gradients';
import { smoothGrad, smoothGradSquared, varGrad } from './noise_tunnel';
import { occlusion } from './occlusion';
import { saliency } from './saliency';

export const METHODS: Readonly<Record<ExplainMethod, AttributionMethod>> = Object.freeze({
  saliency,
  gradcam: gradCam,
  'gradcam++': gradCamPlusPlus,
  ig: integratedGradients,
  smoothgrad: smoothGrad,
  smoothgrad2: smoothGradSquared,
  vargrad: varGrad,
  occlusion,
});

export { gradCam, gradCamPlusPlus, integratedGradients, occlusion, saliency, smoothGrad, smoothGradSquared, varGrad };
