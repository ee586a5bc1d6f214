// Follows a unit's gateway log over the pooled SSH connection with `tail -F` semantics, built so
// that nothing is lost or repeated across rotation, truncation and reconnects.
//
// How: the follower keeps the position it has read up to as (inode, byte offset). Each step is ONE
// exec of a fixed script (the path and numbers arrive as "$1".."$5", never as shell text) that waits
// on the unit (long poll, up to `waitMs`) until the file at the path grows, is truncated or is
// replaced, and then answers with a one-line header plus, for data, the raw bytes from the offset.
// Because exec collects the whole answer, the byte count is exact even if the file changes while it
// is read. After a dropped connection the next exec simply starts again from the recorded position;
// if the path now has another inode the script first finishes the old file (found by inode in the
// log folder, where rotation renamed it) and only then moves to the new one.
import { EventEmitter } from 'events';
import type { FileEntryWithStats, SFTPWrapper } from 'ssh2';
import type { ExecOptions, ExecResult } from '../ssh/connection';
import { SshError } from '../ssh/errors';
import { isSafeAbsolutePath } from '../names';

/** What the follower needs from a connection (UnitConnection provides it). */
export interface LogConnection {
  readonly address: { readonly label: string };
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
}

export interface LogPosition {
  /** Inode of the file being read ('none' while the file does not exist yet). */
  readonly ino: string;
  /** Bytes of that file already read. */
  readonly offset: number;
}

export type FollowStart =
  /** Only lines written from now on. */
  | { readonly from: 'end' }
  /** The last N lines first (read from a bounded window at the end), then new ones. */
  | { readonly lines: number }
  /** Resume from a position recorded earlier (e.g. by a recovery before it signals). */
  | { readonly position: LogPosition }
  /** The whole current file, then new lines. */
  | { readonly from: 'start' };

export interface FollowOptions {
  readonly file: string;
  readonly start?: FollowStart;
  /** Most bytes fetched per step (memory bound). */
  readonly maxChunkBytes?: number;
  /** How long one step waits on the unit for something to happen. */
  readonly waitMs?: number;
  /** A line longer than this is cut (memory bound for a file without newlines). */
  readonly maxLineBytes?: number;
  /** Delays between retries after a dropped connection: first, last. */
  readonly retryDelaysMs?: readonly [number, number];
  /** Most bytes read back for `{lines: N}`. */
  readonly maxBackfillBytes?: number;
}

export interface LogLine {
  readonly text: string;
  /** Where the line starts: inode and byte offset. */
  readonly ino: string;
  readonly offset: number;
}

export type FollowNotice =
  | { readonly type: 'rotated'; readonly from: LogPosition; readonly archive?: string; readonly to: string; readonly oldFileFound: boolean }
  | { readonly type: 'truncated'; readonly ino: string; readonly at: number; readonly size: number }
  | { readonly type: 'missing' }
  | { readonly type: 'reconnecting'; readonly error: string; readonly delayMs: number }
  | { readonly type: 'resumed'; readonly position: LogPosition }
  | { readonly type: 'stopped'; readonly error?: string }
  /**
   * `{lines: N}` found fewer lines than asked in the bytes it may read back: `shown` lines are shown;
   * the `skippedBytes` before the `readBackBytes` read back were not read (the lines there are long).
   */
  | { readonly type: 'backfillShort'; readonly wanted: number; readonly shown: number; readonly readBackBytes: number; readonly skippedBytes: number };

/** What a 'backfillShort' notice says, in words. */
export function backfillShortText(n: Extract<FollowNotice, { type: 'backfillShort' }>): string {
  const f = (x: number) => x.toLocaleString('en-US');
  return `only ${f(n.shown)} of the last ${f(n.wanted)} lines: the last ${f(n.readBackBytes)} bytes read back (the bound) hold no more; the ${f(n.skippedBytes)} bytes before them were not read (their lines are longer)`;
}

