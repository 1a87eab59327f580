// The JSON parser of the inference routes (TF Serving :predict, KServe v2 infer), whose bodies are mostly one big
// nested list of numbers. It reads the bytes once and writes every rectangular nested list of at least PACK_MIN
// numbers straight into a Float64Array (a DenseList: shape + row-major values), so a 32x32x3 image costs one typed
// array instead of 1,057 JS arrays and 3,072 heap numbers for JSON.parse to build and the validator to walk. Every
// other value is what JSON.parse gives, and so is every number (the same double: Clinger's exact fast path, else
// Number() on the token). Anything this parser does not take on (escapes in strings, control characters, "__proto__"
// or "constructor" keys, ragged or mixed lists, deep nesting, any syntax error) is NOT_DENSE: the caller parses the
// body with the plain parser (http/json_parser.ts), which gives the usual values and errors.
//   parseDenseJson(Buffer.from('{"instances": [[[0.5, ...], ...]]}'))  → { instances: DenseList(shape [1, 32, 32, 3]) }

/** Numeric lists smaller than this stay plain arrays (shapes, class indices): only big tensors are packed. */
export const PACK_MIN = 64;
/** Deeper nesting goes to the plain parser (no recursion limit to reach here). */
const MAX_DEPTH = 64;

/** A rectangular nested list of numbers, as JSON.parse would have built it, held as shape + row-major values. */
export class DenseList {
  constructor(readonly shape: readonly number[], readonly values: Float64Array) {}

  /** Entries of the outermost list. */
  get length(): number {
    return this.shape[0];
  }

  /** Entry i of the outermost list: a number (rank 1) or a view of the rest (no copy). */
  item(i: number): number | DenseList {
    if (this.shape.length === 1) return this.values[i];
    const size = this.values.length / this.shape[0];
    return new DenseList(this.shape.slice(1), this.values.subarray(i * size, (i + 1) * size));
  }

  /** The entries of the outermost list, as an array. */
  items(): (number | DenseList)[] {
    return Array.from({ length: this.length }, (_, i) => this.item(i));
  }

  /** The nested arrays JSON.parse would have returned. */
  toNested(): unknown[] {
    return this.items().map((x) => (typeof x === 'number' ? x : x.toNested()));
  }

  /** Echoed in an error or logged, it reads as the list it was sent as. */
  toJSON(): unknown[] {
    return this.toNested();
  }
}

/** A DenseList as nested arrays; anything else as it is (for readers that do not take DenseLists). */
export function plainValue(value: unknown): unknown {
  return value instanceof DenseList ? value.toNested() : value;
}

/** What parseDenseJson returns for a body it leaves to the plain parser. */
export const NOT_DENSE = Symbol('not dense');
/** Thrown inside the parser: the body is NOT_DENSE. */
const FALLBACK = Symbol('fallback');

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Parses a request body as JSON (see the top of this file), or returns NOT_DENSE. */
export function parseDenseJson(bytes: Buffer): unknown {
  try {
    const parser = new DenseParser(bytes);
    const value = parser.value(0);
    parser.skipSpace();
    if (parser.at !== bytes.length) throw FALLBACK;
    return value;
  } catch (error) {
    if (error !== FALLBACK) throw error;
    return NOT_DENSE;
  }
}

class DenseParser {
  at = 0;
  /** Numbers of the nested list being read; grows by doubling and is reused for the next list. */
  private scratch = new Float64Array(4096);

  constructor(private readonly b: Buffer) {}

  skipSpace(): void {
    const b = this.b;
    let i = this.at;
    while (i < b.length) {
      const c = b[i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.at = i;
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw FALLBACK;
    this.skipSpace();
    const c = this.b[this.at];
    if (c === 0x7b) return this.object(depth);
    if (c === 0x5b) return this.array(depth);
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.literal('true')) return true;
    if (this.literal('false')) return false;
    if (this.literal('null')) return null;
    throw FALLBACK;
  }

  private literal(word: string): boolean {
    if (this.b.toString('latin1', this.at, this.at + word.length) !== word) return false;
    this.at += word.length;
    return true;
  }

  private expect(byte: number): void {
    this.skipSpace();
    if (this.b[this.at] !== byte) throw FALLBACK;
    this.at++;
  }

  private object(depth: number): Record<string, unknown> {
    this.at++; // {
    const out: Record<string, unknown> = {};
    this.skipSpace();
    if (this.b[this.at] === 0x7d) {
      this.at++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.b[this.at] !== 0x22) throw FALLBACK;
      const key = this.string();
      // The plain parser refuses these with its own message.
      if (key === '__proto__' || key === 'constructor') throw FALLBACK;
      this.expect(0x3a); // :
      out[key] = this.value(depth + 1);
      this.skipSpace();
      const c = this.b[this.at++];
      if (c === 0x2c) continue; // ,
      if (c === 0x7d) return out; // }
      throw FALLBACK;
    }
  }

  /** A string without escapes or control characters (else: the plain parser). */
  private string(): string {
    const b = this.b;
    const start = ++this.at;
    let i = start;
    for (;;) {
      if (i >= b.length) throw FALLBACK;
      const c = b[i];
      if (c === 0x22) break;
      if (c === 0x5c || c < 0x20) throw FALLBACK;
      i++;
    }
    this.at = i + 1;
    return b.toString('utf8', start, i);
  }

