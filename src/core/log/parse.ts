// Mail gateway log lines → records, for the views (the panel, log documents, `mailgw-ha logs`). The
// box writes `YYYY MM DD HH:MM:SS`, its UTC offset and a type (in either order, lineGrammar.ts), then
// the text; such lines are `boxFormat`. Nothing here may fail on a line it does not know: other
// shapes (ISO dates, syslog, junk) become records too, marked as not the box's format so the views
// count and show them. Insertions and renames are recognised only as the spooler's whole sentences
// (recovery/logLines.ts), the same grammar the recovery's confirmation reads: a header text quoted in
// another line never shows as an insertion.

import { spoolerEvent } from './spoolerLines';
import { parseBoxLine } from './lineGrammar';

export type LogKind = 'inserted' | 'renamed' | 'delivered' | 'scanned' | 'error' | 'service' | 'other';

export interface LogRecord {
  /** ISO 8601 (with the line's offset when it carries one; Z for +00:00), or undefined if the line has no time stamp. */
  readonly timestamp?: string;
  /** The line has the box's shape (stamp, offset, type in either order, text). */
  readonly boxFormat: boolean;
  /** As written (`Info`, `Warning`, `Error`, ...), or undefined. */
  readonly level?: string;
  /** The text after time stamp and level (the whole line if neither was found). */
  readonly message: string;
  readonly kind: LogKind;
  /** Mail ids the line is about, in order: for 'renamed' [old id, new id]. */
  readonly ids: readonly string[];
  /** For 'delivered': the Message-ID (with its angle brackets) and the recipient, when present. */
  readonly messageId?: string;
  readonly to?: string;
}

