// One follower per (unit, log file), shared by every view that shows that log (panel, editor,
// status bar): a single SSH channel per log, however many views watch it. Each source keeps a
// bounded ring of recent lines so a view that opens later starts with the tail, and counts the
// mails inserted since it started (not those in the history it read back).
import { EventEmitter } from 'events';
import { FollowNotice, LogConnection, LogFollower, LogLine, LogPosition } from './follow';
import { LogRecord, parseLine } from './parse';
import { logSourceKey } from '../keys';

export interface HubLine extends LogLine {
  readonly record: LogRecord;
  /** Read back from before the watch started. */
  readonly history: boolean;
  /** Increasing number per source (for views to order and dedupe). */
  readonly seq: number;
}

export interface LogSourceInfo {
  /** `<unit key>:<file>` */
  readonly key: string;
  readonly unitKey: string;
  readonly cluster: string;
  readonly file: string;
}

export interface SourceListener {
  lines(lines: readonly HubLine[]): void;
  notice?(notice: FollowNotice): void;
}

const DEFAULT_RING = 5_000;
const DEFAULT_BACKFILL = 500;

export class LogSource extends EventEmitter {
  private readonly follower: LogFollower;
  private readonly ring: HubLine[] = [];
  private readonly subs = new Set<SourceListener>();
  private seq = 0;
  private started: Promise<void> | undefined;
  private live = false;
  /** Ids seen as inserted since the watch started. */
  readonly insertedIds = new Set<string>();
  lastNotice: FollowNotice | undefined;

  constructor(
    readonly info: LogSourceInfo,
    readonly connection: LogConnection,
    private readonly ringSize = DEFAULT_RING,
    backfillLines = DEFAULT_BACKFILL,
  ) {
    super();
    this.follower = new LogFollower(connection, { file: info.file, start: { lines: backfillLines } });
    this.follower.on('lines', (ls) => this.onLines(ls));
    this.follower.on('notice', (n) => {
      this.lastNotice = n;
      for (const l of this.subs) l.notice?.(n);
      this.emit('notice', n);
    });
  }

  /** Lines currently held (the tail of the log as seen by this source). */
  get recent(): readonly HubLine[] {
    return this.ring;
  }
  /** The first line still held: where "load more" continues upwards. */
  get firstPosition(): LogPosition | undefined {
    const f = this.ring[0];
    return f ? { ino: f.ino, offset: f.offset } : undefined;
  }
  get position(): LogPosition {
    return this.follower.position;
  }
  get running(): boolean {
    return this.follower.isRunning;
  }
  /** Ended for good (its connection was closed, e.g. by a settings change): a new watch needs a new source. */
  get ended(): boolean {
    return this.follower.isStopped;
  }

  start(): Promise<void> {
    if (!this.started) {
      this.started = this.follower.start().then(() => {
        this.live = true;
      });
      this.started.catch(() => (this.started = undefined));
    }
    return this.started;
  }

  /** Replays the lines held so far, then every new line. Returns an unsubscribe function. */
  subscribe(listener: SourceListener, replay = true): () => void {
    if (replay && this.ring.length) listener.lines(this.ring.slice());
    this.subs.add(listener);
    return () => {
      this.subs.delete(listener);
    };
  }

  get subscribers(): number {
    return this.subs.size;
  }

  private onLines(lines: LogLine[]): void {
    const out: HubLine[] = [];
    for (const l of lines) {
      const record = parseLine(l.text);
      const h: HubLine = { ...l, record, history: !this.live, seq: ++this.seq };
      if (this.live && record.kind === 'inserted') for (const id of record.ids) this.insertedIds.add(id);
      out.push(h);
    }
    this.ring.push(...out);
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    for (const l of this.subs) l.lines(out);
    this.emit('lines', out);
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }
}

/** Sources by key; a source stops when its last user releases it. */
export class LogHub {
  private readonly sources = new Map<string, { source: LogSource; users: number }>();

  constructor(private readonly options: { ringSize?: number; backfillLines?: number } = {}) {}

  /** A running (or starting) source; call the returned release() when done with it. */
  acquire(info: Omit<LogSourceInfo, 'key'>, connection: LogConnection): { source: LogSource; release: () => void } {
    const key = logSourceKey(info.unitKey, info.file);
    let entry = this.sources.get(key);
    if (entry && (entry.source.ended || entry.source.connection !== connection)) {
      // Ended, or on a connection the pool has replaced (settings changed): it is about to end.
      // Its users keep their (ended) source; new users get a fresh one.
      this.sources.delete(key);
      entry = undefined;
    }
    if (!entry) {
      entry = { source: new LogSource({ ...info, key }, connection, this.options.ringSize, this.options.backfillLines), users: 0 };
      this.sources.set(key, entry);
    }
    entry.users++;
    const e = entry;
    let released = false;
    return {
      source: e.source,
      release: () => {
        if (released) return;
        released = true;
        if (--e.users === 0 && this.sources.get(key) === e) {
          this.sources.delete(key);
          void e.source.stop();
        }
      },
    };
  }

  get(key: string): LogSource | undefined {
    return this.sources.get(key)?.source;
  }

  all(): LogSource[] {
    return [...this.sources.values()].map((e) => e.source);
  }

  dispose(): void {
    for (const e of this.sources.values()) void e.source.stop();
    this.sources.clear();
  }
}
