// `mailgw-ha ls UNIT [spool|vscan|input]`: the mails on a unit with id, size, age, From, Subject and
// Message-ID, incomplete pairs flagged. --json: one document; --jsonl / --csv: one row per mail.
import { formatTable } from '../core/export/table';
import { ListingRow, listingRow, listingTable } from '../core/spool/listingExport';
import { SPOOL_FOLDERS, SpoolFolder } from '../core/spool/list';
import { loadUnitOverview } from '../core/spool/overview';
import { SummaryCache } from '../core/spool/summaries';
import { formatAge, formatBytes } from '../core/spool/filter';
import { UsageError, ParsedArgs } from './args';
import { findUnit, loadContext } from './context';
import { exportFormat } from './exportFormat';
import { registerVerb } from './main';
import { printErrorLine, printExport, printJson, printLine } from './out';

export interface LsMail {
  id: string;
  folder: SpoolFolder;
  complete: boolean;
  /** "body" or "env" when only one half is there. */
  missing?: 'body' | 'env';
  size: number;
  mtime: string;
  ageSeconds: number;
  from?: string;
  to?: string;
  subject?: string;
  date?: string;
  messageId?: string;
  /** Why a Message-ID header is there but not usable (two different ones, malformed). */
  messageIdProblem?: string;
}

async function ls(args: ParsedArgs): Promise<number> {
  const format = exportFormat(args);
  const ctx = loadContext(args);
  try {
    const { cluster, unit } = findUnit(ctx, args.positionals[0]);
    const folderArg = args.positionals[1];
    if (folderArg !== undefined && !(SPOOL_FOLDERS as readonly string[]).includes(folderArg)) throw new UsageError(`folder must be spool, vscan or input (got "${folderArg}")`);
    if (args.positionals.length > 2) throw new UsageError('ls takes UNIT and at most one folder');
    const folders = folderArg ? [folderArg as SpoolFolder] : [...SPOOL_FOLDERS];
    const conn = ctx.pool.get(unit);
    await conn.connect();
    const overview = await loadUnitOverview(conn, cluster);
    const cache = new SummaryCache();
    const now = Date.now();
    const mails: LsMail[] = [];
    const rows: ListingRow[] = [];
    const unreadable: { id: string; error: string }[] = [];
    for (const f of folders) {
      const listing = overview.folders[f];
      const { failed } = await cache.load(conn, cluster, unit.key, listing.mails, { concurrency: 32 });
      unreadable.push(...failed);
      for (const m of listing.mails) {
        const s = cache.get(unit.key, m);
        const row = listingRow(cluster.name, unit.name, m, s, now);
        rows.push(row);
        // --json keeps its own names (ageSeconds) and leaves out what the document says once.
        const { cluster: _c, unit: _u, ageS, ...mail } = row;
        mails.push({ ...mail, folder: f, ageSeconds: ageS } as LsMail);
      }
    }
    if (format) {
      printExport(formatTable(listingTable(rows), format));
      for (const u of unreadable) printErrorLine(`mailgw-ha: ${u.error}`);
    } else if (ctx.json) {
      const summary = Object.fromEntries(
        folders.map((f) => {
          const l = overview.folders[f];
          return [f, { path: l.path, missing: l.missing, complete: l.completeCount, incomplete: l.incompleteCount, bytes: l.totalBytes, oldest: l.oldestMtimeMs !== undefined ? new Date(l.oldestMtimeMs).toISOString() : null, ignored: l.ignored }];
        }),
      );
      printJson({ cluster: cluster.name, unit: unit.name, role: unit.role, active: overview.active, gatewayPids: overview.gateway.pids, folders: summary, mails, unreadable });
    } else {
      printLine(`${unit.key} (${unit.role}, ${overview.active ? `active, gateway PID ${overview.gateway.pids.join(',')}` : 'standby'})`);
      for (const f of folders) {
        const l = overview.folders[f];
        const head = l.missing ? 'folder missing' : `${l.completeCount} mail(s)${l.incompleteCount ? ` + ${l.incompleteCount} incomplete` : ''}, ${formatBytes(l.totalBytes)}${l.oldestMtimeMs !== undefined ? `, oldest ${formatAge(l.oldestMtimeMs, now)}` : ''}`;
        printLine('');
        printLine(`${f}/ (${l.path}): ${head}`);
        for (const m of mails.filter((x) => x.folder === f)) {
          const flag = m.missing ? `  INCOMPLETE (no .${m.missing})` : '';
          printLine(`  ${m.id}  ${formatBytes(m.size).padStart(8)}  ${formatAge(Date.parse(m.mtime), now).padStart(6)}  ${m.from ?? '-'}  ${JSON.stringify(m.subject ?? '')}  ${m.messageId ?? '-'}${flag}`);
        }
        for (const i of l.ignored) printLine(`  (not a mail: ${i.name}: ${i.reason})`);
      }
      for (const u of unreadable) printErrorLine(`mailgw-ha: ${u.error}`);
    }
    return 0;
  } finally {
    ctx.dispose();
  }
}

registerVerb('ls', ls);
