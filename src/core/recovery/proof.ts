// Whether the active primary has, or delivered, a mail of the standby: the one judgement behind every
// step that may remove a mail from the standby or leave it there (the plan, the removal of
// duplicates, Remove Mails, the check before the signal). The rules (docs/recovery.md, "What proves
// what"):
// - present: the primary holds a mail under the same gateway id (or one the spooler's log renamed it
//   to) with the same content (.body SHA-256) and envelope (.env SHA-256, or the same sender and
//   recipient set). In spool/ or vscan/ the gateway has it; in input/ it is not inserted yet, which
//   keeps the standby's copy from moving but never lets it be removed.
// - delivered: every recipient of its envelope has a delivery line, matched whole by the grammar,
//   with its gateway id (or a renamed one) and nothing doubtful in it.
// - absent (it moves): nothing of the above, no line of the primary's logs names its id, and the
//   logs cover its time.
// - anything else is held, with the reason in words. A Message-ID only finds candidates: a mail of
//   the primary with the same Message-ID but another id is compared whole (the same envelope and
//   content under another id is held: this mail renamed, or the same message sent twice), and a
//   delivery of another id with the same Message-ID to one of its recipients holds it too.
import type { ClusterConfig } from '../config';
import { gatewayDirs } from '../config';
import { normalizeMessageId } from '../message/messageId';
import type { SpoolFolder } from '../spool/list';
import { listFolder } from '../spool/list';
import type { ConnectionPool } from '../ssh/pool';
import { DELIVERY_SEARCH_MARGIN_MS, DeliveryRecord, LogSearch, searchDeliveryLogs, unprovable } from './deliveryLogs';
import { compareMails, MailIdentity, readIdentities } from './identity';
import { readMessageIdResults } from './remote';

export interface StandbyMail {
  readonly id: string;
  readonly folder: SpoolFolder;
  /** Its time on the standby: its delivery is looked for from this minus the margin. */
  readonly timeMs: number;
  /** Its Message-ID, when it has one usable: only used to find candidates. */
  readonly messageId?: string;
}

export type Verdict =
  | { readonly kind: 'present'; readonly folder: SpoolFolder; readonly id: string; readonly removable: boolean; readonly why: string }
  | { readonly kind: 'delivered'; readonly why: string; readonly file: string; readonly line: number }
  | { readonly kind: 'absent'; readonly note?: string }
  | { readonly kind: 'unproven'; readonly why: string };

export interface PrimaryLook {
  /** Per standby mail (key `${folder}/${id}`). */
  readonly verdicts: ReadonlyMap<string, Verdict>;
  readonly logs: LogSearch;
}

export interface LookOptions {
  /** The primary's folders that count (input/: present, never removable). */
  readonly primaryFolders: readonly SpoolFolder[];
  readonly pattern: RegExp;
  readonly marginMs?: number;
  /**
   * Whether the logs must cover each mail's time for it to count as absent (the plan). A check that
   * only looks for proofs that the primary has a mail (before removing it, before the signal) does
   * without: there "absent" removes nothing.
   */
  readonly needCoverage?: boolean;
}

export const mailKey = (m: { folder: SpoolFolder; id: string }) => `${m.folder}/${m.id}`;

/** Where a removable verdict comes from, in words for the report, the journal and the audit. */
export function verdictWhy(v: Verdict): string {
  return v.kind === 'absent' ? (v.note ?? 'not on the primary, not delivered per its logs') : v.why;
}

/** The ids a mail may have on the primary: its own and whatever the spooler's log renamed it to. */
export function aliasesOf(id: string, renames: ReadonlyMap<string, readonly string[]>): string[] {
  const out = [id];
  for (let i = 0; i < out.length && out.length < 16; i++) for (const n of renames.get(out[i]) ?? []) if (!out.includes(n)) out.push(n);
  return out;
}

/** A mail vanished from the primary while it was compared (delivered meanwhile): looked for again once. */
const VANISHED_RETRY_MS = 300;

/**
 * Looks at the primary for each standby mail: its folders are read first, then its logs are
 * searched (so a mail delivered while we look is seen one way or the other), then what needs a
 * closer look (same id, a delivery line, the same Message-ID) is compared by content and envelope
 * on both units. The mails may still be being read on the standby: the primary is read meanwhile.
 */
