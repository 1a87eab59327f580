// Selects the compute backend: `torch` (libtorch, native) when its addon is available, else TensorFlow.js's
// cpu backend with one clear warning (printed by @insight/tfjs-backend-torch itself). Everything else in
// Insight imports `tf` from here and never branches on the backend.
import * as torchBackend from '@insight/tfjs-backend-torch';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';

export { tf };

/** Makes the best available backend active and returns its name ('torch' or 'cpu'). */
export async function initBackend(preferred?: 'torch' | 'cpu'): Promise<string> {
  const name = preferred ?? (torchBackend.isAvailable ? 'torch' : 'cpu');
  if (name === 'torch' && !torchBackend.isAvailable) {
    throw new Error(`The torch backend was requested but is unavailable. ${torchBackend.unavailableReason}`);
  }
  await tf.setBackend(name);
  await tf.ready();
  return tf.getBackend();
}
