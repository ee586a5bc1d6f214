// The one Message-ID rule, for the recovery's proofs and for what the tree, `ls` and Copy
// Message-ID show (so nothing shows an id the recovery would not go by). Only the header block (up
// to the first empty line) is looked at, folded lines are unfolded, and a mail counts as having
// Message-ID X only if its header names X and nothing else: exactly one well-formed `<left@right>`
// value (the same value repeated is accepted).
// Anything else (none, two different ones, a malformed one, a header block cut before its end) is
// reported as such; the plan holds those mails for a decision instead of guessing either way.

/** Never read more than this of a .body looking for the end of its header block. */
export const HEADER_CAP_BYTES = 256 * 1024;

const MESSAGE_ID = /^<[\x21-\x3b\x3d\x3f-\x7e]{1,900}>$/; // printable ASCII without '<', '>' and spaces

export type MessageIdResult =
  | { readonly kind: 'ok'; readonly id: string }
  /** The complete header block has no Message-ID header. */
  | { readonly kind: 'none' }
  /** Two or more Message-ID headers with different values. */
  | { readonly kind: 'conflict'; readonly ids: readonly string[] }
  /** A Message-ID header whose value is not one `<left@right>`. */
  | { readonly kind: 'malformed'; readonly value: string }
  /** The header block goes past what could be read (HEADER_CAP_BYTES) without a usable answer. */
  | { readonly kind: 'truncated' }
  /** The .body could not be read (gone, unreadable, a link). */
  | { readonly kind: 'unreadable' };

/**
 * The Message-ID of a header block. `complete` says whether `head` holds the whole header block (it
 * ends with an empty line, or it is the whole file); if not, the last, possibly cut line is dropped
 * and a result that a later line could change (none, or one id) is reported as truncated.
 */
export function messageIdOf(head: Buffer | string, complete: boolean): MessageIdResult {
  const text = typeof head === 'string' ? head : head.toString('latin1');
  const end = text.search(/(^|\n)\r?\n/);
  const whole = end >= 0 || complete;
  const block = (end >= 0 ? text.slice(0, end) : complete ? text : text.slice(0, Math.max(0, text.lastIndexOf('\n')))).replace(/\r$/, '');
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  const values: string[] = [];
  for (const line of unfolded.split(/\r?\n/)) {
    const m = /^message-id[ \t]*:([^]*)$/i.exec(line);
    if (m) values.push(m[1].trim());
  }
  const bad = values.find((v) => !MESSAGE_ID.test(v));
  if (bad !== undefined) return { kind: 'malformed', value: bad.slice(0, 200) };
  const distinct = [...new Set(values)];
  if (distinct.length > 1) return { kind: 'conflict', ids: distinct };
  if (!whole) return { kind: 'truncated' };
  return distinct.length === 1 ? { kind: 'ok', id: distinct[0] } : { kind: 'none' };
}

/** Why a mail without a usable Message-ID cannot be compared, for the plan. */
export function describeMessageIdProblem(r: MessageIdResult): string {
  switch (r.kind) {
    case 'ok':
      return '';
    case 'none':
      return 'its complete header block has no Message-ID, so it cannot be proved not to be delivered already';
    case 'conflict':
      return `its header block has ${r.ids.length} different Message-IDs (${r.ids.slice(0, 3).join(', ')}), so which mail it is cannot be proved`;
    case 'malformed':
      return `its Message-ID header is not one <left@right> value (${JSON.stringify(r.value.slice(0, 80))}), so it cannot be compared`;
    case 'truncated':
      return `its header block is longer than ${HEADER_CAP_BYTES / 1024} KB without a usable Message-ID, so it cannot be compared`;
    case 'unreadable':
      return 'its .body could not be read';
  }
}

/** The strict Message-ID of a mail's first bytes, or undefined for anything but exactly one. */
export function readMessageId(head: Buffer): string | undefined {
  const r = messageIdOf(head, false);
  return r.kind === 'ok' ? r.id : undefined;
}

/** A Message-ID as compared: the local part is case sensitive, the domain is not. */
export function normalizeMessageId(id: string): string {
  const at = id.lastIndexOf('@');
  return at < 0 ? id : id.slice(0, at) + id.slice(at).toLowerCase();
}
