// What the active unit's logs say of some mails, from every log file that can hold it: the current
// gateway log and its rotated files (whatever names rotation gave them, gzip-compressed or not),
// back to the oldest candidate's time minus a margin. The search runs on the unit: one fixed script
// greps all those files for the candidates' gateway ids (and Message-IDs, an index only; fed on
// stdin, fixed strings) and prints only the lines that name one. Each line is then read as the
// box's grammar (logLines.ts): a delivery line, matched whole by the deliveryLogPattern (in a
// worker with a time budget), that names the mail's id and one recipient and nothing doubtful; the
// spooler's insertions and renames; other lines that name the mail. What the logs cannot show (they
// start too late, a file could not be read, the pattern timed out or matches no delivery line) is
// said, so that the plan holds those mails instead of guessing.
import type { UnitConnection } from '../ssh/connection';
import { parseBoxLine } from '../log/lineGrammar';
import { isSafeAbsolutePath, isSafeMailId } from '../names';
import { normalizeMessageId } from '../message/messageId';
import { spoolerEvent } from '../log/spoolerLines';
import { judgeDeliveryLine, normalizeAddress } from './logLines';
import { matchLines } from './patternRunner';
import { RecoveryError } from './remote';

/** How far before a mail's time its delivery is looked for (clock skew between units, copy times). */
export const DELIVERY_SEARCH_MARGIN_MS = 60 * 60 * 1000;
/** Lines that look like deliveries, sampled from the current log to check the pattern. */
const SAMPLE_LINES = 200;

// $1 current log, $2 seconds since the epoch: files last changed before it are listed, not searched.
// stdin: the start time (when $2 is "-"), then the fixed strings to look for, one a line. Per log file: "F <n> <size> <mtime> <gz|no|other>\t<path>",
// "S <n>\t<first line>", then "M <n> <line no>:<line>" for each line naming one of them,
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

/** A delivery line the pattern matched and nothing in it contradicts. */
export interface DeliveryRecord extends DeliveryProof {
  /** The recipient, normalized (domain in lower case). */
  readonly to: string;
  readonly messageId?: string;
}

/** A line that names a mail id without proving anything (insertion, scan, sync, a doubtful delivery). */
export interface Mention extends DeliveryProof {
  readonly what: string;
}

export interface LogSearch {
  readonly files: readonly LogFileInfo[];
  /** Gateway mail id -> its delivery lines (one per recipient). */
  readonly deliveries: ReadonlyMap<string, readonly DeliveryRecord[]>;
  /** Gateway mail id -> a delivery-looking line naming it that proves nothing, and why. */
  readonly doubtful: ReadonlyMap<string, Mention>;
  /** Gateway mail id -> the first other line naming it (the primary had it at some time). */
  readonly mentions: ReadonlyMap<string, Mention>;
  /** Gateway mail id -> the ids the spooler renamed it to. */
  readonly renames: ReadonlyMap<string, readonly string[]>;
  /** Normalized Message-ID -> delivery lines of any mail carrying it (an index, never a proof). */
  readonly byMessageId: ReadonlyMap<string, readonly (DeliveryRecord & { readonly id: string })[]>;
  /** Normalized Message-IDs named in lines that are no clean delivery (they matter when the pattern cannot be trusted). */
  readonly midMentions: ReadonlySet<string>;
  /** From when on the remaining logs certainly cover the gateway's history (undefined: no log at all). */
  readonly coverageFromMs?: number;
  /** Needed files that could not be read: mails of their time cannot be checked. */
  readonly unreadableUntilMs?: number;
  /** The pattern cannot be trusted to see deliveries (it timed out, or matched no delivery line). */
  readonly patternUnusable: boolean;
  /** Lines naming a candidate that are not lines of the box's log (no proof either way). */
  readonly unparsed: number;
  readonly warnings: readonly string[];
}

/** A log line's time stamp: the box's (either field order, any offset) or ISO 8601 with a zone. */
export function lineTimeMs(line: string): number | undefined {
  const box = parseBoxLine(line);
  if (box) return box.timeMs;
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,]\d+)? ?(?:Z|([+-])(\d{2}):?(\d{2}))/.exec(line);
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

/** What to look for: the candidates' gateway ids (and Message-IDs, as an index), in logs changed since `sinceMs`. */
export interface DeliveryQuery {
  readonly ids: Iterable<string>;
  readonly messageIds?: Iterable<string>;
  readonly sinceMs: number;
}

