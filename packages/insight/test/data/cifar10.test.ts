// CIFAR-10 loading: record decoding (CHW → HWC), folders and archives, the cache, downloads, and the errors
// for missing, truncated and corrupt data.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadCifar10 } from '../../src/data';
import { decodeRecords, decodeRecordsReference } from '../../src/data/cifar10_records';
import { CLASS_NAMES, cifarBatch, packTinyCifar, pixel, REPRODUCIBLE_TAR, tempDir, TINY_TEST, writeTinyCifar } from './helpers';
import { CIFAR_ARCHIVE } from '../shared_data';

const SHARED_ARCHIVE = CIFAR_ARCHIVE;

/** Asserts that every image of `ds` holds the generated pixels of records first..first+count-1, in HWC. */
function assertTinyPixels(ds: Awaited<ReturnType<typeof loadCifar10>>, first: number): void {
  for (let i = 0; i < ds.count; i++) {
    assert.equal(ds.labels[i], (first + i) % 10);
    for (const p of [0, 1, 31, 32, 500, 1023]) {
      for (let c = 0; c < 3; c++) assert.equal(ds.images[i * 3072 + p * 3 + c], pixel(first + i, p, c), `record ${i} pixel ${p} channel ${c}`);
    }
  }
}

describe('CIFAR-10 records', () => {
  it('the word-wise decoder matches the byte-wise definition exactly', () => {
    const buf = cifarBatch(0, 7);
    for (let i = 0; i < buf.length; i += 3073) for (let j = 1; j < 3073; j++) buf[i + j] = (i * 31 + j * 17 + (j >> 5)) & 255;
    const fast = new Uint8Array(new SharedArrayBuffer(8 * 3072)), slow = new Uint8Array(8 * 3072);
    const labelsFast = new Int32Array(8), labelsSlow = new Int32Array(8);
    decodeRecords(buf, fast, labelsFast, 1);
    decodeRecordsReference(buf, slow, labelsSlow, 1);
    assert.deepEqual(Buffer.from(fast), Buffer.from(slow));
    assert.deepEqual(labelsFast, labelsSlow);
  });
});

