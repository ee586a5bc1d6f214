// The gateway log lines a recovery goes by, as a grammar: the box's line (core/log/lineGrammar.ts)
// whose text part is, whole, one of the gateway's own sentences. A sender can put any text into a
// header, and headers end up inside log lines (a delivery line names the Message-ID), so nothing is
// ever found "somewhere in a line": a line proves only what its text says from its first character
// to its last, and a line that names a field twice, or another mail's id, proves nothing at all.
import { parseBoxLine } from '../log/lineGrammar';
import { isSafeMailId } from '../names';

const ID = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';
const INSERTED = new RegExp(`^SPOOLER new mail inserted \\(id=(${ID})\\)$`);
const RENAMED = new RegExp(`^SPOOLER id already in spool, mail renamed \\(id=(${ID}), new-id=(${ID})\\)$`);

/** The box's mail ids (`#####-#####-#####`): a second one in a line makes the line prove nothing. */
const BOX_ID_TOKEN = /(?<![A-Za-z0-9_.-])\d{5}-\d{5}-\d{5}(?![A-Za-z0-9_-])/g;

export type SpoolerEvent = { readonly kind: 'inserted'; readonly id: string } | { readonly kind: 'renamed'; readonly from: string; readonly to: string };

/** What a log line says the spooler did, or undefined for any other line. */
export function spoolerEvent(line: string): SpoolerEvent | undefined {
  const l = parseBoxLine(line);
  if (!l || !l.text.startsWith('SPOOLER ')) return undefined;
  const ins = INSERTED.exec(l.text);
  if (ins) return { kind: 'inserted', id: ins[1] };
  const ren = RENAMED.exec(l.text);
  return ren ? { kind: 'renamed', from: ren[1], to: ren[2] } : undefined;
}

/**
 * Ids (as we named them in input/) whose insertion these lines show, with the id each got in
 * spool/: `inserted (id=X)`, or `renamed (id=X, new-id=Y)` followed by `inserted (id=Y)`.
 */
export function insertionsOf(lines: Iterable<string>, expected: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  const renamedTo = new Map<string, string>(); // new id -> our id
  for (const line of lines) {
    const e = spoolerEvent(line);
    if (!e) continue;
    if (e.kind === 'renamed') {
      if (expected.has(e.from)) renamedTo.set(e.to, e.from);
      continue;
    }
    const ours = renamedTo.get(e.id);
    if (ours !== undefined) {
      if (!out.has(ours)) out.set(ours, e.id);
      renamedTo.delete(e.id);
    } else if (expected.has(e.id) && !out.has(e.id)) out.set(e.id, e.id);
  }
  return out;
}

/** Splits a log text into lines (a last line without its newline is kept). */
export function textLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The named groups of mailgwHa.deliveryLogPattern's match on a line's text. */
export interface DeliveryGroups {
  readonly id?: string;
  readonly to?: string;
  readonly messageId?: string;
}

export type DeliveryLine =
  /** A delivery of mail `id` to `to`, which nothing else in the line contradicts. */
  | { readonly kind: 'delivery'; readonly id: string; readonly to: string; readonly messageId?: string }
  /** It matched the pattern but proves nothing: why, and the ids it names (each of them is doubtful now). */
  | { readonly kind: 'ambiguous'; readonly why: string; readonly ids: readonly string[] };

function count(text: string, re: RegExp): number {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(text)) n++;
  return n;
}

const ID_FIELD = /(?<![A-Za-z0-9_-])id=/gi;
const MESSAGE_ID_FIELD = /message-id=/gi;
const TO_FIELD = /(?<![A-Za-z0-9_-])to=/gi;

/** Every string shaped like a box mail id in a text. */
export function boxIdTokens(text: string): string[] {
  return [...text.matchAll(BOX_ID_TOKEN)].map((m) => m[0]);
}

/**
 * What a line's text, matched whole by the delivery pattern with these groups, proves. Only a line
 * that names one id field, one message-id field and one recipient field, and no mail id but its own
 * (once), is a delivery: anything a sender wrote into a header that looks like another field or
 * another mail's id makes the line doubtful, never a proof for someone else's mail.
 */
export function judgeDeliveryLine(text: string, g: DeliveryGroups): DeliveryLine {
  const tokens = boxIdTokens(text);
  const named = [...new Set([...(g.id && isSafeMailId(g.id) ? [g.id] : []), ...tokens])];
  const doubt = (why: string): DeliveryLine => ({ kind: 'ambiguous', why, ids: named });
  if (g.id === undefined || !isSafeMailId(g.id)) return doubt('its id is not a mail id');
  if (g.to === undefined || g.to === '') return doubt('it names no recipient');
  if (count(text, ID_FIELD) > 1) return doubt('it has more than one id= field');
  if (count(text, MESSAGE_ID_FIELD) > 1) return doubt('it has more than one message-id= field');
  if (count(text, TO_FIELD) > 1) return doubt('it has more than one to= field');
  if (text.split(g.id).length - 1 !== 1) return doubt(`it names ${g.id} more than once`);
  if (tokens.some((t) => t !== g.id)) return doubt('it names another mail id too');
  return { kind: 'delivery', id: g.id, to: g.to, messageId: g.messageId };
}

/** A recipient as compared: the local part as written, the domain in lower case. */
export function normalizeAddress(a: string): string {
  const at = a.lastIndexOf('@');
  return at < 0 ? a : a.slice(0, at) + a.slice(at).toLowerCase();
}
