// Where keys come from: environment variables (comma-separated) and key files (one key per line, `#`
// comments and blank lines ignored). Errors name the file and line, never the key.
import * as fs from 'node:fs';

import { ruleError } from '../../errors';

export const API_KEYS_ENV = 'INSIGHT_API_KEYS';
export const ADMIN_KEYS_ENV = 'INSIGHT_ADMIN_KEYS';
/** Shorter keys are guessable; 16 characters of a random token is the least we accept. */
export const MIN_KEY_LENGTH = 16;

export interface KeySources {
  inference: string[];
  admin: string[];
  /** Human-readable notes for the startup log (e.g. a key file readable by other users). */
  warnings: string[];
}

/** Keys from env (API_KEYS_ENV, ADMIN_KEYS_ENV) and the optional files, checked for length. */
export function readKeySources(files: { apiKeysFile: string | null; adminKeysFile: string | null },
  env: NodeJS.ProcessEnv = process.env): KeySources {
  const warnings: string[] = [];
  const inference = [...fromEnv(API_KEYS_ENV, env), ...(files.apiKeysFile ? fromFile(files.apiKeysFile, '--api-keys-file', warnings) : [])];
  const admin = [...fromEnv(ADMIN_KEYS_ENV, env), ...(files.adminKeysFile ? fromFile(files.adminKeysFile, '--admin-keys-file', warnings) : [])];
  return { inference, admin, warnings };
}

function fromEnv(name: string, env: NodeJS.ProcessEnv): string[] {
  const keys = (env[name] ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '');
  keys.forEach((key, i) => checkLength(key, { env: name, position: i + 1 }));
  return keys;
}

function fromFile(file: string, flag: string, warnings: string[]): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
    if ((fs.statSync(file).mode & 0o077) !== 0) warnings.push(`${flag} ${file} is readable by other users; chmod 600 it.`);
  } catch (error) {
    throw ruleError('INSIGHT_E_CONFIG_FILE', `The ${flag} file must exist and be readable.`, { [flag.slice(2)]: file, error: (error as NodeJS.ErrnoException).code ?? (error as Error).message },
      'Check the path and permissions.');
  }
  const keys: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const key = raw.trim();
    if (key === '' || key.startsWith('#')) return;
    checkLength(key, { file, line: i + 1 });
    keys.push(key);
  });
  if (keys.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', `The ${flag} file must contain at least one key.`, { [flag.slice(2)]: file, keys: 0 },
      'Write one key per line, e.g. the output of `openssl rand -hex 24`.');
  }
  return keys;
}

function checkLength(key: string, where: Record<string, unknown>): void {
  if (key.length < MIN_KEY_LENGTH || /\s|,/.test(key)) {
    throw ruleError('INSIGHT_E_CONFIG', `API keys must be at least ${MIN_KEY_LENGTH} characters without spaces or commas.`,
      { ...where, length: key.length }, 'Generate keys with e.g. `openssl rand -hex 24`.');
  }
}
