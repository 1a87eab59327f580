// Entry point of a DataLoader worker thread: renders batches from the shared image bytes on request.
// workerData: { buffer: SharedArrayBuffer, byteOffset, length, recipe: BatchRecipe }.
// Request: { id, epoch, batch, indices: Uint32Array, offset }. Reply: { id, x: Float32Array } (transferred) or { id, error }.
import { parentPort, workerData } from 'node:worker_threads';
import { renderBatch, type BatchRecipe } from './batch_renderer';

interface RenderRequest { id: number; epoch: number; batch: number; indices: Uint32Array; offset: number }

const { buffer, byteOffset, length, recipe } = workerData as {
  buffer: SharedArrayBuffer; byteOffset: number; length: number; recipe: BatchRecipe;
};
const images = new Uint8Array(buffer, byteOffset, length);
const port = parentPort!;

port.on('message', (req: RenderRequest) => {
  try {
    const x = renderBatch(images, recipe, req.epoch, req.batch, req.indices, req.offset);
    port.postMessage({ id: req.id, x }, [x.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ id: req.id, error: (err as Error).stack ?? String(err) });
  }
});
