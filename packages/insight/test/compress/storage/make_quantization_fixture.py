# Reference values for tfjs weight quantization (test/compress/storage/quantization.test.ts): tfjs-converter's
# quantize_weights (python/tensorflowjs/quantization.py, uint8 with the nudged zero point) and numpy's float16 cast,
# reimplemented here with numpy (tensorflowjs is not installed). Run: python3 make_quantization_fixture.py
import json
import numpy as np

rng = np.random.default_rng(13)
weights = {
    'mixed': np.concatenate([rng.normal(0, 0.2, 200), np.zeros(40), [0.5, -0.7]]).astype(np.float32),
    'positive': rng.uniform(0.25, 3.0, 64).astype(np.float32),
    'negative': rng.uniform(-2.0, -0.5, 33).astype(np.float32),
    'constant': np.full(7, 0.3, np.float32),
}


def quantize_uint8(data):
    min_val = data.min().astype(np.float64)
    max_val = data.max().astype(np.float64)
    if min_val == max_val:
        return np.zeros_like(data, dtype=np.uint8), float(min_val), 1.0
    scale = (max_val - min_val) / 255
    if min_val <= 0 <= max_val:
        nudged_min = -np.round((0 - min_val) / scale) * scale
        nudged_max = 255 * scale + nudged_min
    else:
        nudged_min, nudged_max = min_val, max_val
    q = np.round((data.clip(nudged_min, nudged_max) - nudged_min) / scale).astype(np.uint8)
    return q, float(nudged_min), float(scale)


out = {'uint8': {}, 'float16': {}}
for name, data in weights.items():
    q, min_val, scale = quantize_uint8(data)
    out['uint8'][name] = {'values': [float(v) for v in data], 'bytes': [int(b) for b in q], 'min': min_val, 'scale': scale}
# float16: round to nearest even, subnormals, overflow, halfway cases.
special = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 65520.0, 1e6, -1e6, 6.1e-5, 5.96e-8, 2.98e-8, 3e-8, 1e-9,
                    1.0009765625, 1.00048828125, 1.00146484375, 0.1, -0.3333333, 2049.0, 2051.0], np.float32)
values = np.concatenate([special, rng.normal(0, 1, 200).astype(np.float32)])
out['float16'] = {'values': [float(v) for v in values], 'bits': [int(b) for b in values.astype(np.float16).view(np.uint16)]}
with open('quantization_fixture.json', 'w') as f:
    json.dump(out, f)
