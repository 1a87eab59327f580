// Registers every kernel for `torch`: the native ones in `nativeKernelConfigs` (one file per kernel in
// kernels/, named after it), and for each other kernel that tfjs-backend-cpu has, a fallback that runs the
// cpu kernel on copied data (see fallback.ts).
import { getKernelsForBackend, KernelConfig, registerKernel } from '@tensorflow/tfjs-core';

import { fallbackKernel } from './fallback';
import { fusedAdamUpdateConfig } from './kernels/FusedAdamUpdate';
import { torchReluGradConfig } from './kernels/TorchReluGrad';
import { torchBatchNormTrainingConfig } from './kernels/TorchBatchNormTraining';
import { torchBatchNormTrainingGradConfig } from './kernels/TorchBatchNormTrainingGrad';
import { torchConv2DBiasActivationGradConfig } from './kernels/TorchConv2DBiasActivationGrad';
import { avgPoolConfig } from './kernels/AvgPool';
import { avgPoolGradConfig } from './kernels/AvgPoolGrad';
import { batchMatMulConfig } from './kernels/BatchMatMul';
import { bincountConfig } from './kernels/Bincount';
import { conv2DConfig } from './kernels/Conv2D';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput';
import { depthwiseConv2dNativeConfig } from './kernels/DepthwiseConv2dNative';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/DepthwiseConv2dNativeBackpropFilter';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/DepthwiseConv2dNativeBackpropInput';
import { fusedBatchNormConfig } from './kernels/FusedBatchNorm';
import { fusedConv2DConfig } from './kernels/FusedConv2D';
import { fusedDepthwiseConv2DConfig } from './kernels/FusedDepthwiseConv2D';
import { maxPoolConfig } from './kernels/MaxPool';
import { maxPoolGradConfig } from './kernels/MaxPoolGrad';
import { fusedMatMulConfig } from './kernels/_FusedMatMul';
import { addConfig } from './kernels/Add';
import { subConfig } from './kernels/Sub';
import { multiplyConfig } from './kernels/Multiply';
import { realDivConfig } from './kernels/RealDiv';
import { floorDivConfig } from './kernels/FloorDiv';
import { modConfig } from './kernels/Mod';
import { powConfig } from './kernels/Pow';
import { maximumConfig } from './kernels/Maximum';
import { minimumConfig } from './kernels/Minimum';
import { squaredDifferenceConfig } from './kernels/SquaredDifference';
import { atan2Config } from './kernels/Atan2';
import { addNConfig } from './kernels/AddN';
import { absConfig } from './kernels/Abs';
import { negConfig } from './kernels/Neg';
import { expConfig } from './kernels/Exp';
import { expm1Config } from './kernels/Expm1';
import { logConfig } from './kernels/Log';
import { log1pConfig } from './kernels/Log1p';
import { sqrtConfig } from './kernels/Sqrt';
import { rsqrtConfig } from './kernels/Rsqrt';
import { squareConfig } from './kernels/Square';
import { reciprocalConfig } from './kernels/Reciprocal';
import { sinConfig } from './kernels/Sin';
import { cosConfig } from './kernels/Cos';
import { tanConfig } from './kernels/Tan';
import { asinConfig } from './kernels/Asin';
import { acosConfig } from './kernels/Acos';
import { atanConfig } from './kernels/Atan';
import { sinhConfig } from './kernels/Sinh';
import { coshConfig } from './kernels/Cosh';
import { tanhConfig } from './kernels/Tanh';
import { asinhConfig } from './kernels/Asinh';
import { acoshConfig } from './kernels/Acosh';
import { atanhConfig } from './kernels/Atanh';
import { erfConfig } from './kernels/Erf';
import { floorConfig } from './kernels/Floor';
import { ceilConfig } from './kernels/Ceil';
import { roundConfig } from './kernels/Round';
import { signConfig } from './kernels/Sign';
import { isNanConfig } from './kernels/IsNan';
import { isInfConfig } from './kernels/IsInf';
import { isFiniteConfig } from './kernels/IsFinite';
import { equalConfig } from './kernels/Equal';
import { notEqualConfig } from './kernels/NotEqual';
import { lessConfig } from './kernels/Less';
import { lessEqualConfig } from './kernels/LessEqual';
import { greaterConfig } from './kernels/Greater';
import { greaterEqualConfig } from './kernels/GreaterEqual';
import { logicalAndConfig } from './kernels/LogicalAnd';
import { logicalOrConfig } from './kernels/LogicalOr';
import { logicalNotConfig } from './kernels/LogicalNot';
import { selectConfig } from './kernels/Select';
import { clipByValueConfig } from './kernels/ClipByValue';
import { castConfig } from './kernels/Cast';
import { fillConfig } from './kernels/Fill';
import { zerosLikeConfig } from './kernels/ZerosLike';
import { onesLikeConfig } from './kernels/OnesLike';
import { rangeConfig } from './kernels/Range';
import { stepConfig } from './kernels/Step';
import { relu6Config } from './kernels/Relu6';
import { eluConfig } from './kernels/Elu';
import { eluGradConfig } from './kernels/EluGrad';
import { seluConfig } from './kernels/Selu';
import { leakyReluConfig } from './kernels/LeakyRelu';
import { preluConfig } from './kernels/Prelu';
import { sigmoidConfig } from './kernels/Sigmoid';
import { softplusConfig } from './kernels/Softplus';
import { identityConfig } from './kernels/Identity';
import { reluConfig } from './kernels/Relu';
import { reshapeConfig } from './kernels/Reshape';
import { concatConfig } from './kernels/Concat';
import { expandDimsConfig } from './kernels/ExpandDims';
import { gatherNdConfig } from './kernels/GatherNd';
import { gatherV2Config } from './kernels/GatherV2';
import { mirrorPadConfig } from './kernels/MirrorPad';
import { oneHotConfig } from './kernels/OneHot';
import { packConfig } from './kernels/Pack';
import { padV2Config } from './kernels/PadV2';
import { reverseConfig } from './kernels/Reverse';
import { sliceConfig } from './kernels/Slice';
import { splitVConfig } from './kernels/SplitV';
import { stridedSliceConfig } from './kernels/StridedSlice';
import { tileConfig } from './kernels/Tile';
import { transposeConfig } from './kernels/Transpose';
import { unpackConfig } from './kernels/Unpack';
import { allConfig } from './kernels/All';
import { anyConfig } from './kernels/Any';
import { argMaxConfig } from './kernels/ArgMax';
import { argMinConfig } from './kernels/ArgMin';
import { cumprodConfig } from './kernels/Cumprod';
import { cumsumConfig } from './kernels/Cumsum';
import { maxConfig } from './kernels/Max';
import { meanConfig } from './kernels/Mean';
import { minConfig } from './kernels/Min';
import { prodConfig } from './kernels/Prod';
import { softmaxConfig } from './kernels/Softmax';
import { sumConfig } from './kernels/Sum';
import { topKConfig } from './kernels/TopK';
import { resizeBilinearConfig } from './kernels/ResizeBilinear';
import { resizeBilinearGradConfig } from './kernels/ResizeBilinearGrad';
import { resizeNearestNeighborConfig } from './kernels/ResizeNearestNeighbor';
import { resizeNearestNeighborGradConfig } from './kernels/ResizeNearestNeighborGrad';
import { multinomialConfig } from './kernels/Multinomial';

