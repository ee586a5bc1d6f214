// `mailgw-ha status`: each unit reachable or not, how it logged in, whether the gateway runs there.
import { findGateway } from '../core/gateway';
import { SshError } from '../core/ssh/errors';
import { parseSyncSettings, readSyncHealth, SyncHealth } from '../core/sync/health';
import { registerVerb } from './main';
import { CliContext, loadContext } from './context';
import type { ParsedArgs } from './args';

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
  /** Filled in by extensions of status (spool counts, sync health). */
  [extra: string]: unknown;
}

type StatusExtension = (ctx: CliContext, report: UnitStatusReport) => Promise<void>;
const extensions: StatusExtension[] = [];
/** Lets other features add fields to each unit's status (e.g. mail counts per directory). */
export function extendStatus(ext: StatusExtension): void {
  extensions.push(ext);
}

export async function unitStatuses(ctx: CliContext): Promise<UnitStatusReport[]> {
  const jobs = ctx.clusters.flatMap((cluster) =>
    cluster.units.map(async (unit): Promise<UnitStatusReport> => {
      const report: UnitStatusReport = { cluster: cluster.name, unit: unit.name, role: unit.role, host: unit.host, reachable: false, state: 'idle' };
      const conn = ctx.pool.get(unit);
      try {
        const started = Date.now();
        await conn.connect();
        report.reachable = true;
        report.authMethod = conn.info?.authMethod;
        report.hostKey = conn.info ? `${conn.info.hostKeyType} ${conn.info.fingerprint}` : undefined;
        const gw = await findGateway(conn, cluster);
        report.roundTripMs = Date.now() - started;
        report.gatewayPids = [...gw.pids];
        report.active = gw.pids.length > 0;
        for (const ext of extensions) await ext(ctx, report);
      } catch (err) {
        report.error = (err as Error).message;
        if (err instanceof SshError) report.errorCode = err.code;
      }
      report.state = conn.state;
      return report;
    }),
  );
  return Promise.all(jobs);
}

async function status(args: ParsedArgs): Promise<number> {
  const ctx = loadContext(args);
  try {
    const reports = await unitStatuses(ctx);
    const syncSettings = parseSyncSettings((k) => ctx.raw[k]);
    const clusters: { name: string; sync: SyncHealth }[] = [];
    for (const cluster of ctx.clusters) {
      if (!reports.some((r) => r.cluster === cluster.name && r.reachable)) continue;
      clusters.push({ name: cluster.name, sync: await readSyncHealth(ctx.pool, cluster, syncSettings) });
    }
    if (ctx.json) console.log(JSON.stringify({ units: reports, clusters }, null, 2));
    else {
      for (const r of reports) {
        const head = `${r.cluster}/${r.unit} (${r.role}, ${r.host})`;
        if (!r.reachable || r.error) {
          console.log(`${head}: ${r.reachable ? 'reachable, but' : 'UNREACHABLE:'} ${r.error}`);
          continue;
        }
        const gw = r.active ? `ACTIVE, gateway PID ${r.gatewayPids!.join(',')}` : 'standby (gateway not running)';
        const extras = Object.entries(r)
          .filter(([k]) => k.startsWith('count:'))
          .map(([k, v]) => `${k.slice(6)} ${String(v)}`)
          .join(', ');
        console.log(`${head}: ${gw}; ${r.authMethod}, ${r.roundTripMs} ms${extras ? `; ${extras}` : ''}`);
      }
      for (const { name, sync } of clusters) console.log(`${name} HA sync: ${describeSync(sync)}`);
    }
    return reports.every((r) => r.reachable && !r.error) ? 0 : 1;
  } finally {
    ctx.dispose();
  }
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
