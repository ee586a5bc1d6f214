// One recovery run: finish or undo what an interrupted run left (from its journal), plan, copy,
// verify, place, signal, confirm, clean up — each step journaled before and after it happens.
// The invariant: a mail's copy on the primary is either confirmed inserted (then the secondary's
// original is removed) or removed from input/ again (then the original stays) — never both kept.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { ClusterConfig } from '../config';
import { gatewayDirs } from '../config';
import { NotSignalled, signalGateway, SignalResult } from '../gateway';
import { withFoundLog } from '../log/discover';
import { pairChecks, recoveryRefusal, spaceCheck, UnitLook, unitChecks } from '../doctor/checks';
import { lookAtUnit } from '../doctor/doctor';
import type { Logger } from '../host';
import { silentLogger } from '../host';
import { makePrivateDir, openPrivateFile } from '../privateFiles';
import { listFolder, SpoolFolder } from '../spool/list';
import { LaterInput } from '../ssh/laterInput';
import { acquireClusterLock, ClusterLockedError, describeOwner } from './clusterLock';
import { waitForInsertion } from './confirm';
import { addHeld, addUnitHeld, readAllHeld, removeHeld, removeUnitHeld } from './held';
import { acquireLock, archiveJournal, Journal, JournalState, journalStamp, MailRecord, MailState, PlannedMail } from './journal';
import { JournalAuditor } from '../audit/journalAudit';
import { unitFields } from '../audit/record';
import { checkPair, describeLogs, makePlan, RecoveryPlan, refuseOneHost } from './plan';
import { lookOnPrimary, mailKey, verdictWhy } from './proof';
import { hashFiles, logMark, placeStaged, probeTools, RecoveryError, removeFiles, removeMails, removeStage } from './remote';
import { canUseTar, copyBatches, copyMails, makeStage } from './transfer';
import type { FaultPoint, RecoveryOptions, RecoveryPhase, RecoveryReport } from './runContract';
import { chooseTransfer, DirectRoute, KeyLease, sourceAddress, TransferChoice } from './direct';
import { DuplicateCandidate, removeProvedDuplicates } from './duplicates';
import { finishInterruptedRun } from './resume';
import { revokeKey } from './transferKey';
import type { RunContext } from './runContext';

/** Batches in flight at once (each holds one tar stream and one hash exec per unit). */
const COPY_CONCURRENCY = 3;
/** Unit to unit, one stream carries up to this many mails (their names are tar's arguments there). */
const DIRECT_BATCH_MAILS = 5_000;
/** A batch closes at this many bytes, so large bodies get streams of their own. */
const BATCH_BYTES = 16 * 1024 * 1024;

const heldLocks = new Set<string>();

class Cancelled extends Error {}

/** A new run's id: its start (UTC) and 3 random bytes, as resume.ts checks it. */
function newRunId(): string {
  return `${journalStamp()}-${crypto.randomBytes(3).toString('hex')}`;
}

export async function recover(opts: RecoveryOptions): Promise<RecoveryReport> {
  const file = path.resolve(opts.journalFile);
  // An action that cannot be audited is not started (once started, a failed append only warns).
  const unaudited = opts.dryRun ? undefined : opts.audit?.probe?.();
  if (unaudited) return new Run(opts, file).refused(new RecoveryError(`${unaudited}; nothing was done. Fix that, or name another audit file (mailgwHa.auditLogFile, mailgw-ha --audit-log FILE)`));
  // A "pair" whose two units are one host is refused before either is touched.
  try {
    refuseOneHost(opts.cluster);
  } catch (e) {
    return new Run(opts, file).refused(e as Error);
  }
  if (heldLocks.has(file)) return new Run(opts, file).refused(new RecoveryError(`a recovery of cluster "${opts.cluster.name}" is already running in this process (journal ${file}); wait for it to finish`));
  let release: () => void;
  try {
    release = acquireLock(file);
  } catch (e) {
    return new Run(opts, file).refused(e as Error);
  }
  heldLocks.add(file);
  try {
    // One recovery per cluster wherever it runs: the lock on the primary, after the local one.
    let lost = false;
    const cancellation = { get isCancellationRequested() { return lost || !!opts.cancellation?.isCancellationRequested; } };
    let remote;
    // The secondary's login overlaps the lock's round trips on the primary (a failure surfaces
    // where the secondary is first used).
    opts.pool.get(opts.cluster.secondary).connect().catch(() => undefined);
    // The lock names the runs this one works on: the unfinished run of this journal (resumed first)
    // and the run it starts. If this process dies, the next run here finds its own journal's run in
    // the lock and takes the lock back without an admin's takeover.
    const prev = Journal.read(file);
    const unfinishedRun = prev?.run && !prev.ended ? prev.run.runId : undefined;
    const runId = newRunId();
    // Which file is the gateway's log is found on the primary (unless set) while the lock is taken,
    // once: the whole run, resume included, reads that file.
    const finding = withFoundLog(opts.pool.get(opts.cluster.primary), opts.cluster, { fresh: true });
    finding.catch(() => undefined); // awaited below, after the lock's own refusal if any
    try {
      remote = await acquireClusterLock(opts.pool.get(opts.cluster.primary), opts.cluster, opts.client ?? 'mailgw-ha', {
        takeOver: opts.takeOverStaleLock,
        onLost: () => (lost = true),
        runs: unfinishedRun ? [unfinishedRun, runId] : [runId],
        unfinishedRun,
      });
    } catch (e) {
      return new Run(opts, file).refused(e as Error);
    }
    let found: ClusterConfig;
    let looks: UnitLook[];
    try {
      found = (await finding).cluster;
      // The doctor's checks first (mailgw-ha doctor, Check Units…): what makes a recovery unsafe
      // refuses it, in the doctor's words, before anything is planned or resumed.
      looks = await Promise.all(found.units.map((u) => lookAtUnit(opts.pool, found, u.key)));
      const refusal = recoveryRefusal([...looks.flatMap((l) => unitChecks(found, l, opts.settings.signalMethod)), ...pairChecks(found, looks)]);
      if (refusal) throw new RecoveryError(`the check of the units (as mailgw-ha doctor and Check Units… show it) refuses this recovery; nothing was changed: ${refusal}`);
    } catch (e) {
      await remote.release().catch(() => undefined);
      return new Run(opts, file).refused(e as Error);
    }
    try {
      const run = new Run({ ...opts, cluster: found, cancellation }, file, runId);
      run.primaryLook = looks.find((l) => l.unit.key === found.primary.key);
      if (remote.takenBack) {
        run.report.lockTakenBack = `the recovery lock on ${opts.cluster.primary.key} was ${remote.takenBack}; taken back to finish it (no takeover needed: no run holds it)`;
        run.log.warn(`recovery ${opts.cluster.name}: ${run.report.lockTakenBack}`);
      }
      run.lastSteps = () => remote.prepareRelease();
      const report = await run.go();
      if (lost) report.errors.push({ message: `the recovery lock on ${opts.cluster.primary.key} was taken over by someone else while this run held it; stopped at the next safe point (the journal lets the next run finish)` });
      return report;
    } finally {
      await remote.release().catch((e: Error) => opts.logger?.warn(`could not remove the recovery lock on ${opts.cluster.primary.key}: ${e.message}`));
    }
  } finally {
    heldLocks.delete(file);
    release();
  }
}

