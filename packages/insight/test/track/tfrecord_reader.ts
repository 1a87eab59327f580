// An independent TFRecord reader for tests: its CRC-32C is the slow bitwise definition (not the writer's table),
// and it checks both CRCs of every record. Decoding the records is left to the caller (protobufjs).
import * as fs from 'node:fs';

/** CRC-32C, bit by bit, straight from the definition (reflected polynomial 0x82F63B78). */
export function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masking of a CRC, from the format's documentation. */
export function masked(crc: number): number {
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  return (rotated + 0xa282ead8) >>> 0;
}

export interface TfRecordFile {
  records: Buffer[];
  /** Bytes after the last complete record (a record cut short by a crash). */
  tornBytes: number;
}

/** Reads every record of `bytes`, throwing on a CRC mismatch (with the record's offset). */
export function readTfRecords(bytes: Buffer): TfRecordFile {
  const records: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 12) break;
    const lengthBytes = bytes.subarray(offset, offset + 8);
    const length = Number(lengthBytes.readBigUInt64LE(0));
    if (bytes.readUInt32LE(offset + 8) !== masked(crc32cBitwise(lengthBytes))) throw new Error(`length CRC mismatch at byte ${offset}`);
    if (bytes.length - offset < 12 + length + 4) break;
    const data = bytes.subarray(offset + 12, offset + 12 + length);
    if (bytes.readUInt32LE(offset + 12 + length) !== masked(crc32cBitwise(data))) throw new Error(`data CRC mismatch at byte ${offset}`);
    records.push(Buffer.from(data));
    offset += 12 + length + 4;
  }
  return { records, tornBytes: bytes.length - offset };
}

export function readTfRecordFile(file: string): TfRecordFile {
  return readTfRecords(fs.readFileSync(file));
}
