// What a unit is like, in one command: its clock, the tools the extension's remote scripts use (and
// whether they are BusyBox's), the gateway's folders, free space in input/, whether its `kill` takes
// a process name, and the last lines of the gateway log. The doctor (checks.ts) judges these facts;
// nothing here changes the unit (`kill -s 0` sends no signal: it only asks whether the name is taken).
import { gatewayDirs } from '../config';
import type { ClusterConfig } from '../config';
import { isSafeAbsolutePath } from '../names';
import type { UnitConnection } from '../ssh/connection';

/** The tools the remote scripts call, and what happens without each (checks.ts). */
export const TOOLS = ['sh', 'stat', 'xargs', 'ln', 'rm', 'mv', 'mkdir', 'cat', 'head', 'tail', 'grep', 'sed', 'cut', 'tr', 'wc', 'mktemp', 'sha256sum', 'tar', 'awk', 'gzip', 'pgrep', 'df', 'kill'] as const;
export type Tool = (typeof TOOLS)[number];

export interface FolderFacts {
  readonly exists: boolean;
  readonly writable: boolean;
  readonly link: boolean;
}

export interface UnitProbe {
  /** The unit's clock (ms since the epoch) at the middle of the round trip, and this machine's then. */
  readonly unitClockMs?: number;
  readonly localClockMs: number;
  readonly tools: ReadonlyMap<Tool, { readonly path: string; readonly busybox: boolean }>;
  readonly folders: Readonly<Record<'spool' | 'vscan' | 'input', FolderFacts>>;
  /** Free KB in the file system of input/ (df -P), if df answered. */
  readonly inputFreeKb?: number;
  /** `kill -s 0 <name of PID 1>`: accepted (the kill takes names), refused (with its words), or not tried. */
  readonly killTakesNames?: { readonly ok: boolean; readonly said: string; readonly path: string };
  /** The log file as looked at: present (a regular file), and its last lines. */
  readonly log: { readonly file: string; readonly present: boolean; readonly link: boolean; readonly lines: readonly string[] };
  readonly complete: boolean;
}

/** Log lines looked at. */
export const PROBE_LOG_LINES = 200;

// $1 spool base, $2 log file, $3 lines. Lines: "now <s>", "tool <name> <path> <busybox 0|1>",
// "dir <name> <exists> <writable> <link>", "df <line>", "kill <rc> <path>\t<first line said>",
// "logf <present> <link>", "L <log line>", "Z end".
// BusyBox's ash runs its own applets as builtins ("command -v tar" prints "tar"): those are BusyBox's.
const PROBE_SCRIPT = `echo "now $(date +%s)"
sb=0; case $(readlink -f /proc/$$/exe 2>/dev/null) in */busybox*) sb=1;; esac
for t in ${TOOLS.join(' ')}; do
  p=$(command -v "$t" 2>/dev/null) || continue
  case $p in /*) ;; *) echo "tool $t builtin $sb"; continue;; esac
  r=$(readlink -f -- "$p" 2>/dev/null || echo "$p"); b=0; case $r in */busybox*) b=1;; esac
  echo "tool $t $p $b"
done
for d in spool vscan input; do
  f="$1/$d"; e=0; w=0; l=0
  [ -L "$f" ] && l=1
  [ -d "$f" ] && e=1
  # BusyBox's test calls root's every folder writable, a read-only mount included: try it.
  if [ "$e" = 1 ] && [ "$l" = 0 ] && mkdir "$f/.mailgw-ha-probe.$$" 2>/dev/null; then rmdir "$f/.mailgw-ha-probe.$$"; w=1; fi
  echo "dir $d $e $w $l"
done
if [ -d "$1/input" ] && command -v df >/dev/null 2>&1; then echo "df $(df -Pk -- "$1/input" 2>/dev/null | tail -n 1)"; fi
if [ -x /bin/kill ]; then n=$(cat /proc/1/comm 2>/dev/null); if [ -n "$n" ]; then s=$(/bin/kill -s 0 -- "$n" 2>&1 >/dev/null); printf 'kill %s /bin/kill\\t%s\\n' "$?" "$(printf '%s' "$s" | head -n 1 | cut -c 1-200)"; fi; fi
p=0; l=0; [ -L "$2" ] && l=1; [ -f "$2" ] && p=1
echo "logf $p $l"
if [ "$p" = 1 ] && [ "$l" = 0 ]; then tail -n "$3" -- "$2" 2>/dev/null | cut -c 1-4096 | sed 's/^/L /'; fi
echo "Z end"`;

/** `localClockMs`: this machine's clock at the middle of the command's round trip. */
export function parseProbe(text: string, file: string, localClockMs: number): UnitProbe {
  const tools = new Map<Tool, { path: string; busybox: boolean }>();
  const folders: Record<string, FolderFacts> = {};
  const lines: string[] = [];
  let unitClockMs: number | undefined;
  let inputFreeKb: number | undefined;
  let killTakesNames: UnitProbe['killTakesNames'];
  let present = false;
  let link = false;
  let complete = false;
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if (line.startsWith('L ')) lines.push(line.slice(2));
    else if ((m = /^now (\d+)$/.exec(line))) unitClockMs = Number(m[1]) * 1000 + 500; // whole seconds: their middle
    else if ((m = /^tool (\S+) (\S+) ([01])$/.exec(line)) && (TOOLS as readonly string[]).includes(m[1])) tools.set(m[1] as Tool, { path: m[2], busybox: m[3] === '1' });
    else if ((m = /^dir (spool|vscan|input) ([01]) ([01]) ([01])$/.exec(line))) folders[m[1]] = { exists: m[2] === '1', writable: m[3] === '1', link: m[4] === '1' };
    else if ((m = /^df \S+\s+\d+\s+\d+\s+(\d+)\s/.exec(line))) inputFreeKb = Number(m[1]);
    else if ((m = /^kill (\d+) (\S+)\t(.*)$/.exec(line))) killTakesNames = { ok: m[1] === '0', path: m[2], said: m[3] };
    else if ((m = /^logf ([01]) ([01])$/.exec(line))) {
      present = m[1] === '1';
      link = m[2] === '1';
    } else if (line === 'Z end') complete = true;
  }
  const none: FolderFacts = { exists: false, writable: false, link: false };
  return {
    unitClockMs,
    localClockMs,
    tools,
    folders: { spool: folders.spool ?? none, vscan: folders.vscan ?? none, input: folders.input ?? none },
    inputFreeKb,
    killTakesNames,
    log: { file, present, link, lines },
    complete,
  };
}

/** Looks at one unit (one command). `logFile`: the gateway log as found there. */
export async function probeUnit(conn: UnitConnection, cluster: ClusterConfig, logFile: string): Promise<UnitProbe> {
  if (!isSafeAbsolutePath(logFile)) throw new Error(`refusing unsafe log file ${JSON.stringify(logFile)}`);
  const sent = Date.now();
  const r = await conn.execScript(PROBE_SCRIPT, [gatewayDirs(cluster).base, logFile, String(PROBE_LOG_LINES)], { timeoutMs: 60_000, maxStdoutBytes: 2 * 1024 * 1024, readOnly: true });
  const back = Date.now();
  // The unit read its clock about in the middle of the round trip.
  const p = parseProbe(r.stdout.toString('utf8'), logFile, (sent + back) / 2);
  if (r.code !== 0 && !p.complete) throw new Error(`${conn.address.label}: the look at the unit failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(0, 2).join('; ')}`);
  return p;
}
