// A throwaway PostgreSQL server for tests: initdb into a fresh temp folder, `postgres` on a free loopback port (its
// socket in that folder too), a database `insight` and a password-protected superuser (scram-sha-256 over TCP, so
// URLs carry a real password); stop() ends it (`pg_ctl stop -m fast`) and removes the folder. PostgreSQL refuses to
// run as root: under root (CI) every server command runs as Debian's `postgres` user (runuser), which owns the folder.
// Start one per test file, in before(), and stop it in after().
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { Client } from 'pg';

export interface PostgresServer {
  /** postgresql://postgres:<password>@127.0.0.1:<port>/insight */
  url: string;
  password: string;
  port: number;
  /** The temp folder: data/, server.log, the socket. */
  dir: string;
  /** Stops the server (as a restart or a network cut would) until resume() starts it again on the same port. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

const INSTALL = 'Install PostgreSQL with scripts/install-system-packages.sh (Debian\'s postgresql package), as CI does.';

/** The bin folder of the newest PostgreSQL under `root` (Debian's /usr/lib/postgresql), or $INSIGHT_PG_BIN. */
export function postgresBin(root = '/usr/lib/postgresql'): string {
  const fromEnv = process.env.INSIGHT_PG_BIN;
  if (fromEnv) return fromEnv;
  const versions = fs.existsSync(root)
    ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`No PostgreSQL server found in ${root}/<version>/bin (initdb, pg_ctl, postgres). ${INSTALL}`);
  return path.join(root, versions[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL program, as the `postgres` user when we are root. */
function runAs(asPostgres: boolean, program: string, args: string[], timeout = 60_000): string {
  const [command, argv] = asPostgres ? ['runuser', ['-u', 'postgres', '--', program, ...args]] : [program, args];
  const result = spawnSync(command, argv, { encoding: 'utf8', timeout, cwd: '/' });
  if (result.error || result.status !== 0) {
    throw new Error(`${path.basename(program)} failed (${result.error?.message ?? `status ${result.status}`}): ${result.stderr || result.stdout}`);
  }
  return result.stdout;
}

/** Starts a fresh server; throws (naming the fix) when PostgreSQL is not installed. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin();
  const asPostgres = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-pg-'));
  const data = path.join(dir, 'data');
  const password = randomBytes(9).toString('base64url');
  let started = false;
  const pgCtl = (...args: string[]) => runAs(asPostgres, path.join(bin, 'pg_ctl'), ['-D', data, ...args]);
  // Durability is not what these tests check: no fsync keeps a start and each commit fast.
  const startOn = (port: number) => pgCtl('-l', path.join(dir, 'server.log'), '-w', '-t', '30', '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`, 'start');
  const stopNow = (mode: 'fast' | 'immediate') => {
    if (started) {
      started = false;
      try {
        pgCtl('-m', mode, '-w', 'stop');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const onExit = () => stopNow('immediate'); // the test process ends without after(): leave no server behind
  process.on('exit', onExit);
  try {
    fs.writeFileSync(path.join(dir, 'password'), `${password}\n`);
    if (asPostgres) {
      const user = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      if (user.status !== 0) throw new Error(`PostgreSQL refuses to run as root and there is no \`postgres\` user to run it as. ${INSTALL}`);
      const [uid, gid] = [Number(user.stdout), Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout)];
      for (const entry of [dir, path.join(dir, 'password')]) fs.chownSync(entry, uid, gid);
      if (spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dir]).status !== 0) {
        throw new Error(`The postgres user cannot enter ${dir} (a parent folder is private): set TMPDIR to a folder every user can enter, e.g. /tmp.`);
      }
    }
    runAs(asPostgres, path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${path.join(dir, 'password')}`,
      '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    let port = 0;
    for (let attempt = 0; !started; attempt++) {
      port = await freePort();
      try {
        startOn(port);
        started = true;
      } catch (error) {
        if (attempt >= 2) throw new Error(`${(error as Error).message}\n${fs.readFileSync(path.join(dir, 'server.log'), 'utf8')}`);
      }
    }
    const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    await admin.connect();
    try {
      await admin.query('CREATE DATABASE insight');
    } finally {
      await admin.end();
    }
    return {
      url: `postgresql://postgres:${password}@127.0.0.1:${port}/insight`, password, port, dir,
      pause() {
        pgCtl('-m', 'fast', '-w', 'stop');
        started = false;
      },
      resume() {
        startOn(port);
        started = true;
      },
      async stop() {
        process.off('exit', onExit);
        stopNow('fast');
      },
    };
  } catch (error) {
    process.off('exit', onExit);
    stopNow('immediate');
    throw error;
  }
}