export async function lookOnPrimary(pool: ConnectionPool, cluster: ClusterConfig, mailsOrPromise: readonly StandbyMail[] | Promise<readonly StandbyMail[]>, opts: LookOptions): Promise<PrimaryLook> {
  const pc = pool.get(cluster.primary);
  const dirs = gatewayDirs(cluster);
  const marginMs = opts.marginMs ?? DELIVERY_SEARCH_MARGIN_MS;
  const folderReads = (async () => {
    const read = await Promise.all(
      opts.primaryFolders.map(async (f) => {
        const l = await listFolder(pc, cluster, f);
        return [l, await readMessageIdResults(pc, dirs[f], l.mails.filter((m) => m.complete).map((m) => m.id))] as const;
      }),
    );
    const where = new Map<string, SpoolFolder>();
    const byMid = new Map<string, { folder: SpoolFolder; id: string }[]>();
    for (const [l, mids] of read) {
      for (const m of l.mails) if (m.complete && !where.has(m.id)) where.set(m.id, l.folder);
      for (const [id, r] of mids) {
        const values = r.kind === 'ok' ? [r.id] : r.kind === 'conflict' ? r.ids : [];
        for (const v of values) byMid.set(normalizeMessageId(v), [...(byMid.get(normalizeMessageId(v)) ?? []), { folder: l.folder, id }]);
      }
    }
    return { where, byMid };
  })();
  folderReads.catch(() => undefined); // awaited below
  // The search is started now and sent what to look for once the primary's folders were read and
  // the standby's mails are known.
  const query = Promise.all([folderReads, mailsOrPromise]).then(([, mails]) => ({
    ids: mails.map((m) => m.id),
    messageIds: mails.flatMap((m) => (m.messageId ? [m.messageId] : [])),
    sinceMs: mails.reduce((t, m) => Math.min(t, m.timeMs), Date.now()) - marginMs,
  }));
  const search = searchDeliveryLogs(pc, cluster.logFile, query, { pattern: opts.pattern });
  search.catch(() => undefined); // awaited below, after the folders' own error if any
  const [{ where, byMid }, mails] = await Promise.all([folderReads, mailsOrPromise]);
  let logs = await search;

  // What needs its content and envelope compared, on either unit.
  const needStandby = new Map<string, StandbyMail>();
  const needPrimary = new Set<string>();
  for (const m of mails) {
    const aliases = aliasesOf(m.id, logs.renames);
    const mid = m.messageId ? normalizeMessageId(m.messageId) : undefined;
    const samePrimary = aliases.filter((a) => where.has(a));
    const otherPrimary = mid ? (byMid.get(mid) ?? []).filter((p) => !aliases.includes(p.id)) : [];
    const otherDelivered = mid ? (logs.byMessageId.get(mid) ?? []).filter((d) => !aliases.includes(d.id)) : [];
    if (samePrimary.length || otherPrimary.length || otherDelivered.length || aliases.some((a) => logs.deliveries.has(a))) needStandby.set(mailKey(m), m);
    for (const a of samePrimary) needPrimary.add(a);
    for (const p of otherPrimary) needPrimary.add(p.id);
  }
  const sc = pool.get(cluster.secondary);
  const byFolder = <T extends { folder: SpoolFolder; id: string }>(xs: T[]) => {
    const g = new Map<SpoolFolder, string[]>();
    for (const x of xs) g.set(x.folder, [...(g.get(x.folder) ?? []), x.id]);
    return [...g];
  };
  const [standbyIds, primaryIds] = await Promise.all([
    Promise.all(byFolder([...needStandby.values()]).map(async ([f, ids]) => [f, await readIdentities(sc, dirs[f], ids)] as const)),
    Promise.all(byFolder([...needPrimary].map((id) => ({ id, folder: where.get(id)! }))).map(async ([f, ids]) => [f, await readIdentities(pc, dirs[f], ids)] as const)),
  ]);
  const standbyIdentity = (m: StandbyMail) => standbyIds.find(([f]) => f === m.folder)?.[1].get(m.id);
  const primaryIdentity = (id: string) => primaryIds.find(([f]) => f === where.get(id))?.[1].get(id);

  // A copy on the primary that vanished while it was compared was most likely delivered just now:
  // its delivery lines are looked for once more.
  const vanished = [...needPrimary].filter((id) => !primaryIdentity(id));
  if (vanished.length) {
    await new Promise((r) => setTimeout(r, VANISHED_RETRY_MS));
    const again = await searchDeliveryLogs(pc, cluster.logFile, { ids: vanished, sinceMs: 0 }, { pattern: opts.pattern });
    const deliveries = new Map(logs.deliveries);
    for (const [id, ds] of again.deliveries) deliveries.set(id, [...new Map([...(deliveries.get(id) ?? []), ...ds].map((d) => [`${d.file}:${d.line}`, d])).values()]);
    logs = { ...logs, deliveries, warnings: [...new Set([...logs.warnings, ...again.warnings])] };
  }

  const verdicts = new Map<string, Verdict>();
  for (const m of mails) verdicts.set(mailKey(m), judgeMail(m, { where, byMid, logs, marginMs, needCoverage: opts.needCoverage ?? true, standby: needStandby.has(mailKey(m)) ? standbyIdentity(m) : undefined, primaryIdentity, vanished: new Set(vanished) }));
  return { verdicts, logs };
}