// 2026 11 28 17:46:20 +00:00 Info     SPOOLER ...   (also tolerates ISO dates and a missing offset)
const TIME = /^(\d{4})[ -](\d{2})[ -](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?(?:\s*(Z|[+-]\d{2}:?\d{2}))?\s+/;
const LEVELS = new Set(['info', 'notice', 'warning', 'warn', 'error', 'err', 'fatal', 'critical', 'crit', 'debug', 'security', 'alert', 'emergency']);

/** Mail ids in a message: `id=...` and `new-id=...` values (box ids are `#####-#####-#####`). */
const ID_FIELD = /(?:^|[^A-Za-z0-9_-])(new-id|id)=([A-Za-z0-9][A-Za-z0-9_.-]{0,127})/g;
/** One pass for the kinds recognised by their words (case-insensitive). */
const KIND_WORDS = /(^vscan\b.*\bscanned\b)|(^service\b)/i;
const ERROR_LEVELS = new Set(['error', 'err', 'fatal', 'critical', 'crit', 'alert', 'emergency']);
const ERROR_WORDS = /\b(?:error|failed|cannot)\b/i;

function isDigit(t: string, i: number): boolean {
  const c = t.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/**
 * The box's own layout, checked by character positions (no regex): "YYYY MM DD HH:MM:SS +00:00 ".
 * Most lines take this path; anything else goes through the tolerant TIME pattern.
 */
function fastTime(t: string): boolean {
  if (t.length < 28) return false;
  for (const i of DIGITS) if (!isDigit(t, i)) return false;
  for (const i of SPACES) if (t.charCodeAt(i) !== 32) return false;
  const sign = t.charCodeAt(20);
  return (sign === 43 || sign === 45) && t.charCodeAt(13) === 58 && t.charCodeAt(16) === 58 && t.charCodeAt(23) === 58;
}
const DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 21, 22, 24, 25];
const SPACES = [4, 7, 10, 19, 26];

/** The stamp of a box line as ISO 8601 with its own offset (its wall clock kept). */
function boxStamp(text: string, offsetMinutes: number | undefined): string {
  const wall = `${text.slice(0, 4)}-${text.slice(5, 7)}-${text.slice(8, 10)}T${text.slice(11, 19)}`;
  if (offsetMinutes === undefined) return wall;
  if (offsetMinutes === 0) return `${wall}Z`;
  const a = Math.abs(offsetMinutes);
  return `${wall}${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

export function parseLine(line: string): LogRecord {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  let timestamp: string | undefined;
  let level: string | undefined;
  let message = text;
  let rest: string | undefined;
  const box = parseBoxLine(text);
  if (box) {
    timestamp = boxStamp(text, box.offsetMinutes);
    level = box.type;
    message = box.text;
  } else if (fastTime(text)) {
    const zone = text.slice(20, 26);
    timestamp = `${text.slice(0, 4)}-${text.slice(5, 7)}-${text.slice(8, 10)}T${text.slice(11, 19)}${zone === '+00:00' ? 'Z' : zone}`;
    rest = text.slice(27);
  } else {
    const m = TIME.exec(text);
    if (m) {
      const [, y, mo, d, h, mi, s, frac, zone] = m;
      const ms = frac ? `.${frac.padEnd(3, '0').slice(0, 3)}` : '';
      const tz = zone === undefined ? '' : zone === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
      timestamp = `${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${tz === '+00:00' ? 'Z' : tz}`;
      rest = text.slice(m[0].length);
    }
  }
  if (!box && rest !== undefined) {
    message = rest;
    // A level column is optional: only a known level word counts as one.
    let end = 0;
    for (let c = rest.charCodeAt(0); end < 12 && ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)); c = rest.charCodeAt(++end));
    if (end > 0 && (end === rest.length || rest[end] === ' ' || rest[end] === '\t') && LEVELS.has(rest.slice(0, end).toLowerCase())) {
      level = rest.slice(0, end);
      let start = end;
      while (start < rest.length && (rest[start] === ' ' || rest[start] === '\t')) start++;
      message = rest.slice(start);
    }
  }
  const ids: string[] = [];
  if (message.includes('id=')) {
    let newId: string | undefined;
    ID_FIELD.lastIndex = 0;
    for (let f = ID_FIELD.exec(message); f; f = ID_FIELD.exec(message)) {
      // Trailing punctuation belongs to the sentence, not the id.
      let id = f[2];
      while (id.endsWith('.') || id.endsWith('-')) id = id.slice(0, -1);
      if (f[1] === 'new-id') newId = id;
      else ids.push(id);
    }
    if (newId !== undefined) ids.push(newId);
  }
  const spooler = box ? spoolerEvent(text) : undefined;
  const kind = spooler ? spooler.kind : classify(message, level);
  const rec: { -readonly [K in keyof LogRecord]: LogRecord[K] } = { message, kind, ids, boxFormat: !!box };
  if (timestamp !== undefined) rec.timestamp = timestamp;
  if (level !== undefined) rec.level = level;
  if (kind === 'delivered') {
    const mid = /message-id=(<[^>]*>)/i.exec(message);
    if (mid) rec.messageId = mid[1];
    const to = /\bto=<?([^,>)\s]*)>?/.exec(message);
    if (to) rec.to = to[1];
  }
  return rec;
}

function classify(message: string, level: string | undefined): LogKind {
  const lvl = level?.toLowerCase();
  if (lvl !== undefined && ERROR_LEVELS.has(lvl)) return 'error';
  // Insertions and renames are the spooler's whole sentences only (spoolerEvent, above); exact-case
  // words first (plain substring search is much cheaper than a case-insensitive regex).
  if (message.startsWith('DELIVERY') && message.includes('mail delivered')) return 'delivered';
  if (message.startsWith('VSCAN') && message.includes('scanned')) return 'scanned';
  if (message.startsWith('SERVICE')) return 'service';
  if (/vscan|service/i.test(message)) {
    const m = KIND_WORDS.exec(message);
    if (m) return m[1] ? 'scanned' : 'service';
  }
  if (!lvl && ERROR_WORDS.test(message)) return 'error';
  return 'other';
}

/** The ids a line reports as inserted (new mail inserted), or [] for any other line. */
export function insertedIds(rec: LogRecord): readonly string[] {
  return rec.kind === 'inserted' ? rec.ids : [];
}

/** Splits a text into lines (LF or CRLF); a last line without its newline is kept. */
export function parseText(text: string): LogRecord[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map(parseLine);
}
