// The CLI's error boundary. Every failure leaves the process as one line on stderr —
//   Error INSIGHT_E_CONFIG: lr must be a number > 0. Received: lr=-1. Pass e.g. --lr 0.001 (default: 0.001).
// — and the exit status of its code. The codes (stable; documented in the README's error table, which a test
// checks) are the catalogue in ../errors, shared with the library and the servers. No stack trace unless
// INSIGHT_DEBUG=1. Library errors that recommend a library option (`pass path: '<archive or folder>' to
// loadCifar10`) are restated with the flag that sets it (`pass --data <archive or folder>`).
import { CommanderError } from 'commander';

import { InsightError, ruleError } from '../errors';

/** What a usage error is about: the command given (or '' at the top level) and every command the program has. */
export interface UsageContext {
  command: string;
  commands: readonly string[];
}

/** Usage errors from commander, restated as rule + Received + fix. */
function fromCommander(error: CommanderError, { command, commands }: UsageContext): InsightError {
  const message = error.message.replace(/^error: /, '');
  const help = `Run \`insight ${command}${command ? ' ' : ''}--help\` for the usage.`;
  const unknownOption = /unknown option '([^']+)'(?:\s*\(Did you mean (\S+)\?\))?/.exec(message);
  if (unknownOption) {
    return ruleError('INSIGHT_E_USAGE', 'Only the documented flags are accepted.', { flag: unknownOption[1] },
      `${unknownOption[2] ? `Did you mean ${unknownOption[2]}? ` : ''}${help}`);
  }
  const missingValue = /option '([^']+)' argument missing/.exec(message);
  if (missingValue) return ruleError('INSIGHT_E_USAGE', 'This flag needs a value.', { flag: missingValue[1] }, help);
  const missingArgument = /missing required argument '([^']+)'/.exec(message);
  if (missingArgument) return ruleError('INSIGHT_E_USAGE', `The argument <${missingArgument[1]}> is required.`, { [missingArgument[1]]: null }, help);
  const unknownCommand = /unknown command '([^']+)'/.exec(message);
  if (unknownCommand) {
    return ruleError('INSIGHT_E_USAGE', `The command must be one of: ${commands.join(', ')}.`, { command: unknownCommand[1] },
      'Run `insight --help` for the commands.');
  }
  return ruleError('INSIGHT_E_USAGE', 'The command line must match the usage.', { error: message }, help);
}

/**
 * `<function> <option>` → the flag that sets that option on the command line. Library fixes phrase a recommended
 * option as `pass <option>: <value> to <function>`; those listed here are restated for the CLI.
 */
const FLAG_OF_LIBRARY_OPTION: Record<string, string> = {
  'loadCifar10 path': '--data',
};

/** `message` with every `pass <option>: '<value>' to <function>` of a known option restated as `pass <flag> <value>`. */
export function inCliTerms(message: string): string {
  return message.replace(/\bpass (\w+): '([^']*)' to (\w+)\b/g, (whole, option: string, value: string, fn: string) => {
    const flag = FLAG_OF_LIBRARY_OPTION[`${fn} ${option}`];
    return flag === undefined ? whole : `pass ${flag} ${value}`;
  });
}

/**
 * Any thrown value as an InsightError: ours in CLI terms (see inCliTerms), commander's usage errors restated, the
 * rest internal.
 */
export function toInsightError(error: unknown, usage: UsageContext = { command: '', commands: [] }): InsightError {
  if (error instanceof InsightError) {
    const message = inCliTerms(error.message);
    return message === error.message ? error : new InsightError(error.code, message, { cause: error });
  }
  if (error instanceof CommanderError) return fromCommander(error, usage);
  const message = error instanceof Error ? error.message : String(error);
  return new InsightError('INSIGHT_E_INTERNAL', message, { cause: error });
}

/** The stderr text for an error: one line, plus the stack of internal errors when INSIGHT_DEBUG=1. */
export function formatError(error: InsightError): string {
  let text = `Error ${error.code}: ${error.message}\n`;
  if (error.code === 'INSIGHT_E_INTERNAL') {
    const cause = error.cause instanceof Error ? error.cause : error;
    text += process.env.INSIGHT_DEBUG ? `${cause.stack}\n` : 'This is a bug in Insight; run with INSIGHT_DEBUG=1 for the stack trace and report it.\n';
  }
  return text;
}
