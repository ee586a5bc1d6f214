// The recovery journal: one JSON object a line, appended and fsync'ed before and after every step,
// so that whatever kills the process (SIGKILL, power, a dropped connection) the next run knows, for
// each mail, the last step that had certainly started. A torn last line is ignored.
import * as fs from 'fs';
import * as path from 'path';
import { makePrivateDir, openPrivateFile } from '../privateFiles';
import type { SpoolFolder } from '../spool/list';

export type MailState =
  | 'planned'
  | 'copying' // staged copies may exist in the primary's staging folder
  | 'copied' // staged copies verified (sizes and SHA-256)
  | 'placing' // final names in the primary's input/ may exist
  | 'placed' // both final names in input/, ours
  | 'signalled' // SIGUSR2 sent after the log mark was recorded
  | 'confirmed' // the gateway logged its insertion and it left input/
  | 'removing' // removal from the secondary started
  | 'removed' // gone from the secondary: done
  | 'rolledback' // our copy is gone from the primary; the mail is still (only) on the secondary
  | 'held' // could not be decided: left alone on both units, reported for a manual check
  | 'discarding' // the admin decided to discard a held mail: removal from the secondary started
  | 'discarded' // the held mail's copy is gone from the secondary
  | 'failed'; // a step failed before anything reached input/ (nothing to undo)

export interface PlannedMail {
  readonly id: string;
  readonly folder: SpoolFolder;
  readonly messageId?: string;
  readonly bodySize: number;
  readonly envSize: number;
}

export type JournalRecord =
  /** `mark`: the primary's log before any copy of the run could be in its input/ (what confirms an insertion is after it). */
  | { t: 'run'; v: 1; runId: string; cluster: string; primary: string; secondary: string; spoolBase: string; stage: string; logFile: string; mark?: { inode: string; size: number }; at: string }
  | { t: 'plan'; mails: PlannedMail[] }
  | { t: 'state'; ids: string[]; state: MailState; at: string; sha?: Record<string, { body: string; env: string }>; newIds?: Record<string, string>; message?: string }
  | { t: 'signal'; phase: 'before' | 'after'; ids: string[]; mark: { inode: string; size: number }; pid?: number; command?: string; at: string }
  | { t: 'duplicates'; phase: 'removing'; mails: { id: string; folder: SpoolFolder; messageId?: string; proof: string }[]; at: string }
  | { t: 'duplicates'; phase: 'removed'; ids: string[]; at: string }
  | { t: 'decision'; action: 'insert' | 'discard'; id: string; folder: SpoolFolder; why: string; at: string }
  /** A direct transfer's key (transferKey.ts): about to be authorized on the primary, or removed from it. */
  | { t: 'key'; phase: 'adding' | 'removed'; id: string; at: string }
  | { t: 'end'; outcome: 'done' | 'failed' | 'cancelled'; at: string; message?: string };

export interface MailRecord extends PlannedMail {
  state: MailState;
  sha?: { body: string; env: string };
  newId?: string;
  message?: string;
  /** Log mark recorded before the signal that may have inserted this mail. */
  mark?: { inode: string; size: number };
}

export interface JournalState {
  run?: Extract<JournalRecord, { t: 'run' }>;
  mails: Map<string, MailRecord>;
  ended?: Extract<JournalRecord, { t: 'end' }>;
  /** Transfer keys that may still be authorized on the primary (added, not known removed). */
  keys: Set<string>;
  records: number;
}

