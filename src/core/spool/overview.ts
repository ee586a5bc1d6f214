// One look at a unit: is the gateway running there (the active unit), and what each of its spool,
// vscan and input folders holds. The tree, `mailgw-ha status` and `mailgw-ha ls` share it.
import type { ClusterConfig, UnitConfig } from '../config';
import { findGateway, GatewayProcess } from '../gateway';
import { haDisagreement } from '../haRole';
import { findLogFile } from '../log/discover';
import type { UnitConnection } from '../ssh/connection';
import { FolderListing, listFolder, SPOOL_FOLDERS, SpoolFolder } from './list';

export interface UnitOverview {
  readonly gateway: GatewayProcess;
  /** The gateway process runs on this unit. */
  readonly active: boolean;
  readonly folders: Readonly<Record<SpoolFolder, FolderListing>>;
  readonly loadedAt: number;
  /** How long the look took (ms). */
  readonly elapsedMs: number;
  /** Which file is the gateway log there, and why (undefined: it could not be looked for). */
  readonly log?: { readonly file: string; readonly why: string };
  /** The box's control disagrees with the gateway process or the settings' role (haRole.ts). */
  readonly haDisagreement?: string;
}

export async function loadUnitOverview(connection: UnitConnection, cluster: ClusterConfig): Promise<UnitOverview> {
  const started = Date.now();
  // Requests in parallel on the one connection: a process lookup, three readdirs, and (the first
  // time in a while) which file is the gateway log.
  const log = findLogFile(connection, cluster).catch(() => undefined);
  const [gateway, ...listings] = await Promise.all([findGateway(connection, cluster), ...SPOOL_FOLDERS.map((f) => listFolder(connection, cluster, f, { method: 'auto' }))]);
  const folders = Object.fromEntries(listings.map((l) => [l.folder, l])) as Record<SpoolFolder, FolderListing>;
  const found = await log;
  const unit = cluster.units.find((u) => u.key === connection.address.label);
  const disagreement = unit ? haDisagreement(unit, gateway.pids.length > 0, gateway.ha) : undefined;
  return { gateway, active: gateway.pids.length > 0, folders, loadedAt: Date.now(), elapsedMs: Date.now() - started, ...(found ? { log: { file: found.file, why: found.why } } : {}), ...(disagreement ? { haDisagreement: disagreement } : {}) };
}

/** Mails (complete or not) in all three folders. */
export function mailCount(o: UnitOverview): number {
  return SPOOL_FOLDERS.reduce((n, f) => n + o.folders[f].mails.length, 0);
}

/**
 * Mail stranded on a standby secondary: the signal that the recovery procedure is needed. Mail on
 * an active secondary (after a takeover) is its normal queue, not leftovers.
 */
export function leftoverCount(unit: UnitConfig, o: UnitOverview | undefined): number {
  if (!o || unit.role !== 'secondary' || o.active) return 0;
  return mailCount(o);
}
