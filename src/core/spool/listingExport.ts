// A folder listing as a flat table for export (src/core/export/table.ts): one row per mail, the same
// columns from `mailgw-ha ls --csv/--jsonl` and from the extension's Export Folder Listing.
import type { Cell, Table } from '../export/table';
import type { MessageSummary } from '../message/headers';
import type { MailEntry } from './list';

export const LISTING_COLUMNS = ['cluster', 'unit', 'folder', 'id', 'complete', 'missing', 'size', 'mtime', 'ageS', 'from', 'to', 'subject', 'date', 'messageId', 'messageIdProblem'] as const;

export type ListingRow = Record<(typeof LISTING_COLUMNS)[number], Cell>;

/**
 * One row: `missing` names the absent half of an incomplete pair ("body" or "env"); `ageS` is whole
 * seconds since the mail's mtime; header values are empty when the summary was not read.
 */
export function listingRow(cluster: string, unit: string, mail: MailEntry, summary: MessageSummary | undefined, nowMs: number): ListingRow {
  return {
    cluster,
    unit,
    folder: mail.folder,
    id: mail.id,
    complete: mail.complete,
    missing: mail.complete ? undefined : mail.body ? 'env' : 'body',
    size: mail.size,
    mtime: new Date(mail.mtimeMs).toISOString(),
    ageS: Math.round((nowMs - mail.mtimeMs) / 1000),
    from: summary?.from,
    to: summary?.to,
    subject: summary?.subject,
    date: summary?.date,
    messageId: summary?.messageId,
    messageIdProblem: summary?.messageIdProblem,
  };
}

export function listingTable(rows: readonly ListingRow[]): Table<ListingRow> {
  return { columns: LISTING_COLUMNS, rows };
}
