// A streaming pre-check of JSON bodies: counts the numbers outside strings as the bytes arrive, and fails the
// stream as soon as there are more than any valid request can carry (--max-instances × the largest model input,
// plus slack for shapes and parameters), so a 16 MB array of numbers is refused after its first few kilobytes
// instead of being buffered and JSON.parse'd in full on the event loop. Strings (base64 images) are skipped with
// indexOf, so large valid {"b64": ...} bodies cost almost nothing here.
import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** 0-9, '-' start a JSON number; these bytes continue one. */
function startsNumber(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || b === 0x2d;
}
function continuesNumber(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || b === 0x2e || b === 0x65 || b === 0x45 || b === 0x2b || b === 0x2d;
}

/** Counts JSON numbers across chunks. `add` returns the running count. */
export class JsonNumberCounter {
  count = 0;
  private inString = false;
  private escaped = false;
  private inNumber = false;

  add(chunk: Buffer): number {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        const quote = chunk.indexOf(QUOTE, i);
        const slash = chunk.indexOf(BACKSLASH, i);
        if (slash >= 0 && (quote < 0 || slash < quote)) {
          this.escaped = true;
          i = slash + 1;
        } else if (quote >= 0) {
          this.inString = false;
          i = quote + 1;
        } else {
          i = n;
        }
        continue;
      }
      const b = chunk[i++];
      if (b === QUOTE) {
        this.inString = true;
        this.inNumber = false;
      } else if (this.inNumber) {
        this.inNumber = continuesNumber(b);
      } else if (startsNumber(b)) {
        this.inNumber = true;
        this.count++;
      }
    }
    return this.count;
  }
}

/** A pass-through stream that fails with `tooMany(count)` once the body holds more than `limit` numbers. */
export function jsonNumberBudget(limit: number, tooMany: (count: number) => Error): Transform {
  const counter = new JsonNumberCounter();
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      if (counter.add(chunk) > limit) callback(tooMany(counter.count));
      else callback(null, chunk);
    },
  });
}
