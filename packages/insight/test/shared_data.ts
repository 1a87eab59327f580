// The shared development data (../shared/data beside the repository checkout; see its README), or
// $INSIGHT_SHARED_DATA. CI lays a copy of shared/ beside its clone, so tests never use absolute paths.
import * as path from 'node:path';

export const SHARED_DATA = process.env.INSIGHT_SHARED_DATA ?? path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'data');
/** CIFAR-10 training split in the official binary layout (no test_batch.bin). */
export const CIFAR_ARCHIVE = path.join(SHARED_DATA, 'cifar-10-binary-train.tar.gz');
/** 50 JPEGs per CIFAR-10 class in `<class>/<file>.jpg` folders. */
export const JPG_MINI = path.join(SHARED_DATA, 'cifar10-jpg-mini');
