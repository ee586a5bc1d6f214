// --stuck-after MINUTES, else mailgwHa.stuckMailMinutes of the settings file, else 60: when mail on
// the active unit counts as stuck, alike for `status` and `shape`.
import { parseStuckMailMinutes } from '../core/spool/queueShape';
import { ParsedArgs, UsageError } from './args';
import type { CliContext } from './context';

/** Checks the option before anything connects (a bad value is a usage error). */
export function checkStuckAfter(args: ParsedArgs): void {
  const v = args.options.get('stuck-after');
  if (v !== undefined && parseStuckMailMinutes(v, '--stuck-after').error) throw new UsageError(`--stuck-after must be a number of minutes >= 1 (got ${JSON.stringify(v)})`);
}

export function stuckAfterMinutes(args: ParsedArgs, ctx: CliContext): number {
  const v = args.options.get('stuck-after');
  if (v !== undefined) return parseStuckMailMinutes(v, '--stuck-after').minutes;
  const fromSettings = parseStuckMailMinutes(ctx.raw['mailgwHa.stuckMailMinutes']);
  if (fromSettings.error) ctx.logger.warn(fromSettings.error);
  return fromSettings.minutes;
}
