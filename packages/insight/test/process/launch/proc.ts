// What Linux's /proc says of a process, for the launch tests that watch workers start and end: its state letter and
// parent pid (from /proc/<pid>/stat, read after the command name, which may hold spaces and parentheses).
import * as fs from 'node:fs';

/** { state, ppid } of process `pid` ('R', 'S', 'Z' ...), or null when it is gone. */
export function procStat(pid: number): { state: string; ppid: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return null;
  }
}

/** True while process `pid` runs: it exists and is not a zombie (an orphan's exit is reaped by init, maybe late). */
export function alive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== null && stat.state !== 'Z';
}

/** The pids of `parent`'s live children whose environment has RANK=`rank`. */
export function childrenWithRank(parent: number, rank: number): number[] {
  return fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    if (procStat(pid)?.ppid !== parent || !alive(pid)) return false;
    try {
      return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`RANK=${rank}`);
    } catch {
      return false; // gone meanwhile
    }
  });
}
