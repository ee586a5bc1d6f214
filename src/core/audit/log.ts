// Appending to the audit trail: the folder made 0700 and the file 0600 (src/core/privateFiles.ts), each
// record one write of one line on a file opened for appending, then fsync. A failure never throws
// into the action it audits (a recovery half done is worse than a gap in the trail): it is reported
// through `onFailure` (the caller's log), and probe() lets a caller refuse to START an action that
// could not be audited.
import * as fs from 'fs';
import * as path from 'path';
import { makePrivateDir, openPrivateFile } from '../privateFiles';
import type { AuditEntry, AuditSink, AuditTool } from './record';
import { makeRecord } from './record';

export class AuditLog implements AuditSink {
  /** Failed appends since this log was made. */
  failures = 0;

  /**
   * @param target the file, or why there is none (a setting that names no usable file): then every
   *   probe fails with that reason and nothing is written.
   */
  constructor(
    private readonly target: { file: string } | { error: string },
    readonly tool: AuditTool,
    private readonly onFailure: (message: string) => void = () => undefined,
  ) {}

  get file(): string | undefined {
    return 'file' in this.target ? this.target.file : undefined;
  }

  /**
   * Whether a record could be appended now: the folder made and the file opened for appending (made
   * if missing), nothing written. Returns why not, or undefined.
   */
  probe(): string | undefined {
    if (!('file' in this.target)) return `no audit trail: ${this.target.error}`;
    try {
      const fd = this.open();
      fs.closeSync(fd);
      return undefined;
    } catch (e) {
      return `cannot write the audit trail ${this.target.file}: ${(e as Error).message}`;
    }
  }

  /** Appends one record (one write, fsync'ed). Never throws; returns whether it is on disk. */
  append(entry: AuditEntry): boolean {
    let message: string;
    try {
      if (!('file' in this.target)) throw new Error(this.target.error);
      const line = JSON.stringify(makeRecord(entry, this.tool)) + '\n';
      const fd = this.open();
      try {
        const buf = Buffer.from(line, 'utf8');
        const n = fs.writeSync(fd, buf, 0, buf.length);
        if (n !== buf.length) throw new Error(`short write (${n} of ${buf.length} bytes)`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      return true;
    } catch (e) {
      message = `the audit trail${this.file ? ` ${this.file}` : ''} did not get the record "${entry.action}" of ${entry.cluster}/${entry.unit} (${entry.outcome}): ${(e as Error).message}`;
    }
    this.failures++;
    try {
      this.onFailure(message);
    } catch {
      // A reporter that fails must not turn into the action's failure either.
    }
    return false;
  }

  private open(): number {
    const file = (this.target as { file: string }).file;
    const dir = path.dirname(file);
    makePrivateDir(dir);
    return openPrivateFile(file, 'a');
  }
}
