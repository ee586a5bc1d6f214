// Proof that the active unit delivered a mail, from every log file that can hold the delivery: the
// current gateway log and its rotated files (whatever names rotation gave them, gzip-compressed or
// not), back to the oldest candidate's time minus a margin. The search runs on the unit: one fixed
// script greps all those files for the candidates' Message-IDs (fed on stdin, fixed strings) and
// prints only the lines that mention one; the deliveryLogPattern then confirms each line (in a
// worker with a time budget). What the logs cannot show (they start too late, a file could not be
// read, the pattern timed out or matches no delivery line) is said, so that the plan holds those
// mails instead of guessing.
import type { UnitConnection } from '../ssh/connection';
import { isSafeAbsolutePath } from '../names';
import { normalizeMessageId } from '../message/messageId';
import { matchLines } from './patternRunner';
import { RecoveryError } from './remote';

/** How far before a mail's time its delivery is looked for (clock skew between units, copy times). */
export const DELIVERY_SEARCH_MARGIN_MS = 60 * 60 * 1000;
/** Lines that look like deliveries, sampled from the current log to check the pattern. */
const SAMPLE_LINES = 200;

// $1 current log, $2 seconds since the epoch: files last changed before it are listed, not searched.
// stdin: Message-IDs, one a line (never empty). Per log file: "F <n> <size> <mtime> <gz|no|other>\t<path>",
// "S <n>\t<first line>", then "M <n> <line no>:<line>" for each line mentioning a Message-ID,
// "R <n>" if it could not be read, "U <n>" if it is compressed in a way not read here.
// Then "D <line>" for up to 200 delivery-looking lines of the current log's last 4 MB, and "Z end"
// (an answer without it was cut short: nothing in it can prove a mail undelivered). grep -a: a log
// with a stray NUL byte must still show its lines, not "Binary file matches".
const SEARCH_SCRIPT = `f=$1; since=$2
if [ "$since" = - ]; then IFS= read -r since || exit 5; fi
case $since in ''|*[!0-9]*) echo "bad start time" >&2; exit 5;; esac
d=$(dirname -- "$f"); b=$(basename -- "$f"); s=\${b%.log}
p=$(mktemp) || exit 4
trap 'rm -f -- "$p" "$p.st"' EXIT
grep -v '^$' > "$p"
i=0; seen=/
for g in "$f" "$d/$b".* "$d/$b"-* "$d/$s".[0-9]* "$d/$s"-[0-9]*; do
  [ -f "$g" ] && [ ! -L "$g" ] || continue
  case "$seen" in *"/$g/"*) continue;; esac
  seen="$seen$g/"
  i=$((i + 1))
  st=$(stat -c '%s %Y' -- "$g") || { echo "R $i"; continue; }
  case "$g" in *.gz) z=gz;; *.bz2|*.xz|*.zst|*.Z|*.lz4) z=other;; *) z=no;; esac
  printf 'F %s %s %s\\t%s\\n' "$i" "$st" "$z" "$g"
  if [ "$z" = gz ]; then first=$(gzip -dc -- "$g" 2>/dev/null | head -n 1 | cut -c 1-200); else first=$(head -n 1 -- "$g" | cut -c 1-200); fi
  printf 'S %s\\t%s\\n' "$i" "$first"
  [ "\${st#* }" -ge "$since" ] || continue
  [ -s "$p" ] || continue
  if [ "$z" = other ]; then echo "U $i"
  elif [ "$z" = gz ]; then
    { gzip -dc -- "$g" 2>/dev/null; echo $? > "$p.st"; } | grep -a -n -i -F -f "$p" | sed "s/^/M $i /"
    [ "$(cat "$p.st")" = 0 ] || echo "R $i"
  elif [ -r "$g" ]; then grep -a -n -i -F -f "$p" -- "$g" | sed "s/^/M $i /"
  else echo "R $i"; fi
done
[ -f "$f" ] && tail -c 4194304 -- "$f" | grep -a -i deliver | tail -n ${SAMPLE_LINES} | sed 's/^/D /'
echo "Z end"
exit 0`;

export interface LogFileInfo {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly compression: 'no' | 'gz' | 'other';
  /** When its first line was written (from the line's time stamp), if that could be read. */
  readonly firstLineMs?: number;
  /** Searched for the candidates (false: it ended before the oldest candidate, or it was unreadable). */
  readonly searched: boolean;
  /** It would have been needed but could not be read. */
  readonly unreadable?: boolean;
}

export interface DeliveryProof {
  readonly file: string;
  readonly line: number;
}

export interface LogSearch {
  readonly files: readonly LogFileInfo[];
  /** Normalized Message-ID -> where the log shows its delivery. */
  readonly delivered: ReadonlyMap<string, DeliveryProof>;
  /** Normalized Message-IDs mentioned in lines that the pattern did not confirm as deliveries. */
  readonly mentioned: ReadonlySet<string>;
  /** From when on the remaining logs certainly cover the gateway's history (undefined: no log at all). */
  readonly coverageFromMs?: number;
  /** Needed files that could not be read: mails of their time cannot be checked. */
  readonly unreadableUntilMs?: number;
  /** The pattern cannot be trusted to see deliveries (it timed out, or matched no delivery line). */
  readonly patternUnusable: boolean;
  readonly warnings: readonly string[];
}

