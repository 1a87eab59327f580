// ATen operators by schema name, resolved once on first use and then called by id through the addon.
// Example: `aten.add(a, b)` calls `aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1)`.
import { Handle, requireBinding } from './binding';

/** ATen ScalarType codes (c10/core/ScalarType.h), used for dtype arguments. */
export const ScalarType = { int32: 3, int64: 4, float32: 6, float64: 7, bool: 11 } as const;
/** ATen MemoryFormat codes. */
export const MemoryFormat = { contiguous: 0, preserve: 1, channelsLast: 2 } as const;

type OpFn = (...args: unknown[]) => any;

/** Returns a function calling `name.overload`; unresolved until first called. */
export function atenOp(qualified: string): OpFn {
  const [name, overload = ''] = qualified.split('.');
  let id = -1;
  const b = requireBinding();
  return (...args: unknown[]) => {
    if (id < 0) id = b.resolveOp(`aten::${name}`, overload);
    return b.call(id, args);
  };
}

/** A handle-returning operator (most of them). */
function t(qualified: string): (...args: unknown[]) => Handle {
  return atenOp(qualified) as (...args: unknown[]) => Handle;
}

// The operators the kernels use, by their ATen schema names.
export const aten = {
  // creation
  empty: t('empty.memory_format'),
  full: t('full'),
  arange: t('arange.start_step'),
  zerosLike: t('zeros_like'),
  onesLike: t('ones_like'),
  clone: t('clone'),
  contiguous: t('contiguous'),
  to: t('to.dtype'),
  // shape
  reshape: t('reshape'),
  view: t('view'),
  permute: t('permute'),
  expand: t('expand'),
  slice: t('slice.Tensor'),
  narrow: t('narrow'),
  cat: t('cat'),
  stack: t('stack'),
  unbind: atenOp('unbind.int') as (...args: unknown[]) => Handle[],
  flip: t('flip'),
  repeat: t('repeat'),
  squeeze: t('squeeze.dim'),
  unsqueeze: t('unsqueeze'),
  constantPad: t('constant_pad_nd'),
  reflectionPad1d: t('reflection_pad1d'),
  reflectionPad2d: t('reflection_pad2d'),
  reflectionPad3d: t('reflection_pad3d'),
  indexSelect: t('index_select'),
  index: t('index.Tensor'),
  gather: t('gather'),
  asStrided: t('as_strided'),
  diagEmbed: t('diag_embed'),
  // elementwise binary
  add: t('add.Tensor'),
  addScalar: t('add.Scalar'),
  sub: t('sub.Tensor'),
  mul: t('mul.Tensor'),
  mulScalar: t('mul.Scalar'),
  div: t('div.Tensor'),
  divMode: t('div.Tensor_mode'),
  remainder: t('remainder.Tensor'),
  fmod: t('fmod.Tensor'),
  pow: t('pow.Tensor_Tensor'),
  powScalar: t('pow.Tensor_Scalar'),
  maximum: t('maximum'),
  minimum: t('minimum'),
  atan2: t('atan2'),
  eq: t('eq.Tensor'),
  ne: t('ne.Tensor'),
  lt: t('lt.Tensor'),
  le: t('le.Tensor'),
  gt: t('gt.Tensor'),
  ge: t('ge.Tensor'),
  gtScalarOut: t('gt.Scalar_out'),
  logicalAnd: t('logical_and'),
  logicalOr: t('logical_or'),
  logicalXor: t('logical_xor'),
  logicalNot: t('logical_not'),
  bitwiseAnd: t('bitwise_and.Tensor'),
  where: t('where.self'),
  squaredDifference: t('sub.Tensor'),
  // elementwise unary
  abs: t('abs'),
  neg: t('neg'),
  exp: t('exp'),
  expm1: t('expm1'),
  log: t('log'),
  log1p: t('log1p'),
  sqrt: t('sqrt'),
  rsqrt: t('rsqrt'),
  square: t('square'),
  reciprocal: t('reciprocal'),
  sin: t('sin'),
  cos: t('cos'),
  tan: t('tan'),
  asin: t('asin'),
  acos: t('acos'),
  atan: t('atan'),
  sinh: t('sinh'),
  cosh: t('cosh'),
  tanh: t('tanh'),
  asinh: t('asinh'),
  acosh: t('acosh'),
  atanh: t('atanh'),
  erf: t('erf'),
  floor: t('floor'),
  ceil: t('ceil'),
  round: t('round'),
  sign: t('sign'),
  isnan: t('isnan'),
  isinf: t('isinf'),
  isfinite: t('isfinite'),
  sigmoid: t('sigmoid'),
  relu: t('relu'),
  elu: t('elu'),
  eluBackward: t('elu_backward'),
  selu: t('selu'),
  leakyRelu: t('leaky_relu'),
  hardtanh: t('hardtanh'),
  softplus: t('softplus'),
  clamp: t('clamp'),
  clampTensor: t('clamp.Tensor'),
  thresholdBackward: t('threshold_backward'),
  nanToNum: t('nan_to_num'),
  // reductions
  sum: t('sum.dim_IntList'),
  mean: t('mean.dim'),
  amax: t('amax'),
  amin: t('amin'),
  prod: t('prod.dim_int'),
  argmax: t('argmax'),
  argmin: t('argmin'),
  all: t('all.dim'),
  any: t('any.dim'),
  logsumexp: t('logsumexp'),
  cumsum: t('cumsum'),
  cumprod: t('cumprod'),
  softmax: t('_softmax'),
  logSoftmax: t('_log_softmax'),
  topk: atenOp('topk') as (...args: unknown[]) => [Handle, Handle],
  sort: atenOp('sort') as (...args: unknown[]) => [Handle, Handle],
  // linear algebra and convolution
  matmul: t('matmul'),
  bmm: t('bmm'),
  convolution: t('convolution'),
  convolutionBackward: atenOp('convolution_backward') as (...args: unknown[]) => [Handle | null, Handle | null, Handle | null],
  maxPool2dWithIndices: atenOp('max_pool2d_with_indices') as (...args: unknown[]) => [Handle, Handle],
  maxPool2dWithIndicesBackward: t('max_pool2d_with_indices_backward'),
  maxPool2d: t('max_pool2d'),
  mkldnnMaxPool2d: t('mkldnn_max_pool2d'),
  avgPool2d: t('avg_pool2d'),
  avgPool2dBackward: t('avg_pool2d_backward'),
  maxPool3dWithIndices: atenOp('max_pool3d_with_indices') as (...args: unknown[]) => [Handle, Handle],
  maxPool3dWithIndicesBackward: t('max_pool3d_with_indices_backward'),
  avgPool3d: t('avg_pool3d'),
  avgPool3dBackward: t('avg_pool3d_backward'),
  upsampleBilinear2d: t('upsample_bilinear2d'),
  upsampleBilinear2dBackward: t('upsample_bilinear2d_backward'),
  upsampleNearest2d: t('upsample_nearest2d'),
  batchNorm: t('batch_norm'),
  // random
  uniform: t('uniform'),
  normal: t('normal.float_float'),
  multinomial: t('multinomial'),
  // in place / out variants
  copy_: t('copy_'),
  fill_: t('fill_.Scalar'),
  oneHot: t('one_hot'),
};
