// RFC 5322 header reading for previews: the header block of the first KBs of a `.body`, unfolded,
// with RFC 2047 encoded words decoded (Q and B, any charset TextDecoder knows). Mail on a spool is
// whatever senders sent, so nothing here throws: missing headers stay undefined, undecodable bytes
// become U+FFFD, control characters are dropped, and every value is cut to a sane length.
import { messageIdOf, MessageIdResult } from './messageId';

/** What the tree, the tooltip, the filter and `mailgw-ha ls` show of a message. */
export interface MessageSummary {
  readonly from?: string;
  readonly to?: string;
  readonly cc?: string;
  readonly subject?: string;
  readonly date?: string;
  /** Its Message-ID by the recovery's rule (exactly one well-formed value), else undefined. */
  readonly messageId?: string;
  /** Why a Message-ID header is there but not usable (two different ones, malformed), for display. */
  readonly messageIdProblem?: string;
  /** The header block did not end within the bytes read (values may be cut). */
  readonly truncated: boolean;
}

const MAX_VALUE_CHARS = 998; // RFC 5322's line limit: enough for any sensible preview

/** The bytes of the header block (up to the first empty line) and whether it ended in `buf`. */
export function headerBlock(buf: Buffer): { block: Buffer; complete: boolean } {
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    // An empty line: "\n\n" or "\n\r\n".
    if (buf[i + 1] === 0x0a) return { block: buf.subarray(0, i + 1), complete: true };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { block: buf.subarray(0, i + 1), complete: true };
  }
  // A message that starts with an empty line has no headers at all.
  if (buf[0] === 0x0a || (buf[0] === 0x0d && buf[1] === 0x0a)) return { block: Buffer.alloc(0), complete: true };
  return { block: buf, complete: false };
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Raw header bytes as text: UTF-8 (RFC 6532) when valid, else Latin-1 (what old mailers sent). */
function bytesToText(b: Buffer): string {
  try {
    return utf8Strict.decode(b);
  } catch {
    return b.toString('latin1');
  }
}

/**
 * Unfolds the header block into fields (lower-case name → raw values in order). Lines that are
 * neither a field nor a continuation (binary junk, a missing colon) are skipped.
 */
export function parseHeaderFields(block: Buffer): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  let name: string | undefined;
  let value = '';
  const flush = () => {
    if (name === undefined) return;
    const list = fields.get(name) ?? [];
    list.push(value);
    fields.set(name, list);
    name = undefined;
  };
  for (const rawLine of bytesToText(block).split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') continue;
    if (line[0] === ' ' || line[0] === '\t') {
      // Folding: the CRLF goes, the whitespace stays (RFC 5322 2.2.3).
      if (name !== undefined) value += line;
      continue;
    }
    flush();
    const m = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line);
    if (!m) continue;
    name = m[1].toLowerCase();
    value = m[2];
  }
  flush();
  return fields;
}

const ENCODED_WORD = /=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=/g;

function qBytes(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '_') out.push(0x20);
    else if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(text.charCodeAt(i) & 0xff);
  }
  return Buffer.from(out);
}

// 0x80-0x9F of windows-1252 (WHATWG decodes iso-8859-1 and us-ascii labels as windows-1252 too).
// Node's TextDecoder maps these bytes to C1 controls instead, so they are mapped here.
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

function decodeCharset(charset: string, bytes: Buffer): string | undefined {
  // RFC 2231 adds "*language" to the charset.
  const cs = charset.split('*')[0].toLowerCase();
  try {
    const decoder = new TextDecoder(cs === 'utf8' ? 'utf-8' : cs);
    if (decoder.encoding === 'windows-1252') return Array.from(bytes, (b) => (b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80] : String.fromCharCode(b))).join('');
    return decoder.decode(bytes);
  } catch {
    return undefined; // unknown charset: the word stays as it was written
  }
}

/**
 * Decodes RFC 2047 encoded words. Whitespace between adjacent encoded words is dropped, and adjacent
 * words in the same charset are decoded together, so a multi-byte character split across two words
 * comes out whole.
 */
export function decodeEncodedWords(value: string): string {
  let out = '';
  let last = 0;
  let pending: { charset: string; bytes: Buffer[]; raw: string } | undefined;
  const flushPending = () => {
    if (!pending) return;
    out += decodeCharset(pending.charset, Buffer.concat(pending.bytes)) ?? pending.raw;
    pending = undefined;
  };
  for (const m of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, m.index);
    const [raw, charset, enc, text] = m;
    let bytes: Buffer;
    if (enc === 'B' || enc === 'b') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
        flushPending();
        out += between + raw;
        last = m.index + raw.length;
        continue;
      }
      bytes = Buffer.from(text, 'base64');
    } else bytes = qBytes(text);
    const adjacent = pending !== undefined && /^[ \t\r\n]*$/.test(between);
    if (adjacent && pending!.charset.toLowerCase() === charset.toLowerCase()) {
      pending!.bytes.push(bytes);
      pending!.raw += raw;
    } else {
      flushPending();
      if (!adjacent) out += between;
      pending = { charset, bytes: [bytes], raw };
    }
    last = m.index + raw.length;
  }
  flushPending();
  return out + value.slice(last);
}

/** Control characters (binary junk, stray CRs) out, runs of whitespace to one space, cut to length. */
export function cleanValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  const s = value.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '').replace(/\s+/g, ' ').trim();
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s;
}

/** Reads a message's summary from its first bytes (the whole header block if it fits). */
export function readMessageSummary(head: Buffer): MessageSummary {
  const { block, complete } = headerBlock(head);
  const fields = parseHeaderFields(block);
  const get = (name: string, decode = true): string | undefined => {
    const v = fields.get(name)?.[0];
    if (v === undefined) return undefined;
    const s = cleanValue(decode ? decodeEncodedWords(v) : v);
    return s === '' ? undefined : s;
  };
  const all = (name: string): string | undefined => {
    const vs = fields.get(name);
    if (!vs) return undefined;
    const s = cleanValue(vs.map((v) => decodeEncodedWords(v)).join(', '));
    return s === '' ? undefined : s;
  };
  return {
    from: get('from'),
    to: all('to'),
    cc: all('cc'),
    subject: get('subject'),
    date: get('date', false),
    ...messageIdFields(messageIdOf(block, complete)),
    truncated: !complete,
  };
}

function messageIdFields(r: MessageIdResult): { messageId?: string; messageIdProblem?: string } {
  if (r.kind === 'ok') return { messageId: r.id };
  if (r.kind === 'conflict') return { messageIdProblem: cleanValue(`${r.ids.length} different Message-IDs: ${r.ids.slice(0, 3).join(', ')}`) };
  if (r.kind === 'malformed') return { messageIdProblem: cleanValue(`malformed Message-ID: ${r.value}`) };
  // none, or a header block cut before a Message-ID was seen: nothing to show.
  return {};
}

/** The address part of a From value ("Alice <a@x>" → "a@x"), for compact displays. */
export function addressOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /<([^<>]*)>\s*$/.exec(value);
  return m ? m[1] : value;
}

/** The display name of a From value if it has one ("Alice <a@x>" → "Alice"), else the address. */
export function displayNameOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^\s*"?([^"<]*?)"?\s*<[^<>]*>\s*$/.exec(value);
  return m && m[1] ? m[1] : addressOf(value);
}