/** What the search looks for, as the unit is sent it and as the judging compares. */
export interface Wanted {
  readonly ids: ReadonlySet<string>;
  /** Normalized Message-ID -> as written. */
  readonly messageIds: ReadonlyMap<string, string>;
}

const MESSAGE_ID_SHAPE = /^<[\x21-\x3b\x3d\x3f-\x7e]{1,900}>$/;
/** Rounds of following the spooler's renames (X renamed to Y, Y renamed to Z, ...). */
const RENAME_ROUNDS = 3;

async function searchOnce(conn: UnitConnection, logFile: string, query: DeliveryQuery | Promise<DeliveryQuery>, opts: Omit<SearchOptions, 'sinceMs'>): Promise<{ search: LogSearch; wanted: Wanted; sinceMs: number }> {
  const ids = new Set<string>();
  const messageIds = new Map<string, string>();
  let sinceMs = 0;
  const stdin = Promise.resolve(query).then((q) => {
    for (const id of q.ids) if (isSafeMailId(id)) ids.add(id);
    for (const mid of q.messageIds ?? []) if (MESSAGE_ID_SHAPE.test(mid)) messageIds.set(normalizeMessageId(mid), mid);
    sinceMs = q.sinceMs;
    return `${Math.max(0, Math.floor(q.sinceMs / 1000))}\n` + [...ids, ...messageIds.values()].map((m) => `${m}\n`).join('');
  });
  const r = await conn.execScript(SEARCH_SCRIPT, [logFile, '-'], { stdin, timeoutMs: 600_000, maxStdoutBytes: 64 * 1024 * 1024, readOnly: true });
  if (r.code !== 0) throw new RecoveryError(`${conn.address.label}: searching the logs ${logFile}* failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(0, 3).join('; ')}`);
  const raw = parseSearchOutput(r.stdout.toString('utf8'));
  if (!raw.complete) throw new RecoveryError(`${conn.address.label}: the search of the logs ${logFile}* for deliveries returned an incomplete answer (over 64 MB of matching lines?); nothing was changed. Check the logs and mailgwHa.clusters' logFile.`);
  const wanted = { ids, messageIds };
  return { search: await judge(raw, wanted, { ...opts, sinceMs }, conn.address.label), wanted, sinceMs };
}

/**
 * Searches every log file of the gateway on `conn` for what it says of the query's mails: their
 * deliveries, other lines naming them, and the ids the spooler renamed them to (which are searched
 * too, a few rounds deep). A query still being made: the search command is started at once and
 * searches once it is sent it.
 */
export async function searchDeliveryLogs(conn: UnitConnection, logFile: string, query: DeliveryQuery | Promise<DeliveryQuery>, opts: Omit<SearchOptions, 'sinceMs'>): Promise<LogSearch> {
  if (!isSafeAbsolutePath(logFile)) throw new RecoveryError(`refusing unsafe log file ${JSON.stringify(logFile)}`);
  const first = await searchOnce(conn, logFile, query, opts);
  const { wanted, sinceMs } = first;
  let search = first.search;
  const asked = new Set(wanted.ids);
  for (let round = 0; round < RENAME_ROUNDS; round++) {
    const more = [...search.renames.values()].flat().filter((id) => !asked.has(id));
    if (more.length === 0) break;
    for (const id of more) asked.add(id);
    const next = await searchOnce(conn, logFile, { ids: more, sinceMs }, opts);
    search = mergeSearches(search, next.search);
  }
  return search;
}

function mergeMaps<V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>, join: (x: V, y: V) => V): Map<string, V> {
  const out = new Map(a);
  for (const [k, v] of b) out.set(k, out.has(k) ? join(out.get(k)!, v) : v);
  return out;
}

function mergeSearches(a: LogSearch, b: LogSearch): LogSearch {
  const first = <V>(x: V) => x;
  const both = <V>(x: readonly V[], y: readonly V[]) => [...x, ...y];
  return {
    ...a,
    deliveries: mergeMaps(a.deliveries, b.deliveries, both),
    doubtful: mergeMaps(a.doubtful, b.doubtful, first),
    mentions: mergeMaps(a.mentions, b.mentions, first),
    renames: mergeMaps(a.renames, b.renames, (x, y) => [...new Set([...x, ...y])]),
    byMessageId: mergeMaps(a.byMessageId, b.byMessageId, both),
    midMentions: new Set([...a.midMentions, ...b.midMentions]),
    unparsed: a.unparsed + b.unparsed,
    patternUnusable: a.patternUnusable || b.patternUnusable,
    warnings: [...new Set([...a.warnings, ...b.warnings])],
  };
}