  private array(depth: number): unknown[] | DenseList {
    this.at++; // [
    this.skipSpace();
    const c = this.b[this.at];
    if (c === 0x5d) {
      this.at++;
      return [];
    }
    if (c === 0x5b || c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.at--;
      return this.numericList(depth);
    }
    const out: unknown[] = [];
    for (;;) {
      out.push(this.value(depth + 1));
      this.skipSpace();
      const next = this.b[this.at++];
      if (next === 0x2c) continue;
      if (next === 0x5d) return out;
      throw FALLBACK;
    }
  }

  /** A rectangular nested list of numbers, at '[': packed when it holds PACK_MIN numbers or more. */
  private numericList(depth: number): unknown[] | DenseList {
    const b = this.b;
    const shape: number[] = [];
    const lengths: number[] = []; // entries so far in the open list of each level
    let rank = -1; // known at the first number
    let count = 0;
    let level = 0;
    let i = this.at + 1; // past the first '['
    lengths[0] = 0;
    for (;;) {
      while (isSpace(b[i])) i++;
      let c = b[i];
      if (c === 0x5b) { // a list opens one level down
        if ((rank >= 0 && level + 1 >= rank) || depth + level + 1 > MAX_DEPTH) throw FALLBACK;
        level++;
        lengths[level] = 0;
        i++;
        continue;
      }
      if (!(c === 0x2d || (c >= 0x30 && c <= 0x39))) throw FALLBACK; // an empty list, or something other than numbers
      if (rank < 0) rank = level + 1;
      else if (rank !== level + 1) throw FALLBACK;
      // The numbers of this innermost list, in a tight loop.
      for (;;) {
        if (count === this.scratch.length) this.grow();
        this.scratch[count++] = readNumber(b, i);
        i = numberEnd;
        lengths[level]++;
        while (isSpace(b[i])) i++;
        c = b[i++];
        if (c === 0x2c) {
          while (isSpace(b[i])) i++;
          continue;
        }
        if (c === 0x5d) break;
        throw FALLBACK;
      }
      // Close lists while they end here; each closed list counts as one entry of the level above.
      for (;;) {
        if (shape[level] === undefined) shape[level] = lengths[level];
        else if (shape[level] !== lengths[level]) throw FALLBACK;
        if (level === 0) {
          this.at = i;
          const list = new DenseList(shape, this.scratch.slice(0, count));
          return count >= PACK_MIN ? list : list.toNested();
        }
        level--;
        lengths[level]++;
        while (isSpace(b[i])) i++;
        c = b[i++];
        if (c === 0x2c) break; // the next entry of this level
        if (c !== 0x5d) throw FALLBACK;
      }
    }
  }

  private grow(): void {
    const bigger = new Float64Array(this.scratch.length * 2);
    bigger.set(this.scratch);
    this.scratch = bigger;
  }

  /** A JSON number token → the double JSON.parse gives for it. */
  private number(): number {
    const value = readNumber(this.b, this.at);
    this.at = numberEnd;
    return value;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Where the last readNumber call's token ended (a module variable: no object per number on the hot path). */
let numberEnd = 0;

/**
 * The JSON number token at b[start] → the double JSON.parse gives for it; sets numberEnd. Throws FALLBACK on a
 * malformed token.
 */
function readNumber(b: Buffer, start: number): number {
  let i = start;
  const negative = b[i] === 0x2d;
  if (negative) i++;
  let mantissa = 0;
  let exponent = 0;
  let c = b[i];
  if (c === 0x30) {
    c = b[++i];
    if (c >= 0x30 && c <= 0x39) throw FALLBACK; // a leading zero
  } else if (c >= 0x31 && c <= 0x39) {
    do {
      mantissa = mantissa * 10 + (c - 0x30);
      c = b[++i];
    } while (c >= 0x30 && c <= 0x39);
  } else {
    throw FALLBACK;
  }
  if (c === 0x2e) { // .
    c = b[++i];
    if (!(c >= 0x30 && c <= 0x39)) throw FALLBACK;
    do {
      mantissa = mantissa * 10 + (c - 0x30);
      exponent--;
      c = b[++i];
    } while (c >= 0x30 && c <= 0x39);
  }
  let exact = true;
  if (c === 0x65 || c === 0x45) { // e, E
    c = b[++i];
    const sign = c === 0x2d ? -1 : 1;
    if (c === 0x2d || c === 0x2b) c = b[++i];
    if (!(c >= 0x30 && c <= 0x39)) throw FALLBACK;
    let e = 0;
    do {
      if (e < 10000) e = e * 10 + (c - 0x30);
      else exact = false;
      c = b[++i];
    } while (c >= 0x30 && c <= 0x39);
    exponent += sign * e;
  }
  numberEnd = i;
  // Clinger: a mantissa below 2^53 (accumulated exactly: every step was smaller) and a power of ten up to 1e22 are
  // exact doubles, and one product or quotient of two exact doubles is correctly rounded, as the decimal's own value is.
  if (exact && mantissa < 9007199254740992 && exponent >= -22 && exponent <= 22) {
    const v = exponent < 0 ? mantissa / POW10[-exponent] : mantissa * POW10[exponent];
    return negative ? -v : v;
  }
  return Number(b.toString('latin1', start, i));
}
