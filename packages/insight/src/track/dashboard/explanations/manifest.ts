// What the explanations panel of a run stores and how the dashboard finds it, without loading anything heavy:
// the panel is the directory RunDir.explainPanelDir (explain/dashboard/), holding EXPLAIN_PANEL_FILES.manifest (the
// manifest below) and the PNGs it names. Its modelStamp (name, size and mtime of every file of model/) tells a
// panel of the current model from one of a model that has since been replaced.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { resolveCompleteDir } from '../../../run/atomic';
import { EXPLAIN_PANEL_FILES, type RunDir } from '../../../run/run_dir';

export interface PanelNeighbour {
  /** Position in the run's training split. */
  index: number;
  label: string;
  /** 1 − cosine similarity of the embeddings. */
  distance: number;
}

export interface PanelSample {
  /** Position in the run's validation split. */
  index: number;
  /** True class and predicted class (names), and the predicted class's probability. */
  label: string;
  predicted: string;
  probability: number;
  /** method → PNG file name (the overlay for the predicted class). */
  overlays: Record<string, string>;
  /** Nearest training images, nearest first, and their strip's PNG file name. */
  neighbours: PanelNeighbour[];
  neighboursImage: string;
}

export interface PanelManifest {
  formatVersion: 1;
  run: string;
  modelStamp: string;
  /** Which images: e.g. 'validation (last 5000 of 50000 images)'. */
  split: string;
  methods: string[];
  memory: { layer: string; count: number; built: boolean };
  samples: PanelSample[];
  computedAt: string;
  seconds: number;
}

/** name:size:mtime of every file of the run's model/ directory, or null when it has none (the run has not completed). */
export function modelStamp(run: RunDir): string | null {
  try {
    const names = fs.readdirSync(run.modelDir).filter((n) => !n.startsWith('.')).sort();
    if (names.length === 0) return null;
    return names.map((n) => {
      const s = fs.statSync(path.join(run.modelDir, n));
      return `${n}:${s.size}:${Math.round(s.mtimeMs)}`;
    }).join('|');
  } catch {
    return null;
  }
}

/** The stored panel of `run` and its directory, or null when absent or unreadable. */
export function readPanel(run: RunDir): { manifest: PanelManifest; dir: string } | null {
  const dir = resolveCompleteDir(run.explainPanelDir);
  if (dir === null) return null;
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, EXPLAIN_PANEL_FILES.manifest), 'utf8')) as PanelManifest;
    return manifest.formatVersion === 1 && Array.isArray(manifest.samples) ? { manifest, dir } : null;
  } catch {
    return null;
  }
}

/** Every PNG a manifest names (the only files the panel route serves). */
export function panelFiles(manifest: PanelManifest): string[] {
  return manifest.samples.flatMap((s) => [...Object.values(s.overlays), s.neighboursImage]);
}
