// The CIFAR-10 binary format (https://www.cs.toronto.edu/~kriz/cifar.html): each batch file is a sequence of
// 3,073-byte records, one label byte (0-9) followed by the 32x32 image as three planes (1,024 red, 1,024 green,
// 1,024 blue bytes, each row-major). Insight stores images interleaved (HWC), so decoding transposes each
// record once.

export const SIDE = 32;
export const PLANE = SIDE * SIDE; // 1,024
export const IMAGE_BYTES = 3 * PLANE; // 3,072
export const RECORD_BYTES = 1 + IMAGE_BYTES; // 3,073
export const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const TEST_FILE = 'test_batch.bin';
export const META_FILE = 'batches.meta.txt';
/** Every file of the official cifar-10-batches-bin folder. */
export const CIFAR10_FILES = [...TRAIN_FILES, TEST_FILE, META_FILE, 'readme.html'];

/** Class names from batches.meta.txt: one a line, blank lines ignored. */
export function parseClassNames(text: string): string[] {
  return text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
}

/** Index of the first record of `buf` whose label is >= classCount, or -1 when all are valid. */
export function findBadLabel(buf: Uint8Array, classCount: number): number {
  for (let r = 0, at = 0; at < buf.length; r++, at += RECORD_BYTES) if (buf[at] >= classCount) return r;
  return -1;
}

/**
 * Decodes every record of `buf` (length a multiple of RECORD_BYTES, labels already checked) into
 * images ([count, 32, 32, 3] uint8, HWC) and labels ([count] int32), starting at record `first`.
 * Moves 4 pixels per step as 32-bit words (3 loads, 3 stores instead of 12 and 12) on little-endian hosts;
 * decodeRecordsReference is the byte-by-byte definition it is tested against.
 */
export function decodeRecords(buf: Uint8Array, images: Uint8Array, labels: Int32Array, first: number): void {
  if (!LITTLE_ENDIAN || images.byteOffset % 4 !== 0) {
    decodeRecordsReference(buf, images, labels, first);
    return;
  }
  const records = buf.length / RECORD_BYTES;
  const planes = new Uint32Array(IMAGE_BYTES / 4); // one record's R, G, B planes, 4-byte aligned
  const planeBytes = new Uint8Array(planes.buffer);
  const out = new Uint32Array(images.buffer, images.byteOffset, images.length >> 2);
  const WORDS = PLANE / 4; // 256 words per plane
  for (let r = 0; r < records; r++) {
    const src = r * RECORD_BYTES;
    labels[first + r] = buf[src];
    planeBytes.set(buf.subarray(src + 1, src + RECORD_BYTES));
    let o = (first + r) * (IMAGE_BYTES / 4);
    for (let q = 0; q < WORDS; q++, o += 3) {
      // red = r3 r2 r1 r0 (byte 0 = pixel 4q), likewise green and blue; output bytes r0 g0 b0 r1 | g1 b1 r2 g2 | b2 r3 g3 b3
      const red = planes[q], green = planes[q + WORDS], blue = planes[q + 2 * WORDS];
      out[o] = (red & 0xff) | ((green & 0xff) << 8) | ((blue & 0xff) << 16) | ((red & 0xff00) << 16);
      out[o + 1] = ((green >>> 8) & 0xff) | (blue & 0xff00) | (red & 0xff0000) | ((green & 0xff0000) << 8);
      out[o + 2] = ((blue >>> 16) & 0xff) | ((red >>> 24) << 8) | ((green >>> 24) << 16) | (blue & 0xff000000);
    }
  }
}

/** The plain definition of decodeRecords: pixel p of the record gets (R[p], G[p], B[p]). */
export function decodeRecordsReference(buf: Uint8Array, images: Uint8Array, labels: Int32Array, first: number): void {
  const records = buf.length / RECORD_BYTES;
  for (let r = 0; r < records; r++) {
    const src = r * RECORD_BYTES;
    labels[first + r] = buf[src];
    const red = src + 1, green = red + PLANE, blue = green + PLANE;
    let o = (first + r) * IMAGE_BYTES;
    for (let p = 0; p < PLANE; p++, o += 3) {
      images[o] = buf[red + p];
      images[o + 1] = buf[green + p];
      images[o + 2] = buf[blue + p];
    }
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
