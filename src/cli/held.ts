// `mailgw-ha held [--json]` lists the mails held for the admin's decision, with why each is held;
// `held --insert ID` inserts one into the primary (after the admin checked it was not delivered),
// `held --discard ID` removes the standby's copy (after the admin checked it was). Both ask on a
// terminal unless --yes, and run as a recovery: the cluster lock, the shared journal, the checks.
import * as readline from 'readline';
import type { ClusterConfig } from '../core/config';
import { listHeldMails } from '../core/recovery/held';
import { adoptOldJournal, defaultJournalFile } from '../core/recovery/journalPath';
import { journalFileFor, recover } from '../core/recovery/run';
import { parseRecoverySettings } from '../core/recovery/settings';
import { isSafeMailId } from '../core/names';
import type { ParsedArgs } from './args';
import { UsageError } from './args';
import { CliFailure, loadContext } from './context';
import { registerVerb } from './main';
import { reportJson, summaryLines } from './recover';

function ask(question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    rl.question(question, (a) => {
      rl.close();
      resolve(/^y(es)?$/i.test(a.trim()));
    });
  });
}

/** Names from units and logs are data: no control characters reach the terminal. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

async function heldVerb(args: ParsedArgs): Promise<number> {
  const ctx = loadContext(args);
  try {
    if (ctx.clusters.length !== 1) throw new UsageError(`choose a cluster with --cluster NAME (clusters: ${ctx.clusters.map((c) => c.name).join(', ') || 'none'})`);
    const cluster: ClusterConfig = ctx.clusters[0];
    const { settings, errors } = parseRecoverySettings(ctx.raw);
    for (const e of errors) ctx.logger.warn(e);
    const insert = args.options.get('insert');
    const discard = args.options.get('discard');
    if (insert !== undefined && discard !== undefined) throw new UsageError('held: --insert and --discard exclude each other');
    const journalOpt = args.options.get('journal');
    const journalFile = typeof journalOpt === 'string' ? journalOpt : defaultJournalFile(cluster);
    if (typeof journalOpt !== 'string') {
      const warning = adoptOldJournal(journalFileFor(ctx.stateDir, cluster.name), journalFile);
      if (warning) throw new CliFailure(warning);
    }
    const { mails, warnings } = await listHeldMails(ctx.pool, cluster, journalFile, settings.deliveryLogPattern);
    const id = typeof insert === 'string' ? insert : typeof discard === 'string' ? discard : undefined;
    if (id === undefined) {
      if (ctx.json) console.log(JSON.stringify({ cluster: cluster.name, journal: journalFile, held: mails, warnings }, null, 2));
      else {
        console.log(mails.length ? `${cluster.name}: ${mails.length} mail(s) held for a decision on ${cluster.secondary.key}:` : `${cluster.name}: no mail is held for a decision`);
        for (const m of mails) console.log(`  ${m.id}  ${m.folder ? `${m.folder}/` : '(no longer on the standby)'}  ${m.messageId ? clean(m.messageId) + '  ' : ''}held ${m.source === 'journal' ? 'by an interrupted run' : 'by the plan'}: ${clean(m.why)}`);
        for (const w of warnings) console.log(`  warning: ${clean(w)}`);
        if (mails.length) console.log(`Resolve one with: mailgw-ha held --insert ID (not delivered: insert it) or --discard ID (delivered: remove the standby's copy)`);
      }
      return 0;
    }
    if (!isSafeMailId(id)) throw new UsageError(`held: ${JSON.stringify(clean(id))} is not a mail id`);
    const m = mails.find((x) => x.id === id);
    if (!m) throw new CliFailure(`${id} is not held on cluster "${cluster.name}" (see mailgw-ha held)`);
    const action = insert !== undefined ? 'insert' : 'discard';
    if (!args.options.has('yes')) {
      if (!process.stdin.isTTY) throw new CliFailure(`held --${action} changes the units: pass --yes to run without a terminal to confirm on`);
      process.stderr.write(`${m.id} (${m.folder ?? 'no longer on the standby'}) is held: ${clean(m.why)}\n`);
      const q = action === 'insert' ? `Insert ${m.id} into ${cluster.primary.key} now? Only if you checked it was NOT delivered. [y/N] ` : `Discard the copy of ${m.id} on ${cluster.secondary.key} now? Only if you checked it WAS delivered. [y/N] `;
      if (!(await ask(q))) {
        console.log('nothing changed');
        return 0;
      }
    }
    const report = await recover({ pool: ctx.pool, cluster, settings, journalFile, logger: ctx.logger, client: 'mailgw-ha CLI', takeOverStaleLock: args.options.has('take-over-lock'), resolveHeld: { id, action } });
    if (ctx.json) console.log(JSON.stringify({ ...reportJson(report), resolved: report.resolved ?? null }, null, 2));
    else {
      console.log(report.resolved?.done ? `${id}: ${action === 'insert' ? 'inserted into the primary and removed from the standby' : "the standby's copy discarded"}` : `${id}: not resolved`);
      console.log(summaryLines(report).join('\n'));
    }
    return report.resolved?.done && report.outcome === 'done' ? 0 : 1;
  } finally {
    ctx.dispose();
  }
}

registerVerb('held', heldVerb);
