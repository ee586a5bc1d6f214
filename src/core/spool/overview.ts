// One look at a unit: is the gateway running there (the active unit), and what each of its spool,
// vscan and input folders holds. The tree, `mailgw-ha status` and `mailgw-ha ls` share it.
import type { ClusterConfig, UnitConfig } from '../config';
import { findGateway, GatewayProcess } from '../gateway';
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
}

export async function loadUnitOverview(connection: UnitConnection, cluster: ClusterConfig): Promise<UnitOverview> {
  const started = Date.now();
  // Four requests in parallel on the one connection: a process lookup and three readdirs.
  const [gateway, ...listings] = await Promise.all([findGateway(connection, cluster), ...SPOOL_FOLDERS.map((f) => listFolder(connection, cluster, f, { method: 'auto' }))]);
  const folders = Object.fromEntries(listings.map((l) => [l.folder, l])) as Record<SpoolFolder, FolderListing>;
  return { gateway, active: gateway.pids.length > 0, folders, loadedAt: Date.now(), elapsedMs: Date.now() - started };
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
