#!/usr/bin/env node
// Prints the preprocessor define that switches c10d Gloo collectives on in the addon (binding/distributed.cc):
// USE_C10D_GLOO when Gloo's headers sit beside libtorch's (Debian: libgloo-dev), else INSIGHT_WITHOUT_GLOO.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dirs = (process.env.INSIGHT_LIBTORCH_INCLUDE || '/usr/include /usr/include/torch/csrc/api/include').split(/\s+/).filter(Boolean);
const found = dirs.some((dir) => fs.existsSync(path.join(dir, 'gloo', 'config.h')));
process.stdout.write(found ? 'USE_C10D_GLOO' : 'INSIGHT_WITHOUT_GLOO');
