// `mailgw-ha held [--json]` lists the mails held for the admin's decision, with why each is held;
// `held --insert ID` inserts one into the primary (after the admin checked it was not delivered),
// `held --discard ID` removes the standby's copy (after the admin checked it was). Both ask on a
// terminal unless --yes, and run as a recovery: the cluster lock, the shared journal, the checks.
import { listHeldMails } from '../core/recovery/held';
import { recover } from '../core/recovery/run';
import { isSafeMailId } from '../core/names';
import type { ParsedArgs } from './args';
import { UsageError } from './args';
import { CliFailure, loadContext } from './context';
import { registerVerb } from './main';
import { printErrorLine, printJson, printLine } from './out';
import { askYesNo as ask } from './askYesNo';
import { recoveryTarget } from './recoveryTarget';
import { summaryLines } from '../core/recovery/summaryLines';
import { reportJson } from './recover';
import { cliAuditLog } from './auditSink';

async function heldVerb(args: ParsedArgs): Promise<number> {
  const ctx = loadContext(args);
  try {
    const insert = args.options.get('insert');
    const discard = args.options.get('discard');
    if (insert !== undefined && discard !== undefined) throw new UsageError('held: --insert and --discard exclude each other');
    const { cluster, settings, journalFile } = recoveryTarget(ctx, args);
    const { mails, warnings } = await listHeldMails(ctx.pool, cluster, journalFile, settings.deliveryLogPattern);
    const id = typeof insert === 'string' ? insert : typeof discard === 'string' ? discard : undefined;
    if (id === undefined) {
      if (ctx.json) printJson({ cluster: cluster.name, journal: journalFile, held: mails, warnings });
      else {
        printLine(mails.length ? `${cluster.name}: ${mails.length} mail(s) held for a decision on ${cluster.secondary.key}:` : `${cluster.name}: no mail is held for a decision`);
        for (const m of mails) printLine(`  ${m.id}  ${m.folder ? `${m.folder}/` : '(no longer on the standby)'}  ${m.messageId ? `${m.messageId}  ` : ''}held ${m.source === 'journal' ? 'by an interrupted run' : 'by the plan'}: ${m.why}`);
        for (const w of warnings) printLine(`  warning: ${w}`);
        if (mails.length) printLine(`Resolve one with: mailgw-ha held --insert ID (not delivered: insert it) or --discard ID (delivered: remove the standby's copy)`);
      }
      return 0;
    }
    if (!isSafeMailId(id)) throw new UsageError(`held: ${JSON.stringify(id)} is not a mail id`);
    const m = mails.find((x) => x.id === id);
    if (!m) throw new CliFailure(`${id} is not held on cluster "${cluster.name}" (see mailgw-ha held)`);
    const action = insert !== undefined ? 'insert' : 'discard';
    if (!args.options.has('yes')) {
      if (!process.stdin.isTTY) throw new CliFailure(`held --${action} changes the units: pass --yes to run without a terminal to confirm on`);
      printErrorLine(`${m.id} (${m.folder ?? 'no longer on the standby'}) is held: ${m.why}`);
      const q = action === 'insert' ? `Insert ${m.id} into ${cluster.primary.key} now? Only if you checked it was NOT delivered. [y/N] ` : `Discard the copy of ${m.id} on ${cluster.secondary.key} now? Only if you checked it WAS delivered. [y/N] `;
      if (!(await ask(q))) {
        printLine('nothing changed');
        return 0;
      }
    }
    const report = await recover({ pool: ctx.pool, cluster, settings, journalFile, logger: ctx.logger, client: 'mailgw-ha CLI', takeOverStaleLock: args.options.has('take-over-lock'), resolveHeld: { id, action }, audit: cliAuditLog(args, ctx.raw, ctx.logger) });
    if (ctx.json) printJson({ ...reportJson(report), resolved: report.resolved ?? null });
    else {
      printLine(report.resolved?.done ? `${id}: ${action === 'insert' ? 'inserted into the primary and removed from the standby' : "the standby's copy discarded"}` : `${id}: not resolved`);
      for (const l of summaryLines(report)) printLine(l);
    }
    return report.resolved?.done && report.outcome === 'done' ? 0 : 1;
  } finally {
    ctx.dispose();
  }
}

registerVerb('held', heldVerb);
