// Preloaded with `node --require` by startup.test.ts: when the process exits, writes the file of every module it
// loaded through require (the CLI is CommonJS, compiled or through tsx) as a JSON array to $LOADED_MODULES_FILE.
'use strict';
const fs = require('node:fs');
const Module = require('node:module');

const loaded = new Set();
const load = Module._load;
Module._load = function recordingLoad(request, parent, isMain) {
  try {
    loaded.add(Module._resolveFilename(request, parent, isMain));
  } catch {
    loaded.add(request); // builtins and unresolvable requests: record the name; load() reports real failures
  }
  return load.apply(this, arguments);
};
process.on('exit', () => {
  for (const file of Object.keys(require.cache)) loaded.add(file);
  fs.writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify([...loaded].sort()));
});
