// What a recovery run is asked and what it answers: its options, the progress and events it
// reports while it runs, and its report. The run itself is in run.ts.
import type { AuditSink } from '../audit/record';
import type { ClusterConfig } from '../config';
import type { Cancellation, Logger } from '../host';
import type { SpoolFolder } from '../spool/list';
import type { ConnectionPool } from '../ssh/pool';
import type { LockInfo } from './clusterLock';
import type { RecoveryPlan } from './plan';
import type { RecoverySettings } from './settings';

export type FaultPoint = 'before-copy' | 'mid-copy' | 'after-copy' | 'after-place' | 'after-signal' | 'mid-cleanup' | 'mid-duplicates';
export type RecoveryPhase = 'resume' | 'plan' | 'copy' | 'signal' | 'confirm' | 'cleanup' | 'done' | 'failed' | 'cancelled';

export interface RecoveryProgress {
  readonly phase: RecoveryPhase;
  readonly message: string;
  /** Mails done in this phase and how many there are. */
  readonly done?: number;
  readonly total?: number;
}

/** What a running recovery tells other views (the log panel marks expected and confirmed ids). */
export interface RecoveryEvent {
  readonly cluster: string;
  readonly phase: 'plan' | 'copy' | 'signal' | 'confirm' | 'cleanup' | 'done' | 'failed' | 'cancelled';
  /** Mail ids the gateway is expected to report as inserted. */
  readonly expectedIds?: readonly string[];
  /** Of those, the ones whose insertion was seen in the log. */
  readonly confirmedIds?: readonly string[];
}

export interface RecoveryOptions {
  readonly pool: ConnectionPool;
  readonly cluster: ClusterConfig;
  readonly settings: RecoverySettings;
  /** The journal of this cluster (resumed if an earlier run did not finish). */
  readonly journalFile: string;
  readonly dryRun?: boolean;
  readonly includeDuplicates?: boolean;
  readonly folders?: readonly SpoolFolder[];
  /** Only these mails (ids on the secondary) are moved (the "copy selected" command). */
  readonly onlyIds?: ReadonlySet<string>;
  /** Asked after planning; false stops before anything is touched. */
  readonly confirmPlan?: (plan: RecoveryPlan) => Promise<boolean>;
  readonly cancellation?: Cancellation;
  readonly logger?: Logger;
  readonly onProgress?: (p: RecoveryProgress) => void;
  readonly onEvent?: (e: RecoveryEvent) => void;
  /** Fault injection for tests: awaited at each named point. */
  readonly faults?: (point: FaultPoint) => void | Promise<void>;
  /** How long to wait for the gateway to insert the copies (default 60 s + 10 ms a mail). */
  readonly confirmTimeoutMs?: number;
  /** Mails per copy batch (default 500; a batch also closes at 16 MB). */
  readonly batchSize?: number;
  /** Copy batches in flight at once (default 3). */
  readonly copyConcurrency?: number;
  /** Copy, verify and place in input/ only: no signal, no removal (the manual way). */
  readonly stopAfterPlace?: boolean;
  /** Force the SFTP fallback (tests, benchmarks). */
  readonly forceSftp?: boolean;
  /** Who runs this, for the cluster lock's owner ("mailgw-ha CLI", "VS Code extension"). */
  readonly client?: string;
  /** Replace the cluster lock if it is found stale (the admin decided so after seeing its owner). */
  readonly takeOverStaleLock?: boolean;
  /**
   * Resolve one held mail as the admin decided: insert it into the primary (checked not delivered)
   * or discard the standby's copy (checked delivered). Nothing else moves in that run.
   */
  readonly resolveHeld?: { readonly id: string; readonly action: 'insert' | 'discard' };
  /**
   * The audit trail: each journaled step that changed a unit is appended to it (src/core/audit/).
   * If it cannot be written when the run starts, the run is refused before anything is touched; a
   * failed append later is reported by the sink and never stops the run.
   */
  readonly audit?: AuditSink;
}

export interface RecoveryReport {
  cluster: string;
  runId?: string;
  outcome: 'done' | 'nothing-to-do' | 'dry-run' | 'declined' | 'failed' | 'cancelled';
  planned: number;
  copied: number;
  verified: number;
  inserted: number;
  removed: number;
  skippedDuplicates: number;
  skippedOrphans: number;
  rolledBack: number;
  held: number;
  /** Duplicates removed from the secondary after a fresh check, each with its proof. */
  removedDuplicates: number;
  duplicatesRemoved?: { id: string; folder: string; messageId?: string; proof: string }[];
  /** Mails the plan could prove neither delivered nor undelivered: left on the secondary for a decision. */
  heldForDecision: number;
  ignoredEntries: number;
  /** What the run finished or undid for an interrupted earlier run. */
  resumed?: { finished: number; rolledBack: number; held: number };
  method?: 'tar' | 'sftp' | 'direct';
  /** Which path the mails took (relay through this machine, or direct unit to unit) and why. */
  transfer?: { path: 'direct' | 'relay'; why: string };
  errors: { id?: string; message: string }[];
  durationMs: number;
  journal?: string;
  reportFile?: string;
  plan?: {
    move: string[];
    duplicates: { id: string; reason?: string }[];
    incomplete: { id: string; reason?: string }[];
    held: { id: string; reason?: string }[];
    ignored: { folder: string; name: string; reason: string }[];
    /** The primary's log files and whether each was searched for deliveries. */
    logs: string[];
    warnings: string[];
  };
  /** What the secondary holds after the run, in words. */
  standbyLeft?: string;
  /** Set when another recovery of the cluster holds the lock on the primary (nothing was touched). */
  lockedBy?: LockInfo;
  /**
   * Set when the lock on the primary was left by this workstation's interrupted run (its process
   * gone, its journal unfinished here) and this run took it back to finish that run: why, in words.
   */
  lockTakenBack?: string;
  /** What became of the held mail the run was asked to resolve. */
  resolved?: { id: string; action: 'insert' | 'discard'; done: boolean; why?: string };
}
