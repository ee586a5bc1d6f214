// The fleet at a glance: every configured HA pair looked at with bounded concurrency and a deadline
// per unit, so one dead or silent unit never holds up the rest, then each cluster summed up (active
// unit, mail stranded on the standby, stuck mail on the active unit, sync lag, unreachable units, the
// last recovery from this machine) and ranked by what needs the admin first. The Fleet view and
// `mailgw-ha status` share it.
import type { ClusterConfig, UnitConfig } from '../config';
import { SPOOL_FOLDERS, SpoolFolder } from '../spool/list';
import { leftoverCount, loadUnitOverview, UnitOverview } from '../spool/overview';
import { stuckFolders } from '../spool/queueShape';
import { SshError } from '../ssh/errors';
import type { ConnectionPool } from '../ssh/pool';
import { Semaphore } from '../ssh/semaphore';
import { DEFAULT_SYNC_SETTINGS, SyncHealth, syncHealthOf, SyncSettings } from '../sync/health';
import type { Table } from '../export/table';
import type { LastRecovery } from './lastRecovery';

export interface FleetOptions {
  /** Units looked at at once. */
  readonly concurrency: number;
  /** Log-in and look of one unit, at most. */
  readonly unitTimeoutMs: number;
  /** Mail older than this in spool/ or vscan/ of the active unit is stuck. */
  readonly stuckAfterMs: number;
  readonly sync?: SyncSettings;
  /** false: never ask (host keys, passphrases); a unit that needs a prompt is reported instead. */
  readonly interactive?: boolean;
  readonly lastRecovery?: (cluster: ClusterConfig) => LastRecovery | undefined;
  readonly now?: () => number;
  /** Each unit as soon as it has been looked at (the view fills in as answers arrive). */
  onUnit?(look: UnitLookResult): void;
}

export const DEFAULT_FLEET_OPTIONS = { concurrency: 8, unitTimeoutMs: 20_000 } as const;

export interface UnitLookResult {
  readonly cluster: string;
  readonly unit: UnitConfig;
  readonly overview?: UnitOverview;
  readonly error?: string;
  readonly errorCode?: string;
  /** No answer within the unit timeout. */
  readonly timedOut?: boolean;
  readonly authMethod?: string;
  readonly hostKey?: string;
  readonly elapsedMs: number;
}

export interface StuckMail {
  readonly unit: string;
  readonly folder: SpoolFolder;
  readonly count: number;
  readonly oldestAgeS: number;
}

export interface FleetCluster {
  readonly name: string;
  /** Higher first; 0 when nothing needs the admin. */
  readonly urgency: number;
  /** What needs the admin, most urgent first. */
  readonly attention: readonly string[];
  /** The one unit running the gateway; null when none or both do. */
  readonly active: string | null;
  readonly activeUnits: readonly string[];
  readonly standby: string | null;
  /** Mails (complete or not) on a standby secondary: what a recovery would move or settle. */
  readonly stranded: number;
  readonly oldestStrandedAgeS: number | null;
  readonly stuck: StuckMail | null;
  readonly sync?: SyncHealth;
  readonly unreachable: readonly string[];
  /** Error text per unit that could not be looked at (from the unit or the library: data). */
  readonly errors: Readonly<Record<string, string>>;
  readonly lastRecovery: LastRecovery | null;
  /** Until both units had answered or timed out. */
  readonly elapsedMs: number;
}

export interface FleetStatus {
  readonly clusters: readonly FleetCluster[];
  readonly units: readonly UnitLookResult[];
  readonly elapsedMs: number;
}

class UnitTimeout extends Error {}

// A look that outlived its deadline may still be running on a connection that is up; the next look
// at that unit waits for it instead of starting another, so repeated refreshes never pile up work
// on a slow unit beyond one look each.
const looksUnderWay = new WeakMap<object, Promise<UnitOverview>>();

