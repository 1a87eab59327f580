// A worker process for the storage tests: `storage_worker.ts <url> <study> <workerId> hammer|hold|open|create [json]`.
//   hammer: prints "ready", waits for "go" on stdin (so every worker starts at once), then creates trials until the
//           budget is spent — a heartbeat and a report after each, as a real worker writes — and prints the numbers
//           it got as JSON. Each trial's params are its own (the step is one of them): a worker holding a running
//           trial with the same params would be given that one back (createTrial is idempotent per worker).
//   hold:   creates one trial, prints {"id": ...}, and heartbeats it every 100 ms until killed (SIGKILL in the test).
//   open:   prints "ready", waits for "go", then opens the storage (so every worker opens — and migrates — at once) and
//           prints the study's trials as JSON [number, state] pairs.
//   create: opens the storage, prints "ready", waits for "go", then creates the study `json` gives ({ spec, enqueue }:
//           createStudy's arguments, so every worker creates it at once) and prints its id as JSON.
import { openStudyStorage } from '../../src/study/open_storage';
import type { CreateStudyOptions } from '../../src/study/storage';
import type { StudySpec } from '../../src/study/types';

async function main(): Promise<void> {
  const [url, name, workerId, mode, json] = process.argv.slice(2);
  if (mode === 'open') {
    process.stdout.write('ready\n');
    await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
    const opened = await openStudyStorage(url);
    const found = await opened.getStudy(name);
    if (!found) throw new Error(`no study ${name}`);
    const trials = (await opened.trials(found.id)).map((t) => [t.number, t.state]);
    await opened.close();
    process.stdout.write(`${JSON.stringify(trials)}\n`);
    process.stdin.destroy();
    return;
  }
  const storage = await openStudyStorage(url);
  if (mode === 'create') {
    const { spec, enqueue } = JSON.parse(json) as { spec: StudySpec } & CreateStudyOptions;
    process.stdout.write('ready\n');
    await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
    const created = await storage.createStudy(spec, { enqueue });
    await storage.close();
    process.stdout.write(`${JSON.stringify(created.id)}\n`);
    process.stdin.destroy();
    return;
  }
  const study = await storage.getStudy(name);
  if (!study) throw new Error(`no study ${name}`);
  if (mode === 'hold') {
    const trial = (await storage.createTrial(study.id, { lr: 0.5, optimizer: 'sgd' }, workerId))!;
    setInterval(() => void storage.heartbeat(trial.id, workerId), 100);
    process.stdout.write(`${JSON.stringify({ id: trial.id })}\n`);
    return;
  }
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  const numbers: number[] = [];
  for (let i = 0; ; i++) {
    const trial = await storage.createTrial(study.id, { lr: 10 ** -(1 + (i % 4)), worker: workerId, step: i }, workerId);
    if (!trial) break;
    numbers.push(trial.number);
    await storage.heartbeat(trial.id, workerId, `runs/${workerId}-${i}`);
    await storage.reportIntermediate(trial.id, 1, i / 100);
  }
  await storage.close();
  process.stdout.write(`${JSON.stringify(numbers)}\n`);
  process.stdin.destroy();
}

main().catch((error: Error) => {
  process.stderr.write(`${(error as { code?: string }).code ?? ''} ${error.message}\n`);
  process.exit(1);
});
