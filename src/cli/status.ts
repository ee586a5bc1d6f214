// `mailgw-ha status`: every configured cluster at once (bounded concurrency, a deadline per unit, so a
// dead unit never holds up the rest): each unit reachable or not, how it logged in, whether the
// gateway runs there and its mails per folder; each cluster's stranded and stuck mail, HA sync health,
// unreachable units and last recovery from this machine, most urgent first. --jsonl / --csv: one row
// per cluster.
import { formatTable } from '../core/export/table';
import { lastRecoveryOf } from '../core/fleet/lastRecovery';
import { DEFAULT_FLEET_OPTIONS, FleetCluster, fleetTable, lookAtFleet, shortAge, UnitLookResult } from '../core/fleet/status';
import { SPOOL_FOLDERS } from '../core/spool/list';
import { parseSyncSettings, SyncHealth } from '../core/sync/health';
import { registerVerb } from './main';
import { loadContext } from './context';
import { ParsedArgs, UsageError } from './args';
import { exportFormat } from './exportFormat';
import { checkStuckAfter, stuckAfterMinutes } from './stuckAfter';
import { printExport, printJson, printLine } from './out';

export interface UnitStatusReport {
  cluster: string;
  unit: string;
  role: string;
  host: string;
  reachable: boolean;
  state: string;
  error?: string;
  errorCode?: string;
  timedOut?: boolean;
  authMethod?: string;
  hostKey?: string;
  active?: boolean;
  gatewayPids?: number[];
  roundTripMs?: number;
  /** Complete mails per folder as "count:<folder>", incomplete pairs as "count:<folder>.incomplete" when any. */
  [count: `count:${string}`]: unknown;
}

function numberOption(args: ParsedArgs, name: string, dflt: number, min: number, max: number): number {
  const v = args.options.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, not ${JSON.stringify(v)}`);
  return n;
}

function unitReport(l: UnitLookResult, state: string): UnitStatusReport {
  const r: UnitStatusReport = { cluster: l.cluster, unit: l.unit.name, role: l.unit.role, host: l.unit.host, reachable: !!l.overview, state };
  if (l.error) r.error = l.error;
  if (l.errorCode) r.errorCode = l.errorCode;
  if (l.timedOut) r.timedOut = true;
  if (l.authMethod) r.authMethod = l.authMethod;
  if (l.hostKey) r.hostKey = l.hostKey;
  const o = l.overview;
  if (o) {
    r.roundTripMs = l.elapsedMs;
    r.gatewayPids = [...o.gateway.pids];
    r.active = o.active;
    for (const f of SPOOL_FOLDERS) {
      const listing = o.folders[f];
      r[`count:${f}`] = listing.missing ? 'missing' : listing.completeCount;
      if (listing.incompleteCount) r[`count:${f}.incomplete`] = listing.incompleteCount;
    }
  }
  return r;
}

async function status(args: ParsedArgs): Promise<number> {
  const format = exportFormat(args);
  const concurrency = numberOption(args, 'concurrency', DEFAULT_FLEET_OPTIONS.concurrency, 1, 64);
  const unitTimeoutMs = numberOption(args, 'unit-timeout', DEFAULT_FLEET_OPTIONS.unitTimeoutMs / 1000, 1, 600) * 1000;
  checkStuckAfter(args);
  const ctx = loadContext(args);
  try {
    const stuckAfterMs = stuckAfterMinutes(args, ctx) * 60_000;
    const fleet = await lookAtFleet(ctx.pool, ctx.clusters, {
      concurrency,
      unitTimeoutMs,
      stuckAfterMs,
      sync: parseSyncSettings((k) => ctx.raw[k]),
      // Prompts (unknown host keys, passphrases) only for one cluster on a terminal: many units
      // asking at once would share one terminal while their deadlines run. Otherwise secrets come
      // from the environment and host keys from known_hosts (or --accept-new), as in scripts.
      interactive: ctx.clusters.length === 1 && process.stdin.isTTY === true,
      lastRecovery: (c) => lastRecoveryOf(c),
    });
    // Units in settings order (each cluster's primary, then secondary), whatever order they answered in.
    const units = ctx.clusters.flatMap((c) => c.units.map((u) => fleet.units.find((l) => l.cluster === c.name && l.unit.name === u.name)!));
    const reports = units.map((l) => unitReport(l, ctx.pool.get(l.unit).state));
    if (format) printExport(formatTable(fleetTable(fleet.clusters), format));
    else if (ctx.json) printJson({ clusters: fleet.clusters, units: reports, elapsedMs: fleet.elapsedMs });
    else printText(fleet.clusters, reports);
    return reports.every((r) => r.reachable && !r.error) ? 0 : 1;
  } finally {
    ctx.dispose();
  }
}

function printText(clusters: readonly FleetCluster[], reports: readonly UnitStatusReport[]): void {
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
  for (const c of clusters) if (c.sync) printLine(`${c.name} HA sync: ${describeSync(c.sync)}`);
  if (clusters.length > 1 || clusters.some((c) => c.attention.length)) {
    printLine('');
    printLine(`${clusters.length} cluster(s), most urgent first:`);
    for (const c of clusters) {
      const last = c.lastRecovery ? `; last recovery ${c.lastRecovery.outcome} ${c.lastRecovery.at}` : '';
      printLine(`  ${c.name}: ${c.attention.length ? c.attention.join('; ') : `ok, ${c.active ?? '?'} active${c.stranded ? '' : ', nothing stranded'}`}${last}`);
    }
  }
}

export function describeSync(h: SyncHealth): string {
  if (h.error) return `unknown (${h.error})`;
  if (h.warning && !h.active) return h.warning.toUpperCase().slice(0, 1) + h.warning.slice(1);
  const parts = [
    h.state === 'lagging' ? `LAGGING: ${h.warning}` : h.lagging.length ? `${h.lagging.length} mail(s) not mirrored yet (oldest ${shortAge(Math.round(h.oldestLagMs! / 1000))})` : `ok, ${h.active} → ${h.standby} in step`,
    h.standbyOnly.length ? `${h.standbyOnly.length} mail(s) only on ${h.standby} (stranded, or copies whose delivery is not synced: recover or check before a takeover)` : undefined,
    `pending sync actions: ${h.pendingActions}`,
  ];
  return parts.filter(Boolean).join('; ');
}

registerVerb('status', status);
