// The tfjs side of every op in fixtures/gradients.json: op name -> the tfjs-core call that
// fixtures/make_gradient_fixtures.py mirrors in PyTorch. Inputs arrive by the names the fixture gives them; params
// are the case's JSON params as they are.
import * as tf from '@tensorflow/tfjs-core';

/** A case's params, as stored in the fixture. */
export type Params = Record<string, unknown>;
type Op = (t: Record<string, tf.Tensor>, p: Params) => tf.Tensor;

const n = (p: Params, k: string) => p[k] as number;
const pair = (p: Params, k: string) => p[k] as [number, number];
const pad = (p: Params) => p.pad as 'same' | 'valid';
const axes = (p: Params) => (p.axis ?? undefined) as number[] | undefined;
const activation = (p: Params) => p.activation as tf.fused.Activation;
const x4 = (t: Record<string, tf.Tensor>, k = 'x') => t[k] as tf.Tensor4D;

export const OPS: Record<string, Op> = {
  conv2d: (t, p) => tf.conv2d(x4(t), x4(t, 'filter'), pair(p, 'strides'), pad(p), 'NHWC', pair(p, 'dilations') ?? [1, 1]),
  depthwiseConv2d: (t, p) =>
    tf.depthwiseConv2d(x4(t), x4(t, 'filter'), pair(p, 'strides'), pad(p), 'NHWC', pair(p, 'dilations') ?? [1, 1]),
  conv2dTranspose: (t, p) =>
    tf.conv2dTranspose(x4(t), x4(t, 'filter'), p.outputShape as [number, number, number, number], pair(p, 'strides'), pad(p)),
  fusedConv2d: (t, p) => tf.fused.conv2d({
    x: x4(t), filter: x4(t, 'filter'), strides: pair(p, 'strides'), pad: pad(p), bias: t.bias,
    activation: activation(p), preluActivationWeights: t.alpha, leakyreluAlpha: p.leakyreluAlpha as number | undefined,
  }),
  fusedMatMul: (t, p) => tf.fused.matMul({
    a: t.a, b: t.b, transposeA: p.transposeA as boolean, transposeB: p.transposeB as boolean, bias: t.bias,
    activation: activation(p), preluActivationWeights: t.alpha, leakyreluAlpha: p.leakyreluAlpha as number | undefined,
  }),
  maxPool: (t, p) => tf.maxPool(x4(t), pair(p, 'filterSize'), pair(p, 'strides'), pad(p)),
  avgPool: (t, p) => tf.avgPool(x4(t), pair(p, 'filterSize'), pair(p, 'strides'), pad(p)),
  matMul: (t, p) => tf.matMul(t.a, t.b, p.transposeA as boolean, p.transposeB as boolean),
  batchNorm: (t, p) => tf.batchNorm(t.x, t.mean, t.variance, t.offset, t.scale, n(p, 'varianceEpsilon')),
  relu: (t) => tf.relu(t.x),
  relu6: (t) => tf.relu6(t.x),
  elu: (t) => tf.elu(t.x),
  selu: (t) => tf.selu(t.x),
  leakyRelu: (t, p) => tf.leakyRelu(t.x, n(p, 'alpha')),
  prelu: (t) => tf.prelu(t.x, t.alpha),
  sigmoid: (t) => tf.sigmoid(t.x),
  tanh: (t) => tf.tanh(t.x),
  softplus: (t) => tf.softplus(t.x),
  exp: (t) => tf.exp(t.x),
  log: (t) => tf.log(t.x),
  sqrt: (t) => tf.sqrt(t.x),
  rsqrt: (t) => tf.rsqrt(t.x),
  square: (t) => tf.square(t.x),
  abs: (t) => tf.abs(t.x),
  add: (t) => tf.add(t.a, t.b),
  sub: (t) => tf.sub(t.a, t.b),
  mul: (t) => tf.mul(t.a, t.b),
  div: (t) => tf.div(t.a, t.b),
  pow: (t) => tf.pow(t.a, t.b),
  maximum: (t) => tf.maximum(t.a, t.b),
  squaredDifference: (t) => tf.squaredDifference(t.a, t.b),
  clipByValue: (t, p) => tf.clipByValue(t.x, n(p, 'min'), n(p, 'max')),
  cumsum: (t, p) => tf.cumsum(t.x, n(p, 'axis'), p.exclusive as boolean, p.reverse as boolean),
  sum: (t, p) => tf.sum(t.x, axes(p), p.keepDims as boolean),
  mean: (t, p) => tf.mean(t.x, axes(p), p.keepDims as boolean),
  max: (t, p) => tf.max(t.x, axes(p), p.keepDims as boolean),
  min: (t, p) => tf.min(t.x, axes(p), p.keepDims as boolean),
  prod: (t, p) => tf.prod(t.x, axes(p), p.keepDims as boolean),
  resizeBilinear: (t, p) =>
    tf.image.resizeBilinear(x4(t), pair(p, 'size'), p.alignCorners as boolean, p.halfPixelCenters as boolean),
  resizeNearestNeighbor: (t, p) =>
    tf.image.resizeNearestNeighbor(x4(t), pair(p, 'size'), p.alignCorners as boolean, p.halfPixelCenters as boolean),
  pad: (t, p) => tf.pad(t.x, p.paddings as Array<[number, number]>, n(p, 'constantValue')),
  mirrorPad: (t, p) => tf.mirrorPad(t.x, p.paddings as Array<[number, number]>, p.mode as 'reflect' | 'symmetric'),
  gather: (t, p) => tf.gather(t.x, t.indices, n(p, 'axis'), n(p, 'batchDims')),
  gatherND: (t) => tf.gatherND(t.x, t.indices),
  scatterND: (t, p) => tf.scatterND(t.indices, t.updates, p.shape as number[]),
  softmax: (t) => tf.softmax(t.x),
  logSoftmax: (t) => tf.logSoftmax(t.x),
  concat: (t, p) => tf.concat(Object.keys(t).sort().map((k) => t[k]), n(p, 'axis')),
  slice: (t, p) => tf.slice(t.x, p.begin as number[], p.size as number[]),
  transpose: (t, p) => tf.transpose(t.x, p.perm as number[]),
  tile: (t, p) => tf.tile(t.x, p.reps as number[]),
};
