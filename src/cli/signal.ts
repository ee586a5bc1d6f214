// `mailgw-ha signal UNIT`: SIGUSR2 to the gateway on one unit (found by its exact name; PID printed).
import { signalGateway } from '../core/gateway';
import { parseRecoverySettings } from '../core/recovery/settings';
import type { ParsedArgs } from './args';
import { CliFailure, findUnit, loadContext } from './context';
import { registerVerb } from './main';
import { printJson, printLine } from './out';

async function signalVerb(args: ParsedArgs): Promise<number> {
  const ctx = loadContext(args);
  try {
    const { cluster, unit } = findUnit(ctx, args.positionals[0]);
    const { settings, errors } = parseRecoverySettings(ctx.raw);
    for (const e of errors) ctx.logger.warn(e);
    let result;
    try {
      result = await signalGateway(ctx.pool.get(unit), cluster, settings.signalMethod);
    } catch (e) {
      throw new CliFailure((e as Error).message);
    }
    if (ctx.json) printJson({ unit: unit.key, pid: result.pid ?? null, processName: result.processName, command: result.command }, true);
    else printLine(`${unit.key}: sent SIGUSR2 to ${result.processName}${result.pid !== undefined ? ` (PID ${result.pid})` : ''}: ${result.command}`);
    return 0;
  } finally {
    ctx.dispose();
  }
}

registerVerb('signal', signalVerb);
