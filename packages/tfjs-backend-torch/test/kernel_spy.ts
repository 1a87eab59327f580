// Which kernels a piece of code ran on a backend: each named kernel is re-registered with a wrapper that notes its
// name and calls the real kernel; restore() puts the original registrations back.
import * as tf from '@tensorflow/tfjs-core';

export interface KernelSpy {
  /** Names of the spied kernels that have run since the spy was set. */
  ran: Set<string>;
  /** How many times each of them ran. */
  calls: Map<string, number>;
  restore(): void;
}

export function spyOnKernels(names: Iterable<string>, backend = 'torch'): KernelSpy {
  const ran = new Set<string>();
  const calls = new Map<string, number>();
  const originals: tf.KernelConfig[] = [];
  for (const name of names) {
    const config = tf.getKernel(name, backend);
    if (config === undefined) throw new Error(`spyOnKernels: no kernel ${name} is registered for ${backend}`);
    originals.push(config);
    tf.unregisterKernel(name, backend);
    tf.registerKernel({ ...config, kernelFunc: (args) => {
      ran.add(name);
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return config.kernelFunc(args);
    } });
  }
  return {
    ran,
    calls,
    restore() {
      for (const config of originals) {
        tf.unregisterKernel(config.kernelName, backend);
        tf.registerKernel(config);
      }
    },
  };
}
