// `mailgw-ha logs UNIT [--follow] [--inserted] [--lines N]`: the gateway log of a unit, the last N
// lines (default 20) and, with --follow, every new line (across rotation, truncation and reconnects)
// until interrupted. --inserted keeps only "new mail inserted" lines; --json prints records.
import { backfillShortText, FollowNotice, LogFollower, LogLine } from '../core/log/follow';
import { withFoundLog } from '../core/log/discover';
import { LogRecord, parseLine } from '../core/log/parse';
import { UsageError } from './args';
import type { ParsedArgs } from './args';
import { findUnit, loadContext } from './context';
import { registerVerb } from './main';
import { printErrorLine, printJson, printLine } from './out';

async function logs(args: ParsedArgs): Promise<number> {
  const linesOpt = args.options.get('lines');
  const count = linesOpt === undefined ? 20 : Number(linesOpt);
  if (!Number.isInteger(count) || count < 0 || count > 1_000_000) throw new UsageError(`--lines needs a whole number from 0 to 1000000; got ${String(linesOpt)}`);
  if (args.positionals.length > 1) throw new UsageError(`logs takes one UNIT; got ${args.positionals.join(' ')}`);
  const ctx = loadContext(args);
  const { cluster: configured, unit } = findUnit(ctx, args.positionals[0]);
  // The gateway log: as set, or found on the unit by content (said on stderr).
  const { cluster, log } = await withFoundLog(ctx.pool.get(unit), configured);
  if (!log.fromSettings) ctx.logger.info(`${unit.key}: gateway log ${log.file}: ${log.why}`);
  const followMode = args.options.has('follow');
  const insertedOnly = args.options.has('inserted');
  const follower = new LogFollower(ctx.pool.get(unit), { file: cluster.logFile, start: count > 0 ? { lines: count } : { from: 'end' }, retryDelaysMs: [500, 5_000] });
  const collected: (LogRecord & { line: string })[] = [];
  let unparsed = 0;
  const print = (batch: LogLine[]) => {
    for (const l of batch) {
      const rec = parseLine(l.text);
      if (!rec.boxFormat) unparsed++;
      if (insertedOnly && rec.kind !== 'inserted') continue;
      if (!followMode && ctx.json) collected.push({ ...rec, line: l.text });
      else if (ctx.json) printJson({ unit: unit.key, ...rec, line: l.text }, true);
      else printLine(l.text); // log lines carry sender-controlled recipients and Message-IDs
    }
  };
  let stoppedWith: string | undefined;
  follower.on('lines', print);
  follower.on('notice', (n: FollowNotice) => {
    if (n.type === 'stopped') stoppedWith = n.error;
    else if (n.type === 'rotated') ctx.logger.warn(`${unit.key}: ${cluster.logFile} was rotated${n.archive ? ` (the old file is now ${n.archive})` : ' and the old file was not found: lines written to it after the last read are missing'}; following the new file`);
    else if (n.type === 'truncated') ctx.logger.warn(`${unit.key}: ${cluster.logFile} was truncated; reading it again from the start`);
    else if (n.type === 'reconnecting') ctx.logger.warn(`${unit.key}: connection lost (${n.error}); retrying in ${Math.round(n.delayMs / 100) / 10} s`);
    else if (n.type === 'resumed') ctx.logger.warn(`${unit.key}: reconnected; following from where it stopped`);
    else if (n.type === 'backfillShort') ctx.logger.warn(`${unit.key}: ${cluster.logFile}: ${backfillShortText(n)}`);
    else if (n.type === 'missing') ctx.logger.warn(`${unit.key}: ${cluster.logFile} does not exist (yet)${followMode ? '; waiting for it' : ''}. Set "logFile" for cluster "${cluster.name}" if the gateway logs elsewhere.`);
  });
  try {
    await follower.start();
    if (!followMode) {
      await follower.stop();
      // Shown as they are, but said: such a line is never read as an insertion or a delivery.
      if (unparsed) ctx.logger.warn(`${unit.key}: ${unparsed} of these lines are not in the box's log format (YYYY MM DD HH:MM:SS, offset and type, text); they prove nothing`);
      if (ctx.json) printJson({ unit: unit.key, file: cluster.logFile, fileWhy: log.why, records: collected });
      return 0;
    }
    ctx.logger.info(`${unit.key}: following ${cluster.logFile} (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      follower.on('notice', (n: FollowNotice) => n.type === 'stopped' && done());
    });
    await follower.stop();
    if (stoppedWith) {
      printErrorLine(`mailgw-ha: ${stoppedWith}`);
      return 1;
    }
    return 0;
  } finally {
    ctx.dispose();
  }
}

registerVerb('logs', logs);