async function lookAtUnit(pool: ConnectionPool, cluster: ClusterConfig, unit: UnitConfig, slots: Semaphore, opts: FleetOptions): Promise<UnitLookResult> {
  const release = await slots.acquire();
  const started = Date.now();
  const conn = pool.get(unit);
  // Only a log-in this look started may be dropped at the deadline: one already under way belongs to
  // someone else (a recovery reconnecting, the Clusters view waiting on the user's answer).
  const ownLogin = conn.state === 'idle' || conn.state === 'failed';
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnitTimeout()), opts.unitTimeoutMs);
  });
  try {
    let look = looksUnderWay.get(conn);
    if (!look) {
      const started = (async () => {
        await conn.connect(opts.interactive ?? false);
        return loadUnitOverview(conn, cluster);
      })();
      look = started;
      looksUnderWay.set(conn, started);
      void started.then(
        () => looksUnderWay.delete(conn),
        () => looksUnderWay.delete(conn), // settled by the race below; a late failure is not unhandled
      );
    }
    const overview = await Promise.race([look, deadline]);
    return { cluster: cluster.name, unit, overview, authMethod: conn.info?.authMethod, hostKey: conn.info ? `${conn.info.hostKeyType} ${conn.info.fingerprint}` : undefined, elapsedMs: Date.now() - started };
  } catch (err) {
    if (err instanceof UnitTimeout) {
      // A log-in that hangs is dropped so its socket is free and the next look starts afresh. A
      // connection that is up is left alone, however slow: a recovery or the tree may be using it.
      if (ownLogin && (conn.state as string) === 'connecting') conn.reset();
      return { cluster: cluster.name, unit, timedOut: true, errorCode: 'timeout', error: `${unit.key}: no answer within ${Math.round(opts.unitTimeoutMs / 1000)} s (log-in and look); the other units were not held up`, elapsedMs: Date.now() - started };
    }
    // The connection's own handshake deadline may come first: a silent unit either way.
    const code = err instanceof SshError ? err.code : undefined;
    return { cluster: cluster.name, unit, error: (err as Error).message, errorCode: code, ...(code === 'timeout' ? { timedOut: true } : {}), elapsedMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
    release();
  }
}

/** Looks at every unit of every cluster, `concurrency` at a time, each within `unitTimeoutMs`. */
export async function lookAtFleet(pool: ConnectionPool, clusters: readonly ClusterConfig[], opts: FleetOptions): Promise<FleetStatus> {
  const started = Date.now();
  const slots = new Semaphore(Math.max(1, opts.concurrency));
  const now = opts.now ?? Date.now;
  // Units in cluster order, primaries first, so every cluster gets its first answer early.
  const order = [...clusters.map((c) => [c, c.primary] as const), ...clusters.map((c) => [c, c.secondary] as const)];
  const looks = await Promise.all(
    order.map(async ([cluster, unit]) => {
      const look = await lookAtUnit(pool, cluster, unit, slots, opts);
      opts.onUnit?.(look);
      return look;
    }),
  );
  const summaries = await Promise.all(
    clusters.map(async (cluster) => {
      const mine = looks.filter((l) => l.cluster === cluster.name);
      const sync = await clusterSync(pool, cluster, mine, opts.sync ?? DEFAULT_SYNC_SETTINGS, now);
      let last: LastRecovery | undefined;
      try {
        last = opts.lastRecovery?.(cluster);
      } catch {
        last = undefined; // an unreadable journal folder is not a unit's problem
      }
      return summarizeCluster(cluster, mine, { sync, lastRecovery: last, nowMs: now(), stuckAfterMs: opts.stuckAfterMs });
    }),
  );
  return { clusters: rankClusters(summaries), units: looks, elapsedMs: Date.now() - started };
}

async function clusterSync(pool: ConnectionPool, cluster: ClusterConfig, looks: readonly UnitLookResult[], settings: SyncSettings, now: () => number): Promise<SyncHealth | undefined> {
  if (looks.some((l) => !l.overview)) return undefined;
  try {
    return await syncHealthOf(pool, cluster, looks.map((l) => ({ unit: l.unit, active: l.overview!.active, spool: l.overview!.folders.spool })), settings, now);
  } catch {
    return undefined;
  }
}