/** A log line's time stamp: the gateway's "YYYY MM DD hh:mm:ss +hh:mm" or ISO 8601 with a zone. */
export function lineTimeMs(line: string): number | undefined {
  const m =
    /^(\d{4}) (\d{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) (?:([+-])(\d{2}):?(\d{2}))\b/.exec(line) ??
    /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,]\d+)? ?(?:Z|([+-])(\d{2}):?(\d{2}))/.exec(line);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const off = m[7] ? (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])) * 60_000 : 0;
  return Date.UTC(y, mo - 1, d, h, mi, s) - off;
}

export interface SearchOptions {
  /** Files last changed before this time are not searched (they ended before any candidate). */
  readonly sinceMs: number;
  readonly pattern: RegExp;
  readonly lineBudgetMs?: number;
}

/** Parsed output of SEARCH_SCRIPT, before the pattern is applied. */
export interface RawSearch {
  files: Map<number, { path: string; size: number; mtimeMs: number; compression: 'no' | 'gz' | 'other'; first?: string; unreadable?: boolean; unsupported?: boolean }>;
  hits: { file: number; line: number; text: string }[];
  sample: string[];
  /** The answer ended with its end marker. */
  complete: boolean;
}

export function parseSearchOutput(text: string): RawSearch {
  const out: RawSearch = { files: new Map(), hits: [], sample: [], complete: false };
  for (const line of text.split('\n')) {
    let m = /^F (\d+) (\d+) (\d+) (no|gz|other)\t(.*)$/.exec(line);
    if (m) {
      out.files.set(Number(m[1]), { path: m[5], size: Number(m[2]), mtimeMs: Number(m[3]) * 1000, compression: m[4] as 'no' | 'gz' | 'other' });
      continue;
    }
    m = /^S (\d+)\t(.*)$/.exec(line);
    if (m) {
      const f = out.files.get(Number(m[1]));
      if (f) f.first = m[2];
      continue;
    }
    m = /^M (\d+) (\d+):(.*)$/.exec(line);
    if (m) {
      out.hits.push({ file: Number(m[1]), line: Number(m[2]), text: m[3] });
      continue;
    }
    m = /^([RU]) (\d+)$/.exec(line);
    if (m) {
      const f = out.files.get(Number(m[2]));
      if (f) f[m[1] === 'R' ? 'unreadable' : 'unsupported'] = true;
      continue;
    }
    if (line.startsWith('D ')) out.sample.push(line.slice(2));
    else if (line === 'Z end') out.complete = true;
  }
  return out;
}

/** What to look for: the candidates' Message-IDs, in logs changed since `sinceMs`. */
export interface DeliveryQuery {
  readonly messageIds: Iterable<string>;
  readonly sinceMs: number;
}

/**
 * Searches every log file of the gateway on `conn` for the delivery of the query's Message-IDs. A
 * query still being made: the search command is started at once and searches once it is sent it.
 */
export async function searchDeliveryLogs(conn: UnitConnection, logFile: string, query: DeliveryQuery | Promise<DeliveryQuery>, opts: Omit<SearchOptions, 'sinceMs'>): Promise<LogSearch> {
  if (!isSafeAbsolutePath(logFile)) throw new RecoveryError(`refusing unsafe log file ${JSON.stringify(logFile)}`);
  const wanted = new Map<string, string>();
  let sinceMs = 0;
  const stdin = Promise.resolve(query).then((q) => {
    for (const mid of q.messageIds) if (/^<[\x21-\x3b\x3d\x3f-\x7e]{1,900}>$/.test(mid)) wanted.set(normalizeMessageId(mid), mid);
    sinceMs = q.sinceMs;
    return `${Math.max(0, Math.floor(q.sinceMs / 1000))}\n` + [...wanted.values()].map((m) => `${m}\n`).join('');
  });
  const r = await conn.execScript(SEARCH_SCRIPT, [logFile, '-'], { stdin, timeoutMs: 600_000, maxStdoutBytes: 64 * 1024 * 1024 });
  if (r.code !== 0) throw new RecoveryError(`${conn.address.label}: searching the logs ${logFile}* failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(0, 3).join('; ')}`);
  const raw = parseSearchOutput(r.stdout.toString('utf8'));
  if (!raw.complete) throw new RecoveryError(`${conn.address.label}: the search of the logs ${logFile}* for deliveries returned an incomplete answer (over 64 MB of matching lines?); nothing was changed. Check the logs and mailgwHa.clusters' logFile.`);
  return judge(raw, wanted, { ...opts, sinceMs }, conn.address.label);
}

