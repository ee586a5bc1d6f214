// What the steps of a run kept in their own files (resume.ts, duplicates.ts) use of the run: its
// settings, cluster and report, its connections, and the steps they share with it. Run (run.ts)
// is the one implementation.
import type { ClusterConfig } from '../config';
import type { gatewayDirs } from '../config';
import type { Logger } from '../host';
import type { UnitConnection } from '../ssh/connection';
import type { Journal, JournalState, MailRecord } from './journal';
import type { FaultPoint, RecoveryOptions, RecoveryPhase, RecoveryReport } from './runContract';

export interface RunContext {
  readonly opts: RecoveryOptions;
  readonly cluster: ClusterConfig;
  readonly dirs: ReturnType<typeof gatewayDirs>;
  /** The run's journal file. */
  readonly file: string;
  readonly report: RecoveryReport;
  readonly log: Logger;
  readonly primary: UnitConnection;
  readonly secondary: UnitConnection;
  /** Opens the run's journal for appending, its records audited; `resuming`: the interrupted run it finishes. */
  openJournal(resuming?: JournalState): Journal;
  progress(phase: RecoveryPhase, message: string, done?: number, total?: number): void;
  /** Throws at a safe point if the run was cancelled. */
  checkCancel(): void;
  /** The tests' fault hook at a named point. */
  fault(point: FaultPoint): Promise<void>;
  /** Takes a mail off the held lists (this workstation's and the primary's). */
  unhold(id: string): Promise<void>;
  /** Removes the secondary's originals of mails confirmed inserted. */
  cleanUp(journal: Journal, mails: readonly MailRecord[]): Promise<void>;
  /** Signals the gateway for copies placed in input/ and waits for their insertion (or takes them back). */
  signalAndConfirm(journal: Journal, mails: MailRecord[], fresh: boolean): Promise<void>;
}