const secondsSince = (nowMs: number, thenMs: number) => Math.max(0, Math.round((nowMs - thenMs) / 1000));

/** An age for people: 45 s, 12 min, 3 h, 2 d. */
export function shortAge(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

// Tiers of urgency: what can deliver twice, then what delivers nothing, then what cannot be seen,
// then mail waiting on a person. Within a tier, more and older mail first.
const TIER = { bothActive: 90, noActive: 80, recoveryUnfinished: 70, unreachable: 60, stuck: 50, stranded: 40, syncLag: 30, recoveryFailed: 20 } as const;

/** One cluster from its units' looks (pure; unit-tested). */
export function summarizeCluster(cluster: ClusterConfig, looks: readonly UnitLookResult[], ctx: { sync?: SyncHealth; lastRecovery?: LastRecovery; nowMs: number; stuckAfterMs: number }): FleetCluster {
  const attention: { tier: number; text: string }[] = [];
  const unreachable = looks.filter((l) => !l.overview).map((l) => l.unit.name);
  const errors = Object.fromEntries(looks.filter((l) => l.error).map((l) => [l.unit.name, l.error!]));
  const seen = looks.filter((l) => l.overview);
  const activeUnits = seen.filter((l) => l.overview!.active).map((l) => l.unit.name);
  const active = activeUnits.length === 1 ? activeUnits[0] : null;
  // The other unit is the standby only if it was seen not running the gateway.
  const standbyLook = active ? seen.find((l) => l.unit.name !== active) : undefined;
  const standby = standbyLook?.unit.name ?? null;

  for (const l of looks.filter((x) => !x.overview)) attention.push({ tier: TIER.unreachable, text: `${l.unit.name} unreachable${l.timedOut ? ' (timed out)' : ''}` });
  if (activeUnits.length > 1) attention.push({ tier: TIER.bothActive, text: `the gateway runs on both units: mail may be delivered twice` });
  else if (activeUnits.length === 0 && unreachable.length === 0) attention.push({ tier: TIER.noActive, text: `the gateway runs on neither unit: nothing is delivered` });

  let stranded = 0;
  let oldestStranded: number | undefined;
  for (const l of seen) {
    const n = leftoverCount(l.unit, l.overview);
    if (!n) continue;
    stranded += n;
    for (const f of SPOOL_FOLDERS) {
      const t = l.overview!.folders[f].oldestMtimeMs;
      if (t !== undefined && (oldestStranded === undefined || t < oldestStranded)) oldestStranded = t;
    }
  }
  const oldestStrandedAgeS = oldestStranded === undefined ? null : secondsSince(ctx.nowMs, oldestStranded);
  if (stranded) {
    const where = seen.filter((l) => leftoverCount(l.unit, l.overview)).map((l) => l.unit.name).join(', ');
    attention.push({ tier: TIER.stranded, text: `${stranded} mail(s) stranded on ${where}${oldestStrandedAgeS !== null ? ` (oldest ${shortAge(oldestStrandedAgeS)})` : ''}: recover` });
  }

  let stuck: StuckMail | null = null;
  const activeLook = seen.find((l) => l.unit.name === active);
  if (activeLook) {
    // The folder with the oldest stuck mail (spool/ before vscan/ when equal).
    for (const s of stuckFolders(true, SPOOL_FOLDERS.map((f) => activeLook.overview!.folders[f]), ctx.nowMs, ctx.stuckAfterMs / 60_000)) {
      if (!stuck || s.oldestAgeS > stuck.oldestAgeS) stuck = { unit: activeLook.unit.name, ...s };
    }
  }
  if (stuck) attention.push({ tier: TIER.stuck, text: `${stuck.count} mail(s) older than ${shortAge(Math.round(ctx.stuckAfterMs / 1000))} in ${stuck.unit}'s ${stuck.folder}/ (oldest ${shortAge(stuck.oldestAgeS)}): the gateway is not delivering them` });

  if (ctx.sync?.state === 'lagging' && ctx.sync.warning) attention.push({ tier: TIER.syncLag, text: ctx.sync.warning });

  const last = ctx.lastRecovery;
  if (last?.outcome === 'unfinished') attention.push({ tier: TIER.recoveryUnfinished, text: `the last recovery (${last.at}) did not finish: run Recover again to finish it` });
  else if (last?.outcome === 'failed') attention.push({ tier: TIER.recoveryFailed, text: `the last recovery (${last.at}) failed${last.message ? `: ${last.message}` : ''}` });
  if (last?.held) attention.push({ tier: TIER.recoveryFailed, text: `${last.held} mail(s) held for a decision since the last recovery` });

  attention.sort((a, b) => b.tier - a.tier);
  const top = attention[0]?.tier ?? 0;
  // Within a tier: more stranded/stuck mail and older first (capped so it never crosses a tier).
  const weight = top ? Math.min(0.99, (Math.log10(1 + stranded + (stuck?.count ?? 0)) + Math.log10(1 + (oldestStrandedAgeS ?? stuck?.oldestAgeS ?? 0))) / 20) : 0;
  const elapsedMs = Math.max(0, ...looks.map((l) => l.elapsedMs));
  return {
    name: cluster.name,
    urgency: Math.round((top + weight) * 100) / 100,
    attention: attention.map((a) => a.text),
    active,
    activeUnits,
    standby,
    stranded,
    oldestStrandedAgeS,
    stuck,
    sync: ctx.sync,
    unreachable,
    errors,
    lastRecovery: last ?? null,
    elapsedMs,
  };
}

export type FleetSort = 'urgency' | 'name';

/** Most urgent first; equal urgency by name. */
export function rankClusters(clusters: readonly FleetCluster[], sort: FleetSort = 'urgency'): FleetCluster[] {
  const byName = (a: FleetCluster, b: FleetCluster) => a.name.localeCompare(b.name, undefined, { numeric: true });
  return [...clusters].sort(sort === 'name' ? byName : (a, b) => b.urgency - a.urgency || byName(a, b));
}

export interface FleetRow extends Record<string, string | number | null> {
  cluster: string;
  urgency: number;
  attention: string;
  active: string | null;
  standby: string | null;
  stranded: number;
  oldestStrandedAgeS: number | null;
  stuckMails: number;
  stuckOldestAgeS: number | null;
  syncState: string | null;
  syncLagMails: number | null;
  syncOldestLagS: number | null;
  unreachable: string;
  lastRecoveryAt: string | null;
  lastRecoveryOutcome: string | null;
  elapsedMs: number;
}

/** One row per cluster, for JSON lines and CSV. */
export function fleetTable(clusters: readonly FleetCluster[]): Table<FleetRow> {
  const rows = clusters.map(
    (c): FleetRow => ({
      cluster: c.name,
      urgency: c.urgency,
      attention: c.attention.join('; '),
      active: c.active,
      standby: c.standby,
      stranded: c.stranded,
      oldestStrandedAgeS: c.oldestStrandedAgeS,
      stuckMails: c.stuck?.count ?? 0,
      stuckOldestAgeS: c.stuck?.oldestAgeS ?? null,
      syncState: c.sync?.state ?? null,
      syncLagMails: c.sync ? c.sync.lagging.length : null,
      syncOldestLagS: c.sync?.oldestLagMs !== undefined ? Math.round(c.sync.oldestLagMs / 1000) : null,
      unreachable: c.unreachable.join('; '),
      lastRecoveryAt: c.lastRecovery?.at ?? null,
      lastRecoveryOutcome: c.lastRecovery?.outcome ?? null,
      elapsedMs: c.elapsedMs,
    }),
  );
  const columns = ['cluster', 'urgency', 'attention', 'active', 'standby', 'stranded', 'oldestStrandedAgeS', 'stuckMails', 'stuckOldestAgeS', 'syncState', 'syncLagMails', 'syncOldestLagS', 'unreachable', 'lastRecoveryAt', 'lastRecoveryOutcome', 'elapsedMs'] as const;
  return { columns: [...columns], rows };
}
