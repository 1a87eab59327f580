// The faithfulness report as text: one table with a row per method and the random-map baselines (per pixel, and on
// each coarser grid a method's map was computed on), then the sanity check's cascade (mean ρ ± sd per depth, the
// between-images floor and the limit it sets) with the layers each depth re-initialises.
import { formatTable } from '../../format/table';
import type { FaithfulnessReport } from './evaluate';

/**
 * Example (shape of the output):
 * ```
 * method       deletion AUC ↓  insertion AUC ↑  wins  sanity ρ@3   sanity  completeness mean/max  seconds
 * saliency              0.212            0.514  0.81  0.08±0.05    pass    -                       0.4
 * gradcam               0.190            0.530  0.70  0.02±0.20    pass    -                       0.1
 * random                0.301            0.397  -     -            -       -                       -
 * random 4x4            0.250            0.450  -     -            -       -                       -
 * ```
 */
export function formatFaithfulness(report: FaithfulnessReport): string {
  const { passDepth, threshold } = report.sanity;
  const header = ['method', 'deletion AUC ↓', 'insertion AUC ↑', 'wins', `sanity ρ@${passDepth}`, 'sanity', 'completeness mean/max', 'seconds'];
  const rows = report.rows.map((row) => {
    const atPass = row.sanitySpearman[passDepth - 1];
    return [
      row.method, fixed(row.deletionAuc), fixed(row.insertionAuc), row.deletionWins.toFixed(2), `${atPass.mean.toFixed(2)}±${atPass.sd.toFixed(2)}`,
      row.sanityPassed ? 'pass' : 'FAIL',
      row.completeness === undefined ? '-' : `${small(row.completeness.mean)}/${small(row.completeness.max)}`,
      row.seconds.toFixed(1),
    ];
  });
  rows.push(['random', fixed(report.random.deletionAuc), fixed(report.random.insertionAuc), '-', '-', '-', '-', '-']);
  for (const [key, random] of Object.entries(report.randomOnGrids)) {
    rows.push([`random ${key}`, fixed(random.deletionAuc), fixed(random.insertionAuc), '-', '-', '-', '-', '-']);
  }
  const main = formatTable(header, rows, ['l', 'r', 'r', 'r', 'l', 'l', 'l', 'r']);

  const depths = report.rows[0]?.sanitySpearman ?? [];
  const cascade = formatTable(
    ['method', ...depths.map((d) => `ρ@${d.depth}`), 'between images', 'pass below'],
    report.rows.map((row) => [
      row.method, ...row.sanitySpearman.map((d) => `${d.mean.toFixed(2)}±${d.sd.toFixed(2)}`),
      Number.isNaN(row.sanityFloor) ? '-' : row.sanityFloor.toFixed(2), row.sanityLimit.toFixed(2),
    ]),
  );
  const legend = depths.map((d) => `${d.depth}: ${layerRange(d.layers)}`).join('; ');
  return [
    `Faithfulness on ${report.images} images (curves of ${report.steps} points, seed ${report.seed}). ` +
    'wins = share of images whose deletion AUC beats the random map\'s, on the grid the method\'s map was computed on ' +
    '(random HxW: drawn on that grid and upsampled).',
    main,
    '',
    `Sanity check (cascading randomisation): Spearman ρ of |map| before and after re-initialising the top layers; ` +
    `between images = mean ρ of the trained model's maps of different images (f), what the architecture alone makes maps ` +
    `share; pass = mean ρ at depth ${passDepth} below f + ${threshold}·(1 − f), f taken as 0 when negative.`,
    cascade,
    `Re-initialised at depth ${legend}.`,
  ].join('\n');
}

function fixed(value: number): string {
  return value.toFixed(3);
}

/** Relative errors span decades: 3 decimals down to 0.001, then scientific. */
function small(value: number): string {
  return value === 0 || value >= 1e-3 ? value.toFixed(3) : value.toExponential(1);
}

/** A unit's layers: one name, or the first and last with the count (a residual block has several). */
function layerRange(layers: string[]): string {
  return layers.length === 1 ? layers[0] : `${layers[0]}..${layers[layers.length - 1]} (${layers.length} layers)`;
}
