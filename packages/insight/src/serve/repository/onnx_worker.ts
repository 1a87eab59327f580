// Entry point of an ONNX version's worker thread (onnx_thread.ts): one ONNX Runtime session, run here so that its
// forward passes (synchronous inside onnxruntime-node's run(), which only defers them with setImmediate) leave the
// server's event loop free to parse and answer requests meanwhile.
// workerData: { bytes: Uint8Array (the .onnx file), threads?: number (intra-op threads) }.
// Replies: { kind: 'ready', inputShape, outputShape } or { kind: 'failed', error } once; then per request
// { id, x: Float32Array, rows } → { id, logits: Float32Array } or { id, error }. { kind: 'dispose' } releases the
// session and ends the thread.
import { parentPort, workerData } from 'node:worker_threads';

import { OnnxModel } from '../../onnx/runtime';

type Request = { kind: 'dispose' } | { kind?: undefined; id: number; x: Float32Array; rows: number };

const { bytes, threads } = workerData as { bytes: Uint8Array; threads?: number };
const port = parentPort!;

OnnxModel.load(bytes, threads === undefined ? {} : { threads }).then((model) => {
  port.on('message', (req: Request) => {
    if (req.kind === 'dispose') {
      void model.dispose().finally(() => port.close());
      return;
    }
    model.predict(req.x, req.rows).then(
      (logits) => port.postMessage({ id: req.id, logits }),
      (error: Error) => port.postMessage({ id: req.id, error: error.message }),
    );
  });
  port.postMessage({ kind: 'ready', inputShape: model.inputShape, outputShape: model.outputShape });
}, (error: Error) => {
  port.postMessage({ kind: 'failed', error: error.message });
  port.close();
});
