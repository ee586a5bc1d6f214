// Resuming an interrupted recovery run (see finishInterruptedRun).
import { addHeld, addUnitHeld } from './held';
import { JournalState, journalStamp, MailRecord } from './journal';
import { insertionsOf, textLines } from '../log/spoolerLines';
import { lookOnPrimary, mailKey } from './proof';
import { hashFiles, logSince, RecoveryError, removeFiles, removeMails, removeStage } from './remote';
import type { RunContext } from './runContext';
import { revokeKey } from './transferKey';

/**
 * Finishes or undoes what an interrupted run left, from its journal: copies our hashes prove in the
 * primary's input/ are signalled, copies the log proves inserted are cleaned up, half-placed ones
 * removed, and anything else held for the admin (marked on the primary first). Refuses a journal the
 * settings no longer describe, or one that names a staging folder this tool would not make.
 */
export async function finishInterruptedRun(run: RunContext, prev: JournalState): Promise<void> {
  const was = prev.run!;
  if (was.cluster !== run.cluster.name || was.spoolBase !== run.dirs.base || was.primary !== run.cluster.primary.key || was.secondary !== run.cluster.secondary.key) {
    throw new RecoveryError(`the unfinished journal ${run.file} belongs to cluster "${was.cluster}" (${was.primary} ← ${was.secondary}, ${was.spoolBase}), which the settings no longer describe the same way; restore the settings so that the run can be finished`);
  }
  // The staging folder named in the journal is emptied below: only ever the hidden folder this
  // tool makes inside the primary's input/ (a damaged or foreign journal must not aim it elsewhere).
  if (was.stage !== `${run.dirs.input}/.mailgw-ha-${was.runId}` || !/^\d{8}-\d{6}-[0-9a-f]{6}$/.test(was.runId)) {
    throw new RecoveryError(`the unfinished journal ${run.file} names the staging folder ${JSON.stringify(was.stage)}, not the hidden folder ${run.dirs.input}/.mailgw-ha-<run> this tool makes; refusing to touch it. Check the journal (it may be damaged or not from this tool)`);
  }
  const r = run.report;
  const resumed = { finished: 0, rolledBack: 0, held: 0 };
  r.resumed = resumed;
  run.progress('resume', `finishing the interrupted run ${was.runId} (journal ${run.file})`);
  const journal = run.openJournal(prev);
  try {
    // A direct transfer's key the run had authorized and not yet removed (it expires anyway).
    for (const id of prev.keys) {
      await revokeKey(run.primary, id);
      journal.append({ t: 'key', phase: 'removed', id, at: new Date().toISOString() });
    }
    const mails = [...prev.mails.values()];
    const inFlight = mails.filter((m) => m.state === 'placing' || m.state === 'placed' || m.state === 'signalled');
    const toClean = mails.filter((m) => m.state === 'confirmed' || m.state === 'removing');
    // A discard the admin decided: removing the standby's copy again is harmless.
    const discarding = mails.filter((m) => m.state === 'discarding');
    for (const m of discarding) {
      await removeMails(run.secondary, run.dirs[m.folder], [m.id]);
      journal.state([m.id], 'discarded');
      await run.unhold(m.id);
    }
    const toSignal: MailRecord[] = [];
    const hold = async (m: MailRecord, why: string) => {
      // The mark on the primary first: if it cannot be written, the journal still has the mail in
      // flight and the next run decides again, instead of another workstation moving it meanwhile.
      await addUnitHeld(run.primary, run.cluster, m.id, why);
      journal.state([m.id], 'held', { message: why });
      addHeld(run.file, m.id, why);
      resumed.held++;
      r.held++;
      r.errors.push({ id: m.id, message: why });
    };

    if (inFlight.length) {
      const names = inFlight.flatMap((m) => [`${m.id}.body`, `${m.id}.env`]);
      let hashes = await hashFiles(run.primary, run.dirs.input, names);
      const ours = (m: MailRecord, h: Map<string, string>) => ({ body: !!m.sha && h.get(`${m.id}.body`) === m.sha.body, env: !!m.sha && h.get(`${m.id}.env`) === m.sha.env });
      // A gateway inserting right now moves .body then .env: give it a moment to finish.
      if (inFlight.some((m) => m.state !== 'placing' && ours(m, hashes).body !== ours(m, hashes).env)) {
        await new Promise((res) => setTimeout(res, 1500));
        hashes = await hashFiles(run.primary, run.dirs.input, names);
      }
      // What shows that a copy which left input/ was inserted: the spooler's insertion line after
      // the mark recorded before the copy could be there (the signal's, or the run's start), read as
      // the box's grammar; or, whatever the log says, the primary having this very mail (same id,
      // content and envelope in spool/ or vscan/) or having delivered it to every recipient.
      const left = inFlight.filter((m) => {
        const o = ours(m, hashes);
        return !o.body && !o.env;
      });
      const inserted = new Map<string, string>();
      const marks = new Map<string, MailRecord[]>();
      for (const m of left) {
        const mark = m.mark ?? was.mark;
        if (mark) marks.set(`${mark.inode} ${mark.size}`, [...(marks.get(`${mark.inode} ${mark.size}`) ?? []), m]);
      }
      for (const group of marks.values()) {
        const mark = group[0].mark ?? was.mark!;
        const lines = textLines(await logSince(run.primary, run.cluster.logFile, mark));
        for (const [id, newId] of insertionsOf(lines, new Set(group.map((m) => m.id)))) inserted.set(id, newId);
      }
      const unconfirmed = left.filter((m) => !inserted.has(m.id));
      const look = unconfirmed.length
        ? await lookOnPrimary(run.opts.pool, run.cluster, unconfirmed.map((m) => ({ id: m.id, folder: m.folder, timeMs: 0, messageId: m.messageId })), { primaryFolders: ['spool', 'vscan'], pattern: run.opts.settings.deliveryLogPattern, needCoverage: false })
        : undefined;
      const evidence = (m: MailRecord): string | undefined => {
        const seen = inserted.get(m.id);
        if (seen) return seen;
        const v = look?.verdicts.get(mailKey(m));
        return v && ((v.kind === 'present' && v.removable) || v.kind === 'delivered') ? '?' : undefined;
      };
      for (const m of inFlight) {
        const o = ours(m, hashes);
        if (o.body && o.env) {
          toSignal.push(m); // both copies in input/, not inserted yet: signal (after the checks)
        } else if (o.body || o.env) {
          if (m.state === 'placing') {
            await removeFiles(run.primary, run.dirs.input, [o.body ? `${m.id}.body` : `${m.id}.env`]);
            journal.state([m.id], 'rolledback', { message: 'half placed when the run was interrupted; removed from input/' });
            resumed.rolledBack++;
          } else await hold(m, `only one of ${m.id}.body/.env of our copy is in the primary's input/; check the primary by hand`);
        } else {
          const newId = evidence(m);
          if (newId) {
            journal.state([m.id], 'confirmed', newId !== '?' && newId !== m.id ? { newIds: { [m.id]: newId } } : {});
            toClean.push(m);
          } else if (m.state === 'placing') {
            journal.state([m.id], 'rolledback', { message: 'not placed when the run was interrupted' });
            resumed.rolledBack++;
          } else {
            await hold(m, `our copy of ${m.id} left the primary's input/ but no insertion or delivery of it was found in the log; it is left on the secondary for a manual check`);
          }
        }
      }
    }
    // Staged copies of the interrupted run (never seen by the gateway).
    await removeStage(run.primary, was.stage, mails.map((m) => m.id));
    await run.cleanUp(journal, toClean);
    resumed.finished += toClean.length;
    r.inserted += toClean.length;
    const before = r.inserted;
    await run.signalAndConfirm(journal, toSignal, false);
    resumed.finished += r.inserted - before;
    resumed.rolledBack += toSignal.length - (r.inserted - before);
    journal.append({ t: 'end', outcome: 'done', at: new Date().toISOString() });
    journal.archive(journalStamp());
    run.progress('resume', `interrupted run ${was.runId}: ${resumed.finished} finished, ${resumed.rolledBack} undone, ${resumed.held} held`);
  } catch (e) {
    journal.close();
    throw e;
  }
}
