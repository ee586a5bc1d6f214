// The plan: what is left on the secondary, what of it the primary already holds or delivered, and
// what will move. Nothing is changed on either unit while planning.
import type { ClusterConfig } from '../config';
import { gatewayDirs } from '../config';
import { findGateway } from '../gateway';
import { haDisagreement } from '../haRole';
import type { ConnectionPool } from '../ssh/pool';
import { FolderListing, IgnoredEntry, listFolder, MailEntry, SpoolFolder } from '../spool/list';
import { DELIVERY_SEARCH_MARGIN_MS, LogFileInfo } from './deliveryLogs';
import type { MessageIdResult } from '../message/messageId';
import { withFoundLog } from '../log/discover';
import { lookOnPrimary, mailKey, StandbyMail, Verdict } from './proof';
import { readMessageIdResults, RecoveryError } from './remote';

export type Classification = 'move' | 'duplicate' | 'incomplete' | 'held';

/** Why a mail counts as already on or delivered by the active unit (docs/recovery.md, "What proves what"). */
export type DuplicateProof =
  /** The same gateway id with the same content and envelope in the primary's folder; removable from spool/ and vscan/ only. */
  | { readonly kind: 'folder'; readonly folder: SpoolFolder; readonly id: string; readonly removable: boolean }
  /** Delivery lines for its gateway id, one for each recipient of its envelope. */
  | { readonly kind: 'log'; readonly file: string; readonly line: number }
  /** The same gateway id in another folder of the secondary: the first one moves, this one waits for a proof. */
  | { readonly kind: 'secondary'; readonly id: string; readonly sameId: true };

/** The proof a verdict of the primary gives, if it is one. */
export function proofOf(v: Verdict): DuplicateProof | undefined {
  if (v.kind === 'present') return { kind: 'folder', folder: v.folder, id: v.id, removable: v.removable };
  if (v.kind === 'delivered') return { kind: 'log', file: v.file, line: v.line };
  return undefined;
}

export interface PlanMail {
  readonly id: string;
  readonly folder: SpoolFolder;
  readonly messageId?: string;
  readonly bodySize: number;
  readonly envSize: number;
  /** Oldest mtime of its files on the secondary. */
  readonly mtimeMs: number;
  readonly classification: Classification;
  /** Why a mail is a duplicate, incomplete or held, for the user. */
  readonly reason?: string;
  /** For a duplicate: what shows the active unit has it. */
  readonly proof?: DuplicateProof;
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
  /** Mails that can be proved neither delivered nor undelivered: left alone for a decision. */
  readonly held: readonly PlanMail[];
  /** The primary's log files: which were searched for deliveries, and from when they cover. */
  readonly logs: { readonly files: readonly LogFileInfo[]; readonly coverageFromMs?: number; readonly chosen?: { readonly file: string; readonly why: string } };
  /** What the plan could not check as it should (a pattern that matches nothing, missing logs). */
  readonly warnings: readonly string[];
  /** Entries on the secondary that are not mails we would touch (unsafe names, links, temp files). */
  readonly ignored: readonly (IgnoredEntry & { folder: SpoolFolder })[];
  readonly moveBytes: number;
  /** Which path the mails take and why (set by the run once both units are connected). */
  readonly transfer?: { readonly path: 'direct' | 'relay'; readonly why: string };
}

export interface PlanOptions {
  /** Folders of the secondary to recover from (default spool and vscan). */
  readonly folders?: readonly SpoolFolder[];
  /** How the primary's log names delivered mails (named group `messageId`). */
  readonly deliveryLogPattern: RegExp;
  /** How far before a mail's time its delivery is looked for (default DELIVERY_SEARCH_MARGIN_MS). */
  readonly marginMs?: number;
  /** Move duplicates too (the user insists). */
  readonly includeDuplicates?: boolean;
  /** Ids left alone (held by an earlier run for a manual check); may still be being read. */
  readonly exclude?: ReadonlySet<string> | Promise<ReadonlySet<string>>;
}

/** Refuses, before either unit is touched, a "pair" whose two units are one host. */
export function refuseOneHost(cluster: ClusterConfig): void {
  const p = cluster.primary;
  const s = cluster.secondary;
  if (p.host === s.host && (p.port ?? 22) === (s.port ?? 22)) {
    throw new RecoveryError(`cluster "${cluster.name}": the primary ${p.key} and the secondary ${s.key} are the same host (${p.host}:${p.port ?? 22}); recovery would copy mail onto itself. Fix the units in mailgwHa.clusters.`);
  }
}

