// Queue shape (like Postfix `qshape`): how many mails of a folder sit in each doubling age bucket, per
// sender or recipient domain; and the stuck-mail check for the active unit's spool/ and vscan/.
// Plain TypeScript: no `vscode`, the CLI and the extension share it.
import type { FolderListing } from './list';

/**
 * The mails of `listing` older than `minutes` (age = now − the mail's mtime, the oldest of its two
 * files), and the age of the oldest in seconds; undefined when there are none, when the check is off
 * (`minutes` not a positive number), or for `input/` (mail waits there for the gateway's signal,
 * which the recovery sends; only spool/ and vscan/ are the gateway's own queue).
 * The caller decides that the listing is the ACTIVE unit's: on a standby, mail is stranded, not stuck.
 */
export function stuckMail(listing: FolderListing, nowMs: number, minutes: number): { count: number; oldestAgeS: number } | undefined {
  if (!(minutes > 0) || !Number.isFinite(minutes) || listing.missing) return undefined;
  if (listing.folder !== 'spool' && listing.folder !== 'vscan') return undefined;
  const limitMs = minutes * 60_000;
  let count = 0;
  let oldestMs = Infinity;
  for (const mail of listing.mails) {
    if (!Number.isFinite(mail.mtimeMs)) continue;
    if (nowMs - mail.mtimeMs > limitMs) {
      count++;
      if (mail.mtimeMs < oldestMs) oldestMs = mail.mtimeMs;
    }
  }
  if (count === 0) return undefined;
  return { count, oldestAgeS: Math.max(0, Math.floor((nowMs - oldestMs) / 1000)) };
}