class Run implements RunContext {
  readonly log: Logger;
  readonly cluster: ClusterConfig;
  private readonly started = Date.now();
  readonly report: RecoveryReport;
  readonly dirs: ReturnType<typeof gatewayDirs>;
  private firstCleanup = true;
  /** Copies taken back because their Message-ID reached the primary meanwhile: duplicates now. */
  private readonly arrived: DuplicateCandidate[] = [];
  /** Set when a fault hook throws while a copy streams: the copy stops as if cancelled. */
  private aborted: Error | undefined;
  private toolsProbe: Promise<[Awaited<ReturnType<typeof probeTools>>, Awaited<ReturnType<typeof probeTools>>]> | undefined;
  /** The units' copy tools (secondary, primary): looked for once, while the plan is made. */
  private tools() {
    if (!this.toolsProbe) {
      this.toolsProbe = Promise.all([probeTools(this.secondary), probeTools(this.primary)]);
      this.toolsProbe.catch(() => undefined); // reported where it is awaited
    }
    return this.toolsProbe;
  }
  /** What the doctor's look found on the primary before the run (its free space in input/). */
  primaryLook: UnitLook | undefined;
  /** Told when the run enters its last steps (the gateway was signalled): the lock prepares its release. */
  lastSteps: (() => void) | undefined;
  /** Removal of the emptied staging folder, started after placing. */
  private stageRemoval: Promise<void> = Promise.resolve();
  /** The path chosen after planning (undefined: relay). */
  private transfer: TransferChoice | undefined;
  /** Turns the journal's records into audit records (when the run is audited). */
  private readonly auditor: JournalAuditor | undefined;

  constructor(
    readonly opts: RecoveryOptions,
    readonly file: string,
    /** The id of the run this one starts (named in the cluster lock before it is journaled). */
    private readonly newRun: string = newRunId(),
  ) {
    this.log = opts.logger ?? silentLogger;
    this.cluster = opts.cluster;
    this.dirs = gatewayDirs(opts.cluster);
    const kind = opts.resolveHeld ? (opts.resolveHeld.action === 'insert' ? 'held-insert' : 'held-discard') : opts.stopAfterPlace ? 'copy-to-input' : 'recovery';
    this.auditor = opts.audit ? new JournalAuditor(opts.audit, opts.cluster, kind) : undefined;
    this.report = {
      cluster: opts.cluster.name,
      outcome: 'failed',
      planned: 0,
      copied: 0,
      verified: 0,
      inserted: 0,
      removed: 0,
      skippedDuplicates: 0,
      skippedOrphans: 0,
      rolledBack: 0,
      held: 0,
      removedDuplicates: 0,
      heldForDecision: 0,
      ignoredEntries: 0,
      errors: [],
      durationMs: 0,
    };
  }

  get primary() {
    return this.opts.pool.get(this.cluster.primary);
  }
  get secondary() {
    return this.opts.pool.get(this.cluster.secondary);
  }
  progress(phase: RecoveryPhase, message: string, done?: number, total?: number) {
    this.log.info(`recovery ${this.cluster.name}: ${message}`);
    this.opts.onProgress?.({ phase, message, done, total });
  }
  checkCancel() {
    if (this.opts.cancellation?.isCancellationRequested) throw new Cancelled('cancelled');
  }
  async fault(point: FaultPoint) {
    await this.opts.faults?.(point);
  }
  openJournal(resuming?: JournalState): Journal {
    const journal = Journal.open(this.file, this.auditor?.observe);
    // Audited once the journal is open: a resume that could not start is not in the trail.
    if (resuming) this.auditor?.resumed(resuming);
    return journal;
  }

