// Which file on a unit is the gateway's log. The box names a service's logs after the GUI tree
// (`srv_<server>_<service>[_<sub-log>].log` in /var/phion/logs, docs/box-facts.md), and which of them
// the mail gateway's SPOOLER lines go to is not public: most likely the `_mailgw` sub-log. So unless
// the settings name the file (`logFile`), it is found by content: among the regular files
// `srv_<server>_<service>.log` and `srv_<server>_<service>_*.log` of the log folder, the one holding
// the spooler's lines. The tree, the log panel, `mailgw-ha logs` and the recovery plan say which file
// was taken and why.
import * as path from 'path';
import type { ClusterConfig } from '../config';
import { gatewayName, isSafeAbsolutePath } from '../names';
import type { UnitConnection } from '../ssh/connection';

export interface LogChoice {
  readonly file: string;
  /** Why this file, in words for the admin. */
  readonly why: string;
  /** Set in the settings (not discovered). */
  readonly fromSettings: boolean;
  /** The candidates seen, for the doctor. */
  readonly candidates: readonly LogCandidate[];
}

export interface LogCandidate {
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Lines of the box's shape naming the SPOOLER in its last MiB. */
  readonly spoolerLines: number;
}

/** Bytes at the end of each candidate looked at for SPOOLER lines. */
const TAIL_BYTES = 1024 * 1024;
/** A choice is looked up again after this long (a new box's log appears, a sub-log is switched on). */
const CACHE_MS = 5 * 60_000;

// $1 folder, $2 name prefix (validated server and service), $3 bytes. Per regular file (never a
// link) "<name>.log" or "<name>_*.log": "F <size> <mtime> <spooler lines>\t<path>"; then "Z end".
const DISCOVER_SCRIPT = `d=$1; n=$2
for f in "$d/$n.log" "$d/$n"_*.log; do
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  st=$(stat -c '%s %Y' -- "$f" 2>/dev/null) || continue
  c=$(tail -c "$3" -- "$f" 2>/dev/null | grep -a -c -E '^[0-9]{4} [0-9]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} .*SPOOLER ')
  printf 'F %s %s\\t%s\\n' "$st" "\${c:-0}" "$f"
done
echo "Z end"`;

export function parseDiscovery(text: string): { candidates: LogCandidate[]; complete: boolean } {
  const candidates: LogCandidate[] = [];
  let complete = false;
  for (const line of text.split('\n')) {
    const m = /^F (\d+) (\d+) (\d+)\t(\/.*)$/.exec(line);
    if (m && isSafeAbsolutePath(m[4])) candidates.push({ size: Number(m[1]), mtimeMs: Number(m[2]) * 1000, spoolerLines: Number(m[3]), file: m[4] });
    else if (line === 'Z end') complete = true;
  }
  return { candidates, complete };
}

/** The choice among what the unit showed (exported for unit tests). */
export function chooseLog(cluster: Pick<ClusterConfig, 'server' | 'service' | 'logFile'>, candidates: readonly LogCandidate[]): LogChoice {
  const dir = path.posix.dirname(cluster.logFile);
  const name = `srv_${gatewayName(cluster.server, cluster.service)}`;
  const pattern = `${dir}/${name}*.log`;
  const withLines = candidates.filter((c) => c.spoolerLines > 0).sort((a, b) => b.spoolerLines - a.spoolerLines || b.mtimeMs - a.mtimeMs);
  if (withLines.length) {
    const c = withLines[0];
    const others = withLines.length > 1 ? `; ${withLines.length - 1} other file(s) of ${pattern} hold fewer` : '';
    return { file: c.file, fromSettings: false, candidates, why: `the one of ${candidates.length} file(s) ${pattern} that holds the gateway's SPOOLER lines (${c.spoolerLines} in its last MiB)${others}` };
  }
  const sub = candidates.find((c) => c.file === `${dir}/${name}_mailgw.log`);
  const bare = candidates.find((c) => c.file === `${dir}/${name}.log`);
  const pick = sub ?? bare;
  if (pick) return { file: pick.file, fromSettings: false, candidates, why: `no file ${pattern} holds SPOOLER lines yet; taking ${path.posix.basename(pick.file)}${sub ? ", the mail gateway's sub-log as the box names it" : ''}` };
  return { file: cluster.logFile, fromSettings: false, candidates, why: `no file ${pattern} exists yet; waiting for ${path.posix.basename(cluster.logFile)}. Set "logFile" if the gateway logs elsewhere` };
}

const cache = new WeakMap<UnitConnection, Map<string, { at: number; choice: Promise<LogChoice> }>>();

/**
 * The gateway log of `cluster` on the unit behind `conn`: the settings' `logFile` if set, else found
 * by content (one command; remembered for a few minutes per connection unless `fresh`).
 */
export function findLogFile(conn: UnitConnection, cluster: ClusterConfig, opts: { fresh?: boolean } = {}): Promise<LogChoice> {
  if (cluster.logFileSet) return Promise.resolve({ file: cluster.logFile, fromSettings: true, candidates: [], why: 'set in mailgwHa.clusters (logFile)' });
  if (cluster.logChoice?.file === cluster.logFile) return Promise.resolve({ ...cluster.logChoice, candidates: [] });
  const key = `${cluster.server}\n${cluster.service}\n${cluster.logFile}`;
  let byKey = cache.get(conn);
  if (!byKey) cache.set(conn, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit && !opts.fresh && Date.now() - hit.at < CACHE_MS) return hit.choice;
  const choice = (async () => {
    const dir = path.posix.dirname(cluster.logFile);
    const name = `srv_${gatewayName(cluster.server, cluster.service)}`;
    const r = await conn.execScript(DISCOVER_SCRIPT, [dir, name, String(TAIL_BYTES)], { timeoutMs: 60_000, readOnly: true });
    const parsed = parseDiscovery(r.stdout.toString('utf8'));
    if (r.code !== 0 || !parsed.complete) throw new Error(`${conn.address.label}: cannot look for the gateway log ${dir}/${name}*.log (exit ${r.code}): ${r.stderr.trim().split('\n').slice(0, 2).join('; ')}. Set "logFile" for cluster "${cluster.name}" to name it.`);
    return chooseLog(cluster, parsed.candidates);
  })();
  byKey.set(key, { at: Date.now(), choice });
  choice.catch(() => byKey.delete(key));
  return choice;
}

/** The cluster as seen on that unit: its logFile the one found there, and the choice kept with it. */
export async function withFoundLog(conn: UnitConnection, cluster: ClusterConfig, opts: { fresh?: boolean } = {}): Promise<{ cluster: ClusterConfig; log: LogChoice }> {
  const log = await findLogFile(conn, cluster, opts);
  if (log.fromSettings) return { cluster, log };
  return { cluster: { ...cluster, logFile: log.file, logChoice: { file: log.file, why: log.why, fromSettings: false } }, log };
}
