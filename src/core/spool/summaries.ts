// Message summaries (From, Subject, ...) of spool mails, read lazily over SFTP and cached by
// unit + folder + id + the .body's mtime and size: a mail that changes is read again, one that does
// not is never read twice. Loads of the same mail share one request.
import { ClusterConfig, gatewayDirs } from '../config';
import type { Cancellation } from '../host';
import { MessageSummary } from '../message/headers';
import { readSummary } from '../message/read';
import type { UnitConnection } from '../ssh/connection';
import type { MailEntry } from './list';

export interface LoadOptions {
  /** Requests in flight at once (one SFTP session; round trips dominate). Default 16. */
  readonly concurrency?: number;
  readonly cancellation?: Cancellation;
  onProgress?(done: number, total: number): void;
}

export class SummaryCache {
  private readonly entries = new Map<string, MessageSummary>();
  private readonly loading = new Map<string, Promise<MessageSummary | undefined>>();

  /** `max` summaries are kept (oldest dropped first); ~300 bytes each. */
  constructor(private readonly max = 200_000) {}

  static key(unitKey: string, mail: MailEntry): string | undefined {
    if (!mail.body) return undefined; // no .body, no headers
    return `${unitKey}\0${mail.folder}\0${mail.id}\0${mail.body.mtimeMs}\0${mail.body.size}`;
  }

  get(unitKey: string, mail: MailEntry): MessageSummary | undefined {
    const k = SummaryCache.key(unitKey, mail);
    return k === undefined ? undefined : this.entries.get(k);
  }

  /** True when the mail's summary is known, or there is none to read (no .body). */
  has(unitKey: string, mail: MailEntry): boolean {
    const k = SummaryCache.key(unitKey, mail);
    return k === undefined || this.entries.has(k);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private put(k: string, s: MessageSummary): void {
    this.entries.set(k, s);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
  }

  /**
   * Reads the summaries of `mails` not cached yet. Mails whose .body vanished in the meantime (the
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
    const one = (mail: MailEntry): Promise<MessageSummary | undefined> => {
      const k = SummaryCache.key(unitKey, mail)!;
      let p = this.loading.get(k);
      if (!p) {
        p = readSummary(connection, `${dir[mail.folder]}/${mail.body!.name}`)
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
