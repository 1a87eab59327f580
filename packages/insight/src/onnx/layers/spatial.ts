// Spatial layers on NCHW values: ZeroPadding2D (Pad), Cropping2D (Slice), UpSampling2D (Resize: nearest as tfjs's
// resizeNearestNeighbor, bilinear as its resizeBilinear without align corners) and Rescaling (x·scale + offset).
import { type Attr, str } from '../graph_builder';
import { configOf, type Converter, pair } from './step';

/** [[top, bottom], [left, right]] from tfjs's padding/cropping forms (n, [a, b], [[t, b], [l, r]]). */
function twoByTwo(v: unknown): [[number, number], [number, number]] {
  if (Array.isArray(v) && Array.isArray(v[0])) return [pair(v[0], 0), pair(v[1], 0)];
  const [a, b] = pair(v, 0);
  return [[a, a], [b, b]];
}

export const zeroPadding2dLayer: Converter = (ctx, step, [x]) => {
  const [[t, b], [l, r]] = twoByTwo(configOf(step.layer).padding ?? 1);
  const pads = ctx.int64s(`${step.layer.name}_pads`, [0, 0, t, l, 0, 0, b, r]);
  const y = ctx.op('Pad', [x.name, pads], { mode: str('constant') }, step.layer.name);
  // Zero is exact in every uint8 quantisation (activation ranges include 0), so padding keeps the parameters.
  if (x.quant === undefined) return [{ name: y, shape: step.outputShapes[0] }];
  step.keepsInputQuant = true;
  return [{ name: ctx.requantize(y, x.quant), shape: step.outputShapes[0], quant: x.quant }];
};

export const cropping2dLayer: Converter = (ctx, step, [x]) => {
  const [[t, b], [l, r]] = twoByTwo(configOf(step.layer).cropping);
  const [h, w] = [x.shape[1] as number, x.shape[2] as number];
  const name = step.layer.name;
  const y = ctx.op('Slice', [x.name, ctx.int64s(`${name}_starts`, [t, l]), ctx.int64s(`${name}_ends`, [h - b, w - r]), ctx.int64s(`${name}_axes`, [2, 3])], {}, name);
  if (x.quant === undefined) return [{ name: y, shape: step.outputShapes[0] }];
  step.keepsInputQuant = true;
  return [{ name: ctx.requantize(y, x.quant), shape: step.outputShapes[0], quant: x.quant }];
};

export const upSampling2dLayer: Converter = (ctx, step, [x]) => {
  const config = configOf(step.layer);
  const [sh, sw] = pair(config.size, 2);
  const nearest = (config.interpolation ?? 'nearest') === 'nearest';
  const name = step.layer.name;
  const scales = ctx.floats(`${name}_scales`, [1, 1, sh, sw]);
  const attributes: Record<string, Attr> = nearest
    ? { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') }
    : { mode: str('linear'), coordinate_transformation_mode: str('asymmetric') };
  return [{ name: ctx.op('Resize', [x.name, '', scales], attributes, name), shape: step.outputShapes[0] }];
};

export const rescalingLayer: Converter = (ctx, step, [x]) => {
  const config = configOf(step.layer);
  const name = step.layer.name;
  const scaled = ctx.op('Mul', [x.name, ctx.floats(`${name}_scale`, [Number(config.scale)], [])]);
  return [{ name: ctx.op('Add', [scaled, ctx.floats(`${name}_offset`, [Number(config.offset ?? 0)], [])], {}, name), shape: x.shape }];
};
