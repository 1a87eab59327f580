// Crash-safe writes: no temporaries left behind, directories complete or absent, and the recovery rule for a
// writer killed between its two renames.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { cleanTemporaries, REPLACED_PREFIX, resolveCompleteDir, TEMP_PREFIX, writeDirAtomic, writeFileAtomic } from '../../src/run/atomic';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'insight-atomic-'));

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temporary', () => {
    const dir = tmp();
    const file = path.join(dir, 'run.json');
    writeFileAtomic(file, 'one');
    writeFileAtomic(file, 'two');
    assert.equal(fs.readFileSync(file, 'utf8'), 'two');
    assert.deepEqual(fs.readdirSync(dir), ['run.json']);
  });

  it('a failed write leaves the old file intact and no temporary', () => {
    const dir = tmp();
    const file = path.join(dir, 'a.json');
    writeFileAtomic(file, 'old');
    assert.throws(() => writeFileAtomic(file, 42 as unknown as string));
    assert.equal(fs.readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(fs.readdirSync(dir), ['a.json']);
  });
});

describe('writeDirAtomic', () => {
  it('creates and replaces a directory with exactly the given files, leaving nothing else', () => {
    const root = tmp();
    const dir = path.join(root, 'last');
    writeDirAtomic(dir, { 'a.bin': new Uint8Array([1, 2, 3]), 'b.json': '{}' });
    writeDirAtomic(dir, { 'c.json': '[]' });
    assert.deepEqual(fs.readdirSync(dir), ['c.json']);
    assert.deepEqual(fs.readdirSync(root), ['last']);
  });

  it('a failed write leaves the previous directory complete and removes its temporary', () => {
    const root = tmp();
    const dir = path.join(root, 'last');
    writeDirAtomic(dir, { 'a.json': 'old' });
    assert.throws(() => writeDirAtomic(dir, { 'a.json': 'new', 'b.json': 7 as unknown as string }));
    assert.deepEqual(fs.readdirSync(root), ['last']);
    assert.equal(fs.readFileSync(path.join(dir, 'a.json'), 'utf8'), 'old');
  });

  it('a writer killed between the renames leaves the old copy, which readers use and the next write removes', () => {
    const root = tmp();
    const dir = path.join(root, 'last');
    // The state a kill leaves: the old directory moved aside, the new one still a temporary, `last` missing.
    const aside = path.join(root, `${REPLACED_PREFIX}last-0000`);
    fs.mkdirSync(aside);
    fs.writeFileSync(path.join(aside, 'trainer.json'), '{"epoch":3}');
    fs.mkdirSync(path.join(root, `${TEMP_PREFIX}last-1-ffff`));
    assert.equal(resolveCompleteDir(dir), aside);
    writeDirAtomic(dir, { 'trainer.json': '{"epoch":4}' });
    assert.deepEqual(fs.readdirSync(root), ['last']);
    assert.equal(resolveCompleteDir(dir), dir);
  });

  it('resolveCompleteDir is null when nothing was ever written', () => {
    assert.equal(resolveCompleteDir(path.join(tmp(), 'best')), null);
  });

  it('cleanTemporaries only removes temporaries of the named entry', () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, `${TEMP_PREFIX}best-1-aaaa`));
    fs.mkdirSync(path.join(root, `${TEMP_PREFIX}last-1-bbbb`));
    cleanTemporaries(root, 'best');
    assert.deepEqual(fs.readdirSync(root), [`${TEMP_PREFIX}last-1-bbbb`]);
  });
});
