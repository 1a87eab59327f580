// Specs of tfjs-core's suite not run against `torch`, each with the reason. Matching is by substring of the
// spec's full name, as in tfjs-node's run_tests.
export interface IgnoredSpec {
  spec: string;
  reason: string;
}

export const IGNORE_LIST: IgnoredSpec[] = [
  { spec: 'version version', reason: 'checks the version string of the tfjs-core build, not backend behaviour' },
];