interface Evidence {
  readonly where: ReadonlyMap<string, SpoolFolder>;
  readonly byMid: ReadonlyMap<string, readonly { folder: SpoolFolder; id: string }[]>;
  readonly logs: LogSearch;
  readonly marginMs: number;
  readonly needCoverage: boolean;
  readonly standby: MailIdentity | undefined;
  readonly primaryIdentity: (id: string) => MailIdentity | undefined;
  readonly vanished: ReadonlySet<string>;
}

const at = (d: { file: string; line: number }) => `${d.file}, line ${d.line}`;

/** The verdict on one standby mail from what was read of both units (exported for unit tests). */
export function judgeMail(m: StandbyMail, e: Evidence): Verdict {
  const aliases = aliasesOf(m.id, e.logs.renames);
  const renamed = (id: string) => (id === m.id ? '' : ` (the spooler renamed ${m.id} to ${id})`);
  const unreadable = `its own .body/.env on the standby could not be read to compare them`;

  // The same gateway id on the primary: one mail, if content and envelope agree.
  let present: Verdict | undefined;
  for (const id of aliases.filter((a) => e.where.has(a))) {
    const folder = e.where.get(id)!;
    const p = e.primaryIdentity(id);
    if (!p) {
      if (e.vanished.has(id)) continue; // left the primary meanwhile: its delivery decides below
      return { kind: 'unproven', why: `the primary's ${folder}/${id}${renamed(id)} could not be read to compare it` };
    }
    if (!e.standby) return { kind: 'unproven', why: unreadable };
    const c = compareMails(e.standby, p);
    if (!c.same) return { kind: 'unproven', why: `the primary's ${folder}/${id}${renamed(id)} has the same gateway id but ${c.differs}: which mail is which cannot be proved` };
    const removable = folder !== 'input';
    present ??= { kind: 'present', folder, id, removable, why: `already in the primary's ${folder}/ as ${id}${renamed(id)}, same content and envelope${removable ? '' : ' (not inserted yet: the standby keeps its copy until the gateway has it)'}` };
  }
  if (present) return present;
  if (aliases.some((a) => e.vanished.has(a)) && !aliases.some((a) => e.logs.deliveries.has(a))) return { kind: 'unproven', why: `its copy left the primary's folders while it was compared, without a delivery line for it in the logs` };

  // Delivered: every recipient, by this very id.
  const lines = aliases.flatMap((a) => e.logs.deliveries.get(a) ?? []);
  if (lines.length) {
    if (!e.standby) return { kind: 'unproven', why: unreadable };
    if (!e.standby.envelope) return { kind: 'unproven', why: `the primary's log shows deliveries of its id (${at(lines[0])}), but ${e.standby.envelopeProblem ?? 'its envelope cannot be read'}, so they cannot be checked against its recipients` };
    const byTo = new Map<string, DeliveryRecord>();
    for (const d of lines) if (!byTo.has(d.to)) byTo.set(d.to, d);
    const missing = e.standby.envelope.recipients.filter((r) => !byTo.has(r));
    if (missing.length === 0) {
      const first = lines[0];
      const via = aliases.find((a) => e.logs.deliveries.get(a)?.includes(first)) ?? m.id;
      return { kind: 'delivered', file: first.file, line: first.line, why: `already delivered by the primary to all ${e.standby.envelope.recipients.length} recipient(s) (${at(first)}${lines.length > 1 ? ` and ${lines.length - 1} more line(s)` : ''})${renamed(via)}` };
    }
    const done = e.standby.envelope.recipients.filter((r) => byTo.has(r));
    return { kind: 'unproven', why: `the primary's log shows its delivery to ${done.length} of its ${e.standby.envelope.recipients.length} recipients (${at(byTo.get(done[0])!)}), not to ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}: partly delivered, or another mail under its id` };
  }

  const doubt = aliases.map((a) => e.logs.doubtful.get(a)).find((x) => x);
  if (doubt) return { kind: 'unproven', why: `the primary's log names it in ${doubt.what} (${at(doubt)})` };
  const named = aliases.map((a) => e.logs.mentions.get(a)).find((x) => x);
  if (named) return { kind: 'unproven', why: `the primary's log names its id (${named.what}, ${at(named)}), but it is neither in the primary's folders nor delivered per its logs` };

  // The Message-ID finds candidates under other ids; only the whole mail decides.
  const notes: string[] = [];
  if (m.messageId) {
    const mid = normalizeMessageId(m.messageId);
    for (const other of (e.byMid.get(mid) ?? []).filter((p) => !aliases.includes(p.id))) {
      const p = e.primaryIdentity(other.id);
      if (!p && e.vanished.has(other.id)) {
        // Delivered while it was compared: its delivery lines say to whom, as for any other id below.
        const lines = e.logs.deliveries.get(other.id) ?? [];
        if (!lines.length) return { kind: 'unproven', why: `the primary's ${other.folder}/${other.id} has its Message-ID and left the primary while it was compared, without a delivery line` };
        if (!e.standby) return { kind: 'unproven', why: unreadable };
        if (!e.standby.envelope) return { kind: 'unproven', why: `the primary delivered ${other.id} with the same Message-ID (${at(lines[0])}), and ${e.standby.envelopeProblem ?? 'its envelope cannot be read'}, so it cannot be told apart` };
        const rcpts = new Set(e.standby.envelope.recipients);
        const overlap = lines.find((d) => rcpts.has(d.to));
        if (overlap) return { kind: 'unproven', why: `the primary delivered ${other.id}, with the same Message-ID, to ${overlap.to}, one of its recipients (${at(overlap)}): it may be this mail under another id, or a second transaction of the same message; check by hand` };
        notes.push(`the primary delivered ${other.id} with the same Message-ID to other recipients: another transaction`);
        continue;
      }
      if (!p) return { kind: 'unproven', why: `the primary's ${other.folder}/${other.id} has its Message-ID and could not be read to compare it` };
      if (!e.standby) return { kind: 'unproven', why: unreadable };
      const c = compareMails(e.standby, p);
      if (c.same) return { kind: 'unproven', why: `the primary's ${other.folder}/${other.id} has the same content and envelope under another gateway id: this mail renamed, or the same message sent twice; check which by hand` };
      notes.push(`the primary's ${other.folder}/${other.id} has the same Message-ID but ${c.differs}: another transaction`);
    }
    const others = (e.logs.byMessageId.get(mid) ?? []).filter((d) => !aliases.includes(d.id));
    if (others.length) {
      if (!e.standby) return { kind: 'unproven', why: unreadable };
      if (!e.standby.envelope) return { kind: 'unproven', why: `the primary delivered ${others[0].id} with the same Message-ID (${at(others[0])}), and ${e.standby.envelopeProblem ?? 'its envelope cannot be read'}, so it cannot be told apart` };
      const rcpts = new Set(e.standby.envelope.recipients);
      const overlap = others.find((d) => rcpts.has(d.to));
      if (overlap) return { kind: 'unproven', why: `the primary delivered ${overlap.id}, with the same Message-ID, to ${overlap.to}, one of its recipients (${at(overlap)}): it may be this mail under another id, or a second transaction of the same message; check by hand` };
      notes.push(`the primary delivered ${[...new Set(others.map((d) => d.id))].slice(0, 3).join(', ')} with the same Message-ID to other recipients: another transaction`);
    }
  }
  const cover = e.needCoverage ? unprovable(e.logs, aliases, m.timeMs, e.marginMs, m.messageId) : undefined;
  if (cover) return { kind: 'unproven', why: cover };
  return notes.length ? { kind: 'absent', note: notes.join('; ') } : { kind: 'absent' };
}
