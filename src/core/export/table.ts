// Export of flat records (a folder's listing, the fleet status, a queue shape, the audit trail) as
// JSON lines or CSV. The values come from units, mails and logs, so both formats keep every record on
// one line whatever it holds, and a CSV cell can never become a spreadsheet formula.
import { jsonText, terminalText } from '../text/terminal';

export type ExportFormat = 'jsonl' | 'csv';

export type Cell = string | number | boolean | null | undefined;

/** Records with the same named columns; `columns` fixes their order in CSV. */
export interface Table<Row extends Record<string, Cell> = Record<string, Cell>> {
  readonly columns: readonly (keyof Row & string)[];
  readonly rows: readonly Row[];
}

/** One JSON object a line (JSON escapes line breaks and controls, so a value cannot start a record). */
export function toJsonLines<Row extends Record<string, Cell>>(table: Table<Row>): string {
  return table.rows.map((row) => jsonText(Object.fromEntries(table.columns.map((c) => [c, row[c] ?? null])))).join('\n') + (table.rows.length ? '\n' : '');
}

// Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection"); some
// importers trim leading blanks first.
const FORMULA_START = /^[=+\-@\t\r|%]/;

/**
 * One CSV cell (RFC 4180): numbers and booleans as they are; text as a terminal shows it (line breaks,
 * other controls and invisible bidi/zero-width characters as visible \xNN / \uNNNN escapes, a
 * backslash doubled so an escape cannot be forged: one record a line, always, and safe to print), a
 * leading formula character neutralised with a `'` the way spreadsheets themselves mark text, and
 * quoted when it holds a quote, comma, semicolon, the `'` or outer blanks.
 */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let text = terminalText(value);
  if (FORMULA_START.test(value.trimStart())) text = `'${text}`;
  return /[",;']/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header line and one line per record, CRLF-terminated as RFC 4180 asks. */
export function toCsv<Row extends Record<string, Cell>>(table: Table<Row>): string {
  const lines = [table.columns.map(csvCell).join(','), ...table.rows.map((row) => table.columns.map((c) => csvCell(row[c])).join(','))];
  return lines.join('\r\n') + '\r\n';
}

export function formatTable<Row extends Record<string, Cell>>(table: Table<Row>, format: ExportFormat): string {
  return format === 'csv' ? toCsv(table) : toJsonLines(table);
}
