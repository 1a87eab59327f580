// The fix a stopped or failed launch gives: a new launch continues a run only when given it (train --resume
// <run dir>); the command fits the launch (one process, N on one node, several nodes), and is null for other commands.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { resumeHint } from '../../../src/process/launch/resume_hint';

describe('resumeHint', () => {
  it('names train --resume with the process count on one node, and launch -- train --resume', () => {
    assert.equal(resumeHint({ nnodes: 1, nprocPerNode: 4 }, ['train', '--epochs', '3']), 'resume its run from the last checkpoint with ' +
      '`insight train --resume <run dir> --nproc 4` or `insight launch <the same flags> -- train --resume <run dir>` (rank 0 named the run directory above)');
    assert.match(resumeHint({ nnodes: 1, nprocPerNode: 1 }, ['train'])!, /with `insight train --resume <run dir>` or /);
  });

  it('on several nodes: launch -- train --resume on every node, the run directory on node 0', () => {
    assert.equal(resumeHint({ nnodes: 2, nprocPerNode: 2 }, ['train', '--resume', 'runs/x']), 'resume its run from the last checkpoint with ' +
      '`insight launch <the same flags> -- train --resume <run dir>` on every node (rank 0 named the run directory above; it is on node 0)');
  });

  it('has nothing to say for a command that does not train', () => {
    assert.equal(resumeHint({ nnodes: 1, nprocPerNode: 2 }, ['evaluate', 'runs/x']), null);
    assert.equal(resumeHint({ nnodes: 1, nprocPerNode: 2 }, []), null);
  });
});
