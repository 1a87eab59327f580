// CLI flags generated from a config schema: every key gets `--kebab-case <placeholder>` with its help line and
// default, so flags, config files, the library and the README cannot drift apart. A command's settings are its
// --config file (if any) with the flags given on the command line over it; the command validates them once.
import { Option, type Command } from 'commander';

import { show } from '../errors';
import { fieldsOf, type ConfigSchema, type FieldInfo } from '../run/config_schema';
import { readConfigFile } from './config_file';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** ' (default: 64)', or '' for keys without a default to show. */
function defaultText(field: FieldInfo): string {
  const value = field.default;
  if (value === null || value === undefined || (field.kind === 'strings' && Array.isArray(value) && value.length === 0)) return '';
  return ` (default: ${Array.isArray(value) ? value.join(',') || 'none' : show(value).replace(/^"|"$/g, '')})`;
}

/** Adds one option per (flag-enabled) schema key. Defaults are only displayed: unset flags stay undefined. */
export function addSchemaOptions(command: Command, schema: ConfigSchema): Command {
  for (const field of fieldsOf(schema)) {
    if (field.noFlag) continue;
    const description = `${field.help}${defaultText(field)}`;
    if (field.kind === 'bool') {
      command.addOption(new Option(field.flag, description));
      command.addOption(new Option(`--no-${field.flag.slice(2)}`, `Turn ${field.flag} off.`).hideHelp());
    } else {
      const option = new Option(`${field.flag} ${field.placeholder ?? '<value>'}`, description);
      command.addOption(field.repeatable ? option.argParser(collect) : option);
    }
  }
  return command;
}

/** Adds `--config <file>`: settings from a JSON or YAML file, under the flags. */
export function addConfigFileOption(command: Command): Command {
  return command.addOption(new Option('--config <file>', 'Read settings from a JSON or YAML file (flags override it).'));
}

/**
 * The flags the user actually gave, as config keys (commander already camelCases them), on this command or a
 * parent command (`insight runs --runs-dir x compare a b`); the closest command wins.
 */
export function givenOptions(command: Command, schema: ConfigSchema): Record<string, unknown> {
  const given: Record<string, unknown> = {};
  for (let current: Command | null = command; current; current = current.parent) {
    const opts = current.opts();
    for (const { key } of fieldsOf(schema)) {
      if (!(key in given) && opts[key] !== undefined && current.getOptionValueSource(key) === 'cli') given[key] = opts[key];
    }
  }
  return given;
}

/** The command's settings: its --config file (when given) with the flags given on the command line over it. */
export async function givenSettings(command: Command, schema: ConfigSchema): Promise<Record<string, unknown>> {
  const file = command.opts<{ config?: string }>().config;
  const fromFile = file !== undefined ? await readConfigFile(file, schema) : {};
  return { ...fromFile, ...givenOptions(command, schema) };
}
