// extractTar on npm's tar parser: only picked regular files are written, flat under the names the caller gives
// (entry paths never become file-system paths), with the archive's sha256; damaged archives are ArchiveErrors
// whose `problem` names what is wrong. (The CIFAR-10 tests cover gzip damage and the tar formats.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { ArchiveError, extractTar } from '../../src/data/tar';
import { REPRODUCIBLE_TAR, tempDir } from './helpers';

/** <root>/<name>: a plain tar of src/a.bin (1,000 bytes), src/sub/b.txt and src/link -> a.bin. */
function packSample(root: string, name = 'sample.tar'): string {
  const src = path.join(root, 'src');
  mkdirSync(path.join(src, 'sub'), { recursive: true });
  writeFileSync(path.join(src, 'a.bin'), Buffer.alloc(1000, 7));
  writeFileSync(path.join(src, 'sub', 'b.txt'), 'hello\n');
  execFileSync('ln', ['-sf', 'a.bin', path.join(src, 'link')]);
  const archive = path.join(root, name);
  execFileSync('tar', [...REPRODUCIBLE_TAR, '-cf', archive, '-C', root, 'src']);
  return archive;
}

describe('extractTar', () => {
  it('writes only the picked regular files, flat, under the given names, and returns the sha256', async () => {
    const root = tempDir();
    const archive = packSample(root);
    const dest = path.join(root, 'out');
    mkdirSync(dest);
    const seen: string[] = [];
    const result = await extractTar(archive, dest, (entry) => {
      seen.push(entry);
      return entry.endsWith('.txt') ? 'renamed.txt' : entry.endsWith('.bin') ? 'a-copy.bin' : null;
    });
    assert.deepEqual(result.extracted.sort(), ['src/a.bin', 'src/sub/b.txt']);
    assert.ok(!seen.includes('src/link'), 'a symlink is never offered');
    assert.deepEqual(readdirSync(dest).sort(), ['a-copy.bin', 'renamed.txt']);
    assert.deepEqual(readFileSync(path.join(dest, 'a-copy.bin')), Buffer.alloc(1000, 7));
    assert.equal(readFileSync(path.join(dest, 'renamed.txt'), 'utf8'), 'hello\n');
    assert.equal(result.sha256, createHash('sha256').update(readFileSync(archive)).digest('hex'));
  });

  const problem = async (bytes: Buffer, pattern: RegExp) => {
    const root = tempDir();
    const file = path.join(root, 'damaged.tar');
    writeFileSync(file, bytes);
    const dest = path.join(root, 'out');
    mkdirSync(dest);
    await assert.rejects(extractTar(file, dest, (entry) => path.posix.basename(entry)), (err: unknown) => {
      assert.ok(err instanceof ArchiveError);
      assert.match(err.problem, pattern);
      return true;
    });
  };

  it('a tar cut inside a file names that file', async () => {
    const whole = readFileSync(packSample(tempDir()));
    await problem(whole.subarray(0, 512 + 600), /^it is truncated \(the data of src\/a\.bin ends early\)$/);
  });

  it('a damaged header fails its checksum; an empty file is not a tar archive', async () => {
    const bytes = Buffer.from(readFileSync(packSample(tempDir())));
    bytes[20] ^= 0xff; // inside the first header's name field
    await problem(bytes, /^a tar header checksum does not match \(after 0 extracted files\); the archive is corrupt$/);
    await problem(Buffer.alloc(0), /^it is not a readable tar archive \(.*Unrecognized archive format\)$/);
  });
});
