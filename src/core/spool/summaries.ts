// What is read from a mail's files on a unit (the summary of its .body's headers, its .env's
// envelope), read lazily over SFTP and cached by unit + folder + id + the file's mtime and size: a
// mail that changes is read again, one that does not is never read twice. Loads of the same mail
// share one request.
import { ClusterConfig, gatewayDirs } from '../config';
import type { Cancellation } from '../host';
import { MessageSummary } from '../message/headers';
import { readSummary } from '../message/read';
import type { UnitConnection } from '../ssh/connection';
import type { MailEntry, MailFile } from './list';

export interface LoadOptions {
  /** Requests in flight at once (one SFTP session; round trips dominate). Default 16. */
  readonly concurrency?: number;
  readonly cancellation?: Cancellation;
  onProgress?(done: number, total: number): void;
}

/** Reads what is cached of one file of a mail (its path on the unit, its listing entry). */
export type MailFileReader<T> = (connection: UnitConnection, path: string, file: MailFile) => Promise<T>;

/** A cache of what is read from one part (`.body` or `.env`) of spool mails. */
export class MailFileCache<T> {
  private readonly entries = new Map<string, T>();
  private readonly loading = new Map<string, Promise<T | undefined>>();

  /** `max` entries are kept (oldest dropped first). */
  constructor(
    private readonly part: 'body' | 'env',
    private readonly read: MailFileReader<T>,
    private readonly max: number,
  ) {}

  static partKey(part: 'body' | 'env', unitKey: string, mail: MailEntry): string | undefined {
    const file = mail[part];
    if (!file) return undefined; // no such file, nothing to read
    return `${unitKey}\0${mail.folder}\0${mail.id}\0${file.mtimeMs}\0${file.size}`;
  }

  private key(unitKey: string, mail: MailEntry): string | undefined {
    return MailFileCache.partKey(this.part, unitKey, mail);
  }

  get(unitKey: string, mail: MailEntry): T | undefined {
    const k = this.key(unitKey, mail);
    return k === undefined ? undefined : this.entries.get(k);
  }

  /** True when the mail's entry is known, or there is none to read (no such file). */
  has(unitKey: string, mail: MailEntry): boolean {
    const k = this.key(unitKey, mail);
    return k === undefined || this.entries.has(k);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private put(k: string, s: T): void {
    this.entries.set(k, s);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
  }

  /**
   * Reads the entries of `mails` not cached yet. Mails whose file vanished in the meantime (the
   * gateway delivered them) or cannot be read are skipped and reported in `failed`; a lost
   * connection rejects.
   */
  async load(connection: UnitConnection, cluster: ClusterConfig, unitKey: string, mails: readonly MailEntry[], options: LoadOptions = {}): Promise<{ loaded: number; failed: { id: string; error: string }[] }> {
    const dir = gatewayDirs(cluster);
    const todo = mails.filter((m) => !this.has(unitKey, m));
    const failed: { id: string; error: string }[] = [];
    let loaded = 0;
    let done = 0;
    let next = 0;
    let fatal: unknown;
    const one = (mail: MailEntry): Promise<T | undefined> => {
      const k = this.key(unitKey, mail)!;
      const file = mail[this.part]!;
      let p = this.loading.get(k);
      if (!p) {
        p = this.read(connection, `${dir[mail.folder]}/${file.name}`, file)
          .then((s) => {
            this.put(k, s);
            return s;
          })
          .finally(() => this.loading.delete(k));
        this.loading.set(k, p);
      }
      return p;
    };
    const worker = async () => {
      while (next < todo.length && fatal === undefined && !options.cancellation?.isCancellationRequested) {
        const mail = todo[next++];
        try {
          if (await one(mail)) loaded++;
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          if (code === 'ENOENT' || code === 'EACCES') failed.push({ id: mail.id, error: (err as Error).message });
          else fatal = err;
        }
        options.onProgress?.(++done, todo.length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 16, todo.length)) }, worker));
    if (fatal !== undefined) throw fatal;
    return { loaded, failed };
  }
}

/** Message summaries (From, Subject, ...) from the header block of each mail's `.body`. */
export class SummaryCache extends MailFileCache<MessageSummary> {
  /** `max` summaries are kept (oldest dropped first); ~300 bytes each. */
  constructor(max = 200_000) {
    super('body', (connection, path) => readSummary(connection, path), max);
  }

  static key(unitKey: string, mail: MailEntry): string | undefined {
    return MailFileCache.partKey('body', unitKey, mail);
  }
}
