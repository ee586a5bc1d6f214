// What a recovery run (or the manual "Copy to Primary Input…") did, in words for the summary
// notification and the badge: what moved, and what is left and why — recoverable by running again,
// duplicates (already on the primary: remove them once proven), incomplete (check by hand), held
// (neither proved delivered nor undelivered: the admin decides).
import type { RecoveryReport } from './runContract';

export type RunMode = 'recover' | 'copy';

/** The one-line summary of a run for a notification. */
export function outcomeText(r: RecoveryReport, mode: RunMode, units: { primary: string; secondary: string }): string {
  if (mode === 'copy') {
    if (r.outcome === 'failed' || r.outcome === 'cancelled') {
      return `${r.cluster}: copy ${r.outcome}: ${r.verified} of ${r.planned} mail(s) placed in ${units.primary}'s input/${r.rolledBack ? `, ${r.rolledBack} copy(ies) taken back` : ''}; the originals stay on ${units.secondary}`;
    }
    if (r.planned === 0) return `${r.cluster}: nothing copied: none of the selected mails is a complete mail on ${units.secondary} any more`;
    return `${r.cluster}: copied ${r.verified} mail(s) into ${units.primary}'s input/ (size and SHA-256 verified); next: Send SIGUSR2 to Gateway on ${units.primary}, then remove the originals from ${units.secondary}`;
  }
  const parts = [`${r.inserted} inserted`, `${r.removed} removed from ${units.secondary}`];
  // Duplicates are removed from the standby once proved again after the insertions; the rest stay.
  const removedDups = r.removedDuplicates;
  if (removedDups) parts.push(`${removedDups} proved duplicate(s) removed from ${units.secondary}`);
  const dupsLeft = Math.max(0, r.skippedDuplicates - removedDups);
  if (dupsLeft) parts.push(`${dupsLeft} duplicate(s) skipped (already on ${units.primary})`);
  if (r.skippedOrphans) parts.push(`${r.skippedOrphans} incomplete skipped (check by hand)`);
  if (r.heldForDecision) parts.push(`${r.heldForDecision} held for a decision (Held Mails…)`);
  if (r.held) parts.push(`${r.held} held for a manual check`);
  if (r.resolved) parts.push(`held mail ${r.resolved.id}: ${r.resolved.done ? (r.resolved.action === 'insert' ? 'inserted' : 'discarded') : `not ${r.resolved.action === 'insert' ? 'inserted' : 'discarded'}${r.resolved.why ? ` (${r.resolved.why})` : ''}`}`);
  return `${r.cluster}: ${r.outcome}: ${parts.join(', ')}`;
}

/** Mail left on a standby secondary, split by what can be done about it. */
export interface LeftoverSplit {
  /** Complete mails a recovery would move. */
  readonly recoverable: number;
  /** Complete mails whose Message-ID the primary holds or delivered: removing them is the next step. */
  readonly duplicates: number;
  /** Incomplete pairs: nothing safe to do automatically. */
  readonly incomplete: number;
  /** Mails the last recovery could prove neither delivered nor undelivered: the admin decides. */
  readonly held?: number;
}

/** "2 recoverable, 3 duplicates, 1 incomplete (check by hand)" and the next step. */
export function describeLeftovers(s: LeftoverSplit): { text: string; next: string } {
  const parts: string[] = [];
  if (s.recoverable) parts.push(`${s.recoverable} recoverable`);
  if (s.duplicates) parts.push(`${s.duplicates} duplicate${s.duplicates === 1 ? '' : 's'}`);
  if (s.incomplete) parts.push(`${s.incomplete} incomplete (check by hand)`);
  if (s.held) parts.push(`${s.held} held for a decision`);
  const next = s.recoverable
    ? 'run the recovery'
    : s.held
      ? 'decide on the held mails (Held Mails…)'
      : s.duplicates
      ? 'remove the duplicates (Remove Mails… proves each on the primary first)'
      : s.incomplete
        ? 'open the incomplete pairs and decide by hand; re-running the recovery will not move them'
        : 'nothing to do';
  return { text: parts.join(', ') || 'nothing left', next };
}
