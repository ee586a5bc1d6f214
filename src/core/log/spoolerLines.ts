// The spooler's own sentences in the gateway log, as whole lines of the box's grammar
// (lineGrammar.ts): `SPOOLER new mail inserted (id=X)` and `SPOOLER id already in spool, mail renamed
// (id=X, new-id=Y)`. A sender can put any text into a header and headers end up inside log lines, so
// these are never looked for "somewhere in a line": the text part must be the sentence, whole. The
// recovery's confirmation and the views read them the same way.
import { parseBoxLine } from './lineGrammar';

const ID = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';
const INSERTED = new RegExp(`^SPOOLER new mail inserted \\(id=(${ID})\\)$`);
const RENAMED = new RegExp(`^SPOOLER id already in spool, mail renamed \\(id=(${ID}), new-id=(${ID})\\)$`);

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

