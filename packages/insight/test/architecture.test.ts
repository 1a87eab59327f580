// The dependency direction of packages/insight/src (docs/design.md, "layers"), one way only: the entry points use
// the features, the features use the foundations, everything may use the errors and the backend; nothing below
// imports from above. Rooms of one layer may use each other, but never both ways (training logs to the tracker
// through its own callback, so track/ never imports train/). Every import counts: `import type`, re-exports, lazy
// `import()` and `require()`.
// A new top-level folder of src/ (explain/, export/, tune/ ...) must be placed in LAYERS before it can land.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import * as ts from 'typescript';

import { sourceFiles as filesUnder, SRC } from './source_files';

/** Top-level rooms of src/ (a folder, or a file such as backend.ts), from the top layer down. */
const LAYERS: readonly (readonly string[])[] = [
  ['index', 'cli'], // entry: the library's public index and the `insight` command
  ['tune', 'train', 'finetune', 'compress', 'eval', 'explain', 'robust', 'ensemble', 'calibrate', 'serve', 'track', 'process'], // features
  ['run', 'study', 'data', 'models', 'onnx', 'format', 'math'], // foundations
  ['errors', 'backend'], // bottom: the error catalogue, and tfjs on the chosen backend (src/backend.ts)
];

interface Edge {
  from: string;
  to: string;
  /** Where: 'train/train.ts:12 (../track/x)'. */
  site: string;
}

/** Every module of src/, TypeScript or JavaScript (the dashboard's browser modules too). */
const sourceFiles = (dir: string) => filesUnder(dir, /\.(ts|js|cjs|mjs)$/);

/** The room of a file or import target under src/: its top-level folder, or a top-level file's name without extension. */
function roomOf(file: string): string {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep);
  return rest.length === 0 ? first.replace(/\.[^.]+$/, '') : first;
}

/** Every import between two different rooms: static, type-only, re-export, dynamic import() and require(). */
function roomEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const { fileName, pos } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue; // packages
      const target = path.resolve(path.dirname(file), fileName);
      if (path.relative(SRC, target).startsWith('..')) continue;
      const [from, to] = [roomOf(file), roomOf(target)];
      if (from === to) continue;
      const line = text.slice(0, pos).split('\n').length;
      edges.push({ from, to, site: `${path.relative(SRC, file)}:${line} (${fileName})` });
    }
  }
  return edges;
}

/** The rooms on a cycle of the room graph, or [] when there is none. */
function cycleOf(edges: Edge[]): string[] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) next.set(from, (next.get(from) ?? new Set()).add(to));
  const done = new Set<string>();
  const visit = (room: string, trail: string[]): string[] => {
    const seen = trail.indexOf(room);
    if (seen >= 0) return [...trail.slice(seen), room];
    if (done.has(room)) return [];
    for (const to of next.get(room) ?? []) {
      const cycle = visit(to, [...trail, room]);
      if (cycle.length > 0) return cycle;
    }
    done.add(room);
    return [];
  };
  for (const room of next.keys()) {
    const cycle = visit(room, []);
    if (cycle.length > 0) return cycle;
  }
  return [];
}

describe('dependency direction of src/', () => {
  const layerOf = new Map(LAYERS.flatMap((rooms, layer) => rooms.map((room) => [room, layer] as const)));
  const edges = roomEdges();

  it('places every room of src/ in exactly one layer', () => {
    const rooms = [...new Set(sourceFiles(SRC).map(roomOf))].sort();
    assert.deepEqual(rooms.filter((room) => !layerOf.has(room)), [], 'add the new room to LAYERS in test/architecture.test.ts');
    assert.equal(layerOf.size, LAYERS.flat().length, 'a room is listed twice in LAYERS');
    assert.deepEqual([...layerOf.keys()].filter((room) => !rooms.includes(room)), [], 'LAYERS lists rooms src/ does not have');
  });

  it('sees every kind of import (a lazy import() of the command is an edge too)', () => {
    assert.ok(edges.some((e) => e.from === 'cli' && e.to === 'train' && e.site.startsWith(path.join('cli', 'commands', 'train.ts'))), 'cli -> train');
  });

  it('imports nothing from a layer above', () => {
    const upward = edges.filter((e) => layerOf.get(e.to)! < layerOf.get(e.from)!).map((e) => `${e.from} -> ${e.to}: ${e.site}`);
    assert.deepEqual(upward, [], `the order, top first: ${LAYERS.map((rooms) => rooms.join(' ')).join(' > ')}`);
  });

  it('has no cycle between rooms', () => {
    const cycle = cycleOf(edges);
    const sites = cycle.slice(1).map((to, i) => edges.find((e) => e.from === cycle[i] && e.to === to)!.site);
    assert.deepEqual(cycle, [], `a cycle: ${cycle.join(' -> ')}, through ${sites.join(', ')}`);
  });
});
