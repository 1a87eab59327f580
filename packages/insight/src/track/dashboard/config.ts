// The one typed config of `insight dashboard`, validated once at the edge like every command's.
import { validateConfig, type Schema } from '../../run/config_schema';

export interface DashboardConfig {
  runsDir: string;
  port: number;
  host: string;
}

export const DASHBOARD_SCHEMA: Schema = {
  runsDir: { type: 'string', default: 'runs', placeholder: '<dir>', help: 'Directory of run directories (as given to insight train --runs-dir).' },
  port: { type: 'int', default: 6006, min: 0, max: 65535, placeholder: '<port>', help: 'TCP port to serve on (0 = any free port).' },
  host: { type: 'string', default: '127.0.0.1', placeholder: '<host>',
    help: 'Address to listen on: 127.0.0.1 keeps the dashboard on this machine; 0.0.0.0 exposes it to the network.' },
};

/** Validates a (partial) dashboard config and fills in the defaults (INSIGHT_E_CONFIG on a bad value). */
export function resolveDashboardConfig(input: unknown = {}): DashboardConfig {
  return validateConfig<DashboardConfig>(DASHBOARD_SCHEMA, input, 'dashboard config');
}
