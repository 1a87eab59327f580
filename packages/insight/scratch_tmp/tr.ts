import { train } from '../src/train/train';
(async () => {
  const t0 = Date.now();
  const r = await train({ data: '/work/shared/data/cifar-10-binary-train.tar.gz', limit: 512, epochs: 2, runsDir: '/tmp/insight-runs', workers: 0, logEverySteps: 2 });
  console.log(Date.now() - t0, r.runDir);
})().catch((e) => { console.error(e); process.exit(1); });
