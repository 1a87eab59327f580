// Helpers for native kernels: `nativeKernel` wraps a function over handles into a tfjs KernelConfig that
//   - falls back to the cpu kernel when an input is string or complex64 (libtorch holds neither here),
//   - frees the kernel's scratch handles when it returns or throws,
//   - turns libtorch errors into Errors that name the tfjs kernel, its input shapes and dtypes.
import {
  getKernel, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo,
} from '@tensorflow/tfjs-core';

import { InputDataError, TorchBackend, isNativeDtype } from './backend';
import { runOnCpu } from './fallback';

export interface NativeKernelArgs<A> {
  inputs: Record<string, TensorInfo>;
  attrs: A;
  backend: TorchBackend;
}

export type NativeKernelFunc<A> = (args: NativeKernelArgs<A>) => TensorInfo | TensorInfo[];

/** Names of the kernels registered natively (the rest fall back to cpu); read by `npm run kernels`. */
export const nativeKernelNames = new Set<string>();

function describeInputs(inputs: Record<string, TensorInfo>): string {
  return Object.entries(inputs)
    .filter(([, v]) => v != null)
    .map(([k, v]) => `${k}: ${v.dtype}[${v.shape.join(',')}]`)
    .join(', ');
}

/**
 * Runs tfjs-backend-cpu's kernel for this call instead (copying data): for rare argument combinations a
 * native kernel does not cover. Each use states why in a comment.
 */
export function runCpuKernel<A>(kernelName: string, { inputs, attrs, backend }: NativeKernelArgs<A>):
  TensorInfo | TensorInfo[] {
  const cpuKernel = getKernel(kernelName, 'cpu')?.kernelFunc;
  if (cpuKernel === undefined) {
    throw new Error(`tfjs-backend-torch: ${kernelName} has no native path for these inputs and no cpu kernel to ` +
      `fall back to (received ${describeInputs(inputs)}).`);
  }
  return runOnCpu(cpuKernel, inputs, (attrs ?? {}) as unknown as NamedAttrMap, backend);
}

export function nativeKernel<A = NamedAttrMap>(kernelName: string, fn: NativeKernelFunc<A>): KernelConfig {
  nativeKernelNames.add(kernelName);
  const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) => {
    const args: NativeKernelArgs<A> = {
      inputs: inputs as Record<string, TensorInfo>, attrs: (attrs ?? {}) as unknown as A, backend: backend as TorchBackend,
    };
    const ins = args.inputs;
    const b = args.backend;
    // libtorch holds float32, int32 and bool only: strings and complex64 go to the cpu kernel.
    for (const key in ins) {
      if (ins[key] != null && !isNativeDtype(ins[key].dtype)) return runCpuKernel(kernelName, args);
    }
    try {
      return fn(args);
    } catch (e) {
      const err = e as Error;
      if (err instanceof InputDataError) {
        const key = Object.keys(ins).find((k) => ins[k]?.dataId === err.info.dataId);
        if (key !== undefined) err.message = InputDataError.message(/^\d+$/.test(key) ? `tensors[${key}]` : key, err.info, err.length);
      }
      if (err.message.startsWith('tfjs-backend-torch:') && !err.message.includes(' in kernel ')) {
        err.message = err.message.replace('tfjs-backend-torch:',
          `tfjs-backend-torch: in kernel ${kernelName} (inputs ${describeInputs(ins)}):`);
      }
      throw err;
    } finally {
      if (b.scratch.length > 0) b.freeScratch();
    }
  };
  return { kernelName, backendName: 'torch', kernelFunc };
}