export const nativeKernelConfigs: KernelConfig[] = [
  // shape and layout
  identityConfig,
  reshapeConfig,
  concatConfig,
  expandDimsConfig,
  gatherNdConfig,
  gatherV2Config,
  mirrorPadConfig,
  oneHotConfig,
  packConfig,
  padV2Config,
  reverseConfig,
  sliceConfig,
  splitVConfig,
  stridedSliceConfig,
  tileConfig,
  transposeConfig,
  unpackConfig,
  // reductions, scans and selection
  allConfig,
  anyConfig,
  argMaxConfig,
  argMinConfig,
  cumprodConfig,
  cumsumConfig,
  maxConfig,
  meanConfig,
  minConfig,
  prodConfig,
  softmaxConfig,
  sumConfig,
  topKConfig,
  // resizing
  resizeBilinearConfig,
  resizeBilinearGradConfig,
  resizeNearestNeighborConfig,
  resizeNearestNeighborGradConfig,
  // random
  multinomialConfig,
  // elementwise math
  addConfig,
  subConfig,
  multiplyConfig,
  realDivConfig,
  floorDivConfig,
  modConfig,
  powConfig,
  maximumConfig,
  minimumConfig,
  squaredDifferenceConfig,
  atan2Config,
  addNConfig,
  absConfig,
  negConfig,
  expConfig,
  expm1Config,
  logConfig,
  log1pConfig,
  sqrtConfig,
  rsqrtConfig,
  squareConfig,
  reciprocalConfig,
  sinConfig,
  cosConfig,
  tanConfig,
  asinConfig,
  acosConfig,
  atanConfig,
  sinhConfig,
  coshConfig,
  tanhConfig,
  asinhConfig,
  acoshConfig,
  atanhConfig,
  erfConfig,
  floorConfig,
  ceilConfig,
  roundConfig,
  signConfig,
  isNanConfig,
  isInfConfig,
  isFiniteConfig,
  equalConfig,
  notEqualConfig,
  lessConfig,
  lessEqualConfig,
  greaterConfig,
  greaterEqualConfig,
  logicalAndConfig,
  logicalOrConfig,
  logicalNotConfig,
  selectConfig,
  clipByValueConfig,
  // dtype and creation
  castConfig,
  fillConfig,
  zerosLikeConfig,
  onesLikeConfig,
  rangeConfig,
  // activations
  reluConfig,
  stepConfig,
  relu6Config,
  eluConfig,
  eluGradConfig,
  seluConfig,
  leakyReluConfig,
  preluConfig,
  sigmoidConfig,
  softplusConfig,
  // fused training steps (kernels of this backend only)
  fusedAdamUpdateConfig,
  torchReluGradConfig,
  torchBatchNormTrainingConfig,
  torchBatchNormTrainingGradConfig,
  torchConv2DBiasActivationGradConfig,
  // convolution, pooling, matmul, normalisation
  avgPoolConfig,
  avgPoolGradConfig,
  batchMatMulConfig,
  bincountConfig,
  conv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  fusedBatchNormConfig,
  fusedConv2DConfig,
  fusedDepthwiseConv2DConfig,
  maxPoolConfig,
  maxPoolGradConfig,
  fusedMatMulConfig,
];

export function registerAllKernels(): void {
  const native = new Set<string>();
  for (const config of nativeKernelConfigs) {
    registerKernel(config);
    native.add(config.kernelName);
  }
  for (const cpuConfig of getKernelsForBackend('cpu') as KernelConfig[]) {
    if (!native.has(cpuConfig.kernelName)) registerKernel(fallbackKernel(cpuConfig));
  }
}