  /** The report of a run that did not start: the cluster lock is held, or could not be taken. */
  refused(e: Error): RecoveryReport {
    const r = this.report;
    r.outcome = 'failed';
    r.errors.push({ message: e.message });
    if (e instanceof ClusterLockedError) {
      r.lockedBy = e.lock;
      this.log.warn(`recovery ${this.cluster.name}: refused: the lock is held by ${describeOwner(e.lock.owner)}`);
    }
    r.durationMs = Date.now() - this.started;
    this.opts.onEvent?.({ cluster: this.cluster.name, phase: 'failed' });
    return r;
  }

  async go(): Promise<RecoveryReport> {
    const r = this.report;
    let journal: Journal | undefined;
    try {
      const prev = Journal.read(this.file);
      if (prev && prev.run && !prev.ended) {
        // Finishing it changes the units even in a dry run: not without the audit trail.
        const unaudited = this.opts.audit?.probe?.();
        if (unaudited) throw new RecoveryError(`${unaudited}; the interrupted run in ${this.file} was not finished`);
        await finishInterruptedRun(this, prev);
      }
      else if (prev) {
        // A transfer key the last run could not remove (its connection to the primary was lost):
        // removed now; failing that it expires within minutes and the next addition sweeps it.
        if (!this.opts.dryRun) {
          for (const id of prev.keys) {
            await revokeKey(this.primary, id).catch((e: Error) => this.log.warn(`recovery ${this.cluster.name}: ${e.message}`));
          }
        }
        archiveJournal(this.file, journalStamp());
      }

      this.progress('plan', `planning: listing ${this.cluster.secondary.key} and ${this.cluster.primary.key}`);
      // Where the secondary sends from toward the primary (the transfer key's from=), found while the plan is made.
      const sourceFrom = this.cluster.transfer !== 'relay' && !this.cluster.secondary.haHost ? sourceAddress(this.secondary, this.cluster.primary.haHost ?? this.primary.info?.target.hostName ?? '') : Promise.resolve(undefined);
      const resolving = this.opts.resolveHeld;
      void this.tools();
      // The held list is read while the plan lists both units; it is needed only to leave those out.
      const heldRead = readAllHeld(this.primary, this.cluster, this.file);
      const exclude = heldRead.then((held) => {
        const ids = new Set(held.keys());
        if (resolving) ids.delete(resolving.id);
        return ids;
      });
      exclude.catch(() => undefined); // the held list's error is reported below
      // The log's mark before any copy of this run can be in input/: what confirms an insertion, on
      // resume too, is only what the log says after it. Taken while the plan is made.
      const startMark = this.opts.dryRun ? undefined : logMark(this.primary, this.cluster.logFile);
      startMark?.catch(() => undefined); // awaited before the run's first record
      const planning = makePlan(this.opts.pool, this.cluster, {
        folders: this.opts.folders,
        deliveryLogPattern: this.opts.settings.deliveryLogPattern,
        includeDuplicates: this.opts.includeDuplicates,
        exclude,
      });
      planning.catch(() => undefined); // reported below, after the held list's own error if any
      const held = await heldRead;
      const plan = await planning;
      if (resolving) return await this.resolveHeldMail(plan, resolving, held.get(resolving.id));
      const move = plan.move.filter((m) => !this.opts.onlyIds || this.opts.onlyIds.has(m.id));
      r.planned = move.length;
      r.skippedDuplicates = plan.duplicates.length;
      r.skippedOrphans = plan.incomplete.length;
      r.ignoredEntries = plan.ignored.length;
      r.plan = {
        move: move.map((m) => m.id),
        duplicates: plan.duplicates.map((m) => ({ id: m.id, reason: m.reason })),
        incomplete: plan.incomplete.map((m) => ({ id: m.id, reason: m.reason })),
        held: plan.held.map((m) => ({ id: m.id, reason: m.reason })),
        ignored: plan.ignored.map((e) => ({ folder: e.folder, name: e.name, reason: e.reason })),
        logs: describeLogs(plan),
        warnings: [...plan.warnings],
      };
      r.heldForDecision = plan.held.length;
      const from = move.length ? await sourceFrom : undefined;
      this.transfer = move.length ? chooseTransfer(this.cluster, this.secondary, this.primary, from) : undefined;
      if (this.transfer) r.transfer = { path: this.transfer.path, why: this.transfer.why };
      for (const w of plan.warnings) this.log.warn(`recovery ${this.cluster.name}: ${w}`);
      for (const [id, why] of held) r.errors.push({ id, message: `held for a manual check by an earlier run: ${why}` });
      this.opts.onEvent?.({ cluster: this.cluster.name, phase: 'plan', expectedIds: move.map((m) => m.id) });
      // Room for the copies in the primary's input/, by the doctor's measure.
      if (move.length && !this.opts.dryRun) {
        const room = recoveryRefusal([spaceCheck(this.cluster, this.primaryLook, move.reduce((s, m) => s + m.bodySize + m.envSize, 0), `what this recovery would copy`)]);
        if (room) throw new RecoveryError(`the check of the units refuses this recovery; nothing was copied: ${room}`);
      }
      if (this.opts.dryRun) {
        r.outcome = 'dry-run';
        return this.finish();
      }
      if (this.opts.confirmPlan && !(await this.opts.confirmPlan({ ...plan, move, transfer: r.transfer }))) {
        r.outcome = 'declined';
        return this.finish();
      }
      this.checkCancel();
      const removeDups = plan.duplicates.length > 0 && !this.opts.onlyIds && !this.opts.stopAfterPlace && !this.opts.includeDuplicates;
      if (move.length === 0 && !removeDups && this.arrived.length === 0) {
        r.outcome = r.resumed && r.resumed.finished + r.resumed.rolledBack > 0 ? 'done' : 'nothing-to-do';
        if (r.resumed?.held) r.outcome = 'failed';
        r.standbyLeft = this.standbyLeft(plan);
        return this.finish();
      }

      const runId = this.newRun;
      r.runId = runId;
      const stage = `${this.dirs.input}/.mailgw-ha-${runId}`;
      const mark = await startMark;
      journal = this.openJournal();
      r.journal = this.file;
      journal.append({ t: 'run', v: 1, runId, cluster: this.cluster.name, primary: this.cluster.primary.key, secondary: this.cluster.secondary.key, spoolBase: this.dirs.base, stage, logFile: this.cluster.logFile, mark, at: new Date().toISOString() });
      const planned: PlannedMail[] = move.map((m) => ({ id: m.id, folder: m.folder, messageId: m.messageId, bodySize: m.bodySize, envSize: m.envSize }));
      journal.append({ t: 'plan', mails: planned });
      const records = planned.map((m): MailRecord => ({ ...m, state: 'planned' }));

      if (records.length) {
        const placed = await this.copyAndPlace(journal, stage, runId, records);
        if (!this.opts.stopAfterPlace) await this.signalAndConfirm(journal, placed, true);
        await this.stageRemoval;
      }
      // Like the manual procedure, which ends with the standby's spool emptied: duplicates left there
      // would be delivered again by the next takeover. Only those proved again right now go.
      if (removeDups || this.arrived.length) await removeProvedDuplicates(this, journal, [...plan.duplicates, ...this.arrived]);
      r.standbyLeft = this.standbyLeft(plan);
      journal.append({ t: 'end', outcome: 'done', at: new Date().toISOString() });
      r.journal = journal.archive(journalStamp());
      journal = undefined;
      r.outcome = r.errors.length ? 'failed' : 'done';
      if (r.held) r.outcome = 'failed';
      return this.finish();
    } catch (e) {
      const cancelled = e instanceof Cancelled;
      r.outcome = cancelled ? 'cancelled' : 'failed';
      if (!cancelled) r.errors.push({ message: (e as Error).message });
      this.auditor?.ended(cancelled ? 'cancelled' : 'failed', cancelled ? 'cancelled' : (e as Error).message);
      this.opts.onEvent?.({ cluster: this.cluster.name, phase: cancelled ? 'cancelled' : 'failed' });
      // The journal stays open-ended: the next run finishes or undoes what this one left.
      journal?.close();
      if (journal) r.journal = this.file;
      return this.finish();
    }
  }