/** Where a wanted id stands in a text as a token of its own (not inside a longer id). */
function namesId(text: string, id: string): boolean {
  for (let at = text.indexOf(id); at >= 0; at = text.indexOf(id, at + 1)) {
    const before = at === 0 ? '' : text[at - 1];
    const after = text[at + id.length] ?? '';
    if (!/[A-Za-z0-9_.-]/.test(before) && !/[A-Za-z0-9_-]/.test(after)) return true;
  }
  return false;
}

/** Applies the grammar, the pattern and the coverage rules to what the unit found (exported for unit tests). */
export async function judge(raw: RawSearch, wanted: Wanted, opts: SearchOptions, label: string): Promise<LogSearch> {
  const warnings: string[] = [];
  const files: LogFileInfo[] = [];
  let unreadableUntilMs: number | undefined;
  const anything = wanted.ids.size + wanted.messageIds.size > 0;
  for (const f of raw.files.values()) {
    const needed = f.mtimeMs >= opts.sinceMs;
    const bad = needed && (f.unreadable || f.unsupported);
    if (bad) {
      unreadableUntilMs = Math.max(unreadableUntilMs ?? 0, f.mtimeMs);
      warnings.push(`${label}: the log ${f.path} could not be searched (${f.unsupported ? 'compressed in a format other than gzip' : 'unreadable'}); mails of its time are held`);
    }
    files.push({ path: f.path, size: f.size, mtimeMs: f.mtimeMs, compression: f.compression, firstLineMs: f.first ? lineTimeMs(f.first) : undefined, searched: needed && !bad && anything, unreadable: bad || undefined });
  }
  files.sort((a, b) => a.mtimeMs - b.mtimeMs);
  // The logs reach back to the first line of the oldest file; without a readable time stamp, only
  // to that file's last change (its content may start earlier, but that cannot be shown).
  const nonEmpty = files.filter((f) => f.size > 0);
  const oldest = nonEmpty[0];
  const coverageFromMs = oldest ? (oldest.firstLineMs ?? oldest.mtimeMs) : files[0]?.mtimeMs;
  if (oldest && oldest.firstLineMs === undefined) warnings.push(`${label}: the first line of ${oldest.path} has no time stamp this tool reads; the logs are taken to start at its last change (${new Date(oldest.mtimeMs).toISOString()})`);

  const pathOf = (h: { file: number }) => raw.files.get(h.file)?.path ?? '?';
  // Only lines of the box's shape are looked at; the pattern sees their text part, matched whole.
  const hits = raw.hits.map((h) => ({ ...h, box: parseBoxLine(h.text) }));
  const sampleTexts = raw.sample.flatMap((l) => {
    const b = parseBoxLine(l);
    return b && !spoolerEvent(l) ? [b.text] : [];
  });
  const toMatch = hits.filter((h) => h.box && !spoolerEvent(h.text));
  const res = await matchLines(opts.pattern, [...toMatch.map((h) => h.box!.text), ...sampleTexts], opts.lineBudgetMs);
  let patternUnusable = false;
  if (res.timedOutAt !== undefined) {
    patternUnusable = true;
    const where = res.timedOutAt < toMatch.length ? `a line of ${pathOf(toMatch[res.timedOutAt])} (line ${toMatch[res.timedOutAt].line})` : 'a delivery line of the current log';
    warnings.push(`mailgwHa.deliveryLogPattern took longer than ${opts.lineBudgetMs ?? 1000} ms on ${where} and was stopped: it backtracks too much. Mails the logs name are held; simplify the pattern.`);
  }
  const sampleMatches = res.matches.slice(toMatch.length);
  if (res.timedOutAt === undefined && sampleTexts.length > 0 && sampleMatches.every((m) => m === null)) {
    patternUnusable = true;
    warnings.push(`mailgwHa.deliveryLogPattern matched none of the ${sampleTexts.length} delivery line(s) in the current log (e.g. ${JSON.stringify(sampleTexts[sampleTexts.length - 1].slice(0, 160))}): delivered mail cannot be recognised. Mails the logs name are held; fix the pattern.`);
  }
  const matchOf = new Map(toMatch.map((h, i) => [h, res.matches[i]]));

  const deliveries = new Map<string, DeliveryRecord[]>();
  const doubtful = new Map<string, Mention>();
  const mentions = new Map<string, Mention>();
  const renames = new Map<string, string[]>();
  const byMessageId = new Map<string, (DeliveryRecord & { id: string })[]>();
  const midMentions = new Set<string>();
  let unparsed = 0;
  const named = (text: string) => [...wanted.ids].filter((id) => namesId(text, id));
  const namedMids = (text: string) => {
    if (wanted.messageIds.size === 0) return;
    const lower = text.toLowerCase();
    for (const k of wanted.messageIds.keys()) if (lower.includes(k.toLowerCase())) midMentions.add(k);
  };
  const mention = (into: Map<string, Mention>, ids: readonly string[], m: Mention) => {
    for (const id of ids) if (wanted.ids.has(id) && !into.has(id)) into.set(id, m);
  };
  for (const h of hits) {
    const at = { file: pathOf(h), line: h.line };
    const g = h.box && !spoolerEvent(h.text) ? matchOf.get(h) : undefined;
    const clean = g && h.box ? judgeDeliveryLine(h.box.text, g) : undefined;
    if (clean?.kind !== 'delivery') namedMids(h.text);
    if (!h.box) {
      // Not a line of the box's log (a continuation, junk, a line from another writer): it proves
      // nothing, but it is counted, and a mail it names cannot be proved absent by it either.
      unparsed++;
      mention(mentions, named(h.text), { ...at, what: 'a line not in the box log format' });
      continue;
    }
    const ev = spoolerEvent(h.text);
    if (ev?.kind === 'renamed') {
      if (wanted.ids.has(ev.from)) renames.set(ev.from, [...new Set([...(renames.get(ev.from) ?? []), ev.to])]);
      mention(mentions, [ev.from], { ...at, what: `renamed to ${ev.to} by the spooler` });
      continue;
    }
    if (ev?.kind === 'inserted') {
      mention(mentions, [ev.id], { ...at, what: 'inserted by the spooler' });
      continue;
    }
    if (!g) {
      mention(mentions, named(h.box.text), { ...at, what: 'named in a line that is no delivery' });
      continue;
    }
    const d = clean!;
    if (d.kind === 'ambiguous') {
      mention(doubtful, [...d.ids, ...named(h.box.text)], { ...at, what: `a delivery line that proves nothing: ${d.why}` });
      continue;
    }
    const rec: DeliveryRecord = { ...at, to: normalizeAddress(d.to), messageId: d.messageId };
    if (wanted.ids.has(d.id)) deliveries.set(d.id, [...(deliveries.get(d.id) ?? []), rec]);
    const mid = d.messageId && MESSAGE_ID_SHAPE.test(d.messageId) ? normalizeMessageId(d.messageId) : undefined;
    if (mid && wanted.messageIds.has(mid)) byMessageId.set(mid, [...(byMessageId.get(mid) ?? []), { ...rec, id: d.id }]);
  }
  if (unparsed) warnings.push(`${label}: ${unparsed} line(s) of the logs naming a mail looked for are not in the box's log format (YYYY MM DD HH:MM:SS, type, offset, text); they prove nothing, and the mails they name are held`);
  return { files, deliveries, doubtful, mentions, renames, byMessageId, midMentions, coverageFromMs, unreadableUntilMs, patternUnusable, unparsed, warnings };
}

