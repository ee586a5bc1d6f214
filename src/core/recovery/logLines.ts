// The gateway log lines a recovery goes by, as a grammar: the box's line (core/log/lineGrammar.ts)
// whose text part is, whole, one of the gateway's own sentences. A sender can put any text into a
// header, and headers end up inside log lines (a delivery line names the Message-ID), so nothing is
// ever found "somewhere in a line": a line proves only what its text says from its first character
// to its last, and a line that names a field twice, or another mail's id, proves nothing at all.
import { isSafeMailId } from '../names';

/** The box's mail ids (`#####-#####-#####`): a second one in a line makes the line prove nothing. */
const BOX_ID_TOKEN = /(?<![A-Za-z0-9_.-])\d{5}-\d{5}-\d{5}(?![A-Za-z0-9_-])/g;

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
