// The plan: what is left on the secondary, what of it the primary already holds or delivered, and
// what will move. Nothing is changed on either unit while planning.
import type { ClusterConfig } from '../config';
import { gatewayDirs } from '../config';
import { findGateway } from '../gateway';
import type { ConnectionPool } from '../ssh/pool';
import { FolderListing, IgnoredEntry, listFolder, MailEntry, SpoolFolder } from '../spool/list';
import { normalizeMessageId } from './messageId';
import { logTail, readMessageIds, RecoveryError } from './remote';

export type Classification = 'move' | 'duplicate' | 'incomplete';

export interface PlanMail {
  readonly id: string;
  readonly folder: SpoolFolder;
  readonly messageId?: string;
  readonly bodySize: number;
  readonly envSize: number;
  readonly classification: Classification;
  /** Why a mail is a duplicate or incomplete, for the user. */
  readonly reason?: string;
}

export interface RecoveryPlan {
  readonly cluster: string;
  readonly primary: string;
  readonly secondary: string;
  readonly primaryPid: number;
  readonly folders: readonly SpoolFolder[];
  readonly mails: readonly PlanMail[];
  readonly move: readonly PlanMail[];
  readonly duplicates: readonly PlanMail[];
  readonly incomplete: readonly PlanMail[];
  /** Entries on the secondary that are not mails we would touch (unsafe names, links, temp files). */
  readonly ignored: readonly (IgnoredEntry & { folder: SpoolFolder })[];
  readonly moveBytes: number;
}

export interface PlanOptions {
  /** Folders of the secondary to recover from (default spool and vscan). */
  readonly folders?: readonly SpoolFolder[];
  /** How the primary's log names delivered mails (named group `messageId`). */
  readonly deliveryLogPattern: RegExp;
  /** How much of the primary's log tail is searched for deliveries (default 16 MB). */
  readonly deliveryLogBytes?: number;
  /** Move duplicates too (the user insists). */
  readonly includeDuplicates?: boolean;
  /** Ids left alone (held by an earlier run for a manual check). */
  readonly exclude?: ReadonlySet<string>;
}

/** Refuses unless the primary is the one active unit of a real pair. */
export async function checkPair(pool: ConnectionPool, cluster: ClusterConfig): Promise<{ primaryPid: number }> {
  const p = cluster.primary;
  const s = cluster.secondary;
  if (p.host === s.host && (p.port ?? 22) === (s.port ?? 22)) {
    throw new RecoveryError(`cluster "${cluster.name}": the primary ${p.key} and the secondary ${s.key} are the same host (${p.host}:${p.port ?? 22}); recovery would copy mail onto itself. Fix the units in mailgwHa.clusters.`);
  }
  const [pg, sg] = await Promise.all([findGateway(pool.get(p), cluster), findGateway(pool.get(s), cluster)]);
  if (sg.pids.length > 0) {
    throw new RecoveryError(`cluster "${cluster.name}": the gateway ${sg.processName} runs on the secondary ${s.key} (PID ${sg.pids.join(', ')}), so the primary is not the active unit. Recover only after the takeback, when the primary is active.`);
  }
  if (pg.pids.length === 0) {
    throw new RecoveryError(`cluster "${cluster.name}": the gateway process ${pg.processName} is not running on the primary ${p.key}. Start the service (or finish the takeback) before recovering: nobody would insert the copied mail.`);
  }
  if (pg.pids.length > 1) throw new RecoveryError(`cluster "${cluster.name}": ${pg.pids.length} processes named ${pg.processName} run on ${p.key} (PIDs ${pg.pids.join(', ')}); refusing to guess which one to signal.`);
  return { primaryPid: pg.pids[0] };
}

/** Message-IDs the primary's log says it delivered (from its tail). */
export function deliveredMessageIds(logText: string, pattern: RegExp): Set<string> {
  const out = new Set<string>();
  const re = new RegExp(pattern.source, pattern.flags.replace('g', ''));
  for (const line of logText.split('\n')) {
    const m = re.exec(line);
    const mid = m?.groups?.messageId;
    if (mid) out.add(normalizeMessageId(mid));
  }
  return out;
}

/**
 * Message-IDs the primary holds in the given folders or has delivered (its log tail). The log is
 * read after the folders, and again if a mail vanished while its Message-ID was being read: a
 * mail delivered meanwhile is then in the log, so it is never missed both ways.
 */
