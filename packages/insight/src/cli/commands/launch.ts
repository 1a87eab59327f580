// `insight launch [flags] -- <command> [args]`: torchrun for insight commands. Starts --nproc-per-node workers of
// `insight <command>` on this node with torchrun's environment (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE,
// LOCAL_RANK ...), restarts the group after a failure (--max-restarts) and forwards Ctrl-C. torchrun's underscore
// spellings (--nproc_per_node ...) are accepted. The launcher module loads inside the action.
import { Command, Option } from 'commander';

import { ruleError } from '../../errors';
import { LAUNCH_SCHEMA, resolveLaunchOptions, TORCHRUN_SPELLINGS, type LaunchSettings } from '../../process/launch/config';
import { resumeHint } from '../../process/launch/resume_hint';
import { flagOf } from '../../run/config_schema';
import type { CliIo } from '../main';
import { addSchemaOptions, givenOptions } from '../options';

/**
 * Runs the launcher in this process until its workers end; an interrupted launch ends with INSIGHT_E_INTERRUPTED
 * (the workers said what they saved), a failed one with the launcher's INSIGHT_E_DISTRIBUTED.
 */
export async function runLaunch(settings: LaunchSettings, args: string[], io: CliIo): Promise<void> {
  const { launch } = await import('../../process/launch/launcher');
  const result = await launch({ settings, args, out: io.stdout, err: io.stderr });
  if (result.status !== 0) {
    // A new launch starts a new run unless it is given the old one (--resume): say how.
    const hint = resumeHint(settings, args);
    throw ruleError('INSIGHT_E_INTERRUPTED', `The launch was stopped by ${result.signal ?? 'a signal'}; its workers ended as they said above.`,
      { signal: result.signal, status: result.status },
      hint === null ? 'Launch it again when you are ready.' : `${hint[0].toUpperCase()}${hint.slice(1)}.`);
  }
}

/** The flags given, with torchrun's underscore spellings read as ours. */
function givenLaunchFlags(command: Command): Record<string, unknown> {
  const given = givenOptions(command, LAUNCH_SCHEMA);
  for (const [spelling, key] of Object.entries(TORCHRUN_SPELLINGS)) {
    const attribute = spelling.slice(2); // commander keeps underscores in the attribute name
    if (command.getOptionValueSource(attribute) !== 'cli') continue;
    if (key in given) {
      throw ruleError('INSIGHT_E_USAGE', 'A flag may be given in one spelling only.', { flags: `${flagOf(key)} ${spelling}` },
        'Drop one of them.');
    }
    given[key] = command.getOptionValue(attribute);
  }
  return given;
}

export function launchCommand(io: CliIo): Command {
  const command = new Command('launch')
    .description('Start this node\'s workers of a distributed job (torchrun\'s flags and environment): each runs an insight command; a failed worker restarts the group (--max-restarts).')
    .usage('[options] -- <command> [args...]')
    .argument('<command...>', 'The insight command every worker runs, with its arguments, after -- (e.g. -- train --epochs 3).');
  addSchemaOptions(command, LAUNCH_SCHEMA);
  for (const spelling of Object.keys(TORCHRUN_SPELLINGS)) command.addOption(new Option(`${spelling} <value>`).hideHelp());
  command.addHelpText('after', '\nEach worker gets torchrun\'s variables: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,\n' +
    'GROUP_RANK, TORCHELASTIC_RESTART_COUNT, TORCHELASTIC_MAX_RESTARTS, TORCHELASTIC_RUN_ID; and INSIGHT_LAUNCH_ID, INSIGHT_TORCH_THREADS.\n' +
    'Rank 0 writes as one process would; the other ranks\' lines are prefixed [rank N]. torchrun\'s spellings (--nproc_per_node ...) work too.\n' +
    '\nExamples:\n  insight launch --nproc-per-node 2 -- train --epochs 10                 # 2 processes, one machine\n' +
    '  insight train --nproc 2 --epochs 10                                    # the same\n' +
    '  insight launch --nproc-per-node 2 --max-restarts 3 -- train --epochs 10   # survive 3 worker failures (one node)\n' +
    '  insight train --resume runs/20261129-041812-a3f9 --nproc 2             # continue a stopped launch\'s run\n' +
    '  insight launch --nnodes 2 --node-rank 0 --nproc-per-node 1 --master-addr 10.0.0.1 --master-port 29500 -- train   # on machine 1\n' +
    '  insight launch --nnodes 2 --node-rank 1 --nproc-per-node 1 --master-addr 10.0.0.1 --master-port 29500 -- train   # on machine 2');
  command.action(async (args: string[]) => {
    const commands = (command.parent?.commands ?? []).map((c) => c.name()).filter((name) => name !== 'launch');
    if (!commands.includes(args[0])) {
      throw ruleError('INSIGHT_E_USAGE', `The launched command must be an insight command: one of ${commands.join(', ')}.`, { command: args[0] },
        'Put it after --, e.g. `insight launch --nproc-per-node 2 -- train --epochs 3`.');
    }
    await runLaunch(resolveLaunchOptions(givenLaunchFlags(command)), args, io);
  });
  return command;
}
