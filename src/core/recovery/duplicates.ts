// Removing from the standby the mails the primary is proved to have: checked again right before
// the removal (still there unchanged, and still in the primary's spool/ or vscan/ with the same id,
// content and envelope, or delivered to every recipient per its logs), journaled before and after,
// so an interrupted removal is redone after the same check.
import { listFolder } from '../spool/list';
import type { Journal } from './journal';
import { checkPair, PlanMail } from './plan';
import { lookOnPrimary, mailKey, StandbyMail, verdictWhy } from './proof';
import { readMessageIdResults, removeMails } from './remote';
import type { RunContext } from './runContext';

/** A mail of the secondary that may be removed as a duplicate once proved again. */
export type DuplicateCandidate = Pick<PlanMail, 'id' | 'folder' | 'bodySize' | 'envSize'>;

/**
 * Removes from the secondary the planned duplicates that are, checked again right now, still there
 * unchanged and still proved on the active primary (present in its spool/ or vscan/, or delivered
 * to every recipient per its logs). Journaled before and after; an interrupted removal is redone by
 * the next run after the same check (its plan finds them as duplicates again).
 */
export async function removeProvedDuplicates(run: RunContext, journal: Journal, dups: readonly DuplicateCandidate[]): Promise<void> {
  const r = run.report;
  run.checkCancel();
  run.progress('cleanup', `checking ${dups.length} duplicate(s) again before removing them from ${run.cluster.secondary.key}`);
  await checkPair(run.opts.pool, run.cluster);
  const folders = [...new Set(dups.map((m) => m.folder))];
  const listings = await Promise.all(folders.map((f) => listFolder(run.secondary, run.cluster, f)));
  const now = new Map<string, { body: number; env: number }>();
  for (const l of listings) for (const m of l.mails) if (m.complete) now.set(`${l.folder}/${m.id}`, { body: m.body!.size, env: m.env!.size });
  const still = dups.filter((m) => {
    const p = now.get(`${m.folder}/${m.id}`);
    return p && p.body === m.bodySize && p.env === m.envSize;
  });
  const mids = new Map<string, string | undefined>();
  for (const f of folders) {
    const ids = still.filter((m) => m.folder === f).map((m) => m.id);
    for (const [id, res] of await readMessageIdResults(run.secondary, run.dirs[f], ids)) mids.set(`${f}/${id}`, res.kind === 'ok' ? res.id : undefined);
  }
  // Every log file is searched (time 0); input/ is not looked at: a copy there is not inserted yet.
  const standby = still.map((m): StandbyMail => ({ id: m.id, folder: m.folder, timeMs: 0, messageId: mids.get(mailKey(m)) }));
  const look = await lookOnPrimary(run.opts.pool, run.cluster, standby, { primaryFolders: ['spool', 'vscan'], pattern: run.opts.settings.deliveryLogPattern, needCoverage: false });
  const proved: { m: DuplicateCandidate; messageId?: string; proof: string }[] = [];
  for (const m of still) {
    const v = look.verdicts.get(mailKey(m));
    if (v && ((v.kind === 'present' && v.removable) || v.kind === 'delivered')) proved.push({ m, messageId: mids.get(mailKey(m)), proof: verdictWhy(v) });
  }
  for (const m of dups) {
    if (!proved.some((p) => p.m === m)) {
      const v = look.verdicts.get(mailKey(m));
      run.log.info(`recovery ${run.cluster.name}: duplicate ${m.folder}/${m.id} left on ${run.cluster.secondary.key}: not proved on ${run.cluster.primary.key} when checked again${v ? ` (${verdictWhy(v)})` : ' (it changed or left the secondary)'}`);
    }
  }
  if (proved.length === 0) return;
  run.checkCancel();
  journal.append({ t: 'duplicates', phase: 'removing', mails: proved.map((p) => ({ id: p.m.id, folder: p.m.folder, messageId: p.messageId, proof: p.proof })), at: new Date().toISOString() });
  await run.fault('mid-duplicates');
  for (const f of folders) {
    const ids = proved.filter((p) => p.m.folder === f).map((p) => p.m.id);
    if (ids.length) await removeMails(run.secondary, run.dirs[f], ids);
  }
  journal.append({ t: 'duplicates', phase: 'removed', ids: proved.map((p) => p.m.id), at: new Date().toISOString() });
  r.removedDuplicates += proved.length;
  r.duplicatesRemoved = [...(r.duplicatesRemoved ?? []), ...proved.map((p) => ({ id: p.m.id, folder: p.m.folder, messageId: p.messageId, proof: p.proof }))];
  run.progress('cleanup', `removed ${proved.length} duplicate(s) from ${run.cluster.secondary.key}, each proved on ${run.cluster.primary.key}`);
}
