// What is known of the mails left on a standby secondary, per unit: which are duplicates (the active
// unit holds a mail of the same gateway id and sizes, as the HA sync leaves it, or the last recovery
// proved them; a Message-ID is the sender's and says nothing of which mail it is), which the last recovery held
// for a decision, and from that how the leftovers split by next step. The Clusters view marks rows
// and its badge from here; reading headers and listing folders stays with the view.
import type { UnitConfig } from '../config';
import { MailEntry, SPOOL_FOLDERS } from '../spool/list';
import { leftoverCount, UnitOverview } from '../spool/overview';
import type { LeftoverSplit } from './outcome';
import type { RecoveryReport } from './runContract';

type Reasons = Map<string, string>;

export class LeftoverMarks {
  /** Duplicates found by comparing gateway ids and sizes with the active unit: id → where it is there. */
  private readonly duplicates = new Map<string, Reasons>();
  /** Duplicates the last recovery proved (also once the primary delivered its copies). */
  private readonly proven = new Map<string, Reasons>();
  /** Mails the last recovery held for a decision: id → why. */
  private readonly held = new Map<string, Reasons>();

  /** Takes what a recovery of the cluster whose secondary is `secondaryKey` found out. */
  noteReport(secondaryKey: string, report: RecoveryReport): void {
    if (!report.plan) return;
    this.proven.set(secondaryKey, new Map(report.plan.duplicates.map((d) => [d.id, d.reason ?? 'on the primary'])));
    // A run that resolved one held mail planned nothing else: the others stay held.
    if (!report.resolved) this.held.set(secondaryKey, new Map(report.plan.held.map((h) => [h.id, h.reason ?? 'neither proved delivered nor undelivered'])));
    else this.held.get(secondaryKey)?.delete(report.resolved.id);
  }

  /**
   * The duplicates among `mine` (complete mails on the standby): those the last recovery proved,
   * and those of which one of `theirs` (mails on the active unit `activeName`) is the same gateway id
   * with the same .body and .env sizes. A mark only: removing one is proved again by content.
   */
  findDuplicates(secondaryKey: string, mine: readonly MailEntry[], theirs: readonly MailEntry[], activeName: string): Reasons {
    const where = new Map<string, MailEntry>();
    for (const m of theirs) if (m.complete && !where.has(m.id)) where.set(m.id, m);
    const found: Reasons = new Map();
    const proven = this.proven.get(secondaryKey);
    for (const m of mine) if (proven?.has(m.id)) found.set(m.id, `${proven.get(m.id)}, per the last recovery`);
    for (const m of mine) {
      if (found.has(m.id)) continue;
      const t = where.get(m.id);
      if (t && t.body?.size === m.body?.size && t.env?.size === m.env?.size) found.set(m.id, `on ${activeName} ${t.folder}/${t.id}`);
    }
    return found;
  }

  /** Records the duplicates of a unit (none: undefined); true if that changed what is marked. */
  setDuplicates(unitKey: string, found: Reasons | undefined): boolean {
    const before = JSON.stringify([...(this.duplicates.get(unitKey) ?? [])]);
    if (found) this.duplicates.set(unitKey, found);
    else this.duplicates.delete(unitKey);
    return JSON.stringify([...(found ?? [])]) !== before;
  }

  /** Where the active unit holds this mail of a standby secondary (same id and sizes), if it does. */
  duplicateOf(unitKey: string, id: string): string | undefined {
    return this.duplicates.get(unitKey)?.get(id);
  }

  /** Why the last recovery held this mail on a standby secondary for a decision, if it did. */
  heldWhy(unitKey: string, id: string): string | undefined {
    return this.held.get(unitKey)?.get(id);
  }

  /** What is left on a standby secondary, split by what can be done about it. */
  split(unit: UnitConfig, o: UnitOverview | undefined): LeftoverSplit {
    if (!o || leftoverCount(unit, o) === 0) return { recoverable: 0, duplicates: 0, incomplete: 0 };
    const dup = this.duplicates.get(unit.key);
    const held = this.held.get(unit.key);
    let recoverable = 0;
    let duplicates = 0;
    let incomplete = 0;
    let heldCount = 0;
    for (const f of SPOOL_FOLDERS) {
      for (const m of o.folders[f].mails) {
        if (!m.complete) incomplete++;
        else if (dup?.has(m.id)) duplicates++;
        else if (held?.has(m.id)) heldCount++;
        else recoverable++;
      }
    }
    return { recoverable, duplicates, incomplete, ...(heldCount ? { held: heldCount } : {}) };
  }
}
