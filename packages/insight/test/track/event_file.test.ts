// TensorBoard event files: CRC-32C against the published check values, TFRecord framing, the Event/Summary wire
// format (field numbers as in TensorFlow's event.proto and summary.proto), buffering, appending and failures.
// Files are decoded independently: a bitwise-CRC TFRecord reader, then protobufjs.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import * as protobuf from 'protobufjs';

import { crc32c, maskCrc, maskedCrc32c } from '../../src/track/crc32c';
import { EventFileWriter, FILE_VERSION } from '../../src/track/event_writer';
import { frameRecord } from '../../src/track/tfrecord';
import { decodeEventFile, scalarsOf } from './events';
import { crc32cBitwise, masked, readTfRecords } from './tfrecord_reader';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'insight-events-'));

describe('CRC-32C', () => {
  it('matches the check value and the RFC 3720 (iSCSI) test vectors', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
    assert.equal(crc32c(new Uint8Array(0)), 0);
  });

  it('agrees with the bitwise definition on random data, and masks as TFRecord documents', () => {
    let seed = 7;
    for (let n = 0; n < 50; n++) {
      const bytes = Uint8Array.from({ length: n * 13 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      assert.equal(crc32c(bytes), crc32cBitwise(bytes));
      assert.equal(maskedCrc32c(bytes), masked(crc32cBitwise(bytes)));
    }
    assert.equal(maskCrc(0), 0xa282ead8);
    assert.equal(maskCrc(0xffffffff), (0xffffffff + 0xa282ead8) % 2 ** 32);
  });
});

describe('TFRecord framing', () => {
  it('frames length | crc(length) | data | crc(data), little-endian', () => {
    const data = Buffer.from('hello');
    const record = frameRecord(data);
    assert.equal(record.length, 8 + 4 + 5 + 4);
    assert.equal(record.readBigUInt64LE(0), 5n);
    assert.equal(record.readUInt32LE(8), masked(crc32cBitwise(record.subarray(0, 8))));
    assert.deepEqual(record.subarray(12, 17), data);
    assert.equal(record.readUInt32LE(17), masked(crc32cBitwise(data)));
    assert.deepEqual(readTfRecords(Buffer.concat([record, frameRecord(Buffer.alloc(0))])).records, [data, Buffer.alloc(0)]);
  });

  it('a reader detects a flipped byte and a torn tail', () => {
    const good = Buffer.concat([frameRecord(Buffer.from('one')), frameRecord(Buffer.from('two'))]);
    const flipped = Buffer.from(good);
    flipped[13] ^= 1;
    assert.throws(() => readTfRecords(flipped), /data CRC mismatch at byte 0/);
    const torn = readTfRecords(good.subarray(0, good.length - 3));
    assert.deepEqual(torn.records.map(String), ['one']);
    assert.equal(torn.tornBytes, 8 + 4 + 3 + 1);
  });
});

describe('EventFileWriter', () => {
  it('names the file events.out.tfevents.<unix seconds>.<host> and starts with brain.Event:2', () => {
    const dir = tmp();
    const writer = new EventFileWriter(dir, { now: () => 1_700_000_000_500, hostname: 'box' });
    writer.close();
    assert.equal(path.basename(writer.path), 'events.out.tfevents.1700000000.box');
    const { events, tornBytes } = decodeEventFile(writer.path);
    assert.equal(tornBytes, 0);
    assert.deepEqual(events, [{ wall_time: 1_700_000_000.5, file_version: FILE_VERSION }]);
    // A second writer in the same second does not clobber the first file.
    const second = new EventFileWriter(dir, { now: () => 1_700_000_000_900, hostname: 'box' });
    second.close();
    assert.equal(path.basename(second.path), `events.out.tfevents.1700000000.box.${process.pid}`);
  });

  it('writes scalars, histograms and images that decode to what was written', () => {
    const dir = tmp();
    let clock = 1_000_000;
    const writer = new EventFileWriter(dir, { now: () => (clock += 250) });
    writer.addScalar('epoch/loss', 0.5, 1);
    writer.addScalars({ 'epoch/loss': 0.25, 'epoch/accuracy': 0.75 }, 2);
    writer.addHistogram('weights/dense/kernel', { min: -1, max: 2, num: 4, sum: 2, sum_squares: 6, bucket_limit: [0, 1, 2], bucket: [1, 2, 1] }, 3);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    writer.addImage('images/grid', png, { height: 2, width: 3 }, 4);
    writer.close();
    const { events } = decodeEventFile(writer.path);
    assert.equal(events.length, 5);
    assert.deepEqual(events.map((e) => e.wall_time), [1000.25, 1000.5, 1000.75, 1001, 1001.25]);
    assert.deepEqual(Object.fromEntries(scalarsOf(events)), { 'epoch/loss': [[1, 0.5], [2, 0.25]], 'epoch/accuracy': [[2, 0.75]] });
    assert.deepEqual(events[3].summary!.value[0], {
      tag: 'weights/dense/kernel', histo: { min: -1, max: 2, num: 4, sum: 2, sum_squares: 6, bucket_limit: [0, 1, 2], bucket: [1, 2, 1] },
    });
    const image = events[4].summary!.value[0].image!;
    assert.deepEqual({ ...image, encoded_image_string: Buffer.from(image.encoded_image_string) },
      { height: 2, width: 3, colorspace: 3, encoded_image_string: png });
    assert.equal(events[4].step, 4);
  });

  it('uses the documented field numbers and wire types (checked on the raw bytes)', () => {
    const dir = tmp();
    const writer = new EventFileWriter(dir);
    writer.addScalar('x', 1.5, 7);
    writer.close();
    const [versionRecord, scalarRecord] = readTfRecords(fs.readFileSync(writer.path)).records;
    const fields = (bytes: Uint8Array) => {
      const reader = protobuf.Reader.create(bytes);
      const out: [number, number, unknown][] = [];
      while (reader.pos < reader.len) {
        const tag = reader.uint32();
        const [field, wire] = [tag >>> 3, tag & 7];
        // int64() is a Long (or a plain number without the long package): its decimal string fits both.
        const value = wire === 0 ? Number(String(reader.int64())) : wire === 1 ? reader.double() : wire === 5 ? reader.float() : reader.bytes();
        out.push([field, wire, value]);
      }
      return out;
    };
    // Event: wall_time = 1 (double), file_version = 3 (string) | step = 2 (varint), summary = 5 (message).
    assert.deepEqual(fields(versionRecord).map(([f, w]) => [f, w]), [[1, 1], [3, 2]]);
    assert.equal(Buffer.from(fields(versionRecord)[1][2] as Uint8Array).toString(), 'brain.Event:2');
    const event = fields(scalarRecord);
    assert.deepEqual(event.map(([f, w]) => [f, w]), [[1, 1], [2, 0], [5, 2]]);
    assert.equal(event[1][2], 7);
    // Summary: value = 1 (message); Summary.Value: tag = 1 (string), simple_value = 2 (float).
    const summary = fields(event[2][2] as Uint8Array);
    assert.deepEqual(summary.map(([f, w]) => [f, w]), [[1, 2]]);
    const value = fields(summary[0][2] as Uint8Array);
    assert.deepEqual(value.map(([f, w, v]) => [f, w, f === 1 ? Buffer.from(v as Uint8Array).toString() : v]), [[1, 2, 'x'], [2, 5, 1.5]]);
  });

  it('buffers records, appends them on the flush timer, and never rewrites earlier bytes', async () => {
    const dir = tmp();
    const writer = new EventFileWriter(dir, { flushSeconds: 0.05 });
    const header = fs.readFileSync(writer.path);
    writer.addScalar('a', 1, 1);
    assert.equal(fs.statSync(writer.path).size, header.length, 'buffered, not yet written');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const afterTimer = fs.readFileSync(writer.path);
    assert.ok(afterTimer.length > header.length, 'the timer flushed');
    assert.deepEqual(afterTimer.subarray(0, header.length), header);
    writer.addScalar('a', 2, 2);
    writer.flush();
    const afterFlush = fs.readFileSync(writer.path);
    assert.deepEqual(afterFlush.subarray(0, afterTimer.length), afterTimer);
    writer.close();
    writer.addScalar('a', 3, 3);
    writer.flush();
    assert.deepEqual(scalarsOf(decodeEventFile(writer.path).events).get('a'), [[1, 1], [2, 2]], 'nothing after close');
  });

  it('a half-written last record (a crash mid-append) leaves every earlier record readable', () => {
    const dir = tmp();
    const writer = new EventFileWriter(dir);
    for (let step = 1; step <= 3; step++) writer.addScalar('loss', 1 / step, step);
    writer.close();
    const size = fs.statSync(writer.path).size;
    fs.truncateSync(writer.path, size - 5);
    const { events, tornBytes } = decodeEventFile(writer.path);
    assert.ok(tornBytes > 0 && tornBytes < size - 5, `torn tail of ${tornBytes} bytes`);
    assert.deepEqual(scalarsOf(events).get('loss')!.map(([s]) => s), [1, 2]);
  });

  it('a failing write is reported once and never throws', () => {
    const dir = tmp();
    const errors: Error[] = [];
    const writer = new EventFileWriter(dir, { onError: (e) => errors.push(e) });
    fs.rmSync(dir, { recursive: true });
    fs.writeFileSync(dir, 'now a file, so appending inside it fails');
    writer.addScalar('a', 1, 1);
    writer.flush();
    writer.addScalar('a', 2, 2);
    writer.close();
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /ENOTDIR|ENOENT/);
  });
});
