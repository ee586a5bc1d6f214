// Reading the audit trail back, bounded: a file over the cap is read from its tail (the newest
// records) and says so; a line that is not an audit record (a torn last line, something else
// appended) is counted and skipped, never shown as one.
import * as fs from 'fs';
import type { Table } from '../export/table';
import type { AuditRecord } from './record';

/** The most bytes read from an audit file (its tail beyond that). */
export const AUDIT_READ_MAX_BYTES = 32 * 1024 * 1024;

export interface AuditTrail {
  readonly file: string;
  /** False: there is no audit file yet (nothing audited on this machine with this setting). */
  readonly exists: boolean;
  readonly records: AuditRecord[];
  /** Bytes at the start of the file left unread (over the cap): older records not shown. */
  readonly skippedBytes: number;
  /** Lines that are not audit records. */
  readonly badLines: number;
}

export function readAuditTrail(file: string, opts: { maxBytes?: number; cluster?: string } = {}): AuditTrail {
  const max = opts.maxBytes ?? AUDIT_READ_MAX_BYTES;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { file, exists: false, records: [], skippedBytes: 0, badLines: 0 };
    throw new Error(`cannot read the audit trail ${file}: ${(e as Error).message}`);
  }
  let text: string;
  let skippedBytes = 0;
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error(`the audit trail ${file} is not a file`);
    const start = Math.max(0, st.size - max);
    const buf = Buffer.alloc(st.size - start);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    text = buf.subarray(0, got).toString('utf8');
    if (start > 0) {
      // The first line read is most likely cut: records start after the first line break.
      const nl = text.indexOf('\n');
      skippedBytes = start + (nl < 0 ? got : Buffer.byteLength(text.slice(0, nl + 1)));
      text = nl < 0 ? '' : text.slice(nl + 1);
    }
  } finally {
    fs.closeSync(fd);
  }
  const records: AuditRecord[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      badLines++;
      continue;
    }
    if (!isAuditRecord(r)) {
      badLines++;
      continue;
    }
    if (opts.cluster === undefined || r.cluster === opts.cluster) records.push(r);
  }
  return { file, exists: true, records, skippedBytes, badLines };
}

function isAuditRecord(r: unknown): r is AuditRecord {
  if (!r || typeof r !== 'object') return false;
  const x = r as Record<string, unknown>;
  const str = (k: string) => typeof x[k] === 'string';
  return x.v === 1 && str('at') && str('user') && str('host') && str('tool') && str('cluster') && str('unit') && str('unitHost') && str('action') && str('outcome') && typeof x.pid === 'number' && Array.isArray(x.mails) && x.mails.every((m) => !!m && typeof m === 'object' && typeof (m as { id?: unknown }).id === 'string') && (x.runId === undefined || str('runId')) && (x.detail === undefined || str('detail'));
}

export const AUDIT_COLUMNS = ['at', 'user', 'host', 'tool', 'pid', 'cluster', 'unit', 'unitHost', 'action', 'runId', 'outcome', 'detail', 'mailCount', 'mailId', 'folder', 'messageId', 'newId'] as const;
export type AuditRow = Record<(typeof AUDIT_COLUMNS)[number], string | number | undefined>;

/** The trail as flat rows for export: one per mail of each record (one with empty mail columns if it names none). */
export function auditTable(records: readonly AuditRecord[]): Table<AuditRow> {
  const rows: AuditRow[] = [];
  for (const r of records) {
    const base = { at: r.at, user: r.user, host: r.host, tool: r.tool, pid: r.pid, cluster: r.cluster, unit: r.unit, unitHost: r.unitHost, action: r.action, runId: r.runId, outcome: r.outcome, detail: r.detail, mailCount: r.mails.length };
    if (r.mails.length === 0) rows.push({ ...base, mailId: undefined, folder: undefined, messageId: undefined, newId: undefined });
    for (const m of r.mails) rows.push({ ...base, mailId: m.id, folder: m.folder, messageId: m.messageId, newId: m.newId });
  }
  return { columns: AUDIT_COLUMNS, rows };
}

/** One record as a line of text (controls are escaped by whoever prints it). */
export function auditLine(r: AuditRecord, maxMails = 10): string {
  const mails = r.mails.slice(0, maxMails).map((m) => `${m.folder ? `${m.folder}/` : ''}${m.id}${m.messageId ? ` ${m.messageId}` : ''}${m.newId ? ` (now ${m.newId})` : ''}`);
  if (r.mails.length > maxMails) mails.push(`… and ${r.mails.length - maxMails} more`);
  return [
    r.at,
    `${r.user}@${r.host}`,
    `${r.tool}[${r.pid}]`,
    `${r.cluster}/${r.unit} (${r.unitHost})`,
    r.action,
    r.outcome,
    ...(r.runId ? [`run ${r.runId}`] : []),
    ...(r.mails.length ? [`${r.mails.length} mail(s): ${mails.join(', ')}`] : []),
    ...(r.detail ? [`— ${r.detail}`] : []),
  ].join('  ');
}
