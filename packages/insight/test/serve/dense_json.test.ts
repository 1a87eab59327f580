// The dense JSON parser of the inference routes: every number is the double JSON.parse gives (bit for bit), big
// rectangular numeric lists come back packed with their shape, small ones and everything else as JSON.parse builds
// them, and whatever it does not take on is left to the plain parser (NOT_DENSE); through the server, a packed body and
// the same body sent down the plain path get the same answers and the same error messages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { DenseList, NOT_DENSE, PACK_MIN, parseDenseJson } from '../../src/serve/inputs/dense_json';
import type { ServeInstance } from '../../src/serve/start';
import { SIZE, instance, saveVersion, tempRepository, testServer } from './helpers';

/** JSON.parse's value with every DenseList of `value` unpacked, for deep comparison. */
function unpack(value: unknown): unknown {
  if (value instanceof DenseList) return value.toNested();
  if (Array.isArray(value)) return value.map(unpack);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unpack(v)]));
  return value;
}

const parse = (text: string) => parseDenseJson(Buffer.from(text, 'utf8'));

/** Number tokens of every form JSON allows, from a seeded generator. */
function numberTokens(count: number): string[] {
  let state = 12345;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  const digits = (n: number, first = false) => Array.from({ length: n }, (_, i) => String(i === 0 && first ? 1 + next(9) : next(10))).join('');
  const fixed = ['0', '-0', '0.0', '-0.0', '1e400', '-1e400', '5e-324', '2.2250738585072014e-308', '9007199254740993', '0.1', '0.30000000000000004',
    '1E22', '1e23', '123456789012345678901234567890', '0.000000000000000000000000001', '1.7976931348623157e308', '4.9e-324', '1e-400'];
  const out = [...fixed];
  while (out.length < count) {
    let token = next(4) === 0 ? '-' : '';
    token += next(5) === 0 ? '0' : digits(1 + next(17), true);
    if (next(3) > 0) token += `.${digits(1 + next(18))}`;
    if (next(4) === 0) token += `${next(2) ? 'e' : 'E'}${['', '+', '-'][next(3)]}${digits(1 + next(3))}`;
    out.push(token);
  }
  return out;
}

describe('parseDenseJson', () => {
  it('reads every number as the same double as JSON.parse, packed or not', () => {
    const tokens = numberTokens(20_000);
    const packed = parse(`[${tokens.join(',')}]`);
    assert.ok(packed instanceof DenseList);
    assert.deepEqual(packed.shape, [tokens.length]);
    tokens.forEach((token, i) => {
      const expected = JSON.parse(token) as number;
      assert.ok(Object.is(packed.values[i], expected), `${token}: ${packed.values[i]} vs ${expected}`);
      assert.ok(Object.is(parse(token), expected), `${token} alone`);
    });
  });

  it('packs rectangular numeric lists of PACK_MIN numbers or more with their shape, and leaves small ones plain', () => {
    const image = instance(3);
    const body = { instances: [image, instance(4)], signature_name: 'logits', shape: [2, SIZE, SIZE, 3], small: [[1, 2], [3, 4]], none: [] };
    const value = parse(JSON.stringify(body)) as Record<string, unknown>;
    assert.ok(value.instances instanceof DenseList);
    assert.deepEqual(value.instances.shape, [2, SIZE, SIZE, 3]);
    assert.deepEqual(value.shape, [2, SIZE, SIZE, 3]);
    assert.deepEqual(value.small, [[1, 2], [3, 4]]);
    assert.deepEqual(unpack(value), JSON.parse(JSON.stringify(body)));
    const first = (value.instances as DenseList).item(0) as DenseList;
    assert.deepEqual(first.shape, [SIZE, SIZE, 3]);
    assert.deepEqual(first.toNested(), image);
    assert.equal(JSON.stringify(first), JSON.stringify(image), 'toJSON reads as the list it was sent as');
    assert.ok(!(parse(`[${Array(PACK_MIN - 1).fill(1).join(',')}]`) instanceof DenseList));
    assert.ok(parse(`[${Array(PACK_MIN).fill(1).join(',')}]`) instanceof DenseList);
  });

  it('gives JSON.parse\'s values for objects, strings, literals and lists of other things', () => {
    const text = ' {"a": {"b": [true, false, null, "x", {"c": "ünïcode ✓"}]}, "d": ["s", ["t"]], "e": -1.5e-3, "a2": 1, "a2": 2 } ';
    assert.deepEqual(unpack(parse(text)), JSON.parse(text));
  });

  it('leaves to the plain parser what it does not take on', () => {
    const ragged = `[[${Array(40).fill(1).join(',')}],[${Array(41).fill(1).join(',')}]]`;
    const mixed = `[[${Array(70).fill(1).join(',')}], 2]`;
    for (const text of ['', '{"a": "x\\ny"}', '{"__proto__": {}}', '{"constructor": {"prototype": {}}}', '[1, 2,]', '{"a": 01}',
      '{"a": "tab\there"}', ragged, mixed, '[[1], []]', '[1 2]', '{"a" 1}', '[["s"]]', 'nul', '[1.]', '[-]', '[1e]', '{"a": 1} x',
      `${'['.repeat(200)}1${']'.repeat(200)}`]) {
      assert.equal(parse(text), NOT_DENSE, JSON.stringify(text.slice(0, 40)));
    }
  });
});

