// Leave mail on the secondary as an interrupted HA takeback would (written through the host folders
// that back the units' /var/phion).
import * as crypto from 'crypto';
import { makeMail, Mail, transactionOf, writeMail } from './mail';

export interface StrandOptions {
  /** Complete pairs in the secondary's spool/ (default 20). */
  mails?: number;
  /** Complete pairs in the secondary's vscan/ (default 0). */
  vscan?: number;
  /** How many of the spool mails are also still in the primary's spool/ (same id, same Message-ID). */
  duplicates?: number;
  /** Incomplete pairs in the secondary's spool/: only .body or only .env, alternating. */
  orphans?: number;
  /** If > 0, one extra complete mail in the secondary's spool/ whose body is this many MB. */
  bigMb?: number;
}

export interface StrandManifest {
  /** Ids of the complete pairs in the secondary's spool/ (including the big one). */
  secondarySpool: string[];
  secondaryVscan: string[];
  /** Ids (a subset of secondarySpool) that the primary's spool/ also holds. */
  duplicates: string[];
  /** File names of the incomplete halves left in the secondary's spool/. */
  orphans: string[];
  big?: string;
  /** Message-ID (with angle brackets) of every complete stranded mail, by id. */
  messageIds: Record<string, string>;
  /** The transaction (envelope and content, transactionOf) of every complete stranded mail, by id: what the oracle counts. */
  transactions: Record<string, string>;
}

export interface StrandFolders {
  secondarySpool: string;
  secondaryVscan: string;
  primarySpool: string;
}

function count(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < 0) throw new Error(`strand: ${name} must be a whole number >= 0 (got ${v})`);
  return n;
}

export function strand(folders: StrandFolders, opts: StrandOptions = {}): StrandManifest {
  const mails = count('mails', opts.mails, 20);
  const vscan = count('vscan', opts.vscan, 0);
  const duplicates = count('duplicates', opts.duplicates, 0);
  const orphans = count('orphans', opts.orphans, 0);
  const bigMb = opts.bigMb ?? 0;
  if (!(bigMb >= 0)) throw new Error(`strand: bigMb must be >= 0 (got ${opts.bigMb})`);
  if (duplicates > mails) throw new Error(`strand: duplicates (${duplicates}) cannot exceed mails (${mails})`);

  const tag = crypto.randomBytes(4).toString('hex');
  const used = new Set<string>();
  let n = 0;
  const next = (size: number, minutesAgo: number): { mail: Mail; mtime: Date } => {
    const mtime = new Date(Date.now() - minutesAgo * 60_000);
    let mail: Mail;
    do mail = makeMail({ n: n, tag, size, received: mtime });
    while (used.has(mail.id));
    used.add(mail.id);
    n++;
    return { mail, mtime };
  };
  const smallSize = () => crypto.randomInt(2 * 1024, 64 * 1024 + 1);
  const manifest: StrandManifest = { secondarySpool: [], secondaryVscan: [], duplicates: [], orphans: [], messageIds: {}, transactions: {} };

  for (let i = 0; i < mails; i++) {
    const { mail, mtime } = next(smallSize(), 5 + (i % 50));
    writeMail(folders.secondarySpool, mail, 'both', mtime);
    manifest.secondarySpool.push(mail.id);
    manifest.messageIds[mail.id] = mail.messageId;
    manifest.transactions[mail.id] = transactionOf(mail);
    if (i < duplicates) {
      // Copied to the primary just before the takeback was interrupted: a fresh mtime, so an active
      // primary delivers it only after deliveryDelayMs (use Lab.pauseDelivery to keep it there).
      writeMail(folders.primarySpool, mail, 'both');
      manifest.duplicates.push(mail.id);
    }
  }
  for (let i = 0; i < vscan; i++) {
    const { mail, mtime } = next(smallSize(), 2 + (i % 10));
    writeMail(folders.secondaryVscan, mail, 'both', mtime);
    manifest.secondaryVscan.push(mail.id);
    manifest.messageIds[mail.id] = mail.messageId;
    manifest.transactions[mail.id] = transactionOf(mail);
  }
  for (let i = 0; i < orphans; i++) {
    const { mail, mtime } = next(smallSize(), 7 + i);
    manifest.orphans.push(...writeMail(folders.secondarySpool, mail, i % 2 === 0 ? 'body' : 'env', mtime));
  }
  if (bigMb > 0) {
    const { mail, mtime } = next(Math.round(bigMb * 1024 * 1024), 9);
    writeMail(folders.secondarySpool, mail, 'both', mtime);
    manifest.secondarySpool.push(mail.id);
    manifest.big = mail.id;
    manifest.messageIds[mail.id] = mail.messageId;
    manifest.transactions[mail.id] = transactionOf(mail);
  }
  return manifest;
}
