// The Keras "Convolutional Neural Network (CNN)" tutorial (tensorflow.org/tutorials/images/cnn), step by
// step, in TypeScript with TensorFlow.js's Keras API (tfjs-layers) — computed by libtorch through the `torch`
// backend. Each step quotes the Keras line it translates.
//
//   node --import tsx examples/seed-cnn.ts [--epochs 10] [--limit 50000] [--data cifar-10-binary.tar.gz]
//
// (In a checkout of the repository, add --conditions=source to node so '@insight/insight' is read from src/.)
// tf and tfl come from '@insight/insight', the TensorFlow.js it runs on: one copy, the torch backend selected.
//
// Two differences from the tutorial, both forced by circumstance and both stated in the output:
// - CIFAR-10's test split is withheld on this project's machines, so the tutorial's `validation_data=(test...)`
//   becomes the last 5,000 training images (10% of --limit), and the final evaluation is labelled "validation".
// - tfjs-layers has no `SparseCategoricalCrossentropy(from_logits=True)`; a custom loss computes exactly that
//   (softmax cross-entropy on logits). tfjs's fit wants targets shaped like the model's output for a custom
//   loss, so the integer labels go in one-hot; the loss value is the same number as with sparse labels.
import { parseArgs } from 'node:util';

import { initBackend, loadCifar10, splitTrainValidation, subsetDataset, tf, tfl, type ImageDataset } from '@insight/insight';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '10' },
    limit: { type: 'string' },
    data: { type: 'string' },
    backend: { type: 'string' },
  },
});
const epochs = Number(args.epochs);
const limit = args.limit === undefined ? null : Number(args.limit);

/** images: uint8 [count, 32, 32, 3] → float32 tensor / 255 ("train_images / 255.0"); labels → one-hot [count, 10]. */
function toTensors(ds: ImageDataset): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.div(tf.cast(tf.tensor4d(ds.images, [ds.count, ds.height, ds.width, 3], 'int32'), 'float32'), 255) as tf.Tensor4D,
    y: tf.oneHot(tf.tensor1d(ds.labels, 'int32'), ds.classNames.length) as tf.Tensor2D,
  }));
}

async function main(): Promise<void> {
  console.log(`backend: ${await initBackend(args.backend as 'torch' | 'cpu' | undefined)}`);

  // (train_images, train_labels), (test_images, test_labels) = datasets.cifar10.load_data()
  let all = await loadCifar10({ path: args.data });
  if (limit !== null) all = subsetDataset(all, Array.from({ length: Math.min(limit, all.count) }, (_, i) => i));
  const { train, validation } = splitTrainValidation(all, { validationCount: Math.round(all.count * 0.1), shuffle: false });
  console.log(`train: ${train.count} images, validation: ${validation.count} images (the last 10%; the test split is withheld)`);

  // train_images, test_images = train_images / 255.0, test_images / 255.0
  const trainData = toTensors(train);
  const validationData = toTensors(validation);

  // model = models.Sequential()
  const model = tfl.sequential();
  // model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)))
  model.add(tfl.layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: 'relu', inputShape: [32, 32, 3] }));
  // model.add(layers.MaxPooling2D((2, 2)))
  model.add(tfl.layers.maxPooling2d({ poolSize: [2, 2] }));
  // model.add(layers.Conv2D(64, (3, 3), activation='relu'))
  model.add(tfl.layers.conv2d({ filters: 64, kernelSize: [3, 3], activation: 'relu' }));
  // model.add(layers.MaxPooling2D((2, 2)))
  model.add(tfl.layers.maxPooling2d({ poolSize: [2, 2] }));
  // model.add(layers.Conv2D(64, (3, 3), activation='relu'))
  model.add(tfl.layers.conv2d({ filters: 64, kernelSize: [3, 3], activation: 'relu' }));
  // model.summary()
  model.summary();
  // model.add(layers.Flatten())
  model.add(tfl.layers.flatten());
  // model.add(layers.Dense(64, activation='relu'))
  model.add(tfl.layers.dense({ units: 64, activation: 'relu' }));
  // model.add(layers.Dense(10))
  model.add(tfl.layers.dense({ units: 10 }));
  // model.summary()
  model.summary();

  // model.compile(optimizer='adam',
  //               loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
  //               metrics=['accuracy'])
  const sparseCategoricalCrossentropyFromLogits = (yTrue: tf.Tensor, yPred: tf.Tensor) =>
    tf.losses.softmaxCrossEntropy(yTrue, yPred) as tf.Scalar;
  model.compile({ optimizer: 'adam', loss: sparseCategoricalCrossentropyFromLogits, metrics: ['accuracy'] });

  // history = model.fit(train_images, train_labels, epochs=10,
  //                     validation_data=(test_images, test_labels))
  // (Keras's default batch_size, 32, is also tfjs's.)
  const history = await model.fit(trainData.x, trainData.y, {
    epochs,
    validationData: [validationData.x, validationData.y],
    callbacks: {
      onEpochEnd: (epoch, logs) => {
        console.log(`Epoch ${epoch + 1}/${epochs} - loss: ${logs!.loss.toFixed(4)} - accuracy: ${logs!.acc.toFixed(4)} - ` +
          `val_loss: ${logs!.val_loss.toFixed(4)} - val_accuracy: ${logs!.val_acc.toFixed(4)}`);
      },
    },
  });

  // test_loss, test_acc = model.evaluate(test_images,  test_labels, verbose=2)
  const [loss, accuracy] = model.evaluate(validationData.x, validationData.y) as tf.Scalar[];
  console.log(`validation loss: ${(await loss.data())[0].toFixed(4)} - validation accuracy: ${(await accuracy.data())[0].toFixed(4)}`);
  console.log(`epochs run: ${history.epoch.length}`);
  tf.dispose([trainData.x, trainData.y, validationData.x, validationData.y, loss, accuracy]);
  model.dispose();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
