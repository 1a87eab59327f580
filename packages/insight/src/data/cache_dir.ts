// Where Insight keeps downloaded and extracted datasets: $INSIGHT_HOME/datasets, default ~/.insight/datasets.
import * as os from 'node:os';
import * as path from 'node:path';

/** The datasets cache folder (not created here). */
export function datasetsCacheDir(): string {
  const home = process.env.INSIGHT_HOME || path.join(os.homedir(), '.insight');
  return path.join(home, 'datasets');
}
