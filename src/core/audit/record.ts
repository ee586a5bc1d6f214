// The audit trail's record: one JSON object a line, one per action that changed a unit, written by
// the extension and the CLI alike. Who (the local user and host, the tool and its process), when,
// which cluster and unit, which mails (id, folder, Message-ID), what was done and how it ended.
// Nothing secret goes in: no password, passphrase, key, agent socket or environment value — only
// names and addresses from the settings, mail ids and Message-IDs, and short texts of what happened.
import * as os from 'os';
import * as path from 'path';
import type { ClusterConfig, UnitConfig } from '../config';
import { stateHome } from '../recovery/journalPath';
import type { SpoolFolder } from '../spool/list';

export type AuditTool = 'extension' | 'cli';

/**
 * What was done. Steps of a recovery run (runId set): run-start, run-resume (an interrupted run is
 * finished), place (copies renamed into the primary's input/), signal, confirm (the gateway logged
 * the insertion), remove (originals removed from the secondary), remove-duplicates, rollback (our
 * copies taken back from input/), copy (failed copies), hold, held-decision, discard, run-end.
 * Outside a run: signal (Send SIGUSR2, `mailgw-ha signal`), remove-duplicates (Remove Mails).
 */
export type AuditAction =
  | 'run-start'
  | 'run-resume'
  | 'copy'
  | 'place'
  | 'signal'
  | 'confirm'
  | 'remove'
  | 'remove-duplicates'
  | 'rollback'
  | 'hold'
  | 'held-decision'
  | 'discard'
  | 'run-end';

export type AuditOutcome = 'ok' | 'failed' | 'cancelled' | 'started' | 'held' | 'done';

export interface AuditMail {
  readonly id: string;
  readonly folder?: SpoolFolder;
  readonly messageId?: string;
  /** The id the gateway gave the inserted mail, when it differs. */
  readonly newId?: string;
}

/** What a caller says about one action; the appender adds who, when and where from. */
export interface AuditEntry {
  readonly cluster: string;
  /** The unit's name in the settings. */
  readonly unit: string;
  /** Its address as configured (host, or host:port). */
  readonly unitHost: string;
  readonly action: AuditAction;
  readonly runId?: string;
  readonly mails: readonly AuditMail[];
  readonly outcome: AuditOutcome;
  readonly detail?: string;
}

export interface AuditRecord extends AuditEntry {
  readonly v: 1;
  readonly at: string;
  readonly user: string;
  readonly host: string;
  readonly tool: AuditTool;
  readonly pid: number;
}

/** Where actions are audited. append() never throws: a failure is reported by the sink itself. */
export interface AuditSink {
  append(entry: AuditEntry): void;
  /** Why a record could not be appended now (undefined: it could); asked before an action starts. */
  probe?(): string | undefined;
}

/** The longest detail kept (a unit's error text can be long). */
export const DETAIL_MAX = 500;

/** The cluster, unit name and address an entry names. */
export function unitFields(cluster: ClusterConfig, unit: UnitConfig): { cluster: string; unit: string; unitHost: string } {
  return { cluster: cluster.name, unit: unit.name, unitHost: unit.port !== undefined && unit.port !== 22 ? `${unit.host}:${unit.port}` : unit.host };
}

/** The local user's login name (from the password database, not the environment). */
export function localUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'unknown';
  }
}

/** Builds the full record: the entry's own fields only (copied by name), who, when and where from. */
export function makeRecord(entry: AuditEntry, tool: AuditTool, now = new Date()): AuditRecord {
  const detail = entry.detail === undefined ? undefined : entry.detail.length > DETAIL_MAX ? `${entry.detail.slice(0, DETAIL_MAX - 1)}…` : entry.detail;
  // What a reader scans for first (when, where, what, how it ended) leads each line; who and the
  // mails follow.
  return {
    at: now.toISOString(),
    cluster: entry.cluster,
    unit: entry.unit,
    action: entry.action,
    outcome: entry.outcome,
    ...(detail !== undefined ? { detail } : {}),
    mails: entry.mails.map((m) => ({ id: m.id, ...(m.folder ? { folder: m.folder } : {}), ...(m.messageId ? { messageId: m.messageId } : {}), ...(m.newId ? { newId: m.newId } : {}) })),
    ...(entry.runId !== undefined ? { runId: entry.runId } : {}),
    unitHost: entry.unitHost,
    user: localUser(),
    host: os.hostname(),
    tool,
    pid: process.pid,
    v: 1,
  };
}

/** The default audit file: <state home>/mailgw-ha/audit.jsonl (beside the clusters' journals). */
export function defaultAuditFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateHome(env), 'mailgw-ha', 'audit.jsonl');
}

/**
 * The audit file a setting or option names: empty → the default; "~/…" → under the home folder; an
 * absolute path as it is; a relative one only where a working folder gives it meaning (the CLI's
 * option: `base`), else an error naming where it came from.
 */
export function resolveAuditFile(value: unknown, from: string, base?: string, env: NodeJS.ProcessEnv = process.env): { file: string; error?: undefined } | { file?: undefined; error: string } {
  if (value === undefined || value === null || value === '') return { file: defaultAuditFile(env) };
  if (typeof value !== 'string') return { error: `${from} must be a file path (a string)` };
  const v = value.trim();
  if (!v) return { file: defaultAuditFile(env) };
  if (v === '~' || v.startsWith('~/')) return { file: path.join(os.homedir(), v.slice(1)) };
  if (path.isAbsolute(v)) return { file: path.normalize(v) };
  if (base !== undefined) return { file: path.resolve(base, v) };
  return { error: `${from} must be an absolute path (or start with ~/), not ${JSON.stringify(v.slice(0, 200))}` };
}