  private finish(): RecoveryReport {
    const r = this.report;
    r.durationMs = Date.now() - this.started;
    if (r.outcome === 'done' || r.outcome === 'nothing-to-do') this.opts.onEvent?.({ cluster: this.cluster.name, phase: 'done' });
    if (r.outcome !== 'dry-run' && r.outcome !== 'declined') {
      try {
        const dir = path.dirname(this.file);
        makePrivateDir(dir);
        // A free name: two runs in one second must not overwrite each other's report.
        const stem = path.join(dir, `${path.basename(this.file, '.jsonl')}-${journalStamp()}`);
        for (let i = 1; ; i++) {
          const f = `${stem}${i === 1 ? '' : `-${i}`}.report.json`;
          let fd: number;
          try {
            fd = openPrivateFile(f, 'wx');
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'EEXIST' && i < 1000) continue;
            throw e;
          }
          try {
            fs.writeFileSync(fd, JSON.stringify(r, null, 2) + '\n');
          } finally {
            fs.closeSync(fd);
          }
          r.reportFile = f;
          break;
        }
      } catch (e) {
        this.log.warn(`cannot write the recovery report: ${(e as Error).message}`);
      }
    }
    return r;
  }

  // ---- copy, verify, place ------------------------------------------------------------------

  /** The direct path's route and keys if this run sends unit to unit (auto: relays what cannot). */
  private async directTarget(useTar: boolean, stage: string, runId: string, journal: Journal): Promise<{ route: DirectRoute; keys: KeyLease } | undefined> {
    const t = this.transfer;
    if (!t || t.path !== 'direct' || !t.target) return undefined;
    const r = this.report;
    const relay = (why: string) => {
      if (t.mode === 'direct') throw new RecoveryError(`cluster "${this.cluster.name}": "transfer" is "direct" but ${why}. Nothing was copied. Set "transfer" to "auto" or "relay", or fix that.`);
      r.transfer = { path: 'relay', why: `relay: ${why}` };
      r.method = 'tar';
      this.log.warn(`recovery ${this.cluster.name}: ${r.transfer.why}`);
      return undefined;
    };
    if (this.opts.forceSftp) {
      r.transfer = { path: 'relay', why: 'relay over SFTP (forced for a test or benchmark)' };
      return undefined;
    }
    if (!useTar) return relay('the units lack tar, sha256sum or xargs');
    // auto: the first stream finds out whether the secondary gets through (an empty archive first).
    const auto = t.mode === 'auto' ? { reached: false, onRelay: (why: string) => void relay(`the secondary could not send to the primary directly (${why})`) } : undefined;
    const route: DirectRoute = { ...t.target, runId, journal: (phase, id) => journal.append({ t: 'key', phase, id, at: new Date().toISOString() }), auto };
    const keys = new KeyLease(this.primary, route, stage);
    this.log.info(`recovery ${this.cluster.name}: direct transfer: ${t.why}`);
    return { route, keys };
  }

  /** Removes the run's transfer keys; one that cannot be removed now is by the next run (and expires). */
  private async releaseKeys(keys: KeyLease | undefined): Promise<void> {
    await keys?.release().catch((e: Error) => this.log.warn(`recovery ${this.cluster.name}: ${e.message}`));
  }

  private async copyAndPlace(journal: Journal, stage: string, runId: string, records: MailRecord[]): Promise<MailRecord[]> {
    const r = this.report;
    const [[st, pt]] = await Promise.all([this.tools(), makeStage(this.primary, stage)]);
    const useTar = !this.opts.forceSftp && canUseTar(st, pt);
    if (!pt.ln) throw new RecoveryError(`${this.cluster.primary.key}: no "ln" command; cannot place copies without overwriting`);
    const directly = await this.directTarget(useTar, stage, runId, journal);
    const direct = directly?.route;
    r.method = direct ? 'direct' : useTar ? 'tar' : 'sftp';
    this.opts.onEvent?.({ cluster: this.cluster.name, phase: 'copy', expectedIds: records.map((m) => m.id) });
    const placed: MailRecord[] = [];
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- read by the getter below
    const self = this;
    // Unit to unit, each batch authorizes a key of its own and logs the secondary in to the primary
    // anew: one batch, unless a batch size was asked for.
    const batches = direct && this.opts.batchSize === undefined ? copyBatches(records, DIRECT_BATCH_MAILS, Number.MAX_SAFE_INTEGER) : copyBatches(records, this.opts.batchSize ?? 500, BATCH_BYTES);
    let next = 0;
    let firstError: unknown;
    // One batch: stream, verify, place. Several run at once so that one large body or one unit's
    // round trips do not hold up the rest; each mail's journal states stay in order.
    const runBatch = async (batch: MailRecord[]): Promise<void> => {
      this.checkCancel();
      const ids = batch.map((m) => m.id);
      journal.state(ids, 'copying');
      await this.fault('before-copy');
      this.progress('copy', `copying ${r.copied + batch.length} of ${records.length} mail(s) (${useTar ? 'tar stream' : 'SFTP'})`, r.copied, records.length);
      const copying = copyMails(
        this.secondary,
        this.primary,
        stage,
        batch.map((m) => ({ id: m.id, srcDir: this.dirs[m.folder], bodySize: m.bodySize, envSize: m.envSize })),
        useTar,
        {
          cancellation: { get isCancellationRequested() { return self.aborted !== undefined || firstError !== undefined || !!self.opts.cancellation?.isCancellationRequested; } },
          onFlowing: () => void this.fault('mid-copy').catch((e: Error) => (this.aborted = e)),
          direct: directly,
        },
      ).catch((e: Error) => {
        throw this.aborted ?? e;
      });
      const verified = copying.then(async (res) => {
        if (this.aborted) throw this.aborted;
        r.copied += batch.length - [...res.failed.keys()].length;
        const sha: Record<string, { body: string; env: string }> = {};
        for (const [id, h] of res.verified) sha[id] = h;
        journal.state([...res.verified.keys()], 'copied', { sha });
        for (const [id, why] of res.failed) {
          journal.state([id], 'failed', { message: why });
          r.errors.push({ id, message: why });
        }
        r.verified += res.verified.size;
        await this.fault('after-copy');
        this.checkCancel();
        const ok = batch.filter((m) => res.verified.has(m.id));
        for (const m of ok) m.sha = res.verified.get(m.id);
        // Final names appear from here on: .body of every mail first, then the .env files.
        journal.state(ok.map((m) => m.id), 'placing');
        return ok;
      });
      // The placing command is started with the copy and is sent the ids only once they are
      // verified and journaled as placing (none, if anything before fails).
      const placing = placeStaged(this.primary, this.dirs.input, stage, verified.then((ok) => ok.map((m) => m.id)));
      placing.catch(() => undefined); // the copy's or verification's error is the one reported
      const ok = await verified;
      const pr = await placing;
      journal.state(pr.placed, 'placed');
      for (const id of pr.exists) {
        const why = `a mail named ${id} is already in the primary's input/; not overwritten`;
        journal.state([id], 'rolledback', { message: why });
        r.errors.push({ id, message: why });
      }
      for (const id of pr.failed) {
        const why = `could not place ${id} in the primary's input/`;
        journal.state([id], 'rolledback', { message: why });
        r.errors.push({ id, message: why });
      }
      const placedSet = new Set(pr.placed);
      for (const m of ok) if (placedSet.has(m.id)) placed.push(Object.assign(m, { state: 'placed' as MailState }));
      await this.fault('after-place');
    };
    const worker = async (): Promise<void> => {
      while (firstError === undefined && next < batches.length) {
        const batch = batches[next++];
        try {
          await runBatch(batch);
        } catch (e) {
          // The other batches in flight see it through the copy's cancellation and stop; the
          // first error is the one reported.
          if (firstError === undefined) firstError = e;
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.opts.copyConcurrency ?? COPY_CONCURRENCY, batches.length) }, () => worker()));
      if (firstError !== undefined) throw firstError;
    } catch (e) {
      await this.releaseKeys(directly?.keys);
      // Staged copies are only ours and never seen by the gateway: remove them, then stop.
      await removeStage(this.primary, stage, records.map((m) => m.id)).catch(() => undefined);
      if (!this.aborted && (e instanceof Cancelled || this.opts.cancellation?.isCancellationRequested)) {
        await this.rollBack(journal, placed, 'cancelled before the gateway was signalled').catch(() => undefined);
        throw new Cancelled('cancelled');
      }
      throw e;
    }
    // Every stream has ended: the primary forgets the transfer keys, and the emptied stage goes,
    // while the checks before the signal run (they wait for both).
    const releasing = this.releaseKeys(directly?.keys);
    this.stageRemoval = Promise.all([removeStage(this.primary, stage, records.map((m) => m.id)), releasing]).then(() => undefined);
    this.stageRemoval.catch(() => undefined); // awaited before the signal or at the end
    if (this.opts.cancellation?.isCancellationRequested) {
      await this.stageRemoval;
      await this.rollBack(journal, placed, 'cancelled before the gateway was signalled');
      throw new Cancelled('cancelled');
    }
    return placed;
  }

  /** Removes our copies (checked by SHA-256) from the primary's input/; the originals stay. */
  private async rollBack(journal: Journal, mails: readonly MailRecord[], why: string): Promise<void> {
    if (mails.length === 0) return;
    const names = mails.flatMap((m) => [`${m.id}.body`, `${m.id}.env`]);
    const hashes = await hashFiles(this.primary, this.dirs.input, names);
    const ours = names.filter((n) => {
      const m = mails.find((x) => n.startsWith(`${x.id}.`))!;
      return hashes.get(n) === (n.endsWith('.body') ? m.sha?.body : m.sha?.env);
    });
    await removeFiles(this.primary, this.dirs.input, ours);
    journal.state(mails.map((m) => m.id), 'rolledback', { message: why });
    this.report.rolledBack += mails.length;
  }

  /**
   * Removes our placed copies (both files ours by SHA-256) from input/ and journals them rolled
   * back; a mail whose copy is not wholly there any more keeps its state for the resume to judge.
   */
  private async takeBackPlaced(journal: Journal, mails: readonly MailRecord[], why: string): Promise<void> {
    if (mails.length === 0) return;
    const names = mails.flatMap((m) => [`${m.id}.body`, `${m.id}.env`]);
    const hashes = await hashFiles(this.primary, this.dirs.input, names);
    const whole = mails.filter((m) => hashes.get(`${m.id}.body`) === m.sha?.body && hashes.get(`${m.id}.env`) === m.sha?.env);
    await removeFiles(this.primary, this.dirs.input, whole.flatMap((m) => [`${m.id}.body`, `${m.id}.env`]));
    if (whole.length) journal.state(whole.map((m) => m.id), 'rolledback', { message: why });
    this.report.rolledBack += whole.length;
    for (const m of whole) this.report.errors.push({ id: m.id, message: `rolled back: ${why}` });
  }

  // ---- signal, confirm, clean up --------------------------------------------------------------

  async signalAndConfirm(journal: Journal, mails: MailRecord[], fresh: boolean): Promise<void> {
    if (mails.length === 0) return;
    // The signal command is started beside the checks and waits for the word to go, given only
    // once they passed and the journal says it is about to be signalled; any other way out of here
    // withholds it, and nothing is signalled.
    const go = new LaterInput<void>();
    const signalling = signalGateway(this.primary, this.cluster, this.opts.settings.signalMethod, { when: go.promise });
    signalling.catch(() => undefined); // awaited once the word was given
    try {
      await this.checkAndSignal(journal, mails, go, signalling);
      void fresh;
    } finally {
      go.withhold('not signalled: the checks before the signal did not pass');
      for (const [folder, remover] of this.removers) {
        remover.ids.withhold('not needed');
        this.removers.delete(folder);
      }
    }
  }

  /** Removal commands started ahead of the confirmation, one per folder (see startRemover). */
  private readonly removers = new Map<SpoolFolder, { ids: LaterInput<string[]>; done: Promise<void> }>();

  private startRemover(folder: SpoolFolder): void {
    const ids = new LaterInput<string[]>();
    const done = removeMails(this.secondary, this.dirs[folder], ids.promise);
    done.catch(() => undefined); // awaited by cleanUp when used
    this.removers.set(folder, { ids, done });
  }

  private async checkAndSignal(journal: Journal, mails: MailRecord[], go: LaterInput<void>, signalling: Promise<SignalResult>): Promise<void> {
    const r = this.report;
    this.checkCancel();
    // Right before the signal: still the active primary, and every original still on the secondary
    // as copied. A mail the secondary delivered meanwhile (it was active) must not be inserted again.
    this.progress('signal', `checking ${this.cluster.primary.key} is active and the originals are unchanged`);
    const folders = [...new Set(mails.map((m) => m.folder))];
    // All looked at together (each is a snapshot taken just before the signal; the mark only has to
    // be taken before it).
    const [, , listings, onPrimary, mark] = await Promise.all([
      checkPair(this.opts.pool, this.cluster).catch(async (e: unknown) => {
        // The pair refuses a signal now (takeover, two gateways, the box's control disagreeing):
        // our copies must not wait in input/ for whoever signals next while their originals are
        // still on the secondary. Taken back; a copy no longer there is left to the resume.
        if (e instanceof RecoveryError) await this.takeBackPlaced(journal, mails, `not inserted: ${e.message}`).catch(() => undefined);
        throw e;
      }),
      this.stageRemoval,
      Promise.all(folders.map((f) => listFolder(this.secondary, this.cluster, f))),
      // Not input/: our own copies are there. Every log file is searched (time 0).
      lookOnPrimary(this.opts.pool, this.cluster, mails.map((m) => ({ id: m.id, folder: m.folder, timeMs: 0, messageId: m.messageId })), { primaryFolders: ['spool', 'vscan'], pattern: this.opts.settings.deliveryLogPattern, needCoverage: false }),
      logMark(this.primary, this.cluster.logFile),
    ]);
    const present = new Map<string, { body: number; env: number }>();
    for (const l of listings) for (const m of l.mails) if (m.complete) present.set(`${l.folder}/${m.id}`, { body: m.body!.size, env: m.env!.size });
    const gone = mails.filter((m) => {
      const p = present.get(`${m.folder}/${m.id}`);
      return !p || p.body !== m.bodySize || p.env !== m.envSize;
    });
    if (gone.length) {
      await this.rollBack(journal, gone, "the original left the secondary's folder (delivered or moved there) before the signal");
      for (const m of gone) r.errors.push({ id: m.id, message: `rolled back: the original left ${this.cluster.secondary.key} before the gateway was signalled` });
    }
    // And none of them reached the primary meanwhile by another way (delivered, or in its spool/).
    const verdict = (m: MailRecord) => onPrimary.verdicts.get(mailKey(m));
    const arrived = mails.filter((m) => !gone.includes(m) && (verdict(m)?.kind === 'present' || verdict(m)?.kind === 'delivered'));
    if (arrived.length) {
      await this.rollBack(journal, arrived, 'the mail reached the primary meanwhile');
      r.skippedDuplicates += arrived.length;
      this.arrived.push(...arrived);
      for (const m of arrived) this.log.warn(`recovery ${this.cluster.name}: ${m.id} not inserted: it is now on ${this.cluster.primary.key} (${verdictWhy(verdict(m)!)}); it stays on ${this.cluster.secondary.key} as a duplicate until it is proved again and removed`);
    }
    // Nor became doubtful there since the plan (the same mail under another id, a line naming it):
    // what is not provably absent is not inserted by guess; it is held for the admin.
    const doubtful = mails.filter((m) => !gone.includes(m) && !arrived.includes(m) && verdict(m)?.kind === 'unproven');
    if (doubtful.length) {
      await this.rollBack(journal, doubtful, 'no longer provably absent from the primary before the signal');
      for (const m of doubtful) {
        const why = `not inserted: ${verdictWhy(verdict(m)!)}`;
        await addUnitHeld(this.primary, this.cluster, m.id, why);
        addHeld(this.file, m.id, why);
        r.held++;
        r.errors.push({ id: m.id, message: `held for a decision: ${why}` });
      }
    }
    const goneSet = new Set([...gone, ...arrived, ...doubtful]);
    const toInsert = mails.filter((m) => !goneSet.has(m));
    if (toInsert.length === 0) return;
    if (this.opts.cancellation?.isCancellationRequested) {
      await this.rollBack(journal, toInsert, 'cancelled before the gateway was signalled');
      throw new Cancelled('cancelled');
    }
    const ids = toInsert.map((m) => m.id);
    journal.append({ t: 'signal', phase: 'before', ids, mark, at: new Date().toISOString() });
    this.opts.onEvent?.({ cluster: this.cluster.name, phase: 'signal', expectedIds: ids });
    go.give();
    const sig = await signalling.catch(async (e: unknown) => {
      // Nothing was signalled (no single gateway process to signal): as above.
      if (e instanceof NotSignalled) await this.takeBackPlaced(journal, toInsert, `not inserted: the gateway was not signalled (${e.message})`).catch(() => undefined);
      throw e;
    });
    journal.append({ t: 'signal', phase: 'after', ids, mark, pid: sig.pid, command: sig.command, at: new Date().toISOString() });
    this.progress('signal', `signalled the gateway on ${this.cluster.primary.key} (${sig.pid !== undefined ? `PID ${sig.pid}` : sig.command})`);
    this.lastSteps?.();
    await this.fault('after-signal');

    this.progress('confirm', `waiting for the gateway to insert ${ids.length} mail(s)`, 0, ids.length);
    // One removal command per folder is started while the gateway inserts; the first confirmed
    // mails of that folder are sent to it (see cleanUp), and an unused one is sent nothing.
    for (const folder of new Set(toInsert.map((m) => m.folder))) this.startRemover(folder);
    const byId = new Map(toInsert.map((m) => [m.id, m]));
    const confirmedIds: string[] = [];
    const confirmed = await waitForInsertion(this.primary, this.cluster, mark, ids, {
      timeoutMs: this.opts.confirmTimeoutMs ?? 60_000 + 10 * ids.length,
      cancellation: this.opts.cancellation,
      onConfirmed: async (batch) => {
        const newIds: Record<string, string> = {};
        for (const [id, n] of batch) if (n !== id) newIds[id] = n;
        journal.state([...batch.keys()], 'confirmed', { newIds });
        r.inserted += batch.size;
        confirmedIds.push(...batch.keys());
        this.opts.onEvent?.({ cluster: this.cluster.name, phase: 'confirm', expectedIds: ids, confirmedIds: [...confirmedIds] });
        this.progress('confirm', `${confirmedIds.length} of ${ids.length} inserted`, confirmedIds.length, ids.length);
        await this.cleanUp(journal, [...batch.keys()].map((id) => byId.get(id)!));
      },
    });
    const missing = ids.filter((id) => !confirmed.has(id));
    if (missing.length) {
      if (this.opts.cancellation?.isCancellationRequested) throw new Cancelled('cancelled');
      throw new RecoveryError(`${missing.length} mail(s) were not confirmed by the log of ${this.cluster.primary.key} in time (e.g. ${missing.slice(0, 3).join(', ')}); they stay in the journal and the next run confirms or undoes them. Check the gateway.`);
    }
  }

  async cleanUp(journal: Journal, mails: readonly MailRecord[]): Promise<void> {
    if (mails.length === 0) return;
    this.opts.onEvent?.({ cluster: this.cluster.name, phase: 'cleanup', expectedIds: mails.map((m) => m.id) });
    const byFolder = new Map<SpoolFolder, string[]>();
    for (const m of mails) byFolder.set(m.folder, [...(byFolder.get(m.folder) ?? []), m.id]);
    for (const [folder, ids] of byFolder) {
      journal.state(ids, 'removing');
      if (this.firstCleanup) {
        this.firstCleanup = false;
        await this.fault('mid-cleanup');
      }
      const remover = this.removers.get(folder);
      if (remover) {
        this.removers.delete(folder);
        remover.ids.give(ids);
        await remover.done;
      } else await removeMails(this.secondary, this.dirs[folder], ids);
      journal.state(ids, 'removed');
      this.report.removed += ids.length;
    }
  }

  // ---- held mails ---------------------------------------------------------------------------------

  /**
   * One held mail, as the admin decided. Insert: the same copy → verify → place → signal → confirm →
   * remove as any mail (refused if the primary is proved to have it). Discard: the standby's copy is
   * removed by name. Journaled like every run (with the decision), and taken off the held list once done.
   */
  private async resolveHeldMail(plan: RecoveryPlan, what: { id: string; action: 'insert' | 'discard' }, journalWhy: string | undefined): Promise<RecoveryReport> {
    const r = this.report;
    const m = plan.mails.find((x) => x.id === what.id && x.classification !== 'incomplete');
    const why = journalWhy ?? (m?.classification === 'held' ? m.reason : undefined);
    r.resolved = { id: what.id, action: what.action, done: false, why };
    if (!m && journalWhy !== undefined) {
      // Gone from the standby since (removed or delivered by someone): nothing left to decide.
      await this.unhold(what.id);
      r.resolved.done = true;
      r.outcome = 'done';
      this.opts.audit?.append({ ...unitFields(this.cluster, this.cluster.secondary), action: 'held-decision', mails: [{ id: what.id }], outcome: 'ok', detail: `the admin decided: ${what.action}; the mail is no longer on ${this.cluster.secondary.name}, so it was only taken off the held lists` });
      this.log.info(`recovery ${this.cluster.name}: held mail ${what.id} is no longer on ${this.cluster.secondary.key}; taken off the held list`);
      return this.finish();
    }
    if (!m) throw new RecoveryError(`${what.id} is not a complete mail in ${this.cluster.secondary.key}'s spool/ or vscan/`);
    if (why === undefined) throw new RecoveryError(`${what.id} is not held (the plan says ${m.classification}${m.reason ? `: ${m.reason}` : ''}); a normal recovery takes care of it`);
    if (what.action === 'insert' && m.classification === 'duplicate') throw new RecoveryError(`${what.id} is not inserted: ${m.reason}. The primary has it: discard the standby's copy instead`);
    if (this.opts.confirmPlan && !(await this.opts.confirmPlan({ ...plan, move: what.action === 'insert' ? [m] : [] }))) {
      r.outcome = 'declined';
      return this.finish();
    }
    this.checkCancel();
    const runId = `${journalStamp()}-${crypto.randomBytes(3).toString('hex')}`;
    r.runId = runId;
    const stage = `${this.dirs.input}/.mailgw-ha-${runId}`;
    const mark = what.action === 'insert' ? await logMark(this.primary, this.cluster.logFile) : undefined;
    const journal = this.openJournal();
    r.journal = this.file;
    try {
      journal.append({ t: 'run', v: 1, runId, cluster: this.cluster.name, primary: this.cluster.primary.key, secondary: this.cluster.secondary.key, spoolBase: this.dirs.base, stage, logFile: this.cluster.logFile, mark, at: new Date().toISOString() });
      journal.append({ t: 'decision', action: what.action, id: m.id, folder: m.folder, why, at: new Date().toISOString() });
      const planned: PlannedMail = { id: m.id, folder: m.folder, messageId: m.messageId, bodySize: m.bodySize, envSize: m.envSize };
      journal.append({ t: 'plan', mails: [planned] });
      if (what.action === 'insert') {
        r.planned = 1;
        const placed = await this.copyAndPlace(journal, stage, runId, [{ ...planned, state: 'planned' }]);
        await this.signalAndConfirm(journal, placed, true);
        await this.stageRemoval;
        r.resolved.done = r.removed === 1;
      } else {
        journal.state([m.id], 'discarding', { message: `discarded by the admin; held because: ${why}` });
        await removeMails(this.secondary, this.dirs[m.folder], [m.id]);
        journal.state([m.id], 'discarded');
        r.resolved.done = true;
      }
      journal.append({ t: 'end', outcome: 'done', at: new Date().toISOString() });
      r.journal = journal.archive(journalStamp());
    } catch (e) {
      journal.close();
      throw e;
    }
    if (r.resolved.done) await this.unhold(m.id);
    r.outcome = r.resolved.done && !r.errors.length ? 'done' : 'failed';
    return this.finish();
  }

  /** What the secondary still holds of what the plan saw, for the summary. */
  private standbyLeft(plan: RecoveryPlan): string {
    const removed = new Set((this.report.duplicatesRemoved ?? []).map((d) => d.id));
    const dupsLeft = plan.duplicates.filter((m) => !removed.has(m.id)).length;
    const parts = [`${plan.incomplete.length} incomplete`, `${plan.held.length} held for a decision`];
    if (dupsLeft) parts.push(`${dupsLeft} duplicate(s) not removed`);
    const other = this.report.errors.filter((e) => e.id).length;
    if (other) parts.push(`${other} with errors`);
    return `${this.cluster.secondary.key} keeps ${parts.join(', ')}`;
  }

  /** Takes a mail off the held lists: this workstation's and the primary's. */
  async unhold(id: string): Promise<void> {
    await removeUnitHeld(this.primary, this.cluster, id);
    removeHeld(this.file, id);
  }

}