export async function primaryMessageIds(pool: ConnectionPool, cluster: ClusterConfig, folders: readonly SpoolFolder[], pattern: RegExp, logBytes = 16 * 1024 * 1024): Promise<Map<string, string>> {
  const pc = pool.get(cluster.primary);
  const dirs = gatewayDirs(cluster);
  const listings = await Promise.all(folders.map((f) => listFolder(pc, cluster, f)));
  const mids = await Promise.all(listings.map((l) => readMessageIds(pc, dirs[l.folder], l.mails.filter((m) => m.complete).map((m) => m.id))));
  const out = new Map<string, string>();
  let vanished = false;
  listings.forEach((l, i) => {
    for (const [, mid] of mids[i]) {
      if (mid) out.set(normalizeMessageId(mid), `already in the primary's ${l.folder}/`);
      else vanished = true;
    }
  });
  let text = await logTail(pc, cluster.logFile, logBytes);
  if (vanished) {
    await new Promise((r) => setTimeout(r, 300));
    text = await logTail(pc, cluster.logFile, logBytes);
  }
  for (const mid of deliveredMessageIds(text, pattern)) if (!out.has(mid)) out.set(mid, 'already delivered by the primary (its log)');
  return out;
}

export async function makePlan(pool: ConnectionPool, cluster: ClusterConfig, options: PlanOptions): Promise<RecoveryPlan> {
  const { primaryPid } = await checkPair(pool, cluster);
  const folders = options.folders ?? ['spool', 'vscan'];
  const sc = pool.get(cluster.secondary);
  const dirs = gatewayDirs(cluster);

  const [secondaryListings, onPrimary] = await Promise.all([
    Promise.all(folders.map((f) => listFolder(sc, cluster, f))),
    primaryMessageIds(pool, cluster, ['spool', 'input'], options.deliveryLogPattern, options.deliveryLogBytes),
  ]);
  const complete = (l: FolderListing) => l.mails.filter((m) => m.complete && !options.exclude?.has(m.id));
  const secondaryMids = await Promise.all(secondaryListings.map((l) => readMessageIds(sc, dirs[l.folder], complete(l).map((m) => m.id))));

  const mails: PlanMail[] = [];
  const ignored: (IgnoredEntry & { folder: SpoolFolder })[] = [];
  const seen = new Map<string, string>();
  const seenIds = new Set<string>();
  secondaryListings.forEach((l, i) => {
    for (const e of l.ignored) ignored.push({ ...e, folder: l.folder });
    for (const m of l.mails) {
      if (options.exclude?.has(m.id)) continue;
      mails.push(classify(m, secondaryMids[i].get(m.id)));
    }
  });

  function classify(m: MailEntry, messageId: string | undefined): PlanMail {
    const base = { id: m.id, folder: m.folder, messageId, bodySize: m.body?.size ?? 0, envSize: m.env?.size ?? 0 };
    if (!m.complete) return { ...base, classification: 'incomplete', reason: m.body ? 'no .env' : 'no .body' };
    // The same id in two folders of the secondary: input/ would get one name twice. Move the first.
    if (seenIds.has(m.id)) return { ...base, classification: 'duplicate', reason: `id ${m.id} also in another folder of the secondary` };
    seenIds.add(m.id);
    if (messageId) {
      const key = normalizeMessageId(messageId);
      const dup = onPrimary.get(key) ?? (seen.has(key) ? `same Message-ID as ${seen.get(key)} on the secondary` : undefined);
      if (dup && !options.includeDuplicates) return { ...base, classification: 'duplicate', reason: dup };
      seen.set(key, m.id);
    }
    return { ...base, classification: 'move' };
  }

  const move = mails.filter((m) => m.classification === 'move');
  return {
    cluster: cluster.name,
    primary: cluster.primary.key,
    secondary: cluster.secondary.key,
    primaryPid,
    folders,
    mails,
    move,
    duplicates: mails.filter((m) => m.classification === 'duplicate'),
    incomplete: mails.filter((m) => m.classification === 'incomplete'),
    ignored,
    moveBytes: move.reduce((s, m) => s + m.bodySize + m.envSize, 0),
  };
}

/** One line per count, for confirmations and logs. */
export function describePlan(plan: RecoveryPlan): string {
  const mb = (plan.moveBytes / 1024 / 1024).toFixed(1);
  const parts = [`${plan.move.length} mail(s) to move (${mb} MB) from ${plan.secondary} to ${plan.primary}`];
  if (plan.duplicates.length) parts.push(`${plan.duplicates.length} duplicate(s) skipped (already on or delivered by the primary)`);
  if (plan.incomplete.length) parts.push(`${plan.incomplete.length} incomplete mail(s) skipped and reported`);
  if (plan.ignored.length) parts.push(`${plan.ignored.length} other entr${plan.ignored.length === 1 ? 'y' : 'ies'} ignored (unsafe names, links, temporary files)`);
  return parts.join('; ');
}
