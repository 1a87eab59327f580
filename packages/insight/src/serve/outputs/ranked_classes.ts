// A served model's scores as classes, best first: what :classify, :classify-image, gRPC Classify and the KServe
// classification extension (REST and gRPC) answer with, each in its own protocol's shape.
//   rankedClasses(probabilities, servable, 0, 3)  → [{index: 3, label: 'cat', score: 0.81}, ...]
//   classificationLabels(probabilities, 2, 3, servable) → ['0.81:3:cat', ...]  (row after row)
import { topKIndices } from '../../math/top_k';
import type { Servable } from '../repository/servable';

export interface RankedClass {
  index: number;
  /** The class name from the model's metadata. */
  label: string;
  score: number;
}

/** The k best classes of row `row` of `scores` ([rows, numClasses]), highest score first (ties: lower index). */
export function rankedClasses(scores: Float32Array, servable: Servable, row: number, k = servable.numClasses): RankedClass[] {
  const c = servable.numClasses;
  return topKIndices(scores, c, row, k).map((index) => ({ index, label: servable.metadata.classNames[index], score: scores[row * c + index] }));
}

/** Triton's classification extension: the top k of each of `count` rows as "score:index:label", row after row. */
export function classificationLabels(scores: Float32Array, count: number, k: number, servable: Servable): string[] {
  return Array.from({ length: count }, (_, row) => rankedClasses(scores, servable, row, k).map((r) => `${r.score}:${r.index}:${r.label}`)).flat();
}
