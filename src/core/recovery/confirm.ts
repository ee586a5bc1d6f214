// Confirmation from the primary's log, only from what it wrote after the mark taken before the
// signal, each line read as the box's grammar (logLines.ts): `SPOOLER new mail inserted (id=X)`,
// and, when the gateway had to give a mail a new id because its id was already in spool/,
// `SPOOLER id already in spool, mail renamed (id=X, new-id=Y)` before the insertion of Y.
import type { ClusterConfig } from '../config';
import { gatewayDirs } from '../config';
import type { Cancellation } from '../host';
import { listFolder } from '../spool/list';
import type { UnitConnection } from '../ssh/connection';
import { insertionsOf, textLines } from '../log/spoolerLines';
import { LogMark, logSince, RecoveryError } from './remote';

export interface ConfirmOptions {
  readonly timeoutMs: number;
  readonly cancellation?: Cancellation;
  readonly pollMs?: number;
  /** Told each time more mails are confirmed (our id -> id in spool/). */
  readonly onConfirmed?: (batch: Map<string, string>) => Promise<void>;
}

/**
 * Waits until every expected mail has left input/ and its insertion is in the log after `mark`.
 * Returns what was confirmed; the caller decides about the rest (nothing is assumed).
 */
export async function waitForInsertion(primary: UnitConnection, cluster: ClusterConfig, mark: LogMark, ids: readonly string[], opts: ConfirmOptions): Promise<Map<string, string>> {
  const expected = new Set(ids);
  const confirmed = new Map<string, string>();
  const deadline = Date.now() + opts.timeoutMs;
  const inputDir = gatewayDirs(cluster).input;
  let polls = 0;
  for (;;) {
    const [text, input] = await Promise.all([logSince(primary, cluster.logFile, mark), listFolder(primary, cluster, 'input')]);
    if (input.path !== inputDir) throw new RecoveryError('unexpected input folder');
    const inInput = new Set(input.mails.map((m) => m.id));
    const fresh = new Map<string, string>();
    for (const [id, newId] of insertionsOf(textLines(text), expected)) {
      if (confirmed.has(id) || inInput.has(id)) continue;
      fresh.set(id, newId);
      confirmed.set(id, newId);
    }
    if (fresh.size > 0) await opts.onConfirmed?.(fresh);
    if (confirmed.size === expected.size) return confirmed;
    if (opts.cancellation?.isCancellationRequested || Date.now() > deadline) return confirmed;
    // Quick first looks (the gateway usually inserts at once), then every pollMs.
    polls++;
    await new Promise((r) => setTimeout(r, polls <= 3 ? 80 : (opts.pollMs ?? 250)));
  }
}
