// A small, strict Message-ID reader for the first KB of a mail body: only the header block is
// looked at, folded lines are unfolded, and only a single well-formed `<left@right>` is accepted.
// Anything else reads as "no Message-ID" (such mails are compared by nothing and always moved).

/** How much of each .body is read to find its Message-ID. */
export const HEADER_BYTES = 8192;

const MESSAGE_ID = /^<[\x21-\x3b\x3d\x3f-\x7e]{1,900}>$/; // printable ASCII without '<', '>' and spaces

export function readMessageId(head: Buffer): string | undefined {
  const text = head.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  // Without the blank line the header block may go past what was read: the Message-ID may still be
  // complete if its line (and its folds) ended before the cut, so drop only the last, partial line.
  const block = end >= 0 ? text.slice(0, end) : text.slice(0, Math.max(0, text.lastIndexOf('\n')));
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  let found: string | undefined;
  for (const line of unfolded.split(/\r?\n/)) {
    const m = /^message-id[ \t]*:[ \t]*(.*?)[ \t]*$/i.exec(line);
    if (!m) continue;
    if (found !== undefined) return undefined; // two Message-ID headers: ambiguous, trust neither
    if (!MESSAGE_ID.test(m[1])) return undefined;
    found = m[1];
  }
  return found;
}

/** A Message-ID as compared: the local part is case sensitive, the domain is not. */
export function normalizeMessageId(id: string): string {
  const at = id.lastIndexOf('@');
  return at < 0 ? id : id.slice(0, at) + id.slice(at).toLowerCase();
}