/**
 * Why the logs cannot prove that a mail of time `mailMs` with gateway ids `ids` (its own and what
 * it was renamed to) was never delivered, or undefined if they can (then "no delivery line" means
 * not delivered).
 */
export function unprovable(s: LogSearch, ids: readonly string[], mailMs: number, marginMs = DELIVERY_SEARCH_MARGIN_MS, messageId?: string): string | undefined {
  const from = mailMs - marginMs;
  if (s.coverageFromMs === undefined) return 'the primary has no gateway log to check its deliveries against';
  if (s.coverageFromMs > from) return `the primary's logs start at ${new Date(s.coverageFromMs).toISOString()} (${s.files.find((f) => f.size > 0)?.path ?? 'no file'}), after this mail's time minus ${Math.round(marginMs / 60000)} min (${new Date(from).toISOString()}): an earlier delivery could not be checked`;
  if (s.unreadableUntilMs !== undefined && s.unreadableUntilMs >= from) return 'a log file that could hold its delivery could not be searched';
  const named = ids.map((id) => s.mentions.get(id)).find((m) => m);
  if (s.patternUnusable && named) return `the primary's log names it (${named.file}, line ${named.line}) but mailgwHa.deliveryLogPattern could not tell whether that is a delivery`;
  // A delivery of it under another id (renamed) could only be seen by a working pattern.
  if (s.patternUnusable && messageId && s.midMentions.has(normalizeMessageId(messageId))) return `its Message-ID is in the primary's log but mailgwHa.deliveryLogPattern could not tell whether that line is a delivery`;
  return undefined;
}
