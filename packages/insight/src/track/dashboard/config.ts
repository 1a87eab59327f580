// The one typed config of `insight dashboard`, validated once at the edge like every command's.
import { Type, type Static } from '@sinclair/typebox';

import { FIELDS } from '../../run/config_fields';
import { Nullable, Text, validateConfig, withOptions } from '../../run/config_schema';

export const DASHBOARD_SCHEMA = Type.Object({
  runsDir: withOptions(FIELDS.runsDir, { help: 'Directory of run directories (as given to insight train --runs-dir).' }),
  port: withOptions(FIELDS.port, { default: 6006, help: 'TCP port to serve on (0 = any free port).' }),
  host: withOptions(FIELDS.host, { placeholder: '<host>',
    help: 'Address to listen on: 127.0.0.1 keeps the dashboard on this machine; 0.0.0.0 exposes it to the network.' }),
  storage: Nullable(Text(), { placeholder: '<url>',
    help: 'The hyperparameter studies to show (as given to insight tune --storage): sqlite:<file> or postgres://... Default: <runs dir>/tune.db when it exists.' }),
  keysFile: Nullable(Text(), { placeholder: '<file>',
    help: 'Dashboard keys, one per line (# comments); also env INSIGHT_DASHBOARD_KEYS (comma-separated). Required beyond loopback; with keys every request needs one.' }),
});

export type DashboardConfig = Static<typeof DASHBOARD_SCHEMA>;

/** Validates a (partial) dashboard config and fills in the defaults (INSIGHT_E_CONFIG on a bad value). */
export function resolveDashboardConfig(input: unknown = {}): DashboardConfig {
  return validateConfig(DASHBOARD_SCHEMA, input, 'dashboard config');
}
