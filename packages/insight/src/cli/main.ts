// The `insight` command and its subcommands (the list in buildProgram). `main(argv)` never throws and never calls
// process.exit: it prints errors as `Error <CODE>: <rule> Received: ... <fix>` and returns (and sets) the exit status.
import { Command, CommanderError } from 'commander';

import { calibrateCommand } from './commands/calibrate';
import { compressCommand } from './commands/compress';
import { dashboardCommand } from './commands/dashboard';
import { distillCommand } from './commands/distill';
import { ensembleCommand } from './commands/ensemble';
import { evaluateCommand } from './commands/evaluate';
import { explainCommand } from './commands/explain';
import { exportCommand } from './commands/export';
import { finetuneCommand } from './commands/finetune';
import { launchCommand } from './commands/launch';
import { lrFindCommand } from './commands/lr_find';
import { predictCommand } from './commands/predict';
import { runsCommand } from './commands/runs';
import { serveCommand } from './commands/serve';
import { trainCommand } from './commands/train';
import { tuneCommand } from './commands/tune';
import { formatError, toInsightError } from './errors';

/** Where the CLI writes; tests pass their own streams. */
export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

const VERSION = '0.1.0';

export function buildProgram(io: CliIo): Command {
  const program = new Command('insight')
    .description('Insight: train, evaluate and use image classifiers (TensorFlow.js models on a libtorch backend).')
    .version(VERSION)
    .showSuggestionAfterError(true)
    .addCommand(trainCommand(io))
    .addCommand(evaluateCommand(io))
    .addCommand(predictCommand(io))
    .addCommand(explainCommand(io))
    .addCommand(finetuneCommand(io))
    .addCommand(lrFindCommand(io))
    .addCommand(tuneCommand(io))
    .addCommand(launchCommand(io))
    .addCommand(distillCommand(io))
    .addCommand(compressCommand(io))
    .addCommand(exportCommand(io))
    .addCommand(ensembleCommand(io))
    .addCommand(calibrateCommand(io))
    .addCommand(runsCommand(io))
    .addCommand(dashboardCommand(io))
    .addCommand(serveCommand(io));
  const configure = (command: Command) => {
    command.exitOverride().configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => undefined, // reported by main() in the house format
    });
    command.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Runs the CLI on `argv` (without node and script), e.g. main(['train', '--epochs', '2']). Returns the exit status. */
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = buildProgram(io);
  let status = 0;
  try {
    if (argv.length === 0) {
      program.outputHelp();
    } else {
      await program.parseAsync(argv, { from: 'user' });
    }
  } catch (error) {
    if (error instanceof CommanderError && ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) {
      status = 0;
    } else {
      const commands = program.commands.map((command) => command.name());
      const insightError = toInsightError(error, { command: commands.includes(argv[0]) ? argv[0] : '', commands });
      io.stderr.write(formatError(insightError));
      status = insightError.exitCode;
    }
  }
  process.exitCode = status;
  return status;
}
