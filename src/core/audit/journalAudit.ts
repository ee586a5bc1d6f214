// A recovery run's audit records, made from its journal: every record the journal appends (after it
// is on disk) is looked at here and the steps that changed a unit become audit entries — so the
// extension and the CLI audit the same steps through the same path, and a resumed run audits what
// it finishes under the interrupted run's id. Mail ids get their folder and Message-ID from the
// run's plan record (or, when resuming, from the interrupted run's journal).
import type { ClusterConfig, UnitConfig } from '../config';
import type { JournalRecord, JournalState, PlannedMail } from '../recovery/journal';
import type { AuditAction, AuditMail, AuditOutcome, AuditSink } from './record';
import { unitFields } from './record';

/** What the run was asked to do, for its start record. */
export type RunKind = 'recovery' | 'copy-to-input' | 'held-insert' | 'held-discard';

const KIND_TEXT: Record<RunKind, string> = {
  recovery: 'recovery',
  'copy-to-input': 'copy to the primary\'s input/ (no signal, no removal)',
  'held-insert': 'insert a held mail',
  'held-discard': "discard a held mail's standby copy",
};

const noCounts = () => ({ placed: 0, confirmed: 0, removed: 0, rolledBack: 0, held: 0, failed: 0, duplicates: 0, discarded: 0 });

export class JournalAuditor {
  private runId: string | undefined;
  private mails = new Map<string, PlannedMail>();
  private counts = noCounts();
  /** Whether the current run's end was audited (from the journal or by ended()). */
  private endAudited = true;

  constructor(
    private readonly sink: AuditSink,
    private readonly cluster: ClusterConfig,
    private readonly kind: RunKind = 'recovery',
  ) {}

  /** The observer to give the journal. */
  readonly observe = (r: JournalRecord): void => {
    try {
      this.translate(r);
    } catch {
      // Auditing never stops a run (the sink reports its own failures; this is a bug guard).
    }
  };

  /** An interrupted run is being finished: its id and plan come from its journal. */
  resumed(prev: JournalState): void {
    if (!prev.run) return;
    this.begin(prev.run.runId, [...prev.mails.values()]);
    const open = [...prev.mails.values()].filter((m) => !['removed', 'rolledback', 'held', 'discarded', 'failed', 'planned'].includes(m.state));
    this.emit('run-resume', this.cluster.primary, open.map((m) => m.id), 'started', `finishing the interrupted run ${prev.run.runId} (started ${prev.run.at}); ${open.length} mail(s) in flight: ${describeStates(open.map((m) => m.state))}`);
  }

  /**
   * The run stopped without the journal's end record (failed, cancelled): its end is audited here.
   * Nothing happens if no run was begun or its end is already audited.
   */
  ended(outcome: 'failed' | 'cancelled', detail: string): void {
    if (this.endAudited || this.runId === undefined) return;
    this.endAudited = true;
    this.emit('run-end', this.cluster.primary, [], outcome, `${detail.slice(0, 300)}; ${this.describeCounts()}; the journal keeps the rest for the next run`);
  }

  private begin(runId: string, mails: readonly PlannedMail[]): void {
    this.runId = runId;
    this.mails = new Map(mails.map((m) => [m.id, m]));
    this.counts = noCounts();
    this.endAudited = false;
  }

