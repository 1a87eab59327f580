// Issue 17, A6: "two clients posting 16 MB JSON bodies" must not hurt everyone else. Target: health p99 < 50 ms and
// memory flat under that attack. One `insight serve` process (the real command, seed-cnn with random weights, default
// flags); a separate attacker process keeps two connections posting ~16 MB JSON bodies of numbers (just under
// --body-limit-mb, so only their content can refuse them); this process probes GET /v2/health/ready every 20 ms and
// samples the server's resident memory (/proc/<pid>/status) every 250 ms — first for --seconds without the attack
// (baseline), then for --seconds with it. Prints a markdown table.
//   node --conditions=source --import tsx benchmarks/serve_attack.ts [--seconds 20] [--body-mb 15.9]
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { createModel, initBackend, saveModel } from '@insight/insight';

import { benchmarkArgs, numberArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/serve_attack.ts [options]
  --seconds <s>     length of the baseline and of the attack phase (default: 20)
  --body-mb <mb>    size of each attacking body in MiB (default: 15.9, under the default 16 MiB limit)`;
const args = benchmarkArgs(USAGE, { seconds: { type: 'string', default: '20' }, 'body-mb': { type: 'string', default: '15.9' } });
const seconds = numberArg('seconds', args.seconds);
const bodyMb = numberArg('body-mb', args['body-mb']);
const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'packages', 'insight', 'bin', 'insight.js');
const NODE_FLAGS = ['--conditions=source', '--import', pathToFileURL(require.resolve('tsx')).href];

/** The attacker: two connections posting the same ~bodyMb MiB body of numbers in a loop; counts answers by status. */
const ATTACKER = `
const http = require('node:http');
const [port, mb] = process.argv.slice(1).map(Number);
const item = '0.12345678,';
const body = Buffer.from('{"instances":[[' + item.repeat(Math.floor((mb * 1048576 - 40) / item.length)) + '0]]}');
const counts = {};
const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
function post() {
  const req = http.request({ host: '127.0.0.1', port, path: '/v1/models/seed-cnn:predict', method: 'POST', agent,
    headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
    counts[res.statusCode] = (counts[res.statusCode] || 0) + 1;
    res.resume();
    res.on('end', post);
  });
  req.on('error', (e) => { counts[e.code] = (counts[e.code] || 0) + 1; setTimeout(post, 10); });
  req.end(body);
}
post(); post();
process.on('SIGTERM', () => { process.stdout.write(JSON.stringify({ bytes: body.length, counts })); process.exit(0); });
`;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function healthOnce(port: number, agent: http.Agent): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/v2/health/ready', agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - start) : reject(new Error(`health ${res.statusCode}`))));
    }).on('error', reject);
  });
}

/** Probes health every 20 ms and samples RSS every 250 ms for `s` seconds. */
async function phase(port: number, pid: number, s: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(rssMb(pid)), 250);
  const end = performance.now() + s * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    latencies.push(await healthOnce(port, agent));
    await new Promise((r) => setTimeout(r, Math.max(0, 20 - (performance.now() - t))));
  }
  clearInterval(sampler);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { probes: latencies.length, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies[latencies.length - 1],
    rssStart: rss[0], rssMax: Math.max(...rss), rssEnd: rss[rss.length - 1] };
}

async function main() {
  await initBackend();
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-bench-attack-'));
  const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  await saveModel(model, path.join(repo, 'seed-cnn', '1'));
  model.dispose();
  const server = spawn(process.execPath, [...NODE_FLAGS, BIN, 'serve', '--models', repo, '--port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"url":"http:\/\/[^:]+:(\d+)"/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    server.stderr!.resume();
    server.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  const agent = new http.Agent({ keepAlive: true });
  for (let i = 0; i < 50; i++) await healthOnce(port, agent); // warm-up
  agent.destroy();
  const baseline = await phase(port, server.pid!, seconds);
  const attacker: ChildProcess = spawn(process.execPath, ['-e', ATTACKER, String(port), String(bodyMb)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let attackOut = '';
  attacker.stdout!.on('data', (c: Buffer) => (attackOut += c.toString()));
  await new Promise((r) => setTimeout(r, 500));
  const attack = await phase(port, server.pid!, seconds);
  const attackerDone = new Promise((r) => attacker.once('exit', r));
  attacker.kill('SIGTERM');
  await attackerDone;
  const { bytes, counts } = JSON.parse(attackOut) as { bytes: number; counts: Record<string, number> };
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  fs.rmSync(repo, { recursive: true, force: true });

  const row = (name: string, p: typeof baseline) =>
    `| ${name} | ${p.probes} | ${p.p50.toFixed(2)} | ${p.p99.toFixed(2)} | ${p.max.toFixed(1)} | ${p.rssStart.toFixed(0)} | ${p.rssMax.toFixed(0)} | ${p.rssEnd.toFixed(0)} |`;
  console.log(`\n${os.cpus().length} cores, load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${seconds} s per phase; attacking bodies ${(bytes / 1048576).toFixed(2)} MiB, answers ${JSON.stringify(counts)}`);
  console.log('| phase | health probes | p50 ms | p99 ms | max ms | RSS start MB | RSS max MB | RSS end MB |');
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(row('no attack', baseline));
  console.log(row('2 clients posting 16 MB bodies', attack));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
