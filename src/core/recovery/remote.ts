// Everything recovery runs on a unit. Scripts are constant text; mail ids reach them on stdin (one
// validated id a line) or as "$1".. — never as shell text. Each script works on exactly named files
// in one folder: no globs over mail files, no `rm *`.
import { isSafeAbsolutePath, isSafeMailId } from '../names';
import { readHead } from '../message/read';
import type { UnitConnection } from '../ssh/connection';
import { SshError } from '../ssh/errors';
import { HEADER_CAP_BYTES, messageIdOf, MessageIdResult } from '../message/messageId';

export class RecoveryError extends Error {}

/** Exit status of a state script that found a symbolic link where its own file or folder belongs (the path on stdout). */
export const LINK_EXIT = 3;

/**
 * The refusal of a symbolic link found where the extension keeps its state on a unit (held marks,
 * the recovery lock): never read or written through, so a link cannot show another file as a mark
 * or an owner, nor make a mark land elsewhere.
 */
export function linkRefused(unit: string, where: string, what: string): RecoveryError {
  const p = where.split('\n')[0].slice(0, 300);
  return new RecoveryError(`${unit}: ${p} is a symbolic link where ${what} belongs; refused (the extension never reads or writes its state on a unit through a link). Check who made it, and remove it on the unit`);
}

function checkIds(ids: readonly string[]): string {
  for (const id of ids) if (!isSafeMailId(id)) throw new RecoveryError(`refusing unsafe mail id ${JSON.stringify(id)}`);
  return ids.map((i) => `${i}\n`).join('');
}
/** Ids as a command's input: known now, or (a promise) once they are known. */
function idsInput(ids: readonly string[] | Promise<readonly string[]>): string | Promise<string> {
  return ids instanceof Promise ? ids.then(checkIds) : checkIds(ids);
}
function checkDir(dir: string): string {
  if (!isSafeAbsolutePath(dir)) throw new RecoveryError(`refusing unsafe folder ${JSON.stringify(dir)}`);
  return dir;
}

async function run(conn: UnitConnection, what: string, script: string, args: string[], stdin: string | Promise<string>, timeoutMs = 120_000, readOnly = false): Promise<string> {
  const r = await conn.execScript(script, args, { stdin, timeoutMs, readOnly });
  if (r.code !== 0) throw new RecoveryError(`${conn.address.label}: ${what} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(0, 3).join('; ')}`);
  return r.stdout.toString('utf8');
}

// ---- tools -------------------------------------------------------------------------------------

export interface Tools {
  tar: boolean;
  sha256sum: boolean;
  xargs: boolean;
}

const TOOLS_SCRIPT = `for t in tar sha256sum xargs ln stat; do command -v "$t" >/dev/null 2>&1 && echo "$t"; done; exit 0`;

export async function probeTools(conn: UnitConnection): Promise<Tools & { ln: boolean; stat: boolean }> {
  const out = new Set((await run(conn, 'looking for tar/sha256sum', TOOLS_SCRIPT, [], '', 120_000, true)).split('\n'));
  return { tar: out.has('tar'), sha256sum: out.has('sha256sum'), xargs: out.has('xargs'), ln: out.has('ln'), stat: out.has('stat') };
}

// ---- tar of named files ----------------------------------------------------------------------------

/**
 * `tar -cf -` of the files named on stdin (one validated name a line), in the current folder. Not `-T -`:
 * BusyBox's tar (a box whose tools are BusyBox's) has no -T, so the names become arguments (no
 * globbing, split at line ends only; a batch's names stay far below the argument limit). No names:
 * an empty archive (its two zero blocks, padded), which every tar unpacks to nothing.
 */
export const TAR_CREATE_NAMED = `set -f
IFS='
'
n=$(cat)
if [ -z "$n" ]; then head -c 10240 /dev/zero; else exec tar -cf - -- $n; fi`;

// ---- hashes --------------------------------------------------------------------------------------

// $1 folder; stdin: file names (validated "<id>.body"/"<id>.env"). Missing files are skipped, links
// are never hashed (test -f follows links, so -L is checked first).
const HASH_SCRIPT = `cd -- "$1" || exit 3
while IFS= read -r f; do if [ ! -L "$f" ] && [ -f "$f" ]; then printf '%s\\n' "$f"; fi; done | xargs -r sha256sum --`;

/**
 * SHA-256 of named files in a folder (hex by file name); absent files are missing from the map.
 * `after`: the command is started now and hashes once that has settled (e.g. a copy into `dir`).
 */
