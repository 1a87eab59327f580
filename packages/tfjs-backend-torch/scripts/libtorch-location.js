'use strict';
// Where libtorch lives: $LIBTORCH (the official C++ distribution, or any prefix with include/ and lib/),
// else the system copy from Debian/Ubuntu's libtorch-dev.
const fs = require('node:fs');
const path = require('node:path');

const HOW_TO_GET_LIBTORCH =
  'To get libtorch: on Debian 12 / Ubuntu run `apt-get install libtorch-dev`, or unpack the official libtorch ' +
  'C++ distribution and set LIBTORCH=/path/to/libtorch, then run `npm rebuild @insight/tfjs-backend-torch`.';

function findLibtorch() {
  const prefix = process.env.LIBTORCH;
  if (prefix) {
    const inc = path.join(prefix, 'include');
    const lib = path.join(prefix, 'lib');
    if (fs.existsSync(path.join(inc, 'ATen', 'ATen.h')) && fs.existsSync(lib)) {
      return { description: `LIBTORCH=${prefix}`, include: [inc, path.join(inc, 'torch', 'csrc', 'api', 'include')], lib };
    }
    return null;
  }
  const multiarch = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'];
  const lib = multiarch.find((d) => fs.existsSync(path.join(d, 'libtorch_cpu.so')));
  if (lib && fs.existsSync('/usr/include/ATen/ATen.h')) {
    return { description: `the system (${lib})`, include: ['/usr/include', '/usr/include/torch/csrc/api/include'], lib };
  }
  return null;
}

module.exports = { findLibtorch, HOW_TO_GET_LIBTORCH };
