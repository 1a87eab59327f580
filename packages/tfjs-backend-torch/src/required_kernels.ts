// The kernels that training and inference of image classifiers touch: each must be native (never the cpu
// fallback). Checked by `npm run kernels` and by test/kernels.test.ts.
export const REQUIRED_NATIVE_KERNELS: string[] = [
  // convolution and pooling
  'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'FusedConv2D',
  'DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter',
  'MaxPool', 'MaxPoolGrad', 'AvgPool', 'AvgPoolGrad',
  // matmul and normalisation
  'BatchMatMul', '_FusedMatMul', 'FusedBatchNorm',
  // elementwise unary math
  'Abs', 'Neg', 'Exp', 'Expm1', 'Log', 'Log1p', 'Sqrt', 'Rsqrt', 'Square', 'Reciprocal', 'Sin', 'Cos', 'Tan',
  'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Erf', 'Floor', 'Ceil', 'Round', 'Sign',
  'IsNan', 'IsInf', 'IsFinite', 'Step', 'LogicalNot',
  // elementwise binary math
  'Add', 'AddN', 'Sub', 'Multiply', 'RealDiv', 'FloorDiv', 'Mod', 'Pow', 'Maximum', 'Minimum',
  'SquaredDifference', 'Atan2', 'LogicalAnd', 'LogicalOr',
  // activations and their gradients
  'Relu', 'Relu6', 'Elu', 'EluGrad', 'Selu', 'LeakyRelu', 'Prelu', 'Sigmoid', 'Tanh', 'Softplus',
  // reductions and softmax
  'Sum', 'Mean', 'Max', 'Min', 'Prod', 'ArgMax', 'ArgMin', 'All', 'Any', 'Softmax',
  // dtype, shape and indexing
  'Cast', 'Reshape', 'Transpose', 'Slice', 'StridedSlice', 'Concat', 'Pack', 'Unpack', 'PadV2', 'MirrorPad',
  'Tile', 'GatherV2', 'GatherNd', 'OneHot', 'Identity', 'ExpandDims',  // tf.squeeze runs Reshape
  // comparisons and selection
  'Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'Select', 'ClipByValue',
  // creation
  'Fill', 'ZerosLike', 'OnesLike', 'Range',
  // random: tfjs-core draws randomUniform/randomNormal/truncatedNormal (initializers, dropout) in JS ops, not
  // kernels, so a backend never sees them; Multinomial is the one random kernel.
  'Multinomial',
  // resizing
  'ResizeBilinear', 'ResizeBilinearGrad', 'ResizeNearestNeighbor', 'ResizeNearestNeighborGrad',
  // scans and selection
  'Cumsum', 'TopK',
];
