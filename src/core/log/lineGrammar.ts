// The box's log line as a grammar, for everything that proves something from a log: a line is
//   YYYY MM DD HH:MM:SS <offset> <Type padded> <text>     (SecureEdge samples, the lab)
//   YYYY MM DD HH:MM:SS <Type padded> <offset> <text>     (the firewall activity log's documentation)
//   YYYY MM DD HH:MM:SS <Type padded> <text>              (a Barracuda QA regex: the offset is optional)
// with the box's local time and its UTC offset (docs/box-facts.md). Whatever does not have this
// shape from its first character is not a line of the box's log and proves nothing; what a line
// says is only ever looked for in its text part, matched whole.

/** The log types seen on the box; any capitalised word of this size is taken as a type. */
const TYPE = /^[A-Z][A-Za-z]{2,11}$/;

export interface BoxLine {
  /** UTC milliseconds of the stamp (the offset applied; none written: taken as UTC). */
  readonly timeMs: number;
  /** Minutes east of UTC as written, or undefined when the line has no offset. */
  readonly offsetMinutes?: number;
  readonly type: string;
  /** Everything after the type (and offset) and their padding. */
  readonly text: string;
}

function digits(s: string, from: number, n: number): number | undefined {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    v = v * 10 + c;
  }
  return v;
}

/** "+hh:mm" / "-hh:mm" at `at` → minutes, or undefined. */
function offsetAt(s: string, at: number): number | undefined {
  const sign = s[at];
  if ((sign !== '+' && sign !== '-') || s[at + 3] !== ':') return undefined;
  const h = digits(s, at + 1, 2);
  const m = digits(s, at + 4, 2);
  if (h === undefined || m === undefined || h > 14 || m > 59) return undefined;
  return (sign === '-' ? -1 : 1) * (h * 60 + m);
}

function skipBlanks(s: string, i: number): number {
  while (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9) i++;
  return i;
}

function wordAt(s: string, i: number): string {
  let j = i;
  while (j < s.length && s.charCodeAt(j) !== 32 && s.charCodeAt(j) !== 9) j++;
  return s.slice(i, j);
}

/** The line as the box writes it, or undefined if it does not have the box's shape. */
export function parseBoxLine(raw: string): BoxLine | undefined {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (line.length < 21 || line[4] !== ' ' || line[7] !== ' ' || line[10] !== ' ' || line[13] !== ':' || line[16] !== ':' || line[19] !== ' ') return undefined;
  const y = digits(line, 0, 4);
  const mo = digits(line, 5, 2);
  const d = digits(line, 8, 2);
  const h = digits(line, 11, 2);
  const mi = digits(line, 14, 2);
  const sec = digits(line, 17, 2);
  if (y === undefined || mo === undefined || d === undefined || h === undefined || mi === undefined || sec === undefined) return undefined;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return undefined;
  let i = 20;
  let offsetMinutes = offsetAt(line, i);
  let type: string;
  if (offsetMinutes !== undefined) {
    if (line[i + 6] !== ' ') return undefined;
    i = skipBlanks(line, i + 6);
    type = wordAt(line, i);
    if (!TYPE.test(type)) return undefined;
    i += type.length;
  } else {
    type = wordAt(line, i);
    if (!TYPE.test(type)) return undefined;
    const afterType = i + type.length;
    const at = skipBlanks(line, afterType);
    offsetMinutes = at > afterType ? offsetAt(line, at) : undefined;
    if (offsetMinutes !== undefined) {
      if (at + 6 < line.length && line[at + 6] !== ' ') return undefined;
      i = at + 6;
    } else i = afterType; // no offset: the blanks after the type are the padding
  }
  if (i < line.length && line[i] !== ' ' && line[i] !== '\t') return undefined;
  const text = line.slice(skipBlanks(line, i));
  const timeMs = Date.UTC(y, mo - 1, d, h, mi, sec) - (offsetMinutes ?? 0) * 60_000;
  return offsetMinutes === undefined ? { timeMs, type, text } : { timeMs, offsetMinutes, type, text };
}
