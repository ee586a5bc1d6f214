// "Remove Mails…" as the extension decides it, for the history checker: remove the selected mails of
// one unit whose Message-ID the other unit proves (holds it in spool/vscan/input, or delivered it per
// its log). Mails without proof are never removed here (that needs the admin's explicit second
// confirmation, which by definition may lose mail).
import type { ClusterConfig, UnitConfig } from '../../../src/core/config';
import { gatewayDirs } from '../../../src/core/config';
import { normalizeMessageId } from '../../../src/core/recovery/messageId';
import { deliveredMessageIds } from '../../../src/core/recovery/plan';
import { logTail, readMessageIds, removeMails } from '../../../src/core/recovery/remote';
import type { RecoverySettings } from '../../../src/core/recovery/settings';
import { listFolder, SpoolFolder } from '../../../src/core/spool/list';
import type { ConnectionPool } from '../../../src/core/ssh/pool';

export interface RemoveResult {
  removed: { id: string; folder: SpoolFolder; proof: string }[];
  kept: string[];
  refused?: string;
}

export async function removeProvenMails(pool: ConnectionPool, cluster: ClusterConfig, unit: UnitConfig, selected: { id: string; folder: SpoolFolder }[], settings: RecoverySettings): Promise<RemoveResult> {
  const other = cluster.units.find((u) => u.key !== unit.key)!;
  const dirs = gatewayDirs(cluster);
  const conn = pool.get(unit);
  const oconn = pool.get(other);
  const mine = new Map<string, string | undefined>();
  for (const folder of new Set(selected.map((m) => m.folder))) {
    const ids = selected.filter((m) => m.folder === folder).map((m) => m.id);
    for (const [id, mid] of await readMessageIds(conn, dirs[folder], ids)) mine.set(`${folder}/${id}`, mid);
  }
  const where = new Map<string, string>();
  for (const folder of ['spool', 'vscan', 'input'] as const) {
    const l = await listFolder(oconn, cluster, folder);
    const mids = await readMessageIds(oconn, dirs[folder], l.mails.filter((m) => m.body).map((m) => m.id));
    for (const [id, mid] of mids) if (mid) where.set(normalizeMessageId(mid), `in ${other.key} ${folder}/ as ${id}`);
  }
  const delivered = deliveredMessageIds(await logTail(oconn, cluster.logFile, 16 * 1024 * 1024), settings.deliveryLogPattern);
  const res: RemoveResult = { removed: [], kept: [] };
  for (const m of selected) {
    const mid = mine.get(`${m.folder}/${m.id}`);
    const key = mid ? normalizeMessageId(mid) : undefined;
    const proof = key ? (where.get(key) ?? (delivered.has(key) ? `delivered by ${other.key} (log)` : undefined)) : undefined;
    if (proof) res.removed.push({ ...m, proof });
    else res.kept.push(m.id);
  }
  for (const folder of new Set(res.removed.map((m) => m.folder))) {
    await removeMails(conn, dirs[folder], res.removed.filter((m) => m.folder === folder).map((m) => m.id));
  }
  return res;
}
