// What "Remove Mails…" may delete. Only mail of the standby (secondary) unit, only while the primary
// is the active unit, and only mails whose Message-ID the active unit proves it has: the same single
// Message-ID in its spool/ or vscan/, or a delivery of it in its logs (any log file, rotated
// ones too). Mail on the active unit is never removed this way: it is the copy that will be
// delivered, and the standby's copies of it are never delivered while the primary is active, so
// "the other unit has it too" protects nothing there. Mail without such proof is not removed at all.
import type { ClusterConfig, UnitConfig } from '../config';
import { gatewayDirs } from '../config';
import type { SpoolFolder } from '../spool/list';
import type { ConnectionPool } from '../ssh/pool';
import { describeMessageIdProblem, MessageIdResult, normalizeMessageId } from '../message/messageId';
import { checkPair, describeProof, DuplicateProof, primaryEvidence } from './plan';
import { readMessageIdResults, RecoveryError } from './remote';

export interface RemovalRequest {
  readonly id: string;
  readonly folder: SpoolFolder;
}

export interface RemovalDecision {
  /** Proved on the active unit: may be removed from the standby. */
  readonly removable: readonly (RemovalRequest & { messageId: string; proof: DuplicateProof; why: string })[];
  /** Not proved: stays, with why. */
  readonly kept: readonly (RemovalRequest & { why: string })[];
}

/** Why mails of `unit` may not be removed at all, or undefined if it is the cluster's standby unit. */
export function refuseUnit(cluster: ClusterConfig, unit: UnitConfig): string | undefined {
  if (unit.key === cluster.primary.key) {
    return `Remove Mails works only on the standby unit ${cluster.secondary.key}. ${unit.key} is the primary: its spool is the mail the gateway delivers, and copies of the same mails on the standby are never delivered while the primary is active, so finding them there proves nothing. Nothing was removed.`;
  }
  if (unit.key !== cluster.secondary.key) return `${unit.key} is not a unit of cluster "${cluster.name}". Nothing was removed.`;
  return undefined;
}

/**
 * Checks, right now, which of the selected standby mails the active primary proves it has. Throws
 * (nothing removed) if the unit is not the standby or the primary is not the active unit.
 */
export async function decideRemoval(pool: ConnectionPool, cluster: ClusterConfig, unit: UnitConfig, mails: readonly RemovalRequest[], pattern: RegExp): Promise<RemovalDecision> {
  const refused = refuseUnit(cluster, unit);
  if (refused) throw new RecoveryError(refused);
  // The standby may have taken over meanwhile: then its mail is live, and the primary's proves nothing.
  await checkPair(pool, cluster);
  const dirs = gatewayDirs(cluster);
  const sc = pool.get(cluster.secondary);
  const results = new Map<string, MessageIdResult>();
  for (const folder of [...new Set(mails.map((m) => m.folder))]) {
    const ids = mails.filter((m) => m.folder === folder).map((m) => m.id);
    for (const [id, r] of await readMessageIdResults(sc, dirs[folder], ids)) results.set(`${folder}/${id}`, r);
  }
  const candidates = [...results.values()].flatMap((r) => (r.kind === 'ok' ? [{ messageId: r.id, timeMs: 0 }] : []));
  // Not input/: a copy there is not inserted yet, and it may be the placed copy of an interrupted
  // recovery, which the next run takes back when it finds the original gone — removing the original
  // on that "proof" would lose the mail.
  const ev = await primaryEvidence(pool, cluster, ['spool', 'vscan'], candidates, pattern);
  const removable: (RemovalRequest & { messageId: string; proof: DuplicateProof; why: string })[] = [];
  const kept: (RemovalRequest & { why: string })[] = [];
  for (const m of mails) {
    const r: MessageIdResult = results.get(`${m.folder}/${m.id}`) ?? { kind: 'unreadable' };
    if (r.kind !== 'ok') {
      kept.push({ ...m, why: `${describeMessageIdProblem(r)}; it cannot be matched with mail on ${cluster.primary.key}` });
      continue;
    }
    const key = normalizeMessageId(r.id);
    const inFolder = ev.present.get(key);
    const delivered = ev.logs.delivered.get(key);
    const proof: DuplicateProof | undefined = inFolder ? { kind: 'folder', ...inFolder } : delivered ? { kind: 'log', ...delivered } : undefined;
    if (proof) removable.push({ ...m, messageId: r.id, proof, why: describeProof(proof) });
    else kept.push({ ...m, why: `its Message-ID ${r.id} is not in ${cluster.primary.key}'s spool/ or vscan/, nor delivered per its logs (a copy in input/ is not inserted yet)` });
  }
  return { removable, kept };
}
