// Models that explanations build over a model's own layers — Grad-CAM's tap (the model split at a layer, two models)
// and the memory's embedding cut — are views: they own nothing, so whoever owns the model frees everything with
// model.dispose(), views included (explain() the models it loaded, the server a retired version, the dashboard its
// panel's model; a caller's model keeps working after any number of explanations and is theirs to dispose).
// Why this needs care: tfjs-layers counts every symbolic application of a layer as one more reference to its weights
// (Layer.apply → _refCount++), and LayersModel.dispose() frees a layer's weights only when its count reaches 0. A view
// that re-applies the layers (models/graph tapLayer) would keep every weight alive after its owner's dispose(); and
// disposing the views too cannot be made right, since a layer in both halves of a tap would be released twice. So a
// view is built with the counts put back as they were, never disposed, and dropped with its model (a WeakMap).
// Views are built once per model and key: each build adds nodes to the layers, which repeated explanations (a
// server) must not grow.
import type * as tfl from '@tensorflow/tfjs-layers';

/** tfjs-layers' reference count of a layer (protected in its typings; null until first applied). */
type Counted = { _refCount: number | null };

const views = new WeakMap<tfl.LayersModel, Map<string, unknown>>();

/**
 * The view `key` of `model`, built by `build` on first use with the layers' reference counts left as they were.
 * Example: `modelView(model, 'tap conv3', () => tapLayer(model, 'conv3'))`.
 */
export function modelView<T>(model: tfl.LayersModel, key: string, build: () => T): T {
  let byKey = views.get(model);
  if (byKey === undefined) views.set(model, (byKey = new Map()));
  if (byKey.has(key)) return byKey.get(key) as T;
  const layers = model.layers as unknown as Counted[];
  const counts = layers.map((layer) => layer._refCount);
  try {
    const view = build();
    byKey.set(key, view);
    return view;
  } finally {
    layers.forEach((layer, i) => { layer._refCount = counts[i]; });
  }
}

/** The keys of the views built over `model` so far, in order (e.g. ['tap conv3', 'embedding dense1']). */
export function viewKeys(model: tfl.LayersModel): string[] {
  return [...(views.get(model)?.keys() ?? [])];
}
