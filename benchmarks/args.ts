// The benchmarks' command lines: node:util parseArgs, strict (an unknown flag or a flag without its value stops the
// run instead of being ignored), plus -h/--help, which prints the benchmark's usage and exits.
//   const args = benchmarkArgs(USAGE, { epochs: { type: 'string', default: '10' } });  // args.epochs: string
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** The values of `options` (defaults filled in) from process.argv; exits with `usage` on --help or a bad flag. */
export function benchmarkArgs<const O extends Options>(usage: string, options: O) {
  let parsed;
  try {
    parsed = parseArgs({ args: process.argv.slice(2), options: { ...options, ...HELP }, strict: true, allowPositionals: false });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    process.exit(0);
  }
  return parsed.values;
}

/** A numeric flag's value; a value that is not a number stops the run with the flag's name. */
export function numberArg(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    console.error(`--${name} must be a number. Received: ${name}=${JSON.stringify(value)}.`);
    process.exit(2);
  }
  return n;
}

/** A comma-separated list of numbers, e.g. --batch-sizes 64,256. */
export function numberListArg(name: string, value: string): number[] {
  return value.split(',').map((part) => numberArg(name, part));
}
