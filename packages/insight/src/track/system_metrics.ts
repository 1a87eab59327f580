// Process-level system metrics, sampled on demand (the TensorBoard callback, train/callbacks/tensorboard.ts, asks
// every few seconds from its batch hook, so no timer outlives a run): CPU use since the previous sample, resident memory, V8 heap, and the bytes
// of tensor data the compute backend holds natively (tf.memory().numBytesInNative, which the torch backend reports).
import { tf } from '../backend';

export interface SystemSample {
  /** CPU time of this process over wall time since the previous sample, in percent of one core (may exceed 100). */
  cpu_percent: number;
  rss_bytes: number;
  heap_used_bytes: number;
  /** Live tensors in the TensorFlow.js engine. */
  tensors: number;
  /** Present when the backend reports native memory (torch). */
  native_tensor_bytes?: number;
}

export class SystemSampler {
  private lastCpu = process.cpuUsage();
  private lastTime = performance.now();

  /** Takes a sample; the first one covers the time since construction. */
  sample(): SystemSample {
    const cpu = process.cpuUsage();
    const now = performance.now();
    const cpuMicros = cpu.user - this.lastCpu.user + cpu.system - this.lastCpu.system;
    const wallMicros = Math.max((now - this.lastTime) * 1000, 1);
    this.lastCpu = cpu;
    this.lastTime = now;
    const memory = process.memoryUsage();
    const engine = tf.memory() as tf.MemoryInfo & { numBytesInNative?: unknown };
    const sample: SystemSample = {
      cpu_percent: (100 * cpuMicros) / wallMicros,
      rss_bytes: memory.rss,
      heap_used_bytes: memory.heapUsed,
      tensors: engine.numTensors,
    };
    if (typeof engine.numBytesInNative === 'number') sample.native_tensor_bytes = engine.numBytesInNative;
    return sample;
  }
}
