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
  const inference = readKeys({ envName: API_KEYS_ENV, file: files.apiKeysFile, flag: '--api-keys-file' }, env, warnings);
  const admin = readKeys({ envName: ADMIN_KEYS_ENV, file: files.adminKeysFile, flag: '--admin-keys-file' }, env, warnings);
  return { inference, admin, warnings };
}

/**
 * One set of keys: env `envName` (comma-separated), then `file` (passed as `flag`), each checked for length (errors
 * say `noun`, e.g. 'Dashboard keys'); notes for the startup log go to `warnings`. Shared with the dashboard's keys.
 */
export function readKeys(source: { envName: string; file: string | null; flag: string; noun?: string }, env: NodeJS.ProcessEnv = process.env,
  warnings: string[] = []): string[] {
  const noun = source.noun ?? 'API keys';
  return [...fromEnv(source.envName, env, noun), ...(source.file ? fromFile(source.file, source.flag, warnings, noun) : [])];
}

function fromEnv(name: string, env: NodeJS.ProcessEnv, noun: string): string[] {
  const keys = (env[name] ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '');
  keys.forEach((key, i) => checkLength(key, { env: name, position: i + 1 }, noun));
  return keys;
}

function fromFile(file: string, flag: string, warnings: string[], noun: string): string[] {
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
    checkLength(key, { file, line: i + 1 }, noun);
    keys.push(key);
  });
  if (keys.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', `The ${flag} file must contain at least one key.`, { [flag.slice(2)]: file, keys: 0 },
      'Write one key per line, e.g. the output of `openssl rand -hex 24`.');
  }
  return keys;
}

function checkLength(key: string, where: Record<string, unknown>, noun: string): void {
  if (key.length < MIN_KEY_LENGTH || /\s|,/.test(key)) {
    throw ruleError('INSIGHT_E_CONFIG', `${noun} must be at least ${MIN_KEY_LENGTH} characters without spaces or commas.`,
      { ...where, length: key.length }, 'Generate keys with e.g. `openssl rand -hex 24`.');
  }
}
