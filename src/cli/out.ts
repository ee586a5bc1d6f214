// Everything the CLI writes to the terminal goes through here: each call is one line, and any text
// in it that came from a unit, a mail, a log or a settings file has its control characters shown
// as escapes (src/core/text/terminal.ts), so it cannot move the cursor, clear the screen, set the
// title or start a fake line. --json output stays JSON (the same values, escaped the JSON way).
import { jsonText, terminalText } from '../core/text/terminal';

/** One line on stdout. */
export function printLine(text: string): void {
  process.stdout.write(`${terminalText(text)}\n`);
}

/** One line on stderr. */
export function printErrorLine(text: string): void {
  process.stderr.write(`${terminalText(text)}\n`);
}

/** One JSON document on stdout (indented unless `compact`: one line per record for --follow). */
export function printJson(value: unknown, compact = false): void {
  process.stdout.write(`${jsonText(value, compact ? undefined : 2)}\n`);
}

/** An export (JSON lines or CSV from src/core/export/table.ts: already one record a line, controls escaped). */
export function printExport(text: string): void {
  process.stdout.write(text);
}