describe('dense bodies through the server', () => {
  let server: ServeInstance;
  before(async () => {
    const root = tempRepository();
    await saveVersion(root, 'tiny', 1);
    server = await testServer(root);
  });
  after(() => server.close());

  // The same request, packed (plain JSON) or sent down JSON.parse (an escaped "\u0073" in signature_name makes the
  // dense parser step aside).
  const denseText = (body: object) => JSON.stringify(body);
  const plainText = (body: object) => JSON.stringify({ ...body, signature_name: 'PLAIN' }).replace('"PLAIN"', '"\\u0073erving_default"');
  const post = (url: string, payload: string) => server.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });

  it(':predict and v2 infer answer the same for a packed and a plain body', async () => {
    const predict = { instances: [instance(1), instance(2)] };
    const a = await post('/v1/models/tiny:predict', denseText(predict));
    const b = await post('/v1/models/tiny:predict', plainText(predict));
    assert.equal(a.statusCode, 200, a.body);
    assert.equal(b.statusCode, 200, b.body);
    assert.deepEqual(a.json(), b.json());
    const flat = instance(5).flat(2);
    const v2 = (id: string) => ({ id, inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP32', data: flat }] });
    const c = await post('/v2/models/tiny/infer', denseText(v2('a')));
    const d = await post('/v2/models/tiny/infer', JSON.stringify(v2('PLAIN')).replace('"PLAIN"', '"\\u0061"'));
    assert.equal(c.statusCode, 200, c.body);
    assert.deepEqual(c.json(), d.json());
  });

  it('bad values and shapes get the same messages either way', async () => {
    const infinite = instance(1);
    infinite[SIZE - 1][2][1] = Infinity; // JSON.stringify writes null: replaced by 1e400 below
    const short = instance(1).slice(1);
    for (const body of [{ instances: [instance(1), infinite] }, { instances: [short] }, { instances: [instance(1).map((row) => row.map((p) => p.slice(0, 2)))] }]) {
      const text = JSON.stringify(body).replace('null', '1e400');
      const a = await post('/v1/models/tiny:predict', text);
      const b = await post('/v1/models/tiny:predict', plainText(JSON.parse(text.replace('1e400', '"INF"')) as object).replace('"INF"', '1e400'));
      assert.equal(a.statusCode, 400, a.body);
      assert.deepEqual(a.json(), b.json());
    }
    const infiniteAnswer = (await post('/v1/models/tiny:predict', JSON.stringify({ instances: [instance(1), infinite] }).replace('null', '1e400'))).json();
    assert.match(infiniteAnswer.error, new RegExp(`instances\\[1\\]\\[${SIZE - 1}\\]\\[2\\]\\[1\\]=Infinity`));
    // A body that is a big numeric list (packed) is refused as the same list of strings (never packed) is.
    for (const url of ['/v1/models/tiny:predict', '/v2/models/tiny/infer']) {
      const packed = await post(url, JSON.stringify(Array(PACK_MIN).fill(1)));
      const plain = await post(url, JSON.stringify(Array(PACK_MIN).fill('1')));
      assert.equal(packed.statusCode, 400, packed.body);
      assert.deepEqual(packed.json(), plain.json());
      assert.match(packed.json().error, new RegExp(`must be a JSON object\\. Received: .*="array\\(${PACK_MIN}\\)"`));
    }
    const pixels = { inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'UINT8', data: Array.from({ length: SIZE * SIZE * 3 }, (_, i) => (i === 100 ? 256 : i % 256)) }] };
    const e = await post('/v2/models/tiny/infer', JSON.stringify(pixels));
    assert.equal(e.statusCode, 400);
    assert.match(e.json().error, /inputs\[0\]\.data\[100\]=256/);
  });
});
