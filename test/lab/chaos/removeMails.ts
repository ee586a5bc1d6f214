// "Remove Mails…" as the extension does it, for the history checker: the core's decision
// (src/core/recovery/removalProof.ts: only the standby, only mails the active primary proves), then
// the removal of exactly those mails by name.
import type { ClusterConfig, UnitConfig } from '../../../src/core/config';
import { gatewayDirs } from '../../../src/core/config';
import { ClusterLockedError, withClusterLock } from '../../../src/core/recovery/clusterLock';
import { removeMails } from '../../../src/core/recovery/remote';
import { decideRemoval, refuseUnit } from '../../../src/core/recovery/removalProof';
import type { RecoverySettings } from '../../../src/core/recovery/settings';
import type { SpoolFolder } from '../../../src/core/spool/list';
import type { ConnectionPool } from '../../../src/core/ssh/pool';

export interface RemoveResult {
  removed: { id: string; folder: SpoolFolder; proof: string }[];
  kept: string[];
  refused?: string;
}

export async function removeProvenMails(pool: ConnectionPool, cluster: ClusterConfig, unit: UnitConfig, selected: { id: string; folder: SpoolFolder }[], settings: RecoverySettings): Promise<RemoveResult> {
  const refused = refuseUnit(cluster, unit);
  if (refused) return { removed: [], kept: selected.map((m) => m.id), refused };
  // Decided and removed under the cluster lock, so it never interleaves with a recovery run.
  try {
    return await withClusterLock(pool.get(cluster.primary), cluster, 'chaos Remove Mails', async () => {
      const decision = await decideRemoval(pool, cluster, unit, selected, settings.deliveryLogPattern);
      const dirs = gatewayDirs(cluster);
      for (const folder of new Set(decision.removable.map((m) => m.folder))) {
        await removeMails(pool.get(unit), dirs[folder], decision.removable.filter((m) => m.folder === folder).map((m) => m.id));
      }
      return { removed: decision.removable.map((m) => ({ id: m.id, folder: m.folder, proof: m.why })), kept: decision.kept.map((m) => m.id) };
    });
  } catch (e) {
    if (e instanceof ClusterLockedError) return { removed: [], kept: selected.map((m) => m.id), refused: e.message };
    throw e;
  }
}