/** Folds the records of a journal file into the last known state of each mail. */
export function replay(text: string): JournalState {
  const st: JournalState = { mails: new Map(), keys: new Set(), records: 0 };
  // A record naming a mail the plan did not list changes nothing.
  const known = (ids: readonly string[]) => ids.flatMap((id) => st.mails.get(id) ?? []);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    let r: JournalRecord;
    try {
      r = JSON.parse(line) as JournalRecord;
    } catch {
      if (i >= lines.length - 2) break; // torn last line: the step it announced had not started
      throw new Error(`journal line ${i + 1} is not JSON; the journal is damaged`);
    }
    st.records++;
    switch (r.t) {
      case 'run':
        st.run = r;
        break;
      case 'plan':
        for (const m of r.mails) st.mails.set(m.id, { ...m, state: 'planned' });
        break;
      case 'state':
        for (const m of known(r.ids)) {
          m.state = r.state;
          if (r.sha?.[m.id]) m.sha = r.sha[m.id];
          if (r.newIds?.[m.id]) m.newId = r.newIds[m.id];
          if (r.message !== undefined) m.message = r.message;
        }
        break;
      case 'signal':
        for (const m of known(r.ids)) {
          m.mark = r.mark;
          if (r.phase === 'after' && m.state === 'placed') m.state = 'signalled';
        }
        break;
      case 'key':
        if (r.phase === 'adding') st.keys.add(r.id);
        else st.keys.delete(r.id);
        break;
      case 'end':
        st.ended = r;
        break;
    }
  }
  return st;
}

/** Told of each record once it is on disk (the audit trail); must not throw, and what it throws is ignored. */
export type JournalObserver = (r: JournalRecord) => void;

export class Journal {
  private fd: number;

  private constructor(
    readonly file: string,
    private readonly observer?: JournalObserver,
  ) {
    this.fd = openPrivateFile(file, 'a');
  }

  /** Opens (creating) a journal for appending; `observer` is told of each record appended. */
  static open(file: string, observer?: JournalObserver): Journal {
    const existed = fs.existsSync(file);
    makePrivateDir(path.dirname(file));
    const j = new Journal(file, observer);
    if (!existed) fsyncDir(path.dirname(file));
    return j;
  }

  static read(file: string): JournalState | undefined {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    return replay(text);
  }

  /** Appends one record and waits until it is on disk. */
  append(r: JournalRecord): void {
    fs.writeSync(this.fd, JSON.stringify(r) + '\n');
    fs.fsyncSync(this.fd);
    try {
      this.observer?.(r);
    } catch {
      // The record is journaled; what observes it cannot undo or stop the step.
    }
  }

  state(ids: readonly string[], state: MailState, extra: { sha?: Record<string, { body: string; env: string }>; newIds?: Record<string, string>; message?: string } = {}): void {
    if (ids.length === 0) return;
    this.append({ t: 'state', ids: [...ids], state, at: new Date().toISOString(), ...extra });
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** Moves a finished journal aside as "<name>-<stamp>.done.jsonl"; returns the new path. */
  archive(stamp: string): string {
    this.close();
    return archiveJournal(this.file, stamp);
  }
}

/**
 * Moves a finished journal aside as "<name>-<stamp>.done.jsonl" (or "-<stamp>-2", ...: two runs that
 * end within one second must not overwrite each other's record); returns the new path.
 */
export function archiveJournal(file: string, stamp: string): string {
  const base = file.replace(/\.jsonl$/, '') + `-${stamp}`;
  for (let i = 1; ; i++) {
    const to = `${base}${i === 1 ? '' : `-${i}`}.done.jsonl`;
    try {
      fs.linkSync(file, to); // never replaces an existing file
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && i < 1000) continue;
      throw e;
    }
    fs.unlinkSync(file);
    fsyncDir(path.dirname(file));
    return to;
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the record itself is synced.
  }
}

/** A lock beside the journal so that two recoveries of one cluster never run at once on this machine. */
export function acquireLock(journalFile: string): () => void {
  const lock = `${journalFile}.lock`;
  makePrivateDir(path.dirname(lock));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openPrivateFile(lock, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => fs.rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(lock, 'utf8').trim());
      if (pid > 0 && pid !== process.pid && processAlive(pid)) throw new Error(`another recovery (process ${pid}) is running with journal ${journalFile}; wait for it to finish`);
      fs.rmSync(lock, { force: true }); // left by a process that died
    }
  }
  throw new Error(`cannot take the lock ${lock}`);
}

/** Whether a process of this host with that PID exists (EPERM: it does, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The time in run ids and archived journal names: 20261130-215100 (UTC). */
export function journalStamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
}