export async function hashFiles(conn: UnitConnection, dir: string, names: readonly string[], opts: { after?: Promise<unknown> } = {}): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (names.length === 0) return out;
  for (const n of names) if (!/^(.*)\.(body|env)$/.test(n) || !isSafeMailId(n.replace(/\.(body|env)$/, ''))) throw new RecoveryError(`refusing unsafe file name ${JSON.stringify(n)}`);
  const list = names.map((n) => `${n}\n`).join('');
  const text = await run(conn, `hashing files in ${dir}`, HASH_SCRIPT, [checkDir(dir)], opts.after ? opts.after.then(() => list) : list, 300_000);
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) out.set(m[2], m[1]);
  }
  return out;
}

// ---- placing copies into input/ -------------------------------------------------------------------

// $1 input folder, $2 staging folder (inside $1); stdin: ids. For each id whose final names are both
// free, hard-link the staged .body into input/ (ln never replaces an existing file), then — only
// for bodies that are really ours (-ef: same inode) — the .env. A body whose .env could not be placed
// is unlinked again. Batched ln calls keep this fast for thousands of mails. Prints "placed|exists|failed ID".
const PLACE_SCRIPT = `cd -- "$1" || exit 3
stage=$2
ids=$(cat)
cand=
for id in $ids; do
  if [ -e "$id.body" ] || [ -L "$id.body" ] || [ -e "$id.env" ] || [ -L "$id.env" ]; then echo "exists $id"; continue; fi
  if [ ! -f "$stage/$id.body" ] || [ ! -f "$stage/$id.env" ]; then echo "failed $id"; continue; fi
  cand="$cand $id"
done
for id in $cand; do printf '%s\\n' "$stage/$id.body"; done | xargs -r sh -c 'ln -- "$@" . 2>/dev/null; exit 0' sh
envs=
for id in $cand; do if [ "$stage/$id.body" -ef "$id.body" ]; then envs="$envs $id"; else echo "failed $id"; fi; done
for id in $envs; do printf '%s\\n' "$stage/$id.env"; done | xargs -r sh -c 'ln -- "$@" . 2>/dev/null; exit 0' sh
ok=
for id in $envs; do
  if [ "$stage/$id.env" -ef "$id.env" ]; then echo "placed $id"; ok="$ok $id"
  else rm -f -- "$id.body"; echo "failed $id"; fi
done
for id in $ok; do printf '%s\\n%s\\n' "$stage/$id.body" "$stage/$id.env"; done | xargs -r rm -f --
exit 0`;

export interface PlaceResult {
  placed: string[];
  exists: string[];
  failed: string[];
}

/**
 * Places staged copies under their final names. Ids still being decided (a promise): the command is
 * started now and places what it is sent once they are known (nothing, if the promise rejects).
 */
export async function placeStaged(conn: UnitConnection, inputDir: string, stageDir: string, idsOrPromise: readonly string[] | Promise<readonly string[]>): Promise<PlaceResult> {
  const res: PlaceResult = { placed: [], exists: [], failed: [] };
  if (!(idsOrPromise instanceof Promise) && idsOrPromise.length === 0) return res;
  if (!stageDir.startsWith(`${inputDir}/.`)) throw new RecoveryError(`staging folder ${stageDir} must be a dot-folder inside ${inputDir}`);
  const text = await run(conn, `placing mails into ${inputDir}`, PLACE_SCRIPT, [checkDir(inputDir), checkDir(stageDir)], idsInput(idsOrPromise));
  for (const line of text.split('\n')) {
    const m = /^(placed|exists|failed) (\S+)$/.exec(line);
    if (m) res[m[1] as keyof PlaceResult].push(m[2]);
  }
  return res;
}

// ---- removing exactly named files ----------------------------------------------------------------

// $1 folder; stdin: ids. Removes "<id>.body" then "<id>.env" (the link itself if one is a link:
// rm never follows). Names are built from validated ids only.
const REMOVE_SCRIPT = `cd -- "$1" || exit 3
while IFS= read -r id; do printf '%s\\n%s\\n' "$id.body" "$id.env"; done | xargs -r rm -f --`;

/**
 * Removes the mails' files. Ids not known yet (a promise): the command is started now and removes
 * what it is sent once they are (nothing, if the promise rejects).
 */
export async function removeMails(conn: UnitConnection, dir: string, idsOrPromise: readonly string[] | Promise<readonly string[]>): Promise<void> {
  if (!(idsOrPromise instanceof Promise) && idsOrPromise.length === 0) return;
  await run(conn, `removing mails from ${dir}`, REMOVE_SCRIPT, [checkDir(dir)], idsInput(idsOrPromise));
}

// $1 folder; stdin: exact file names. Removes those that exist, then the folder if it is empty.
const REMOVE_STAGE_SCRIPT = `[ -d "$1" ] || exit 0
cd -- "$1" || exit 3
xargs -r rm -f --
cd / && rmdir -- "$1" 2>/dev/null; exit 0`;

