// ATen operators by schema name, resolved once on first use and then called by id through the addon.
// Example: `aten.add(a, b)` calls `aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1)`.
import { Handle, requireBinding } from './binding';
import { recording } from './capture/recorder';

/** ATen ScalarType codes (c10/core/ScalarType.h), used for dtype arguments. */
export const ScalarType = { int32: 3, int64: 4, float32: 6, float64: 7, bool: 11, bfloat16: 15 } as const;
/** ATen MemoryFormat codes. */
export const MemoryFormat = { contiguous: 0, preserve: 1, channelsLast: 2 } as const;

/** What an operator returns depends on its schema: each caller below states it with a cast. */
type OpFn = (...args: unknown[]) => unknown;

/** Returns a function calling `name.overload`; unresolved until first called. */
export function atenOp(qualified: string, keepDtype = false): OpFn {
  const [name, overload = ''] = qualified.split('.');
  let id = -1;
  return (...args: unknown[]) => {
    const b = requireBinding();  // resolved on call: importing kernels works without the addon
    if (id < 0) id = b.resolveOp(`aten::${name}`, overload);
    const result = b.call(id, args, keepDtype);
    recording.active?.op(id, args, keepDtype, result);  // a captured function being recorded (capture/)
    return result;
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
  clone: t('clone'),
  contiguous: t('contiguous'),
  to: t('to.dtype'),
  // shape
  reshape: t('reshape'),
  view: t('view'),
  permute: t('permute'),
  select: t('select.int'),
  t: t('t'),
  transpose: t('transpose.int'),
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
  indexSelect: t('index_select'),
  indexAdd: t('index_add'),
  splitWithSizes: atenOp('split_with_sizes') as (...args: unknown[]) => Handle[],
  replicationPad2d: t('replication_pad2d'),
  // elementwise binary
  add: t('add.Tensor'),
  addScalar: t('add.Scalar'),
  add_: t('add_.Tensor'),
  sub: t('sub.Tensor'),
  mul: t('mul.Tensor'),
  mulScalar: t('mul.Scalar'),
  addScalar_: t('add_.Scalar'),
  lerp: t('lerp.Scalar'),
  addcmul: t('addcmul'),
  addcdiv: t('addcdiv'),
  div: t('div.Tensor'),
  divMode: t('div.Tensor_mode'),
  remainder: t('remainder.Tensor'),
  fmodScalar: t('fmod.Scalar'),
  pow: t('pow.Tensor_Tensor'),
  maximum: t('maximum'),
  minimum: t('minimum'),
  atan2: t('atan2'),
  eq: t('eq.Tensor'),
  ne: t('ne.Tensor'),
  lt: t('lt.Tensor'),
  le: t('le.Tensor'),
  gt: t('gt.Tensor'),
  ge: t('ge.Tensor'),
  eqScalar: t('eq.Scalar'),
  neScalar: t('ne.Scalar'),
  logicalAnd: t('logical_and'),
  logicalOr: t('logical_or'),
  logicalNot: t('logical_not'),
  where: t('where.self'),
  maskedFill: t('masked_fill.Scalar'),
  ltScalar: t('lt.Scalar'),
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
  ceil_: t('ceil_'),
  round: t('round'),
  sign: t('sign'),
  isnan: t('isnan'),
  isinf: t('isinf'),
  isfinite: t('isfinite'),
  sigmoid: t('sigmoid'),
  relu: t('relu'),
  relu_: t('relu_'),
  hardtanh_: t('hardtanh_'),
  sigmoid_: t('sigmoid_'),
  geScalar: t('ge.Scalar'),
  elu: t('elu'),
  selu: t('selu'),
  leakyRelu: t('leaky_relu'),
  softplus: t('softplus'),
  clamp: t('clamp'),
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
  allElements: t('all'),
  cumsum: t('cumsum'),
  cumprod: t('cumprod'),
  softmax: t('_softmax'),
  sortStable: atenOp('sort.stable') as (...args: unknown[]) => [Handle, Handle],
  aminmax: atenOp('aminmax') as (...args: unknown[]) => [Handle, Handle],
  searchsorted: t('searchsorted.Tensor'),
  // linear algebra and convolution
  matmul: t('matmul'),
  convolution: t('convolution'),
  mkldnnConvolution: t('mkldnn_convolution'),
  convolutionBackward: atenOp('convolution_backward') as (...args: unknown[]) => [Handle | null, Handle | null, Handle | null],
  // keeps the int64 indices that max_pool2d_with_indices_backward expects
  maxPool2dWithIndices: atenOp('max_pool2d_with_indices', true) as (...args: unknown[]) => [Handle, Handle],
  maxPool2dWithIndicesBackward: t('max_pool2d_with_indices_backward'),
  maxPool2d: t('max_pool2d'),
  avgPool2d: t('avg_pool2d'),
  avgPool2dBackward: t('avg_pool2d_backward'),
  upsampleBilinear2d: t('upsample_bilinear2d'),
  upsampleBilinear2dBackward: t('upsample_bilinear2d_backward'),
  batchNorm: t('batch_norm'),
  nativeBatchNorm: atenOp('native_batch_norm') as (...args: unknown[]) => [Handle, Handle, Handle],
  nativeBatchNormBackward: atenOp('native_batch_norm_backward') as (...args: unknown[]) => [Handle, Handle, Handle],
};
