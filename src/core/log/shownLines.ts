// What a view has already shown of one log, so that when it follows the log again with a fresh
// source (after a settings change closed the old connection, or Resume) the fresh source's read-back
// does not repeat lines — without ever taking new lines for shown ones.
//
// A position (inode, offset) names a line only while the file is not truncated or replaced: the
// lab's reset, a copytruncate rotation or a recreated file can reuse the inode number, and the new
// lines then sit at offsets the view has already passed. So a position is never trusted alone:
// - lines of the source that produced them are skipped only when that source sends them again (a
//   view that follows again and is handed the same shared source gets its ring replayed), by the
//   source's own line numbers, never by position;
// - a fresh source's lines before the last shown position are held until its line at that position
//   is seen: the same text there proves the same file, and the held lines are dropped; anything else
//   (another text, the position jumped over, another inode, the read-back ending first, a
//   truncation) shows them all.
import type { LogLine } from './follow';
import type { HubLine, LogSource, SourceListener } from './hub';

/** A line as a source numbers it (`seq` increases per source; see hub.ts). */
export type ShowableLine = LogLine & { readonly seq?: number };

export class ShownLines<L extends ShowableLine> {
  /** The last line shown, and `seq` only while `source` is the source that numbered it. */
  private last: { source: unknown; ino: string; offset: number; text: string; seq?: number } | undefined;
  /** The fresh source whose read-back is being matched against `last`, and what it held back. */
  private matching: { source: unknown; held: L[] } | undefined;

  /** The lines of `source` to show, in order. */
  accept(source: unknown, lines: readonly L[]): L[] {
    const out: L[] = [];
    for (const l of lines) {
      const last = this.last;
      const m = this.matchingFor(source);
      if (!last || !m) {
        const again = last !== undefined && last.source === source && l.seq !== undefined && last.seq !== undefined && l.seq <= last.seq;
        if (!again) {
          out.push(l);
          this.remember(source, [l]);
        }
      } else if (l.ino === last.ino && l.offset < last.offset) m.held.push(l);
      else {
        this.matching = undefined;
        const shownBefore = l.ino === last.ino && l.offset === last.offset && l.text === last.text;
        // From now on the last shown line is this source's: numbered by it when it is this line.
        this.last = { ...last, source, seq: shownBefore ? l.seq : undefined };
        // The same text at the same place: the same file, and the held lines were shown before.
        const shown = shownBefore ? [] : [...m.held, l];
        out.push(...shown);
        this.remember(source, shown);
      }
    }
    return out;
  }

  /**
   * `source` has read back all it will (its start finished) or reports the file truncated or
   * replaced: lines still held were never matched to shown ones, so they are new, and from now on
   * none of its lines is held.
   */
  settle(source: unknown): L[] {
    const m = this.matching?.source === source ? this.matching : undefined;
    const held = m ? m.held : [];
    if (m) this.matching = undefined;
    if (this.last && this.last.source !== source) this.last = { ...this.last, source, seq: undefined };
    this.remember(source, held);
    return held;
  }

  private remember(source: unknown, shown: readonly L[]): void {
    const l = shown[shown.length - 1];
    if (l) this.last = { source, ino: l.ino, offset: l.offset, text: l.text, seq: l.seq };
  }

  private matchingFor(source: unknown): { held: L[] } | undefined {
    if (!this.last || this.last.source === source) return undefined;
    if (this.matching?.source !== source) this.matching = { source, held: [] };
    return this.matching;
  }
}

/**
 * Subscribes a view to `source` through `shown`: the listener gets only lines the view has not
 * shown, in order, held lines included once the source's read-back is complete or the file was
 * truncated or replaced. Returns the unsubscribe function.
 */
export function subscribeUnshown(source: LogSource, shown: ShownLines<HubLine>, listener: SourceListener): () => void {
  let subscribed = true;
  const pass = (lines: HubLine[]) => {
    if (lines.length) listener.lines(lines);
  };
  const settle = () => {
    if (subscribed) pass(shown.settle(source));
  };
  const unsubscribe = source.subscribe({
    lines: (lines) => pass(shown.accept(source, lines)),
    notice: (n) => {
      if (n.type === 'truncated' || n.type === 'rotated') settle();
      listener.notice?.(n);
    },
  });
  source.start().then(settle, () => undefined);
  return () => {
    subscribed = false;
    unsubscribe();
  };
}