/** Refuses unless the primary is the one active unit of a real pair. */
export async function checkPair(pool: ConnectionPool, cluster: ClusterConfig): Promise<{ primaryPid: number }> {
  refuseOneHost(cluster);
  const p = cluster.primary;
  const s = cluster.secondary;
  const [pg, sg] = await Promise.all([findGateway(pool.get(p), cluster), findGateway(pool.get(s), cluster)]);
  // The box's own control must agree with the processes (and with the settings' roles), else which
  // unit is active is not known well enough to move mail.
  const disagree = [haDisagreement(p, pg.pids.length > 0, pg.ha), haDisagreement(s, sg.pids.length > 0, sg.ha)].filter(Boolean);
  if (disagree.length) throw new RecoveryError(`cluster "${cluster.name}": which unit is active is not clear: ${disagree.join('; ')}. Nothing was changed. Check the HA state on the box (and the units' roles in mailgwHa.clusters) before recovering.`);
  if (sg.pids.length > 0) {
    throw new RecoveryError(`cluster "${cluster.name}": the gateway ${sg.processName} runs on the secondary ${s.key} (PID ${sg.pids.join(', ')}), so the primary is not the active unit. Recover only after the takeback, when the primary is active.`);
  }
  if (pg.pids.length === 0) {
    throw new RecoveryError(`cluster "${cluster.name}": the gateway process ${pg.processName} is not running on the primary ${p.key}. Start the service (or finish the takeback) before recovering: nobody would insert the copied mail.`);
  }
  if (pg.pids.length > 1) throw new RecoveryError(`cluster "${cluster.name}": ${pg.pids.length} processes named ${pg.processName} run on ${p.key} (PIDs ${pg.pids.join(', ')}); refusing to guess which one to signal.`);
  return { primaryPid: pg.pids[0] };
}