  private translate(r: JournalRecord): void {
    const { primary, secondary } = this.cluster;
    switch (r.t) {
      case 'run':
        this.begin(r.runId, []);
        return;
      case 'plan':
        for (const m of r.mails) this.mails.set(m.id, m);
        this.emit('run-start', primary, r.mails.map((m) => m.id), 'started', `${KIND_TEXT[this.kind]} of ${secondary.name} → ${primary.name}: ${r.mails.length} mail(s) planned`);
        return;
      case 'decision':
        this.mails.set(r.id, { id: r.id, folder: r.folder, bodySize: 0, envSize: 0, ...this.mails.get(r.id) });
        this.emit('held-decision', secondary, [r.id], 'started', `the admin decided: ${r.action}; held because: ${r.why}`);
        return;
      case 'signal':
        if (r.phase === 'after') this.emit('signal', primary, r.ids, 'ok', `SIGUSR2 ${r.pid !== undefined ? `to PID ${r.pid}` : `by ${r.command ?? 'name'}`} for ${r.ids.length} placed mail(s)`);
        return;
      case 'duplicates':
        if (r.phase === 'removing') {
          for (const m of r.mails) this.mails.set(m.id, { id: m.id, folder: m.folder, messageId: m.messageId, bodySize: 0, envSize: 0, ...this.mails.get(m.id) });
          return;
        }
        this.counts.duplicates += r.ids.length;
        this.emit('remove-duplicates', secondary, r.ids, 'ok', `duplicates removed from ${secondary.name}, each proved again on ${primary.name} right before`);
        return;
      case 'end':
        this.endAudited = true;
        // The journal's end says the run finished its steps; the run's outcome (as its report gives
        // it) is failed when mails failed or were held for a decision.
        this.emit('run-end', primary, [], r.outcome === 'done' && (this.counts.held || this.counts.failed) ? 'failed' : r.outcome, `${r.message ? `${r.message}; ` : ''}${this.describeCounts()}`);
        return;
      case 'state':
        return this.state(r);
    }
  }

  private state(r: Extract<JournalRecord, { t: 'state' }>): void {
    const { primary, secondary } = this.cluster;
    const c = this.counts;
    switch (r.state) {
      case 'placed':
        c.placed += r.ids.length;
        return this.emit('place', primary, r.ids, 'ok', `copied, verified (size and SHA-256) and placed in ${primary.name}'s input/`);
      case 'confirmed':
        c.confirmed += r.ids.length;
        return this.emit('confirm', primary, r.ids, 'ok', `the gateway on ${primary.name} logged the insertion`, r.newIds);
      case 'removed':
        c.removed += r.ids.length;
        return this.emit('remove', secondary, r.ids, 'ok', `originals removed from ${secondary.name} after the confirmed insertion`);
      case 'rolledback':
        c.rolledBack += r.ids.length;
        return this.emit('rollback', primary, r.ids, 'ok', `not inserted, the original stays on ${secondary.name}${r.message ? `: ${r.message}` : ''}`);
      case 'held':
        c.held += r.ids.length;
        return this.emit('hold', secondary, r.ids, 'held', r.message ?? 'held for a decision');
      case 'failed':
        c.failed += r.ids.length;
        return this.emit('copy', primary, r.ids, 'failed', r.message ?? 'the copy failed');
      case 'discarded':
        c.discarded += r.ids.length;
        return this.emit('discard', secondary, r.ids, 'ok', `the standby's copy on ${secondary.name} was removed (the admin's decision)`);
      default:
        // planned, copying, copied, placing, signalled, removing, discarding: announcements of a step
        // whose result is audited when it is journaled.
        return;
    }
  }

  private emit(action: AuditAction, unit: UnitConfig, ids: readonly string[], outcome: AuditOutcome, detail: string, newIds?: Record<string, string>): void {
    const mails: AuditMail[] = ids.map((id) => {
      const m = this.mails.get(id);
      const newId = newIds?.[id];
      return { id, ...(m?.folder ? { folder: m.folder } : {}), ...(m?.messageId ? { messageId: m.messageId } : {}), ...(newId && newId !== id ? { newId } : {}) };
    });
    this.sink.append({ ...unitFields(this.cluster, unit), action, runId: this.runId, mails, outcome, detail });
  }

  private describeCounts(): string {
    const c = this.counts;
    return `${c.placed} placed, ${c.confirmed} inserted, ${c.removed} removed, ${c.duplicates} duplicate(s) removed, ${c.rolledBack} rolled back, ${c.held} held, ${c.failed} failed${c.discarded ? `, ${c.discarded} discarded` : ''}`;
  }
}

function describeStates(states: readonly string[]): string {
  const n = new Map<string, number>();
  for (const s of states) n.set(s, (n.get(s) ?? 0) + 1);
  return [...n].map(([s, k]) => `${k} ${s}`).join(', ') || 'none';
}
