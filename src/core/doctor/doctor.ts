// `mailgw-ha doctor` and "Check Units…": every assumption a recovery rests on, looked at on both
// units of a cluster at once (one connection each, a few commands in parallel), judged by checks.ts.
import type { ClusterConfig } from '../config';
import { gatewayDirs } from '../config';
import { findGateway, SignalMethod } from '../gateway';
import { findLogFile } from '../log/discover';
import { listFolder } from '../spool/list';
import type { ConnectionPool } from '../ssh/pool';
import { DoctorCheck, pairChecks, spaceCheck, UnitLook, unitChecks } from './checks';
import { probeUnit } from './probe';

export interface DoctorReport {
  readonly cluster: string;
  readonly at: string;
  readonly checks: readonly DoctorCheck[];
  /** The worst severity found. */
  readonly worst: DoctorCheck['severity'];
}

/** Looks at one unit; a unit that cannot be reached is a look with its error. */
export async function lookAtUnit(pool: ConnectionPool, cluster: ClusterConfig, unitKey: string): Promise<UnitLook> {
  const unit = cluster.units.find((u) => u.key === unitKey)!;
  const conn = pool.get(unit);
  try {
    await conn.connect();
    const log = await findLogFile(conn, cluster).catch(() => undefined);
    const [gateway, probe] = await Promise.all([findGateway(conn, cluster), probeUnit(conn, cluster, log?.file ?? cluster.logFile)]);
    return { unit, info: conn.info, gateway, log, probe };
  } catch (e) {
    return { unit, error: (e as Error).message };
  }
}

const ORDER: Record<DoctorCheck['severity'], number> = { ok: 0, info: 1, warn: 2, fail: 3 };

export function worstOf(checks: readonly DoctorCheck[]): DoctorCheck['severity'] {
  return checks.reduce<DoctorCheck['severity']>((w, c) => (ORDER[c.severity] > ORDER[w] ? c.severity : w), 'ok');
}

/** The doctor's look at a cluster: both units, then the pair, then free space for what the standby holds. */
export async function doctor(pool: ConnectionPool, cluster: ClusterConfig, signalMethod: SignalMethod): Promise<DoctorReport> {
  const looks = await Promise.all(cluster.units.map((u) => lookAtUnit(pool, cluster, u.key)));
  const checks: DoctorCheck[] = looks.flatMap((l) => unitChecks(cluster, l, signalMethod));
  checks.push(...pairChecks(cluster, looks));
  const sec = looks.find((l) => l.unit.key === cluster.secondary.key);
  if (sec && !sec.error) {
    try {
      const sc = pool.get(cluster.secondary);
      const listings = await Promise.all((['spool', 'vscan'] as const).map((f) => listFolder(sc, cluster, f)));
      const bytes = listings.reduce((s, l) => s + l.mails.reduce((t, m) => t + m.size, 0), 0);
      checks.push(spaceCheck(cluster, looks.find((l) => l.unit.key === cluster.primary.key), bytes, `what ${cluster.secondary.name} holds in spool/ and vscan/ (${gatewayDirs(cluster).base})`));
    } catch {
      // The standby's folders were judged above.
    }
  }
  return { cluster: cluster.name, at: new Date().toISOString(), checks, worst: worstOf(checks) };
}