export async function makePlan(pool: ConnectionPool, configured: ClusterConfig, options: PlanOptions): Promise<RecoveryPlan> {
  refuseOneHost(configured);
  // Which file is the gateway log (found on the primary unless set; a run found it already).
  const { cluster, log } = await withFoundLog(pool.get(configured.primary), configured);
  // The pair is checked while both units are read (nothing here changes them), each check a round
  // trip the admin's link would otherwise wait for in turn; a refusal still wins over a read's error.
  const pair = checkPair(pool, cluster);
  const folders = options.folders ?? ['spool', 'vscan'];
  const sc = pool.get(cluster.secondary);
  const dirs = gatewayDirs(cluster);
  const marginMs = options.marginMs ?? DELIVERY_SEARCH_MARGIN_MS;

  const excluded = Promise.resolve(options.exclude ?? new Set<string>());
  excluded.catch(() => undefined); // reported through `secondary`
  const complete = (l: FolderListing, exclude: ReadonlySet<string>) => l.mails.filter((m) => m.complete && !exclude.has(m.id));
  const secondary = (async () => {
    // Each folder's header reading is started with its listing and gets the ids once listed.
    const perFolder = folders.map((f) => {
      const listing = listFolder(sc, cluster, f);
      const ids = Promise.all([listing, excluded]).then(([l, exclude]) => complete(l, exclude).map((m) => m.id));
      return Promise.all([listing, readMessageIdResults(sc, dirs[f], ids)]);
    });
    const done = await Promise.all(perFolder);
    return { listings: done.map(([l]) => l), mids: done.map(([, m]) => m), exclude: await excluded };
  })();
  const candidates = secondary.then(({ listings, mids, exclude }) =>
    listings.flatMap((l, i) =>
      complete(l, exclude).map((m): StandbyMail => {
        const r = mids[i].get(m.id);
        return { id: m.id, folder: l.folder, timeMs: m.mtimeMs, messageId: r?.kind === 'ok' ? r.id : undefined };
      }),
    ),
  );
  candidates.catch(() => undefined); // the secondary's error is reported through `secondary`
  // Both units are read at once; the primary's logs only once its folders and the candidates are known.
  const reads = Promise.all([secondary, lookOnPrimary(pool, cluster, candidates, { primaryFolders: ['spool', 'vscan', 'input'], pattern: options.deliveryLogPattern, marginMs })]);
  reads.catch(() => undefined); // reported below, unless the pair's refusal is
  const { primaryPid } = await pair;
  const [{ listings: secondaryListings, mids: secondaryMids, exclude }, onPrimary] = await reads;

  const mails: PlanMail[] = [];
  const ignored: (IgnoredEntry & { folder: SpoolFolder })[] = [];
  const seenIds = new Set<string>();
  secondaryListings.forEach((l, i) => {
    for (const e of l.ignored) ignored.push({ ...e, folder: l.folder });
    for (const m of l.mails) {
      if (exclude.has(m.id)) continue;
      mails.push(classify(m, secondaryMids[i].get(m.id) ?? { kind: 'unreadable' }));
    }
  });

  function classify(m: MailEntry, mid: MessageIdResult): PlanMail {
    const base = { id: m.id, folder: m.folder, messageId: mid.kind === 'ok' ? mid.id : undefined, bodySize: m.body?.size ?? 0, envSize: m.env?.size ?? 0, mtimeMs: m.mtimeMs };
    if (!m.complete) return { ...base, classification: 'incomplete', reason: m.body ? 'no .env' : 'no .body' };
    // The same id in two folders of the secondary: input/ would get one name twice. Move the first;
    // this one is removed only once the primary is proved to have it.
    if (seenIds.has(m.id)) return { ...base, classification: 'duplicate', reason: `id ${m.id} also in another folder of the secondary`, proof: { kind: 'secondary', id: m.id, sameId: true } };
    seenIds.add(m.id);
    const v = onPrimary.verdicts.get(mailKey(m)) ?? { kind: 'unproven', why: 'it was not looked at on the primary' };
    const proof = proofOf(v);
    if (proof && !options.includeDuplicates) return { ...base, classification: 'duplicate', reason: v.kind === 'absent' ? undefined : v.why, proof };
    if (v.kind === 'unproven') return { ...base, classification: 'held', reason: v.why };
    return { ...base, classification: 'move', reason: v.kind === 'absent' ? v.note : undefined };
  }

  const move = mails.filter((m) => m.classification === 'move');
  const warnings = [...onPrimary.logs.warnings];
  const tooOld = mails.filter((m) => m.classification === 'held' && /logs start at/.test(m.reason ?? ''));
  if (tooOld.length) warnings.push(`${tooOld.length} mail(s) are older than the primary's oldest remaining log (${onPrimary.logs.coverageFromMs ? new Date(onPrimary.logs.coverageFromMs).toISOString() : 'none'}) minus ${Math.round(marginMs / 60000)} min: whether it delivered them cannot be checked, so they are held for a decision`);
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
    held: mails.filter((m) => m.classification === 'held'),
    logs: { files: onPrimary.logs.files, coverageFromMs: onPrimary.logs.coverageFromMs, chosen: { file: log.file, why: log.why } },
    warnings,
    ignored,
    moveBytes: move.reduce((s, m) => s + m.bodySize + m.envSize, 0),
  };
}

/** One line per count, for confirmations and logs. */
export function describePlan(plan: RecoveryPlan): string {
  const mb = (plan.moveBytes / 1024 / 1024).toFixed(1);
  const parts = [`${plan.move.length} mail(s) to move (${mb} MB) from ${plan.secondary} to ${plan.primary}`];
  if (plan.duplicates.length) parts.push(`${plan.duplicates.length} duplicate(s) skipped (already on or delivered by the primary)`);
  if (plan.held.length) parts.push(`${plan.held.length} mail(s) held for a decision (cannot be proved delivered or not)`);
  if (plan.incomplete.length) parts.push(`${plan.incomplete.length} incomplete mail(s) skipped and reported`);
  if (plan.ignored.length) parts.push(`${plan.ignored.length} other entr${plan.ignored.length === 1 ? 'y' : 'ies'} ignored (unsafe names, links, temporary files)`);
  if (plan.transfer && plan.move.length) parts.push(`transfer: ${plan.transfer.path} (${plan.transfer.why})`);
  return parts.join('; ');
}

/** The primary's log files as the plan searched them, one line each. */
export function describeLogs(plan: RecoveryPlan): string[] {
  const chosen = plan.logs.chosen ? [`gateway log ${plan.logs.chosen.file}: ${plan.logs.chosen.why}`] : [];
  return chosen.concat(plan.logs.files.map((f) => `${f.path}${f.compression === 'gz' ? ' (gzip)' : ''}: ${f.searched ? 'searched' : f.unreadable ? 'NOT READABLE' : 'not needed (ended before the oldest stranded mail)'}, ${f.size} bytes, ${f.firstLineMs ? `from ${new Date(f.firstLineMs).toISOString()} ` : ''}to ${new Date(f.mtimeMs).toISOString()}`));
}
