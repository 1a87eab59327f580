// The reference CNN (the Keras CIFAR-10 tutorial network) in tfjs-layers, compiled with Adam and softmax
// cross-entropy from logits on one-hot labels; shared by the backend benchmarks.
import * as torchBackend from '@insight/tfjs-backend-torch';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** optimizer 'fused': torchBackend.fusedAdam; 'stock': tf.train.adam. Both Adam(1e-3, 0.9, 0.999, 1e-7). */
export function referenceCnn(optimizer: 'fused' | 'stock' = 'fused'): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [32, 32, 3] }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 64, activation: 'relu' }));
  model.add(tfl.layers.dense({ units: 10 }));
  model.compile({
    optimizer: optimizer === 'fused' ? torchBackend.fusedAdam(1e-3, 0.9, 0.999, 1e-7) : tf.train.adam(1e-3, 0.9, 0.999, 1e-7),
    loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
    metrics: ['accuracy'],
  });
  return model;
}
