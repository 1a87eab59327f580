// Tags of a run live in the run directory (tags.json, a JSON list of strings), so they survive rebuilding the
// index; the index only mirrors them. A tag is short, plain text: letters, digits and _ . : - (e.g. baseline, v2).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ruleError } from '../errors';
import { writeFileAtomic } from '../run/atomic';
import { RunDir } from '../run/run_dir';

const TAG = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function checkTag(tag: string): void {
  if (!TAG.test(tag)) {
    throw ruleError('INSIGHT_E_QUERY', 'A tag must be 1-64 characters: a letter or digit, then letters, digits, _ . : or -.', { tag },
      'Pass e.g. baseline, best-lr or v2.');
  }
}

/** The run's tags ([] without tags.json); throws a plain Error naming the file when it is not a list of strings. */
export function readTags(dir: string): string[] {
  const file = RunDir.at(dir).tagsJson;
  if (!fs.existsSync(file)) return [];
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    value = null;
  }
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string')) throw new Error(`${path.basename(file)} is not a JSON list of strings`);
  return value as string[];
}

/** Adds (or with remove: true, removes) `tags` on the run in `dir`; returns the new list, sorted. */
export function updateTags(dir: string, tags: string[], remove = false): string[] {
  tags.forEach(checkTag);
  let current: string[];
  try {
    current = readTags(dir);
  } catch {
    current = []; // an unreadable tags.json is replaced
  }
  const next = remove ? current.filter((t) => !tags.includes(t)) : [...new Set([...current, ...tags])];
  next.sort();
  writeFileAtomic(RunDir.at(dir).tagsJson, `${JSON.stringify(next)}\n`);
  return next;
}
