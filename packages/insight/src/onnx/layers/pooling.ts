// Pooling on NCHW values: MaxPooling2D and AveragePooling2D with TensorFlow's padding as explicit pads (average
// pools do not count padded cells, as tfjs: count_include_pad=0), and the global pools, which return [batch, c].
import { int, ints } from '../graph_builder';
import { configOf, type Converter, padsFor, pair } from './step';

function poolAttributes(config: Record<string, unknown>, inputShape: (number | null)[]) {
  if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') throw new Error('only channelsLast pooling is supported');
  const kernel = pair(config.poolSize, 2);
  const strides = pair(config.strides ?? config.poolSize, 2);
  const [h, w] = [inputShape[1], inputShape[2]];
  if (config.padding === 'same' && (h === null || w === null)) throw new Error('same padding needs a fixed input height and width');
  return { kernel_shape: ints(kernel), strides: ints(strides), pads: ints(padsFor(config.padding, [h ?? 0, w ?? 0], kernel, strides)) };
}

/** MaxPool: the max of quantised values is the quantised max, so an int8 input keeps its parameters. */
export const maxPooling2dLayer: Converter = (ctx, step, [x]) => {
  const y = ctx.op('MaxPool', [x.name], poolAttributes(configOf(step.layer), x.shape), step.layer.name);
  if (x.quant === undefined) return [{ name: y, shape: step.outputShapes[0] }];
  step.keepsInputQuant = true;
  return [{ name: ctx.requantize(y, x.quant), shape: step.outputShapes[0], quant: x.quant }];
};

export const averagePooling2dLayer: Converter = (ctx, step, [x]) => [{
  name: ctx.op('AveragePool', [x.name], { ...poolAttributes(configOf(step.layer), x.shape), count_include_pad: int(0) }, step.layer.name),
  shape: step.outputShapes[0],
}];

/** GlobalAveragePool / GlobalMaxPool ([b, c, 1, 1]), then Flatten to [b, c] (tfjs's keepDims: false). */
function globalPool(op: 'GlobalAveragePool' | 'GlobalMaxPool'): Converter {
  return (ctx, step, [x]) => {
    const pooled = ctx.op(op, [x.name], {}, `${step.layer.name}_pool`);
    if (step.outputShapes[0].length === 4) return [{ name: pooled, shape: step.outputShapes[0] }];
    return [{ name: ctx.op('Flatten', [pooled], { axis: int(1) }, step.layer.name), shape: step.outputShapes[0] }];
  };
}

export const globalAveragePooling2dLayer = globalPool('GlobalAveragePool');
export const globalMaxPooling2dLayer = globalPool('GlobalMaxPool');
