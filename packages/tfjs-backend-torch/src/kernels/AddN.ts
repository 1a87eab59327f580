import { AddN, TensorInfo } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel, runCpuKernel } from '../kernel_util';


// inputs[0] + inputs[1] + ..., all of one shape and dtype -> that shape and dtype. The sum accumulates in
// place in the first result. bool runs on cpu (tfjs sums it into Uint8 counts, ATen's bool + is or).
export const addNConfig = nativeKernel(AddN, (args) => {
  const tensors = args.inputs as unknown as TensorInfo[];
  const { backend } = args;
  const { shape, dtype } = tensors[0];
  if (dtype === 'bool') return runCpuKernel(AddN, args);
  if (tensors.length === 1) return backend.makeOutput(aten.clone(backend.handle(tensors[0])), dtype, shape);
  const sum = aten.add(backend.handle(tensors[0]), backend.handle(tensors[1]));
  for (let i = 2; i < tensors.length; i++) backend.tmp(aten.add_(sum, backend.handle(tensors[i])));
  return backend.makeOutput(sum, dtype, shape);
});