describe('loadCifar10 from a folder', () => {
  const root = tempDir();
  const dir = writeTinyCifar(root);
  const cacheDir = path.join(root, 'cache');

  it('decodes the training split to HWC with labels and class names', async () => {
    const ds = await loadCifar10({ path: dir, cacheDir });
    assert.equal(ds.count, 10);
    assert.deepEqual([ds.height, ds.width, ds.channels], [32, 32, 3]);
    assert.equal(ds.images.length, 10 * 3072);
    assert.ok(ds.images.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(ds.classNames, CLASS_NAMES);
    assertTinyPixels(ds, 0);
    assert.ok(!existsSync(cacheDir), 'a folder is read in place, nothing is cached');
  });

  it('reads the test split, and accepts the folder that contains cifar-10-batches-bin', async () => {
    const ds = await loadCifar10({ path: root, split: 'test', cacheDir });
    assert.equal(ds.count, TINY_TEST);
    assertTinyPixels(ds, 100);
  });

  it('rejects an unknown split and a missing path', async () => {
    await assert.rejects(loadCifar10({ path: dir, split: 'val' as 'test' }), /split must be 'train' or 'test'\. Received: split="val"/);
    await assert.rejects(loadCifar10({ path: path.join(root, 'nope'), cacheDir }), /The CIFAR-10 path does not exist\. Received: path=.*nope/);
  });
});

describe('loadCifar10 errors on damaged folders', () => {
  it('names a truncated batch file, its size and the fix', async () => {
    const dir = writeTinyCifar(tempDir());
    truncateSync(path.join(dir, 'data_batch_2.bin'), 2 * 3073 - 5);
    await assert.rejects(loadCifar10({ path: dir }), (err: Error) => {
      assert.match(err.message, /data_batch_2\.bin in .* is truncated or corrupt: a batch file holds whole 3073-byte records\./);
      assert.match(err.message, /Received: file="data_batch_2\.bin", size=6141, records=1\.998\. Replace it with a fresh copy/);
      return true;
    });
  });

  it('names a file with a label outside [0, 10)', async () => {
    const dir = writeTinyCifar(tempDir());
    const file = path.join(dir, 'data_batch_3.bin');
    const buf = readFileSync(file);
    buf[3073] = 10;
    writeFileSync(file, buf);
    await assert.rejects(loadCifar10({ path: dir }),
      /data_batch_3\.bin in .* is corrupt: every label byte must be in \[0, 10\)\. Received: file="data_batch_3\.bin", record=1, label=10\./);
  });

  it('names a missing training batch and a missing class-name file', async () => {
    const dir = writeTinyCifar(tempDir());
    writeFileSync(path.join(dir, 'batches.meta.txt'), '');
    await assert.rejects(loadCifar10({ path: dir }), /batches\.meta\.txt in .* must list the class names/);
    const dir2 = writeTinyCifar(tempDir());
    rmSync(path.join(dir2, 'data_batch_4.bin'));
    await assert.rejects(loadCifar10({ path: dir2 }), /data_batch_4\.bin is missing from .*: CIFAR-10's train split needs data_batch_1\.bin/);
  });

  it('says test_batch.bin is missing when only the training split was given', async () => {
    const dir = writeTinyCifar(tempDir(), false);
    await assert.rejects(loadCifar10({ path: dir, split: 'test' }),
      /^InsightError: test_batch\.bin is missing from .*cifar-10-batches-bin \(the training split alone was given\)\. Received: split="test"\./);
    assert.equal((await loadCifar10({ path: dir })).count, 10);
  });
});

describe('loadCifar10 from an archive', () => {
  const root = tempDir();
  writeTinyCifar(root);
  const archive = packTinyCifar(root);
  const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');

  it('extracts once into the cache and then reads the extracted files', async () => {
    const cacheDir = path.join(root, 'cache1');
    const ds = await loadCifar10({ path: archive, cacheDir });
    assert.equal(ds.count, 10);
    assertTinyPixels(ds, 0);
    const [extracted] = readdirSync(path.join(cacheDir, 'cifar-10-extracted'));
    assert.match(extracted, /^cifar-10-binary-[0-9a-f]{12}$/);
    const batch = path.join(cacheDir, 'cifar-10-extracted', extracted, 'data_batch_1.bin');
    const mtime = statSync(batch).mtimeMs;
    const test = await loadCifar10({ path: archive, cacheDir, split: 'test' });
    assertTinyPixels(test, 100);
    assert.equal(statSync(batch).mtimeMs, mtime, 'the second load did not extract again');
    assert.deepEqual(readdirSync(path.join(cacheDir, 'cifar-10-extracted')), [extracted], 'no temporary folders left');
  });

  it('reads pax and ustar archives and plain .tar', async () => {
    for (const format of ['pax', 'ustar']) {
      const other = packTinyCifar(root, `tiny-${format}.tar.gz`, format);
      assertTinyPixels(await loadCifar10({ path: other, cacheDir: path.join(root, `cache-${format}`) }), 0);
    }
    const plain = path.join(root, 'plain.tar');
    execFileSync('tar', [...REPRODUCIBLE_TAR, '-cf', plain, '-C', root, 'cifar-10-batches-bin']);
    assertTinyPixels(await loadCifar10({ path: plain, cacheDir: path.join(root, 'cache-plain') }), 0);
  });

  it('reads entry paths longer than 100 bytes (GNU long names, pax paths, ustar prefixes)', async () => {
    const deep = path.join(root, 'deep');
    const long = path.join('x'.repeat(60), 'y'.repeat(60));
    writeTinyCifar(path.join(deep, long));
    for (const format of ['gnu', 'pax', 'ustar']) {
      const archive = path.join(deep, `${format}.tar.gz`);
      execFileSync('tar', [...REPRODUCIBLE_TAR, `--format=${format}`, '-czf', archive, '-C', deep, long]);
      assertTinyPixels(await loadCifar10({ path: archive, cacheDir: path.join(deep, `cache-${format}`) }), 0);
    }
  });

  it('checks sha256 only when given', async () => {
    const cacheDir = path.join(root, 'cache2');
    assert.equal((await loadCifar10({ path: archive, cacheDir, sha256 })).count, 10);
    await assert.rejects(loadCifar10({ path: archive, cacheDir, sha256: 'ab'.repeat(32) }),
      new RegExp(`The archive does not have the expected sha256\\. Received: path=.*, sha256="${sha256}", expected="${'ab'.repeat(32)}"`));
    const cacheDir3 = path.join(root, 'cache3');
    await assert.rejects(loadCifar10({ path: archive, cacheDir: cacheDir3, sha256: '00'.repeat(32) }), /expected sha256/);
    assert.deepEqual(readdirSync(path.join(cacheDir3, 'cifar-10-extracted')), [], 'a rejected archive leaves nothing');
  });

  it('uses the cache folder without a path: cached archive, then its extraction', async () => {
    const cacheDir = path.join(root, 'cache4');
    mkdirSync(cacheDir);
    copyFileSync(archive, path.join(cacheDir, 'cifar-10-binary.tar.gz'));
    assertTinyPixels(await loadCifar10({ cacheDir, download: false }), 0);
    assert.ok(existsSync(path.join(cacheDir, 'cifar-10-batches-bin', 'data_batch_5.bin')));
    assertTinyPixels(await loadCifar10({ cacheDir, download: false, split: 'test' }), 100);
  });

  it('uses $INSIGHT_HOME/datasets when no cacheDir is given', async () => {
    const home = tempDir();
    writeTinyCifar(path.join(home, 'datasets'));
    const saved = process.env.INSIGHT_HOME;
    process.env.INSIGHT_HOME = home;
    try {
      assert.equal((await loadCifar10({ download: false })).count, 10);
    } finally {
      if (saved === undefined) delete process.env.INSIGHT_HOME;
      else process.env.INSIGHT_HOME = saved;
    }
  });
});

describe('loadCifar10 errors on damaged archives', () => {
  const root = tempDir();
  writeTinyCifar(root);
  const good = readFileSync(packTinyCifar(root));

  const damaged = async (name: string, bytes: Buffer, pattern: RegExp) => {
    const file = path.join(root, name);
    writeFileSync(file, bytes);
    const cacheDir = path.join(root, `cache-${name}`);
    await assert.rejects(loadCifar10({ path: file, cacheDir }), pattern);
    assert.deepEqual(readdirSync(path.join(cacheDir, 'cifar-10-extracted')), [], 'never a partial extraction');
  };

  it('a truncated .tar.gz', async () => {
    await damaged('cut.tar.gz', good.subarray(0, good.length >> 1),
      /cut\.tar\.gz is not a readable CIFAR-10 archive: its gzip stream is truncated \(unexpected end of file\)\. Received: path=.*\. Download it again from https/);
  });

  it('a .tar.gz with corrupted bytes', async () => {
    const bytes = Buffer.from(good);
    for (let i = 200; i < 260; i++) bytes[i] ^= 0x5a;
    // Which check trips first depends on the compressor's output; each names the archive and the problem.
    await damaged('flipped.tar.gz', bytes,
      /flipped\.tar\.gz is not a readable CIFAR-10 archive: (its gzip stream is (corrupt|truncated)|a tar header checksum does not match)/);
    const trailer = Buffer.from(good);
    trailer[trailer.length - 8] ^= 0xff; // the CRC-32 of the uncompressed data
    await damaged('crc.tar.gz', trailer, /crc\.tar\.gz is not a readable CIFAR-10 archive: its gzip stream is corrupt \(incorrect data check\)/);
  });

  it('a file that is not an archive', async () => {
    await damaged('notes.tar.gz', Buffer.from('x'.repeat(2000)), /notes\.tar\.gz is not a readable CIFAR-10 archive: a tar header checksum does not match/);
  });

  it('an archive whose batch file has a partial record', async () => {
    const dir = path.join(root, 'bad', 'cifar-10-batches-bin');
    writeTinyCifar(path.join(root, 'bad'));
    truncateSync(path.join(dir, 'data_batch_5.bin'), 3073 + 100);
    const archive = packTinyCifar(path.join(root, 'bad'));
    const cacheDir = path.join(root, 'cache-bad');
    await assert.rejects(loadCifar10({ path: archive, cacheDir }),
      /data_batch_5\.bin in .*bad\/cifar-10-binary\.tar\.gz is truncated or corrupt.*Received: file="data_batch_5\.bin", size=3173/);
    assert.deepEqual(readdirSync(path.join(cacheDir, 'cifar-10-extracted')), []);
  });
});

describe('loadCifar10 downloads', () => {
  it('offline: names the exact cache path to put the archive at, and leaves no partial file', async () => {
    const cacheDir = tempDir();
    await assert.rejects(loadCifar10({ cacheDir, url: 'http://127.0.0.1:9/cifar-10-binary.tar.gz' }), (err: Error) => {
      assert.match(err.message, /^CIFAR-10 is not in the cache and could not be downloaded: fetch failed: (bad port|.*ECONNREFUSED)/);
      assert.ok(err.message.includes(`Received: url="http://127.0.0.1:9/cifar-10-binary.tar.gz", cacheDir="${cacheDir}"`), err.message);
      assert.ok(err.message.includes(`put it at ${path.join(cacheDir, 'cifar-10-binary.tar.gz')} `), err.message);
      assert.ok(err.message.includes(`or its extracted folder at ${path.join(cacheDir, 'cifar-10-batches-bin')}`), err.message);
      return true;
    });
    assert.deepEqual(readdirSync(cacheDir), []);
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    await assert.rejects(loadCifar10({ cacheDir, url: `http://127.0.0.1:${port}/c.tar.gz` }),
      /could not be downloaded: fetch failed: connect ECONNREFUSED 127\.0\.0\.1:\d+\. Received: url=.*put it at /);
    assert.deepEqual(readdirSync(cacheDir), []);
    await assert.rejects(loadCifar10({ cacheDir, download: false }),
      /CIFAR-10 is not in the cache and downloading is turned off\. Received: download=false, cacheDir=.*put it at .*cifar-10-binary\.tar\.gz/);
  });

  it('downloads from a local server, checks sha256 and caches atomically', async () => {
    const root = tempDir();
    writeTinyCifar(root);
    const bytes = readFileSync(packTinyCifar(root));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const server = createServer((_req, res) => res.end(bytes));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/cifar-10-binary.tar.gz`;
    try {
      const rejected = path.join(root, 'cache-rejected');
      await assert.rejects(loadCifar10({ cacheDir: rejected, url }),
        /could not be downloaded: the file's sha256 is [0-9a-f]{64}, not the expected c4a38c50/);
      assert.deepEqual(readdirSync(rejected), [], 'a rejected download leaves nothing');
      const cacheDir = path.join(root, 'cache-ok');
      let progress = 0;
      const ds = await loadCifar10({ cacheDir, url, sha256, onProgress: (received) => { progress = received; } });
      assertTinyPixels(ds, 0);
      assert.equal(progress, bytes.length);
      assert.deepEqual(readdirSync(cacheDir).sort(), ['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']);
    } finally {
      server.close();
    }
  });
});

describe('the shared CIFAR-10 training archive', { skip: !existsSync(SHARED_ARCHIVE) && 'shared data not present' }, () => {
  const cacheDir = tempDir();

  it('loads 50,000 images with 10 class names', async () => {
    const ds = await loadCifar10({ path: SHARED_ARCHIVE, cacheDir });
    assert.equal(ds.count, 50000);
    assert.equal(ds.images.length, 50000 * 32 * 32 * 3);
    assert.deepEqual(ds.classNames, CLASS_NAMES);
    const perClass = new Array(10).fill(0);
    ds.labels.forEach((l) => perClass[l]++);
    assert.deepEqual(perClass, new Array(10).fill(5000));
    const start = performance.now();
    await loadCifar10({ path: SHARED_ARCHIVE, cacheDir });
    const ms = performance.now() - start;
    assert.ok(ms < 5000, `reloading the extracted files took ${ms.toFixed(0)} ms`); // ~0.3 s (see the benchmark); loose for shared CI machines
  });

  it("asking for 'test' names test_batch.bin and the archive", async () => {
    await assert.rejects(loadCifar10({ path: SHARED_ARCHIVE, cacheDir, split: 'test' }),
      new RegExp(`test_batch\\.bin is missing from ${CIFAR_ARCHIVE.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(the training split alone was given\\)`));
  });
});
