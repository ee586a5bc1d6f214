// `mailgw-ha recover [--dry-run] [--yes] [--json] [--journal FILE]`: the safe recovery of a cluster.
// Without --yes it shows the plan and asks on a terminal; without a terminal it refuses to guess.
import { describeLogs, describePlan } from '../core/recovery/plan';
import { recover } from '../core/recovery/run';
import type { RecoveryReport } from '../core/recovery/runContract';
import { summaryLines } from '../core/recovery/summaryLines';
import type { ParsedArgs } from './args';
import { CliContext, CliFailure, loadContext } from './context';
import { registerVerb } from './main';
import { printErrorLine, printJson, printLine } from './out';
import { askYesNo as ask } from './askYesNo';
import { recoveryTarget } from './recoveryTarget';
import { cliAuditLog } from './auditSink';

/** The counts of the design contract, plus details. */
export function reportJson(r: RecoveryReport): Record<string, unknown> {
  return {
    cluster: r.cluster,
    outcome: r.outcome,
    planned: r.planned,
    copied: r.copied,
    verified: r.verified,
    inserted: r.inserted,
    removed: r.removed,
    skippedDuplicates: r.skippedDuplicates,
    skippedOrphans: r.skippedOrphans,
    rolledBack: r.rolledBack,
    held: r.held,
    removedDuplicates: r.removedDuplicates,
    duplicatesRemoved: r.duplicatesRemoved ?? [],
    heldForDecision: r.heldForDecision,
    standbyLeft: r.standbyLeft,
    ignoredEntries: r.ignoredEntries,
    resumed: r.resumed,
    method: r.method,
    transfer: r.transfer ?? null,
    errors: r.errors.map((e) => ({ id: e.id ?? null, message: e.message })),
    durationMs: r.durationMs,
    journal: r.journal,
    report: r.reportFile,
    plan: r.plan,
    lockTakenBack: r.lockTakenBack,
    lockedBy: r.lockedBy ? { owner: r.lockedBy.owner ?? null, heartbeatAgeS: r.lockedBy.heartbeatAgeS ?? null, stale: r.lockedBy.stale ?? null } : undefined,
  };
}

async function recoverVerb(args: ParsedArgs): Promise<number> {
  const ctx: CliContext = loadContext(args);
  try {
    const dryRun = args.options.has('dry-run');
    const yes = args.options.has('yes');
    if (!dryRun && !yes && !process.stdin.isTTY) throw new CliFailure('recover changes both units: pass --yes to run without a terminal to confirm on (or --dry-run to see the plan)');
    const { cluster, settings, journalFile } = recoveryTarget(ctx, args);
    const started = Date.now();
    let interrupted = false;
    const cancellation = { isCancellationRequested: false };
    // Ctrl-C: stop at the next safe point (the journal keeps the rest); a second Ctrl-C exits.
    const onSigint = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      cancellation.isCancellationRequested = true;
      process.stderr.write('mailgw-ha: stopping at the next safe point (Ctrl-C again to quit now; the journal lets the next run finish)\n');
    };
    process.on('SIGINT', onSigint);
    const report = await recover({
      pool: ctx.pool,
      cluster,
      settings,
      journalFile,
      dryRun,
      // Only when the admin insists: these Message-IDs are already on (or delivered by) the primary.
      includeDuplicates: args.options.has('include-duplicates'),
      client: 'mailgw-ha CLI',
      audit: cliAuditLog(args, ctx.raw, ctx.logger),
      // The admin saw the stale lock's owner in an earlier refusal and decided it is gone.
      takeOverStaleLock: args.options.has('take-over-lock'),
      // Tuning (and the fault loop, which wants several batches in flight): mails per copy batch.
      batchSize: Number(process.env.MAILGW_HA_COPY_BATCH) > 0 ? Number(process.env.MAILGW_HA_COPY_BATCH) : undefined,
      // Tuning (the history checker, which stops gateways under running recoveries): the insertion wait.
      confirmTimeoutMs: Number(process.env.MAILGW_HA_CONFIRM_TIMEOUT_MS) > 0 ? Number(process.env.MAILGW_HA_CONFIRM_TIMEOUT_MS) : undefined,
      cancellation,
      logger: ctx.logger,
      onProgress: ctx.json && process.env.MAILGW_HA_VERBOSE !== '1' ? undefined : (p) => printErrorLine(`mailgw-ha: [${((Date.now() - started) / 1000).toFixed(2)} s] ${p.message}`),
      confirmPlan: yes
        ? undefined
        : async (plan) => {
            for (const l of describePlan(plan).split('\n')) printErrorLine(l);
            for (const h of plan.held) printErrorLine(`  held for a decision: ${h.id} (${h.reason})`);
            for (const w of plan.warnings) printErrorLine(`  warning: ${w}`);
            for (const l of describeLogs(plan)) printErrorLine(`  log ${l}`);
            return ask('Recover these mails now? [y/N] ');
          },
    }).finally(() => process.removeListener('SIGINT', onSigint));
    if (ctx.json) printJson(reportJson(report));
    else for (const l of summaryLines(report)) printLine(l);
    return ['done', 'nothing-to-do', 'dry-run', 'declined'].includes(report.outcome) ? 0 : 1;
  } finally {
    ctx.dispose();
  }
}

registerVerb('recover', recoverVerb);
