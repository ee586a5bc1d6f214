// Mail gateway log lines → records. The format the box writes is
//   `YYYY MM DD HH:MM:SS +00:00 <Level padded to 8> <SUBSYSTEM> <message>`
// but nothing here may fail on a line it does not know: unknown shapes become kind 'other' with the
// whole line as message, and ids are still picked up wherever an `id=` appears.

export type LogKind = 'inserted' | 'renamed' | 'delivered' | 'scanned' | 'error' | 'service' | 'other';

export interface LogRecord {
  /** ISO 8601 (UTC when the line carries an offset), or undefined if the line has no time stamp. */
  readonly timestamp?: string;
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
const LEVEL_WORD = /^([A-Za-z]+)(?:\s+|$)/;
const LEVELS = new Set(['info', 'notice', 'warning', 'warn', 'error', 'err', 'fatal', 'critical', 'crit', 'debug', 'security', 'alert', 'emergency']);

/** Mail ids in a message: `id=...` and `new-id=...` values (box ids are `#####-#####-#####`). */
const ID_FIELD = /\b(new-id|id)=([A-Za-z0-9][A-Za-z0-9_.-]{0,127}?)(?=[,)\s;]|$)/g;

export function parseLine(line: string): LogRecord {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  let timestamp: string | undefined;
  let level: string | undefined;
  let message = text;
  const m = TIME.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    const ms = frac ? `.${frac.padEnd(3, '0').slice(0, 3)}` : '';
    const tz = zone === undefined ? '' : zone === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
    timestamp = `${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${tz === '+00:00' ? 'Z' : tz}`;
    message = text.slice(m[0].length);
    // A level column is optional: only a known level word counts as one.
    const l = LEVEL_WORD.exec(message);
    if (l && LEVELS.has(l[1].toLowerCase())) {
      level = l[1];
      message = message.slice(l[0].length);
    }
  }
  const ids: string[] = [];
  let newId: string | undefined;
  ID_FIELD.lastIndex = 0;
  for (let f = ID_FIELD.exec(message); f; f = ID_FIELD.exec(message)) {
    if (f[1] === 'new-id') newId = f[2];
    else ids.push(f[2]);
  }
  if (newId !== undefined) ids.push(newId);
  const kind = classify(message, level);
  const rec: { -readonly [K in keyof LogRecord]: LogRecord[K] } = { message, kind, ids };
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
  const lower = message.toLowerCase();
  const lvl = level?.toLowerCase();
  if (lvl === 'error' || lvl === 'err' || lvl === 'fatal' || lvl === 'critical' || lvl === 'crit' || lvl === 'alert' || lvl === 'emergency') return 'error';
  if (/\bnew mail inserted\b/.test(lower)) return 'inserted';
  if (/\bmail renamed\b/.test(lower)) return 'renamed';
  if (/\bmail delivered\b/.test(lower)) return 'delivered';
  if (/\bscanned\b/.test(lower) && /^vscan\b/.test(lower)) return 'scanned';
  if (/^service\b/.test(lower)) return 'service';
  if (!lvl && /\b(error|failed|cannot)\b/.test(lower)) return 'error';
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
