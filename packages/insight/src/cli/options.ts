// CLI flags generated from a config schema: every key gets `--kebab-case <placeholder>` with its help line and
// default, so flags, config files, the library and the README cannot drift apart.
import { Option, type Command } from 'commander';

import { show } from '../errors';
import { flagOf, type Schema } from '../run/config_schema';

/** Adds one option per (flag-enabled) schema key. Defaults are only displayed: unset flags stay undefined. */
export function addSchemaOptions(command: Command, schema: Schema): Command {
  for (const [key, spec] of Object.entries(schema)) {
    if (spec.noFlag) continue;
    const flag = flagOf(key);
    const defaultText = spec.default === null ? '' : ` (default: ${Array.isArray(spec.default) ? spec.default.join(',') || 'none' : show(spec.default).replace(/^"|"$/g, '')})`;
    if (spec.type === 'bool') {
      command.addOption(new Option(flag, `${spec.help}${defaultText}`));
      command.addOption(new Option(`--no-${flag.slice(2)}`, `Turn ${flag} off.`).hideHelp());
    } else {
      command.addOption(new Option(`${flag} ${spec.placeholder ?? '<value>'}`, `${spec.help}${defaultText}`));
    }
  }
  return command;
}

/** The flags the user actually gave, as config keys (commander already camelCases them). */
export function givenOptions(command: Command, schema: Schema): Record<string, unknown> {
  const opts = command.opts();
  const given: Record<string, unknown> = {};
  for (const key of Object.keys(schema)) {
    if (opts[key] !== undefined && command.getOptionValueSource(key) === 'cli') given[key] = opts[key];
  }
  return given;
}