/** Applies the pattern and the coverage rules to what the unit found (exported for unit tests). */
export async function judge(raw: RawSearch, wanted: ReadonlyMap<string, string>, opts: SearchOptions, label: string): Promise<LogSearch> {
  const warnings: string[] = [];
  const files: LogFileInfo[] = [];
  let unreadableUntilMs: number | undefined;
  for (const f of raw.files.values()) {
    const needed = f.mtimeMs >= opts.sinceMs;
    const bad = needed && (f.unreadable || f.unsupported);
    if (bad) {
      unreadableUntilMs = Math.max(unreadableUntilMs ?? 0, f.mtimeMs);
      warnings.push(`${label}: the log ${f.path} could not be searched (${f.unsupported ? 'compressed in a format other than gzip' : 'unreadable'}); mails of its time are held`);
    }
    files.push({ path: f.path, size: f.size, mtimeMs: f.mtimeMs, compression: f.compression, firstLineMs: f.first ? lineTimeMs(f.first) : undefined, searched: needed && !bad && wanted.size > 0, unreadable: bad || undefined });
  }
  files.sort((a, b) => a.mtimeMs - b.mtimeMs);
  // The logs reach back to the first line of the oldest file; without a readable time stamp, only
  // to that file's last change (its content may start earlier, but that cannot be shown).
  const nonEmpty = files.filter((f) => f.size > 0);
  const oldest = nonEmpty[0];
  const coverageFromMs = oldest ? (oldest.firstLineMs ?? oldest.mtimeMs) : files[0]?.mtimeMs;
  if (oldest && oldest.firstLineMs === undefined) warnings.push(`${label}: the first line of ${oldest.path} has no time stamp this tool reads; the logs are taken to start at its last change (${new Date(oldest.mtimeMs).toISOString()})`);

  // The pattern confirms each line that mentions a candidate, and is checked on delivery-looking lines.
  const lines = [...raw.hits.map((h) => h.text), ...raw.sample];
  const res = await matchLines(opts.pattern, lines, opts.lineBudgetMs);
  let patternUnusable = false;
  if (res.timedOutAt !== undefined) {
    patternUnusable = true;
    const where = res.timedOutAt < raw.hits.length ? `a line of ${raw.files.get(raw.hits[res.timedOutAt].file)?.path} (line ${raw.hits[res.timedOutAt].line})` : 'a delivery line of the current log';
    warnings.push(`mailgwHa.deliveryLogPattern took longer than ${opts.lineBudgetMs ?? 1000} ms on ${where} and was stopped: it backtracks too much. Mails whose Message-ID is in the logs are held; simplify the pattern.`);
  }
  const sampleMatches = res.matches.slice(raw.hits.length);
  if (res.timedOutAt === undefined && raw.sample.length > 0 && sampleMatches.every((m) => m === null)) {
    patternUnusable = true;
    warnings.push(`mailgwHa.deliveryLogPattern matched none of the ${raw.sample.length} delivery line(s) in the current log (e.g. ${JSON.stringify(raw.sample[raw.sample.length - 1].slice(0, 160))}): delivered mail cannot be recognised. Mails whose Message-ID is in the logs are held; fix the pattern.`);
  }
  const delivered = new Map<string, DeliveryProof>();
  const mentioned = new Set<string>();
  raw.hits.forEach((h, i) => {
    const mid = res.matches[i];
    const key = mid ? normalizeMessageId(mid) : undefined;
    if (key && wanted.has(key)) {
      if (!delivered.has(key)) delivered.set(key, { file: raw.files.get(h.file)?.path ?? '?', line: h.line });
      return;
    }
    // A line naming a candidate that the pattern did not confirm.
    const lower = h.text.toLowerCase();
    for (const k of wanted.keys()) if (lower.includes(k.toLowerCase())) mentioned.add(k);
  });
  return { files, delivered, mentioned, coverageFromMs, unreadableUntilMs, patternUnusable, warnings };
}

/**
 * Why the logs cannot prove a mail of time `mailMs` (normalized Message-ID `key`) undelivered, or
 * undefined if they can (then "not in `delivered`" means not delivered).
 */
export function unprovable(s: LogSearch, key: string, mailMs: number, marginMs = DELIVERY_SEARCH_MARGIN_MS): string | undefined {
  if (s.delivered.has(key)) return undefined;
  const from = mailMs - marginMs;
  if (s.coverageFromMs === undefined) return 'the primary has no gateway log to check its deliveries against';
  if (s.coverageFromMs > from) return `the primary's logs start at ${new Date(s.coverageFromMs).toISOString()} (${s.files.find((f) => f.size > 0)?.path ?? 'no file'}), after this mail's time minus ${Math.round(marginMs / 60000)} min (${new Date(from).toISOString()}): an earlier delivery could not be checked`;
  if (s.unreadableUntilMs !== undefined && s.unreadableUntilMs >= from) return 'a log file that could hold its delivery could not be searched';
  if (s.patternUnusable && s.mentioned.has(key)) return 'its Message-ID is in the primary\'s log but mailgwHa.deliveryLogPattern could not tell whether that line is a delivery';
  return undefined;
}
