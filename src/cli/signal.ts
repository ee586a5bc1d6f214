// `mailgw-ha signal UNIT`: SIGUSR2 to the gateway on one unit (found by its exact name; PID printed).
import { signalEntry } from '../core/audit/actions';
import { signalGateway } from '../core/gateway';
import { parseRecoverySettings } from '../core/recovery/settings';
import type { ParsedArgs } from './args';
import { CliFailure, findUnit, loadContext } from './context';
import { registerVerb } from './main';
import { printJson, printLine } from './out';
import { cliAuditLog } from './auditSink';

async function signalVerb(args: ParsedArgs): Promise<number> {
  const ctx = loadContext(args);
  try {
    const { cluster, unit } = findUnit(ctx, args.positionals[0]);
    const { settings, errors } = parseRecoverySettings(ctx.raw);
    for (const e of errors) ctx.logger.warn(e);
    // Not started if it could not be audited; once sent, a failed append is a warning.
    const audit = cliAuditLog(args, ctx.raw, ctx.logger);
    const unaudited = audit.probe();
    if (unaudited) throw new CliFailure(`${unaudited}; no signal was sent (name another file with --audit-log FILE)`);
    let result;
    try {
      result = await signalGateway(ctx.pool.get(unit), cluster, settings.signalMethod);
    } catch (e) {
      audit.append(signalEntry(cluster, unit, { error: (e as Error).message }));
      throw new CliFailure((e as Error).message);
    }
    audit.append(signalEntry(cluster, unit, result));
    if (ctx.json) printJson({ unit: unit.key, pid: result.pid ?? null, processName: result.processName, command: result.command }, true);
    else printLine(`${unit.key}: sent SIGUSR2 to ${result.processName}${result.pid !== undefined ? ` (PID ${result.pid})` : ''}: ${result.command}`);
    return 0;
  } finally {
    ctx.dispose();
  }
}

registerVerb('signal', signalVerb);
