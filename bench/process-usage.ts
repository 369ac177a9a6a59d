// What processes a benchmark started use, read from /proc (Linux only): which descendant of this
// process runs a given program, its resident set and its CPU time; and the whole machine's CPU.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * The one process started (directly or not) by this one whose command line names `program`;
 * throws when there is none or more than one.
 */
export function descendantRunning(program: string): number {
  const parents = new Map<number, number>();
  const commands = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent is the second field after the command name, which may hold spaces and ")".
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      commands.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8'));
    } catch {
      // Exited while the list was read.
    }
  }
  const descends = (pid: number): boolean => {
    const parent = parents.get(pid);
    return parent === process.pid || (parent !== undefined && parent > 1 && descends(parent));
  };
  const found = [...commands]
    .filter(([pid, command]) => command.includes(program) && descends(pid))
    .map(([pid]) => pid);
  const [pid] = found;
  if (pid === undefined || found.length > 1) {
    throw new Error(`expected one ${program} started by this process, found ${found.length}`);
  }
  return pid;
}

/** VmRSS of `pid`, in bytes. */
export function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`/proc/${pid}/status has no VmRSS`);
  return Number(match[1]) * 1024;
}

/** The kernel's clock ticks per second in /proc's times: USER_HZ, 100 on every Linux ABI. */
const ticksPerSecond = 100;

/** CPU time `pid` has used so far, user and system, every thread, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // utime and stime: the 14th and 15th fields, the 12th and 13th after the command name.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** The machine's CPU time so far, in seconds summed over its cores: all of it, and the busy part. */
export function machineCpuSeconds(): { total: number; busy: number } {
  const [, ...fields] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/);
  // user nice system idle iowait irq softirq steal; guest time after them is counted in user.
  const times = fields.slice(0, 8).map(Number);
  const total = times.reduce((a, b) => a + b, 0);
  const idle = (times[3] ?? 0) + (times[4] ?? 0);
  return { total: total / ticksPerSecond, busy: (total - idle) / ticksPerSecond };
}