/** Line starts after a newline in `buf`; a newline as its last byte starts nothing yet. */
function lineStarts(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0 && i < buf.length - 1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

// Fixed script. $1 file, $2 inode read so far ('-': just report inode and size), $3 offset,
// $4 max bytes, $5 wait in tenths of a second. Header lines:
//   S <ino> <size>            (mode '-')   M  (mode '-', file missing)
//   D <ino> <offset> [<path>] then the bytes (path given when reading a rotated-away file)
//   T <ino> <size>            truncated below offset
//   R <newino> <size> <oldpath|->   the path now holds another file; the old one is finished (or gone)
//   I <ino> <offset>          nothing happened within the wait
//   L                         the path is a symbolic link: refused, never followed
export const FOLLOW_SCRIPT = `f=$1; ino=$2; off=$3; max=$4; tenths=$5
LC_ALL=C; export LC_ALL
[ -h "$f" ] && { echo L; exit 0; }
d=\${f%/*}; [ -n "$d" ] || d=/
st() {
  s=$(stat -L -c '%i %s' -- "$1" 2>/dev/null) && [ -n "$s" ] && { echo "$s"; return 0; }
  s=$(ls -inLd -- "$1" 2>/dev/null) || return 1
  set -- $s
  [ $# -ge 6 ] || return 1
  echo "$1 $6"
}
byino() { ls -i1a -- "$d" 2>/dev/null | while read -r i n; do if [ "$i" = "$1" ] && [ "$n" != . ] && [ "$n" != .. ]; then echo "$d/$n"; break; fi; done; }
send() { echo "D $ino $off $2"; tail -c +$((off + 1)) -- "$1" | head -c "$max"; exit 0; }
if [ "$ino" = - ]; then s=$(st "$f") || { echo M; exit 0; }; echo "S $s"; exit 0; fi
n=0
while :; do
  if s=$(st "$f"); then
    set -- $s; ci=$1; cs=$2
    if [ "$ci" != "$ino" ]; then
      g=$(byino "$ino")
      if [ -n "$g" ] && os=$(st "$g"); then
        set -- $os
        [ "$2" -gt "$off" ] && send "$g" "$g"
        echo "R $ci $cs $g"; exit 0
      fi
      echo "R $ci $cs -"; exit 0
    fi
    [ "$cs" -lt "$off" ] && { echo "T $ci $cs"; exit 0; }
    [ "$cs" -gt "$off" ] && send "$f"
  elif [ "$ino" != none ]; then
    g=$(byino "$ino")
    if [ -n "$g" ] && os=$(st "$g"); then set -- $os; [ "$2" -gt "$off" ] && send "$g" "$g"; fi
  fi
  n=$((n + 1))
  [ "$n" -ge "$tenths" ] && { echo "I $ino $off"; exit 0; }
  sleep 0.1 2>/dev/null || sleep 1
done`;

// Reads up to $3 bytes of $1 from byte $2 (used for "load more" in the editor); never through a symlink.
const READ_SCRIPT = `LC_ALL=C; export LC_ALL; [ -h "$1" ] && { echo "$1 is a symbolic link; refused" >&2; exit 4; }; tail -c +$(($2 + 1)) -- "$1" | head -c "$3"`;

const DEFAULTS = {
  maxChunkBytes: 1 << 20,
  waitMs: 10_000,
  maxLineBytes: 64 << 10,
  retryDelaysMs: [500, 10_000] as const,
  maxBackfillBytes: 4 << 20,
};

/** Appended to a line cut at the cap, so a reader sees that the line was longer. */
export function cutMark(maxLineBytes: number): string {
  return `[mailgw-ha: line cut at ${maxLineBytes.toLocaleString('en-US')} bytes]`;
}

/**
 * Follows one log file. Events: 'lines' (LogLine[] in file order, each line once), 'notice'
 * (FollowNotice). `start()` resolves once the first position is known (after any backfill).
 */
export class LogFollower extends EventEmitter {
  private ino = 'none';
  private offset = 0;
  /** Bytes after the last newline, waiting for the rest of their line. */
  private pending: Buffer = Buffer.alloc(0);
  private pendingOffset = 0;
  /** Inside a line longer than maxLineBytes whose head was handed out: skip to its newline. */
  private skipping = false;
  private running = false;
  private stopped = false;
  private cancel = { isCancellationRequested: false };
  private readonly opts: Required<Omit<FollowOptions, 'start'>> & { start: FollowStart };
  private loopDone: Promise<void> | undefined;
  private retry = 0;
  private wasLost = false;

  constructor(
    private readonly connection: LogConnection,
    options: FollowOptions,
  ) {
    super();
    if (!isSafeAbsolutePath(options.file) || options.file.endsWith('/')) throw new Error(`${connection.address.label}: "${options.file}" is not an absolute log file path (letters, digits, ".", "_", "+", "-" in each segment).`);
    this.opts = {
      file: options.file,
      start: options.start ?? { from: 'end' },
      maxChunkBytes: options.maxChunkBytes ?? DEFAULTS.maxChunkBytes,
      waitMs: options.waitMs ?? DEFAULTS.waitMs,
      maxLineBytes: options.maxLineBytes ?? DEFAULTS.maxLineBytes,
      retryDelaysMs: options.retryDelaysMs ?? DEFAULTS.retryDelaysMs,
      maxBackfillBytes: options.maxBackfillBytes ?? DEFAULTS.maxBackfillBytes,
    };
  }

  get file(): string {
    return this.opts.file;
  }

  /** The position read up to (complete lines only: a partial last line is read again on resume). */
  get position(): LogPosition {
    return { ino: this.ino, offset: this.pending.length ? this.pendingOffset : this.offset };
  }

  /** Stopped for good (stop() called, or a fatal error such as a closed connection). */
  get isStopped(): boolean {
    return this.stopped;
  }

  get isRunning(): boolean {
    return this.running && !this.stopped;
  }

  override on(event: 'lines', listener: (lines: LogLine[]) => void): this;
  override on(event: 'notice', listener: (notice: FollowNotice) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter's own signature
  override on(event: string, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  /** Finds the start position (with backfill for `{lines}`), then follows in the background. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const s = this.opts.start;
    if ('position' in s) {
      this.ino = s.position.ino;
      this.offset = this.pendingOffset = s.position.offset;
    } else {
      const stat = await this.withRetry(() => this.step('-', 0));
      if (stat.kind === 'S') {
        this.ino = stat.ino;
        if ('lines' in s) await this.backfill(stat.size, s.lines);
        else this.offset = this.pendingOffset = 'from' in s && s.from === 'start' ? 0 : stat.size;
      } else {
        this.ino = 'none';
        this.offset = this.pendingOffset = 0;
        this.emit('notice', { type: 'missing' } satisfies FollowNotice);
      }
    }
    this.loopDone = this.loop();
  }

  /** Stops following; an exec waiting on the unit is cancelled. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.cancel.isCancellationRequested = true;
    await this.loopDone?.catch(() => undefined);
  }

  /**
   * The last `lines` lines before `size`: read back from the end in a window that widens (doubling,
   * from 64 KiB or 512 bytes a line) until it holds that many line starts, the file's start, or the
   * bound (maxBackfillBytes). A long line therefore no longer hides the lines before it; past the
   * bound, the lines found are shown and a 'backfillShort' notice says how many and why.
   */
  private async backfill(size: number, lines: number): Promise<void> {
    const bound = Math.min(size, this.opts.maxBackfillBytes);
    let window = Math.min(bound, Math.max(64 << 10, lines * 512));
    // Read back: [readFrom, size), where readFrom is one byte before the window's start `from` (so
    // that a line starting right at `from` is seen to start there), or 0 at the file's start.
    let from = size;
    let readFrom = size;
    const raw: Buffer[] = [];
    let changed = false;
    for (;;) {
      const next = size - window;
      const a = Math.max(0, next - 1);
      const got = await this.readRange(a, readFrom);
      if (!got) {
        changed = true; // the file changed under the read (rotated, truncated): keep what was read
        break;
      }
      raw.unshift(got);
      readFrom = a;
      from = next;
      if (from === 0 || window >= bound || lineStarts(Buffer.concat(raw)) >= lines) break;
      window = Math.min(bound, window * 2);
    }
    let buf = Buffer.concat(raw);
    let at = readFrom;
    if (from > 0 && buf.length) {
      // The bytes up to the first newline belong to a line that started before the window.
      const nl = buf.indexOf(10);
      if (nl < 0) {
        // One line fills the whole window and goes on: skip to its end.
        this.offset = this.pendingOffset = size;
        this.skipping = true;
        buf = Buffer.alloc(0);
      } else {
        buf = buf.subarray(nl + 1);
        at += nl + 1;
      }
    }
    let found: LogLine[] = [];
    if (buf.length) {
      this.offset = this.pendingOffset = at;
      found = this.consume(buf);
    } else if (!this.skipping) this.offset = this.pendingOffset = size;
    const keep = found.slice(Math.max(0, found.length - lines));
    if (keep.length) this.emit('lines', keep);
    if (keep.length < lines && from > 0 && !changed) {
      this.emit('notice', { type: 'backfillShort', wanted: lines, shown: keep.length, readBackBytes: size - from, skippedBytes: from } satisfies FollowNotice);
    }
  }

  /** The bytes [from, to) of the current file, or undefined if it changed (another inode, truncated). */
  private async readRange(from: number, to: number): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    for (let pos = from; pos < to; ) {
      const r = await this.withRetry(() => this.step(this.ino, pos));
      if (r.kind !== 'D' || r.ino !== this.ino || r.offset !== pos || r.data.length === 0) return undefined;
      const piece = r.data.subarray(0, Math.min(r.data.length, to - pos));
      parts.push(piece);
      pos += piece.length;
    }
    return Buffer.concat(parts);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let r: StepResult;
      try {
        r = await this.withRetry(() => this.step(this.ino, this.offset));
      } catch (err) {
        // Stopped before anyone hears of it: a listener that follows again must get a fresh source.
        const byStop = this.stopped;
        this.stopped = true;
        if (!byStop) this.emit('notice', { type: 'stopped', error: (err as Error).message } satisfies FollowNotice);
        break;
      }
      if (this.stopped) break;
      this.handle(r);
    }
    this.running = false;
  }

  private handle(r: StepResult): void {
    switch (r.kind) {
      case 'D': {
        if (r.ino !== this.ino || r.offset !== this.offset) return; // stale answer: ask again
        const lines = this.consume(r.data);
        if (lines.length) this.emit('lines', lines);
        return;
      }
      case 'T': {
        this.flushPending();
        const at = this.offset;
        this.offset = this.pendingOffset = 0;
        this.emit('notice', { type: 'truncated', ino: r.ino, at, size: r.size } satisfies FollowNotice);
        return;
      }
      case 'R': {
        this.flushPending();
        const from = { ino: this.ino, offset: this.offset };
        const hadFile = this.ino !== 'none';
        this.ino = r.ino;
        this.offset = this.pendingOffset = 0;
        if (hadFile) this.emit('notice', { type: 'rotated', from, archive: r.archive, to: r.ino, oldFileFound: r.archive !== undefined } satisfies FollowNotice);
        return;
      }
      default:
        return;
    }
  }

  /**
   * Appends bytes at the current offset; returns the complete lines. A line longer than
   * maxLineBytes (with or without its newline yet) is handed out once, cut to that many bytes and
   * marked, and the rest of it up to its newline is skipped: no line, and so no ring of recent
   * lines, holds more than the cap (a unit writing one endless line costs 64 KiB, not gigabytes).
   */
  private consume(data: Buffer): LogLine[] {
    const out: LogLine[] = [];
    const max = this.opts.maxLineBytes;
    const base = this.offset;
    this.offset += data.length;
    let pos = 0;
    while (pos < data.length) {
      const nl = data.indexOf(10, pos);
      const end = nl < 0 ? data.length : nl;
      if (this.skipping) {
        if (nl < 0) break;
        this.skipping = false;
        pos = nl + 1;
        continue;
      }
      const start = this.pending.length ? this.pendingOffset : base + pos;
      const piece = data.subarray(pos, end);
      if (this.pending.length + piece.length > max) {
        const head = Buffer.concat([this.pending, piece.subarray(0, Math.max(0, max - this.pending.length))]);
        out.push({ text: `${head.toString('utf8')} ${cutMark(max)}`, ino: this.ino, offset: start });
        this.pending = Buffer.alloc(0);
        if (nl < 0) {
          this.skipping = true;
          break;
        }
        pos = nl + 1;
        continue;
      }
      if (nl < 0) {
        this.pending = this.pending.length ? Buffer.concat([this.pending, piece]) : Buffer.from(piece);
        this.pendingOffset = start;
        break;
      }
      const line = this.pending.length ? Buffer.concat([this.pending, piece]) : piece;
      out.push({ text: line.toString('utf8', 0, line.length && line[line.length - 1] === 13 ? line.length - 1 : line.length), ino: this.ino, offset: start });
      this.pending = Buffer.alloc(0);
      pos = nl + 1;
    }
    return out;
  }

  private flushPending(): void {
    this.skipping = false; // a new file (or the same one from 0) starts with a new line
    if (!this.pending.length) return;
    const line = { text: this.pending.toString('utf8'), ino: this.ino, offset: this.pendingOffset };
    this.pending = Buffer.alloc(0);
    this.emit('lines', [line]);
  }

  /** Runs a step, waiting and retrying while the connection is down; fatal SSH errors end it. */
  private async withRetry(fn: () => Promise<StepResult>): Promise<StepResult> {
    for (;;) {
      if (this.stopped) return { kind: 'I' };
      try {
        const r = await fn();
        if (this.wasLost) {
          this.wasLost = false;
          this.emit('notice', { type: 'resumed', position: this.position } satisfies FollowNotice);
        }
        this.retry = 0;
        return r;
      } catch (err) {
        if (this.stopped) return { kind: 'I' };
        if (err instanceof SshError && err.fatal) throw err;
        if (!(err instanceof SshError)) throw err;
        const [first, last] = this.opts.retryDelaysMs;
        const delayMs = Math.min(last, first * 2 ** this.retry++);
        this.wasLost = true;
        this.emit('notice', { type: 'reconnecting', error: err.message, delayMs } satisfies FollowNotice);
        await new Promise((r) => setTimeout(r, delayMs));
      }
    }
  }

  private async step(ino: string, offset: number): Promise<StepResult> {
    const tenths = ino === '-' ? 0 : Math.max(1, Math.round(this.opts.waitMs / 100));
    const r = await this.connection.exec(['sh', '-c', FOLLOW_SCRIPT, 'sh', this.opts.file, ino, String(offset), String(this.opts.maxChunkBytes), String(tenths)], {
      timeoutMs: this.opts.waitMs + 30_000,
      cancellation: this.cancel,
    });
    if (r.code !== 0) throw new Error(`${this.connection.address.label}: following ${this.opts.file} failed (exit ${r.code}): ${r.stderr.trim() || 'no message'}`);
    return parseStep(r.stdout, this.connection.address.label);
  }
}

type StepResult =
  | { kind: 'S'; ino: string; size: number }
  | { kind: 'M' }
  | { kind: 'D'; ino: string; offset: number; data: Buffer }
  | { kind: 'T'; ino: string; size: number }
  | { kind: 'R'; ino: string; size: number; archive?: string }
  | { kind: 'I' };

function parseStep(out: Buffer, label: string): StepResult {
  const nl = out.indexOf(10);
  const head = out.toString('utf8', 0, nl < 0 ? out.length : nl).split(' ');
  const num = (s: string | undefined) => {
    if (s === undefined || !/^\d+$/.test(s)) throw new Error(`${label}: unexpected answer from the log follower: ${JSON.stringify(out.toString('utf8', 0, Math.min(out.length, 80)))}`);
    return Number(s);
  };
  switch (head[0]) {
    case 'S':
      return { kind: 'S', ino: String(num(head[1])), size: num(head[2]) };
    case 'M':
      return { kind: 'M' };
    case 'D':
      return { kind: 'D', ino: String(num(head[1])), offset: num(head[2]), data: out.subarray(nl + 1) };
    case 'T':
      return { kind: 'T', ino: String(num(head[1])), size: num(head[2]) };
    case 'R': {
      const archive = head.slice(3).join(' ');
      return { kind: 'R', ino: String(num(head[1])), size: num(head[2]), archive: archive && archive !== '-' ? archive : undefined };
    }
    case 'I':
      return { kind: 'I' };
    case 'L':
      throw new Error(`${label}: the log path is a symbolic link; it is not followed (only the gateway's own log files are shown).`);
    default:
      num(undefined);
      return { kind: 'I' };
  }
}

/**
 * Reads the text just before `endOffset` (at most `maxBytes`), starting at a line start: for
 * "load more" above what an editor shows. `startOffset` 0 means the top of the file was reached.
 */
export async function readBefore(connection: LogConnection, file: string, endOffset: number, maxBytes: number): Promise<{ startOffset: number; text: string }> {
  if (!isSafeAbsolutePath(file)) throw new Error(`${connection.address.label}: "${file}" is not an absolute log file path.`);
  const from = Math.max(0, endOffset - maxBytes);
  const r = await connection.exec(['sh', '-c', READ_SCRIPT, 'sh', file, String(from), String(endOffset - from)], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${connection.address.label}: cannot read ${file} (exit ${r.code}): ${r.stderr.trim()}`);
  let buf = r.stdout;
  let start = from;
  if (from > 0) {
    const nl = buf.indexOf(10);
    if (nl < 0) return { startOffset: endOffset, text: '' };
    buf = buf.subarray(nl + 1);
    start += nl + 1;
  }
  return { startOffset: start, text: buf.toString('utf8') };
}

/** Lists the regular files of a log folder (name, size, mtime), newest first: for "Pick Log File…". */
export async function listLogFiles(connection: { readonly address: { readonly label: string }; withSftp<T>(work: (sftp: SFTPWrapper) => Promise<T>): Promise<T> }, dir = '/var/phion/logs'): Promise<LogFileEntry[]> {
  if (!isSafeAbsolutePath(dir)) throw new Error(`${connection.address.label}: "${dir}" is not an absolute folder path.`);
  const clean = dir.replace(/\/+$/, '') || '/';
  const entries = await connection.withSftp(
    (sftp) =>
      new Promise<FileEntryWithStats[]>((resolve, reject) =>
        sftp.readdir(clean, (err, list) => (err ? reject(new Error(`${connection.address.label}: cannot list the log folder ${clean}: ${err.message}. Check the folder exists on the unit.`)) : resolve(list))),
      ),
  );
  return entries
    .filter((e) => (e.attrs.mode & 0o170000) === 0o100000)
    .map((e) => ({ name: e.filename, path: `${clean === '/' ? '' : clean}/${e.filename}`, size: e.attrs.size, mtimeMs: e.attrs.mtime * 1000 }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs || a.name.localeCompare(b.name));
}

export interface LogFileEntry {
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}
