// Every layer class the ONNX writer converts, by tfjs class name, in one list. Nested models (a LayersModel used
// as a layer) are expanded by the walker (../export.ts), not converted here.
import { activationLayer, eluLayer, identityLayer, leakyReluLayer, reluLayer, softmaxLayer } from './activations';
import { batchNormLayer } from './batch_norm';
import { conv2dLayer, depthwiseConv2dLayer, separableConv2dLayer } from './conv';
import { denseLayer } from './dense';
import { loraLayer } from './lora';
import { addLayer, averageLayer, concatenateLayer, maximumLayer, minimumLayer, multiplyLayer } from './merge';
import { averagePooling2dLayer, globalAveragePooling2dLayer, globalMaxPooling2dLayer, maxPooling2dLayer } from './pooling';
import { flattenLayer, permuteLayer, reshapeLayer } from './reshape';
import { cropping2dLayer, rescalingLayer, upSampling2dLayer, zeroPadding2dLayer } from './spatial';
import type { Converter } from './step';

export const CONVERTERS: Record<string, Converter> = {
  Conv2D: conv2dLayer,
  DepthwiseConv2D: depthwiseConv2dLayer,
  SeparableConv2D: separableConv2dLayer,
  Dense: denseLayer,
  InsightLora: loraLayer,
  BatchNormalization: batchNormLayer,
  MaxPooling2D: maxPooling2dLayer,
  AveragePooling2D: averagePooling2dLayer,
  GlobalAveragePooling2D: globalAveragePooling2dLayer,
  GlobalMaxPooling2D: globalMaxPooling2dLayer,
  Activation: activationLayer,
  ReLU: reluLayer,
  LeakyReLU: leakyReluLayer,
  ELU: eluLayer,
  Softmax: softmaxLayer,
  Flatten: flattenLayer,
  Reshape: reshapeLayer,
  Permute: permuteLayer,
  Add: addLayer,
  Multiply: multiplyLayer,
  Average: averageLayer,
  Maximum: maximumLayer,
  Minimum: minimumLayer,
  Concatenate: concatenateLayer,
  ZeroPadding2D: zeroPadding2dLayer,
  Cropping2D: cropping2dLayer,
  UpSampling2D: upSampling2dLayer,
  Rescaling: rescalingLayer,
  Dropout: identityLayer,
  SpatialDropout1D: identityLayer,
  GaussianNoise: identityLayer,
  GaussianDropout: identityLayer,
  AlphaDropout: identityLayer,
};

/** The supported layer classes, for messages (nested Sequential/functional models are supported too). */
export const SUPPORTED_LAYERS: string[] = [...Object.keys(CONVERTERS), 'InputLayer', 'Sequential', 'Model'];

export type { Converter, Step } from './step';
