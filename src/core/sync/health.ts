// Health of the gateway's automatic HA sync: the active unit mirrors each spooled mail to its
// partner within about 10 s and removes the partner's copy once it delivers; failed attempts wait
// in a transaction log. What is lagging decides what a takeover strands; copies left on the
// standby after their original is gone are what could be delivered twice.
import type { ClusterConfig, UnitConfig } from '../config';
import { findGateway } from '../gateway';
import type { FolderListing } from '../spool/list';
import { listFolder } from '../spool/list';
import type { ConnectionPool } from '../ssh/pool';

export interface SyncSettings {
  /** The sync normally mirrors a mail within this time. */
  readonly intervalMs: number;
  /** Warn when the oldest unmirrored mail is older than this. */
  readonly lagWarningMs: number;
  /** Path of the pending-actions transaction log on a unit; unknown on a real box unless configured. */
  readonly transactionLog?: string;
}

export const DEFAULT_SYNC_SETTINGS: SyncSettings = { intervalMs: 10_000, lagWarningMs: 60_000 };

export type SyncState = 'ok' | 'lagging' | 'no-active-unit' | 'both-active' | 'unreachable';

export interface SyncHealth {
  readonly cluster: string;
  readonly state: SyncState;
  readonly active?: string;
  readonly standby?: string;
  /** Mails on the active unit's spool/ older than the interval and not on the standby. */
  readonly lagging: readonly { id: string; ageMs: number }[];
  readonly oldestLagMs?: number;
  /**
   * Mails on the standby's spool/ that the active unit no longer holds: copies whose delivery was
   * not synced yet (would be delivered twice after a takeover) or mail stranded by one.
   */
  readonly standbyOnly: readonly string[];
  /** Pending sync actions in the transaction log; 'unknown' when its path is not configured or unreadable. */
  readonly pendingActions: number | 'unknown';
  readonly warning?: string;
  readonly error?: string;
}

/** Pure comparison of the two spool/ listings (unit-tested). */
export function compareSpools(active: FolderListing, standby: FolderListing, nowMs: number, settings: SyncSettings): Pick<SyncHealth, 'lagging' | 'oldestLagMs' | 'standbyOnly'> {
  const onStandby = new Set(standby.mails.filter((m) => m.complete).map((m) => m.id));
  const onActive = new Set(active.mails.map((m) => m.id));
  const lagging = active.mails
    .filter((m) => m.complete && !onStandby.has(m.id) && nowMs - m.mtimeMs > settings.intervalMs)
    .map((m) => ({ id: m.id, ageMs: nowMs - m.mtimeMs }))
    .sort((a, b) => b.ageMs - a.ageMs);
  const standbyOnly = standby.mails.filter((m) => m.complete && !onActive.has(m.id)).map((m) => m.id);
  return { lagging, oldestLagMs: lagging[0]?.ageMs, standbyOnly };
}

// Fixed script; the path arrives as "$1". Only a regular file that is not a symlink is counted, and
// only its first 16 MiB: a setting naming /dev/zero or a FIFO on the unit cannot make it read forever.
const COUNT_LINES = 'if [ -h "$1" ]; then exit 3; elif [ -f "$1" ] && [ -r "$1" ]; then head -c 16777216 -- "$1" | wc -l; elif [ -e "$1" ]; then exit 3; else echo 0; fi';

async function pendingActions(pool: ConnectionPool, unit: UnitConfig, file: string | undefined): Promise<number | 'unknown'> {
  if (!file) return 'unknown';
  try {
    const r = await pool.get(unit).execScript(COUNT_LINES, [file], { timeoutMs: 10_000 });
    const n = Number(r.stdout.toString().trim());
    return r.code === 0 && Number.isInteger(n) ? n : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What the sync comparison needs of one unit: whether the gateway runs there, and its spool/. */
export interface UnitLook {
  readonly unit: UnitConfig;
  readonly active: boolean;
  readonly spool: FolderListing;
}

/**
 * Sync health from looks at the units already made (the tree has them after a refresh): only the
 * transaction log is read here.
 */
export async function syncHealthOf(pool: ConnectionPool, cluster: ClusterConfig, looks: readonly UnitLook[], settings: SyncSettings = DEFAULT_SYNC_SETTINGS, now: () => number = Date.now): Promise<SyncHealth> {
  const base = { cluster: cluster.name, lagging: [], standbyOnly: [], pendingActions: 'unknown' as const };
  const actives = looks.filter((l) => l.active);
  if (actives.length !== 1) {
    return actives.length === 0
      ? { ...base, state: 'no-active-unit', warning: `the gateway ${cluster.gateway} runs on neither unit: nothing is delivered or synced` }
      : { ...base, state: 'both-active', warning: `the gateway ${cluster.gateway} runs on both units: mail may be delivered twice` };
  }
  const active = actives[0];
  const standby = looks.find((l) => l !== active)!;
  const pending = await pendingActions(pool, active.unit, settings.transactionLog);
  const cmp = compareSpools(active.spool, standby.spool, now(), settings);
  const lagging = (cmp.oldestLagMs ?? 0) > settings.lagWarningMs;
  return {
    cluster: cluster.name,
    state: lagging ? 'lagging' : 'ok',
    active: active.unit.name,
    standby: standby.unit.name,
    ...cmp,
    pendingActions: pending,
    warning: lagging ? `${cmp.lagging.length} mail(s) on ${active.unit.name} not mirrored to ${standby.unit.name} for up to ${Math.round(cmp.oldestLagMs! / 1000)} s: a takeover now would strand them` : undefined,
  };
}

/** Looks at both units (gateway and spool/ only) and compares them. */
export async function readSyncHealth(pool: ConnectionPool, cluster: ClusterConfig, settings: SyncSettings = DEFAULT_SYNC_SETTINGS, now: () => number = Date.now): Promise<SyncHealth> {
  let looks: UnitLook[];
  try {
    looks = await Promise.all(
      cluster.units.map(async (unit) => {
        const conn = pool.get(unit);
        const [gateway, spool] = await Promise.all([findGateway(conn, cluster), listFolder(conn, cluster, 'spool')]);
        return { unit, active: gateway.pids.length > 0, spool };
      }),
    );
  } catch (err) {
    return { cluster: cluster.name, lagging: [], standbyOnly: [], pendingActions: 'unknown', state: 'unreachable', error: (err as Error).message };
  }
  return syncHealthOf(pool, cluster, looks, settings, now);
}

/** Sync settings from the raw settings JSON (the CLI) or VS Code's configuration (same keys). */
export function parseSyncSettings(get: (key: string) => unknown): SyncSettings {
  const seconds = (key: string, dflt: number) => {
    const v = get(key);
    return typeof v === 'number' && v > 0 ? v * 1000 : dflt;
  };
  const log = get('mailgwHa.syncTransactionLog');
  return {
    intervalMs: seconds('mailgwHa.syncIntervalSeconds', DEFAULT_SYNC_SETTINGS.intervalMs),
    lagWarningMs: seconds('mailgwHa.syncLagWarningSeconds', DEFAULT_SYNC_SETTINGS.lagWarningMs),
    transactionLog: typeof log === 'string' && log.startsWith('/') ? log : undefined,
  };
}
