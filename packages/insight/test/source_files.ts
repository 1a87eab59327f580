// The package's source tree, for tests that read the code itself (architecture.test.ts, run/layout_once.test.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** packages/insight/src. */
export const SRC = path.join(__dirname, '..', 'src');

/** Every file under `dir` (recursively) whose name matches `name`, e.g. /\.ts$/. */
export function sourceFiles(dir: string, name: RegExp): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full, name);
    return name.test(entry.name) ? [full] : [];
  });
}