// $1 folder; stdin: exact file names (validated). Removes those, nothing else.
const REMOVE_FILES_SCRIPT = `cd -- "$1" || exit 3
xargs -r rm -f --`;

export async function removeFiles(conn: UnitConnection, dir: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  for (const n of names) if (!/\.(body|env)$/.test(n) || !isSafeMailId(n.replace(/\.(body|env)$/, ''))) throw new RecoveryError(`refusing unsafe file name ${JSON.stringify(n)}`);
  await run(conn, `removing files from ${dir}`, REMOVE_FILES_SCRIPT, [checkDir(dir)], names.map((n) => `${n}\n`).join(''));
}

export async function removeStage(conn: UnitConnection, stageDir: string, ids: readonly string[]): Promise<void> {
  const names = ids.flatMap((i) => [`${i}.body`, `${i}.env`]);
  checkIds(ids);
  await run(conn, `cleaning the staging folder ${stageDir}`, REMOVE_STAGE_SCRIPT, [checkDir(stageDir)], names.map((n) => `${n}\n`).join(''));
}

// ---- the gateway log -------------------------------------------------------------------------------

export interface LogMark {
  readonly inode: string;
  readonly size: number;
}

const STAT_SCRIPT = `stat -c '%i %s' -- "$1" 2>/dev/null || echo "- 0"`;

export async function logMark(conn: UnitConnection, logFile: string): Promise<LogMark> {
  const text = (await run(conn, `reading the size of ${logFile}`, STAT_SCRIPT, [checkDir(logFile)], '', 120_000, true)).trim();
  const m = /^(\S+) (\d+)$/.exec(text);
  if (!m) throw new RecoveryError(`${conn.address.label}: cannot read the size of ${logFile}: ${text}`);
  return { inode: m[1], size: Number(m[2]) };
}

// $1 log, $2 inode, $3 offset. Prints what was appended to the file with that inode after the
// offset (the file may have been rotated aside as "<log>.<stamp>"), then, if the current log is a
// newer file, all of it. Only log files are read.
const LOG_SINCE_SCRIPT = `f=$1; ino=$2; off=$3
for g in "$f" "$f".*; do
  [ -f "$g" ] && [ ! -L "$g" ] || continue
  if [ "$(stat -c %i -- "$g")" = "$ino" ]; then tail -c +"$((off + 1))" -- "$g"; echo; break; fi
done
if [ "$(stat -c %i -- "$f" 2>/dev/null)" != "$ino" ] && [ -f "$f" ]; then cat -- "$f"; fi
exit 0`;

export async function logSince(conn: UnitConnection, logFile: string, mark: LogMark): Promise<string> {
  return run(conn, `reading ${logFile}`, LOG_SINCE_SCRIPT, [checkDir(logFile), mark.inode, String(mark.size)], '', 120_000, true);
}


// ---- Message-IDs from the complete header block --------------------------------------------------

// $1 folder, $2 cap in bytes; stdin: ids. For each "<id>.body" that is a regular file (never a
// link): "H <id>", then what of its header block (up to and including the first empty line, at most
// $2 bytes) can bear on the Message-ID, each line prefixed by "|", then "E <id> blank|eof|cap|err".
// Others: "X <id>". One awk for all files. Only Message-ID lines and their continuation lines are
// sent as they are; each run of other header lines (with their continuations) is sent as one line
// "x", so that messageIdOf() reads the same values, unfolds the same way and, for a cut block, drops
// the same last line as it would from the whole block (HEADERS_FULL_SCRIPT, kept to prove that).
const headersScript = (filter: boolean) => `cd -- "$1" || exit 3
while IFS= read -r id; do
  if [ -L "$id.body" ] || [ ! -f "$id.body" ]; then echo "X $id"; else printf '%s\\n' "$id"; fi
done | LC_ALL=C awk -v cap="$2" -v filter=${filter ? 1 : 0} '
/^X / { print; next }
{ id = $0; f = id ".body"; n = 0; st = "eof"; prev = ""; print "H " id
  while ((r = (getline line < f)) > 0) {
    n += length(line) + 1
    if (n > cap) { st = "cap"; break }
    if (line ~ /^\\r?$/) { print "|" line; st = "blank"; break }
    if (!filter) { print "|" line; continue }
    if (line ~ /^[ \\t]/ && prev == "mid") { print "|" line; continue }
    if (line !~ /^[ \\t]/ && tolower(line) ~ /^message-id[ \\t]*:/) { print "|" line; prev = "mid"; continue }
    if (prev != "other") { print "|x"; prev = "other" }
  }
  if (r < 0) st = "err"
  close(f)
  print "E " id " " st
}'`;
const HEADERS_SCRIPT = headersScript(true);
/** The same, sending every header line: the reference the filtered output is tested against. */
export const HEADERS_FULL_SCRIPT = headersScript(false);
export const HEADERS_FILTERED_SCRIPT = HEADERS_SCRIPT;

