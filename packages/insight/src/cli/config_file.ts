// `--config <file>`: a JSON or YAML object of config keys (camelCase, or kebab-case as the flags spell them).
// Flags given on the command line override the file's values; the merged object is validated once by the
// command's schema.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ruleError } from '../errors';
import { checkKnownKeys, type ConfigSchema } from '../run/config_schema';

/** 'batch-size' → 'batchSize'. */
export function camelKey(key: string): string {
  return key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Reads and parses a config file (.json as JSON; .yaml, .yml and anything else as YAML, which includes JSON) and
 * checks its keys against `schema`, naming the file in the error. The YAML parser loads only when a file is read.
 */
export async function readConfigFile(file: string, schema: ConfigSchema): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw ruleError('INSIGHT_E_CONFIG_FILE', 'The --config file must exist and be readable.', { config: file, error: (error as Error).message },
      'Check the path, e.g. --config train.yaml.');
  }
  const ext = path.extname(file).toLowerCase();
  let parsed: unknown;
  try {
    parsed = ext === '.json' ? JSON.parse(text) : (await import('yaml')).parse(text);
  } catch (error) {
    throw ruleError('INSIGHT_E_CONFIG_FILE', `The --config file must be valid ${ext === '.json' ? 'JSON' : 'YAML or JSON'}.`,
      { config: file, error: (error as Error).message.split('\n')[0] }, 'Fix the syntax at the position given.');
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw ruleError('INSIGHT_E_CONFIG_FILE', 'The --config file must hold an object of key: value pairs.', { config: file, type: Array.isArray(parsed) ? 'array' : typeof parsed },
      'Write e.g. `epochs: 10` lines (YAML) or {"epochs": 10} (JSON).');
  }
  const config = Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [camelKey(k), v]));
  checkKnownKeys(schema, config, `config file (${file})`);
  return config;
}
