// `insight train`: trains a model per flags and/or --config into a new run directory (or resumes one).
// The training workflow (tfjs, the backend) loads inside the action, so `insight train --help` stays fast.
import { Command, Option } from 'commander';

import { ruleError } from '../../errors';
import { resolveLaunchOptions } from '../../process/launch/config';
import { flagOf } from '../../run/config_schema';
import { RESUME_OVERRIDABLE, resolveTrainConfig, TRAIN_SCHEMA } from '../../train/config';
import { checkBatchSplits } from '../../train/distributed/environment';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';
import { runLaunch } from './launch';

/** `--nproc`'s value as a process count; throws its rule otherwise. */
function nprocOf(raw: string): number {
  const nproc = Number(raw);
  if (!Number.isInteger(nproc) || nproc < 1 || nproc > 1024) {
    throw ruleError('INSIGHT_E_CONFIG', '--nproc must be a whole number of processes, 1 to 1024.', { nproc: Number.isFinite(nproc) ? nproc : raw },
      'Pass e.g. --nproc 2 (data-parallel training in 2 processes on this machine).');
  }
  if (Number(process.env.WORLD_SIZE ?? 1) > 1) {
    throw ruleError('INSIGHT_E_CONFIG', '--nproc starts a launcher; a launched worker (WORLD_SIZE > 1) cannot start another.', { nproc, WORLD_SIZE: process.env.WORLD_SIZE },
      'Give the process count to the outer launcher only (`insight launch --nproc-per-node N -- train ...`).');
  }
  return nproc;
}

/** The arguments of this `insight train` (from the program's argv) without --nproc and its value. */
function argsWithoutNproc(command: Command): string[] {
  // The program's args are the whole command line after its own (none) flags: 'train', then train's arguments.
  const raw = command.parent!.args.slice(command.parent!.args.indexOf(command.name()) + 1);
  const args: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '--nproc') i++;
    else if (!raw[i].startsWith('--nproc=')) args.push(raw[i]);
  }
  return args;
}

export function trainCommand(io: CliIo): Command {
  const command = new Command('train')
    .description('Train an image classifier. With no flags: the reference recipe (seed-cnn on CIFAR-10, Adam 1e-3, batch 64, 10 epochs).');
  addConfigFileOption(command)
    .addOption(new Option('--resume <run dir>', `Continue an unfinished run (interrupted by Ctrl-C, crashed) from its last checkpoint, or extend a completed one with a larger --epochs (only ${RESUME_OVERRIDABLE.map(flagOf).join(', ')} and --epochs may be given with it).`));
  addSchemaOptions(command, TRAIN_SCHEMA);
  command.addOption(new Option('--nproc <n>', 'Train data-parallel in <n> processes on this machine: `insight launch --nproc-per-node <n> -- train` with the other flags, the rendezvous on a free port (--batch-size stays the global batch).'));
  command.addHelpText('after', '\nExamples:\n  insight train                                   # the reference recipe\n' +
    '  insight train --data cifar-10-binary.tar.gz --limit 2000 --epochs 2\n' +
    '  insight train --model resnet --depth 20 --optimizer sgd --lr 0.1 --schedule cosine --augment crop,flip\n' +
    '  insight train --model ./my_model.ts --data photos/   # your own model: the module\'s default export builds it\n' +
    '  insight train --resume runs/20261129-041812-a3f9\n' +
    '  insight train --resume runs/20261129-041812-a3f9 --epochs 20   # a completed run, trained on to 20 epochs\n' +
    '  insight train --nproc 2 --epochs 10             # data parallel, 2 processes');
  command.action(async () => {
    const { resume, nproc } = command.opts<{ resume?: string; nproc?: string }>();
    const settings = await givenSettings(command, TRAIN_SCHEMA);
    // A bad flag fails here, before tfjs loads (a resumed run's config is its saved one, checked by train()).
    const resolved = resume === undefined ? resolveTrainConfig(settings) : null;
    const config = resolved ?? settings;
    const processes = nproc === undefined ? 1 : nprocOf(nproc);
    if (processes > 1) {
      // The global batch must split over the workers: said here (INSIGHT_E_CONFIG), not by every worker failing.
      // A resumed run's batch size is its saved config's, checked by rank 0.
      if (resolved !== null) checkBatchSplits(resolved.batchSize, processes);
      // One machine: the rendezvous on a free port, as torchrun --standalone (not 29500, which another job may hold).
      const { freeLocalPort } = await import('../../process/launch/free_port');
      const launch = resolveLaunchOptions({ nprocPerNode: processes, masterPort: await freeLocalPort() });
      await runLaunch(launch, ['train', ...argsWithoutNproc(command)], io);
      return;
    }
    const { train } = await import('../../train/train');
    const result = await train(config, { resume, out: io.stdout });
    result.model.dispose();
  });
  return command;
}
