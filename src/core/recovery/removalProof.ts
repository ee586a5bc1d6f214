// What "Remove Mails…" may delete. Only mail of the standby (secondary) unit, only while the primary
// is the active unit, and only mails the active unit proves it has (proof.ts): the same gateway id
// with the same content and envelope in its spool/ or vscan/, or a delivery of that id to every
// recipient in its logs (any log file, rotated ones too). A Message-ID is never a proof. Mail on
// the active unit is never removed this way: it is the copy that will be delivered, and the
// standby's copies of it are never delivered while the primary is active, so "the other unit has it
// too" protects nothing there. Mail without such proof is not removed at all.
import type { ClusterConfig, UnitConfig } from '../config';
import { gatewayDirs } from '../config';
import type { SpoolFolder } from '../spool/list';
import type { ConnectionPool } from '../ssh/pool';
import type { MessageIdResult } from '../message/messageId';
import { checkPair, DuplicateProof, proofOf } from './plan';
import { withFoundLog } from '../log/discover';
import { lookOnPrimary, mailKey, StandbyMail } from './proof';
import { readMessageIdResults, RecoveryError } from './remote';

export interface RemovalRequest {
  readonly id: string;
  readonly folder: SpoolFolder;
}

export interface RemovalDecision {
  /** Proved on the active unit: may be removed from the standby. */
  readonly removable: readonly (RemovalRequest & { messageId?: string; proof: DuplicateProof; why: string })[];
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
export async function decideRemoval(pool: ConnectionPool, configured: ClusterConfig, unit: UnitConfig, mails: readonly RemovalRequest[], pattern: RegExp): Promise<RemovalDecision> {
  const refused = refuseUnit(configured, unit);
  if (refused) throw new RecoveryError(refused);
  // The standby may have taken over meanwhile: then its mail is live, and the primary's proves nothing.
  // Its gateway log is the one found there (unless set), as for a recovery.
  const [, { cluster }] = await Promise.all([checkPair(pool, configured), withFoundLog(pool.get(configured.primary), configured)]);
  const dirs = gatewayDirs(cluster);
  const sc = pool.get(cluster.secondary);
  const results = new Map<string, MessageIdResult>();
  for (const folder of [...new Set(mails.map((m) => m.folder))]) {
    const ids = mails.filter((m) => m.folder === folder).map((m) => m.id);
    for (const [id, r] of await readMessageIdResults(sc, dirs[folder], ids)) results.set(`${folder}/${id}`, r);
  }
  // Not input/: a copy there is not inserted yet, and it may be the placed copy of an interrupted
  // recovery, which the next run takes back when it finds the original gone — removing the original
  // on that "proof" would lose the mail. Every log file is searched (time 0).
  const messageIdOf = (m: RemovalRequest) => {
    const r = results.get(mailKey(m));
    return r?.kind === 'ok' ? r.id : undefined;
  };
  const standby = mails.map((m): StandbyMail => ({ id: m.id, folder: m.folder, timeMs: 0, messageId: messageIdOf(m) }));
  const look = await lookOnPrimary(pool, cluster, standby, { primaryFolders: ['spool', 'vscan'], pattern, needCoverage: false });
  const removable: (RemovalRequest & { messageId?: string; proof: DuplicateProof; why: string })[] = [];
  const kept: (RemovalRequest & { why: string })[] = [];
  for (const m of mails) {
    const v = look.verdicts.get(mailKey(m));
    const proof = v && proofOf(v);
    if (v && proof && (v.kind === 'delivered' || (v.kind === 'present' && v.removable))) removable.push({ ...m, messageId: messageIdOf(m), proof, why: v.why });
    else if (v?.kind === 'unproven') kept.push({ ...m, why: `${v.why}; it is not removed` });
    else kept.push({ ...m, why: `${cluster.primary.key} does not have it: no mail with its gateway id, content and envelope in its spool/ or vscan/, and no delivery of it to all its recipients in its logs (a copy in input/ is not inserted yet)` });
  }
  return { removable, kept };
}