/** Ids per header-reading command (bounds one command's output to ids x HEADER_CAP_BYTES). */
const HEADER_BATCH = 200;
/** Header-reading commands in flight per folder. */
const HEADER_CONCURRENCY = 3;

/** Parses HEADERS_SCRIPT's output into a result per id. */
export function parseHeaderOutput(text: string): Map<string, MessageIdResult> {
  const out = new Map<string, MessageIdResult>();
  let id: string | undefined;
  let lines: string[] = [];
  for (const line of text.split('\n')) {
    if (id !== undefined && line.startsWith('|')) {
      lines.push(line.slice(1));
      continue;
    }
    const h = /^H (\S+)$/.exec(line);
    if (h) {
      id = h[1];
      lines = [];
      continue;
    }
    const e = /^E (\S+) (blank|eof|cap|err)$/.exec(line);
    if (e && e[1] === id) {
      const head = lines.join('\n') + (e[2] === 'blank' ? '\n' : '');
      out.set(id, e[2] === 'err' ? { kind: 'unreadable' } : messageIdOf(head, e[2] !== 'cap'));
      id = undefined;
      continue;
    }
    const x = /^X (\S+)$/.exec(line);
    if (x) out.set(x[1], { kind: 'unreadable' });
  }
  return out;
}

/**
 * The Message-ID of each "<dir>/<id>.body" from its complete header block (up to HEADER_CAP_BYTES),
 * read on the unit by one command per batch of ids; over SFTP if the unit has no awk.
 */
export async function readMessageIdResults(conn: UnitConnection, dir: string, idsOrPromise: readonly string[] | Promise<readonly string[]>): Promise<Map<string, MessageIdResult>> {
  checkDir(dir);
  const args = [dir, String(HEADER_CAP_BYTES)];
  // Ids still being listed: the first command is started now and gets its ids when they are known.
  const early = idsOrPromise instanceof Promise ? conn.execScript(HEADERS_SCRIPT, args, { stdin: idsOrPromise.then((ids) => checkIds(ids.slice(0, HEADER_BATCH))), timeoutMs: 120_000 }) : undefined;
  early?.catch(() => undefined); // awaited below
  const ids = await idsOrPromise;
  checkIds(ids);
  const out = new Map<string, MessageIdResult>();
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += HEADER_BATCH) batches.push(ids.slice(i, i + HEADER_BATCH));
  let next = 0;
  // A few batches at once: each is one command, so the unit reads while the answers travel.
  const worker = async () => {
    while (next < batches.length) {
      const first = next === 0;
      const batch = batches[next++];
      const r = first && early ? await early : await conn.execScript(HEADERS_SCRIPT, args, { stdin: checkIds(batch), timeoutMs: 120_000, readOnly: true });
      if (r.code === 127 || (r.code !== 0 && /awk/.test(r.stderr))) {
        for (const [id, res] of await readMessageIdsSftp(conn, dir, batch)) out.set(id, res);
        continue;
      }
      if (r.code !== 0) throw new RecoveryError(`${conn.address.label}: reading the headers of mails in ${dir} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(0, 3).join('; ')}`);
      const parsed = parseHeaderOutput(r.stdout.toString('latin1'));
      for (const id of batch) out.set(id, parsed.get(id) ?? { kind: 'unreadable' });
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEADER_CONCURRENCY, batches.length) }, worker));
  return out;
}

/** The same over SFTP (many requests in flight), for units without awk. */
async function readMessageIdsSftp(conn: UnitConnection, dir: string, ids: readonly string[], inFlight = 32): Promise<Map<string, MessageIdResult>> {
  const out = new Map<string, MessageIdResult>();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const head = await readHead(conn, `${dir}/${id}.body`, 8192, HEADER_CAP_BYTES + 1).catch((err: unknown) => {
        // A lost connection fails the plan; an unreadable file has no usable Message-ID.
        if (err instanceof SshError) throw err;
        return undefined;
      });
      out.set(id, head ? messageIdOf(head.subarray(0, HEADER_CAP_BYTES), head.length <= HEADER_CAP_BYTES) : { kind: 'unreadable' });
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, ids.length) }, worker));
  return out;
}

/** The strict Message-ID of each mail (undefined when it has no single usable one). */
export async function readMessageIds(conn: UnitConnection, dir: string, ids: readonly string[]): Promise<Map<string, string | undefined>> {
  const res = await readMessageIdResults(conn, dir, ids);
  return new Map([...res].map(([id, r]) => [id, r.kind === 'ok' ? r.id : undefined]));
}
