// `mailgw-ha status`: each unit reachable or not, how it logged in, whether the gateway runs there,
// its mails per folder, and the HA sync health of each cluster (from the same looks at the units).
import type { ClusterConfig } from '../core/config';
import { loadUnitOverview, UnitOverview } from '../core/spool/overview';
import { SPOOL_FOLDERS } from '../core/spool/list';
import { SshError } from '../core/ssh/errors';
import { parseSyncSettings, SyncHealth, syncHealthOf, UnitLook } from '../core/sync/health';
import { registerVerb } from './main';
import { CliContext, loadContext } from './context';
import type { ParsedArgs } from './args';
import { printJson, printLine } from './out';

export interface UnitStatusReport {
  cluster: string;
  unit: string;
  role: string;
  host: string;
  reachable: boolean;
  state: string;
  error?: string;
  errorCode?: string;
  authMethod?: string;
  hostKey?: string;
  active?: boolean;
  gatewayPids?: number[];
  roundTripMs?: number;
  /** Complete mails per folder as "count:<folder>", incomplete pairs as "count:<folder>.incomplete" when any. */
  [count: `count:${string}`]: unknown;
}

type UnitStatus = { report: UnitStatusReport; look?: UnitLook };

async function unitStatuses(ctx: CliContext): Promise<UnitStatus[]> {
  const jobs = ctx.clusters.flatMap((cluster) =>
    cluster.units.map(async (unit): Promise<UnitStatus> => {
      const report: UnitStatusReport = { cluster: cluster.name, unit: unit.name, role: unit.role, host: unit.host, reachable: false, state: 'idle' };
      const conn = ctx.pool.get(unit);
      let overview: UnitOverview | undefined;
      try {
        const started = Date.now();
        await conn.connect();
        report.reachable = true;
        report.authMethod = conn.info?.authMethod;
        report.hostKey = conn.info ? `${conn.info.hostKeyType} ${conn.info.fingerprint}` : undefined;
        overview = await loadUnitOverview(conn, cluster);
        report.roundTripMs = Date.now() - started;
        report.gatewayPids = [...overview.gateway.pids];
        report.active = overview.active;
        for (const f of SPOOL_FOLDERS) {
          const l = overview.folders[f];
          report[`count:${f}`] = l.missing ? 'missing' : l.completeCount;
          if (l.incompleteCount) report[`count:${f}.incomplete`] = l.incompleteCount;
        }
      } catch (err) {
        report.error = (err as Error).message;
        if (err instanceof SshError) report.errorCode = err.code;
      }
      report.state = conn.state;
      return { report, look: overview && { unit, active: overview.active, spool: overview.folders.spool } };
    }),
  );
  return Promise.all(jobs);
}

async function status(args: ParsedArgs): Promise<number> {
  const ctx = loadContext(args);
  try {
    const statuses = await unitStatuses(ctx);
    const reports = statuses.map((s) => s.report);
    const syncSettings = parseSyncSettings((k) => ctx.raw[k]);
    const clusters: { name: string; sync: SyncHealth }[] = [];
    for (const cluster of ctx.clusters) {
      const sync = await clusterSync(ctx, cluster, statuses, syncSettings);
      if (sync) clusters.push({ name: cluster.name, sync });
    }
    if (ctx.json) printJson({ units: reports, clusters });
    else {
      for (const r of reports) {
        const head = `${r.cluster}/${r.unit} (${r.role}, ${r.host})`;
        if (!r.reachable || r.error) {
          printLine(`${head}: ${r.reachable ? 'reachable, but' : 'UNREACHABLE:'} ${r.error}`); // the error may hold the server's pre-login text
          continue;
        }
        const gw = r.active ? `ACTIVE, gateway PID ${r.gatewayPids!.join(',')}` : 'standby (gateway not running)';
        const extras = Object.entries(r)
          .filter(([k]) => k.startsWith('count:'))
          .map(([k, v]) => `${k.slice(6)} ${String(v)}`)
          .join(', ');
        printLine(`${head}: ${gw}; ${r.authMethod}, ${r.roundTripMs} ms${extras ? `; ${extras}` : ''}`);
      }
      for (const { name, sync } of clusters) printLine(`${name} HA sync: ${describeSync(sync)}`);
    }
    return reports.every((r) => r.reachable && !r.error) ? 0 : 1;
  } finally {
    ctx.dispose();
  }
}

/** Sync health from the looks status already took; unknown when a unit could not be looked at. */
async function clusterSync(ctx: CliContext, cluster: ClusterConfig, statuses: readonly UnitStatus[], settings: ReturnType<typeof parseSyncSettings>): Promise<SyncHealth | undefined> {
  const mine = statuses.filter((s) => s.report.cluster === cluster.name);
  if (!mine.some((s) => s.report.reachable)) return undefined;
  const failed = mine.find((s) => !s.look);
  if (failed) return { cluster: cluster.name, lagging: [], standbyOnly: [], pendingActions: 'unknown', state: 'unreachable', error: failed.report.error ?? `${failed.report.unit} could not be looked at` };
  return syncHealthOf(ctx.pool, cluster, mine.map((s) => s.look!), settings);
}

export function describeSync(h: SyncHealth): string {
  if (h.error) return `unknown (${h.error})`;
  if (h.warning && !h.active) return h.warning.toUpperCase().slice(0, 1) + h.warning.slice(1);
  const parts = [
    h.state === 'lagging' ? `LAGGING: ${h.warning}` : h.lagging.length ? `${h.lagging.length} mail(s) not mirrored yet (oldest ${Math.round(h.oldestLagMs! / 1000)} s)` : `ok, ${h.active} → ${h.standby} in step`,
    h.standbyOnly.length ? `${h.standbyOnly.length} mail(s) only on ${h.standby} (stranded, or copies whose delivery is not synced: recover or check before a takeover)` : undefined,
    `pending sync actions: ${h.pendingActions}`,
  ];
  return parts.filter(Boolean).join('; ');
}

registerVerb('status', status);
