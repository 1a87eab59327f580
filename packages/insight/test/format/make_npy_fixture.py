# Writes npy_fixture.json: arrays saved by numpy (np.save, and write_array for a version 2.0 header) as base64 bytes,
# with their dtype, shape and values, for test/format/npy.test.ts. Run from this folder with /usr/bin/python3
# (numpy 1.24); the tests only read the JSON.
import base64
import io
import json

import numpy as np


def saved(array, version=None):
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array)
    else:
        np.lib.format.write_array(buffer, array, version=version)
    return base64.b64encode(buffer.getvalue()).decode('ascii')


rng = np.random.default_rng(12)
cases = [
    ('float32 2x3', rng.standard_normal((2, 3)).astype('<f4'), None),
    ('float32 4x5x6', rng.standard_normal((4, 5, 6)).astype('<f4'), None),
    ('float32 12345x0 (a 5-digit first axis)', np.zeros((12345, 0), dtype='<f4'), None),
    ('int32 vector', rng.integers(-2**31, 2**31 - 1, size=17, dtype='<i4'), None),
    ('int32 scalar', np.array(-7, dtype='<i4'), None),
    ('uint8 2x3x4', rng.integers(0, 256, size=(2, 3, 4), dtype='u1'), None),
    ('float32 empty', np.zeros((0,), dtype='<f4'), None),
    ('float32 version 2.0', np.arange(6, dtype='<f4').reshape(3, 2), (2, 0)),
]
out = {
    'numpy': np.__version__,
    'cases': [
        {'name': name, 'dtype': str(array.dtype), 'shape': list(array.shape), 'values': array.ravel().tolist(),
         'version': '1.0' if version is None else '%d.%d' % version, 'npy': saved(array, version)}
        for name, array, version in cases
    ],
    # Files our reader must refuse, each with the words its error names.
    'refused': [
        {'name': 'float64', 'npy': saved(np.zeros(3, dtype='<f8')), 'says': "descr=\"<f8\""},
        {'name': 'big-endian float32', 'npy': saved(np.zeros(3, dtype='>f4')), 'says': "descr=\">f4\""},
        {'name': 'Fortran order', 'npy': saved(np.asfortranarray(np.zeros((2, 3), dtype='<f4'))), 'says': 'fortran_order=true'},
    ],
}
with open('npy_fixture.json', 'w') as f:
    # One line per case, so a diff shows which case changed.
    f.write('{"numpy": %s,\n "cases": [\n  %s\n ],\n "refused": [\n  %s\n ]}\n' % (
        json.dumps(out['numpy']), ',\n  '.join(json.dumps(c) for c in out['cases']), ',\n  '.join(json.dumps(c) for c in out['refused'])))
