// Typed arrays joined end to end (a loader's batches of labels or outputs, a weight file's parts): one allocation,
// one copy of each part.
export function concatArrays<T extends Int32Array | Float32Array | Uint8Array>(parts: T[], Ctor: new (length: number) => T): T {
  const out = new Ctor(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
