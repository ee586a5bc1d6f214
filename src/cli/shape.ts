// `mailgw-ha shape UNIT [spool|vscan|input] [--by sender|recipient] [--stuck-after MIN]`: the queue
// shape of a unit's folder (all three without one), like Postfix's qshape: mails per doubling age
// bucket and per recipient (or sender) domain; and the stuck-mail warning for the active unit.
// --json: one document; --jsonl / --csv: the table, one row per domain (TOTAL first).
import { formatTable } from '../core/export/table';
import { SPOOL_FOLDERS, SpoolFolder } from '../core/spool/list';
import { loadUnitOverview } from '../core/spool/overview';
import { formatDuration } from '../core/spool/filter';
import { checkStuckAfter, stuckAfterMinutes } from './stuckAfter';
import { EnvelopeCache, shapeOfFolders, ShapeBy, shapeTable, stuckFolders, TOTAL_ROW } from '../core/spool/queueShape';
import { capLength } from '../core/text/chars';
import { ParsedArgs, UsageError } from './args';
import { findUnit, loadContext } from './context';
import { exportFormat } from './exportFormat';
import { registerVerb } from './main';
import { printErrorLine, printExport, printJson, printLine } from './out';

/** Widest domain column in the text table (longer domains are cut, marked with …). */
const DOMAIN_WIDTH = 40;

async function shape(args: ParsedArgs): Promise<number> {
  const format = exportFormat(args);
  const byArg = args.options.get('by') ?? 'recipient';
  if (byArg !== 'sender' && byArg !== 'recipient') throw new UsageError(`--by must be sender or recipient (got ${JSON.stringify(byArg)})`);
  const by: ShapeBy = byArg;
  const folderArg = args.positionals[1];
  if (folderArg !== undefined && !(SPOOL_FOLDERS as readonly string[]).includes(folderArg)) throw new UsageError(`folder must be spool, vscan or input (got "${folderArg}")`);
  if (args.positionals.length > 2) throw new UsageError('shape takes UNIT and at most one folder');
  checkStuckAfter(args);
  const ctx = loadContext(args);
  try {
    const { cluster, unit } = findUnit(ctx, args.positionals[0]);
    const minutes = stuckAfterMinutes(args, ctx);
    const folders: SpoolFolder[] = folderArg ? [folderArg as SpoolFolder] : [...SPOOL_FOLDERS];
    const conn = ctx.pool.get(unit);
    await conn.connect();
    const overview = await loadUnitOverview(conn, cluster);
    const nowMs = Date.now();
    const listings = folders.map((f) => overview.folders[f]);
    const result = await shapeOfFolders(conn, cluster, unit.key, listings, new EnvelopeCache(), { by, nowMs });
    const folder = folders.join('+');
    const stuck = stuckFolders(overview.active, listings, nowMs, minutes);
    const stuckLine = (s: (typeof stuck)[number]) => `warning: ${s.count} mail(s) older than ${minutes} min in ${s.folder}/ of the active unit ${unit.key} (oldest ${formatDuration(s.oldestAgeS)}): the gateway is not delivering them`;
    if (format) {
      printExport(formatTable(shapeTable(result, { cluster: cluster.name, unit: unit.name, folder }), format));
      for (const s of stuck) printErrorLine(`mailgw-ha: ${stuckLine(s)}`);
    } else if (ctx.json) {
      printJson({
        cluster: cluster.name,
        unit: unit.name,
        role: unit.role,
        active: overview.active,
        folders,
        missing: listings.filter((l) => l.missing).map((l) => l.folder),
        by,
        at: new Date(nowMs).toISOString(),
        age: 'mtime',
        buckets: result.buckets,
        mails: result.mails,
        domains: result.domains,
        unreadEnvelopes: result.unread,
        total: result.total,
        rows: result.rows,
        stuckAfterMinutes: minutes,
        stuck,
      });
    } else {
      printLine(`${unit.key} (${unit.role}, ${overview.active ? 'active' : 'standby'}) ${folder}: ${result.mails} mail(s) by ${by} domain, age in minutes since the mail's mtime`);
      for (const l of listings) if (l.missing) printLine(`(${l.folder}/ does not exist on the unit)`);
      const width = Math.min(DOMAIN_WIDTH, Math.max(TOTAL_ROW.length, ...result.rows.map((r) => r.domain.length)));
      const cols = ['T', ...result.buckets];
      const cw = Math.max(...cols.map((c) => c.length + 1), ...[result.total.total, ...result.total.counts].map((n) => String(n).length + 1));
      printLine(`${''.padStart(width)} ${cols.map((c) => c.padStart(cw)).join('')}`);
      for (const r of [result.total, ...result.rows]) printLine(`${capLength(r.domain, width).padStart(width)} ${[r.total, ...r.counts].map((n) => String(n).padStart(cw)).join('')}`);
      if (by === 'recipient' && result.rows.length > 1) printLine('(a mail with recipients in several domains counts once in each)');
      if (result.unread) printLine(`(${result.unread} envelope(s) not read: counted as (no envelope))`);
      for (const s of stuck) printLine(stuckLine(s));
    }
    return 0;
  } finally {
    ctx.dispose();
  }
}

registerVerb('shape', shape);
