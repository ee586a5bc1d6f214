// What the lab needs to know about processes, namespaces, mounts and sockets, read from /proc.
// Every process the lab stops is identified by PID plus start time, so a recycled PID is never hit.
import * as fs from 'fs';

export interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  /** One-letter state from /proc/PID/stat ('Z' is a zombie nobody has reaped yet). */
  state: string;
  /** Start time in clock ticks since boot (field 22 of /proc/PID/stat). */
  start: number;
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export function procInfo(pid: number): Proc | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const rest = stat.slice(close + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  return { pid, ppid: Number(rest[1]), comm: stat.slice(open + 1, close), state: rest[0], start: Number(rest[19]) };
}

export function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

export function pidNamespace(pid: number): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return null;
  }
}

export function cmdline(pid: number): string {
  return (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ').trim();
}

/** The PID as seen inside the innermost PID namespace of the process (last field of NSpid). */
export function innerPid(pid: number): number | null {
  const m = /^NSpid:\s+(.*)$/m.exec(readText(`/proc/${pid}/status`) ?? '');
  if (!m) return null;
  const ids = m[1].trim().split(/\s+/);
  return Number(ids[ids.length - 1]);
}

/** Same process as recorded (PID and start time both match)? */
export function isSame(pid: number, start: number): boolean {
  const p = procInfo(pid);
  return p !== null && p.start === start;
}

export function processesIn(pidns: string): Proc[] {
  const out: Proc[] = [];
  for (const pid of allPids()) {
    if (pidNamespace(pid) !== pidns) continue;
    const p = procInfo(pid);
    if (p) out.push(p);
  }
  return out;
}

export function childrenOf(ppid: number): Proc[] {
  const out: Proc[] = [];
  for (const pid of allPids()) {
    const p = procInfo(pid);
    if (p && p.ppid === ppid) out.push(p);
  }
  return out;
}

/** Signal a process only if it is still the one recorded. Returns whether a signal was sent. */
export function signalIfSame(pid: number, start: number, signal: NodeJS.Signals): boolean {
  if (!isSame(pid, start)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Processes (other than this one and its ancestors) whose command line mentions `text`. */
export function processesMentioning(text: string): { pid: number; cmdline: string }[] {
  const mine = new Set<number>();
  for (let pid = process.pid; pid > 1; ) {
    mine.add(pid);
    const p = procInfo(pid);
    if (!p) break;
    pid = p.ppid;
  }
  const out: { pid: number; cmdline: string }[] = [];
  for (const pid of allPids()) {
    if (mine.has(pid)) continue;
    const cl = cmdline(pid);
    if (cl.includes(text)) out.push({ pid, cmdline: cl });
  }
  return out;
}

/** Mount lines, in the mount namespace of any process, that mention `text`. */
export function mountsMentioning(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const pid of ['self', ...allPids().map(String)]) {
    let ns: string;
    try {
      ns = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
    } catch {
      continue;
    }
    if (seen.has(ns)) continue;
    seen.add(ns);
    for (const line of (readText(`/proc/${pid}/mountinfo`) ?? '').split('\n')) {
      if (line.includes(text)) out.push(`${ns} (pid ${pid}): ${line}`);
    }
  }
  return out;
}

function hexAddress(address: string, port: number): string {
  const ip = address
    .split('.')
    .map((o) => Number(o).toString(16).toUpperCase().padStart(2, '0'))
    .reverse()
    .join('');
  return `${ip}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Listening TCP sockets as "addr:port" in /proc/net/tcp{,6} hex form. */
function listeners(): Set<string> {
  const out = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (readText(file) ?? '').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 3 && f[3] === '0A') out.add(f[1]);
    }
  }
  return out;
}

export function isListening(address: string, port: number): boolean {
  return listeners().has(hexAddress(address, port));
}

/** Does something listen on all addresses (0.0.0.0 or ::) on this port? */
export function wildcardListener(port: number): boolean {
  const p = port.toString(16).toUpperCase().padStart(4, '0');
  const all = listeners();
  return all.has(`00000000:${p}`) || all.has(`00000000000000000000000000000000:${p}`);
}
