// Verb dispatch for the mailgw-ha command line.
import { parseArgs, UsageError } from './args';

export const USAGE = `usage: mailgw-ha <verb> --settings FILE [--cluster NAME] [--json] [--known-hosts FILE] [--accept-new]

verbs:
  status [--jsonl|--csv] [--concurrency N] [--unit-timeout SECONDS] [--stuck-after MIN]
                         every cluster at once (8 units at a time, 20 s at most each):
                         each unit reachable, active (gateway PID), mails per directory;
                         the clusters most urgent first (stranded, stuck, unreachable)
  ls UNIT [spool|vscan|input] [--json|--jsonl|--csv]
                         mails with id, size, age, From, Subject, Message-ID; orphans flagged
                         (--jsonl / --csv: one row per mail)
  recover [--dry-run] [--yes] [--include-duplicates] [--journal FILE] [--take-over-lock]
                         the safe recovery: plan, copy, verify, signal, confirm, clean up
                         (one per cluster: a lock on the primary; --take-over-lock replaces
                         a lock shown as stale)
  held [--insert ID | --discard ID] [--yes]
                         mails held for a decision, with why; insert one (checked not
                         delivered) or discard the standby's copy (checked delivered)
  doctor                 every assumption a recovery rests on, on each unit: folders, tools
                         and fallbacks, kill by name, the log file and how much parses,
                         clocks, the gateway and the box's HA role, SSH algorithms, free
                         space in input/; the fix for each failure (exit 1 if any failed)
  signal UNIT            SIGUSR2 to the gateway on UNIT (prints the PID it signalled)
  logs UNIT [--follow] [--inserted] [--lines N]
  audit [--cluster NAME] [--json|--jsonl|--csv]
                         the audit trail: every action that changed a unit (this
                         CLI's and the extension's), who, when, which mails, outcome
                         (--settings not needed; file: --audit-log FILE, else
                         $MAILGW_HA_AUDIT_LOG, else mailgwHa.auditLogFile, else
                         ~/.local/state/mailgw-ha/audit.jsonl)
  shape UNIT [spool|vscan|input] [--by sender|recipient] [--stuck-after MIN] [--json|--jsonl|--csv]
                         queue shape (like qshape): mails per age bucket (minutes, doubling)
                         and recipient or sender domain; warns of mail stuck on the active unit

exit codes: 0 success, 1 failure, 2 usage error`;

const OPTIONS = new Set(['settings', 'cluster', 'json', 'known-hosts', 'accept-new', 'dry-run', 'yes', 'follow', 'inserted', 'lines', 'journal', 'help', 'include-duplicates', 'take-over-lock', 'insert', 'discard', 'csv', 'jsonl', 'by', 'concurrency', 'unit-timeout', 'audit-log', 'stuck-after']);

export type Verb = (args: ReturnType<typeof parseArgs>) => Promise<number>;

const verbs = new Map<string, Verb>();

export function registerVerb(name: string, verb: Verb): void {
  verbs.set(name, verb);
}

export async function runCli(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, OPTIONS);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`mailgw-ha: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (args.options.has('help') || args.verb === 'help') {
    console.log(USAGE);
    return 0;
  }
  const verb = verbs.get(args.verb);
  if (!verb) {
    console.error(args.verb ? `mailgw-ha: unknown verb "${args.verb}"\n\n${USAGE}` : USAGE);
    return 2;
  }
  try {
    return await verb(args);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`mailgw-ha: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
