// A view that follows a log again with a fresh source (settings change, Resume) shows each line
// once: not the lines it already showed, and never fewer than the log has — also when the file was
// truncated or recreated with the same inode number, where positions alone would lie.
import * as assert from 'assert';
import type { LogLine } from '../../../src/core/log/follow';
import { HubLine, LogSource } from '../../../src/core/log/hub';
import { ShownLines, subscribeUnshown } from '../../../src/core/log/shownLines';
import { FakeLogUnit, until } from './fakeLogUnit';

const LOG = '/var/phion/logs/srv_box1_mailgw.log';

/** Lines as a follower reports them for `texts` written from `offset` on in file `ino`. */
function linesOf(ino: string, texts: string[], offset = 0): LogLine[] {
  const out: LogLine[] = [];
  for (const text of texts) {
    out.push({ text, ino, offset });
    offset += Buffer.byteLength(text) + 1;
  }
  return out;
}
const texts = (ls: readonly LogLine[]) => ls.map((l) => l.text);

describe('core/log/shownLines: what a view shows when it follows a log again', () => {
  it('drops the read-back lines a view already showed, and shows the rest', () => {
    const shown = new ShownLines<LogLine>();
    const file = linesOf('7', ['a', 'b', 'c', 'd', 'e']);
    assert.deepStrictEqual(texts(shown.accept('old', file.slice(0, 3))), ['a', 'b', 'c']);
    assert.deepStrictEqual(texts(shown.accept('fresh', file.slice(1))), ['d', 'e']);
    assert.deepStrictEqual(shown.settle('fresh'), []);
  });

  it('never skips lines of the same source, also after the file was truncated in place (copytruncate)', () => {
    const shown = new ShownLines<LogLine>();
    assert.deepStrictEqual(texts(shown.accept('s', linesOf('7', ['a', 'b', 'c']))), ['a', 'b', 'c']);
    assert.deepStrictEqual(texts(shown.accept('s', linesOf('7', ['x', 'y']))), ['x', 'y'], 'offsets 0 and 2 again, new lines');
  });

  it('a view that follows again and is handed the same shared source shows nothing of its replayed ring twice', () => {
    const shown = new ShownLines<LogLine & { seq: number }>();
    const file = linesOf('7', ['a', 'b', 'c']).map((l, i) => ({ ...l, seq: i + 1 }));
    assert.deepStrictEqual(texts(shown.accept('shared', file.slice(0, 2))), ['a', 'b']);
    assert.deepStrictEqual(texts(shown.accept('shared', file)), ['c'], 'the ring replayed: a and b again, then c');
    assert.deepStrictEqual(texts(shown.accept('shared', linesOf('7', ['x'], 0).map((l) => ({ ...l, seq: 4 })))), ['x'], 'a later line at an old offset (truncated) is new');
  });

  it('shows a fresh source\'s read-back of a recreated file with the same inode number (shorter): held until its read-back ends', () => {
    const shown = new ShownLines<LogLine>();
    shown.accept('old', linesOf('7', ['old line 1', 'old line 2', 'old line 3']));
    assert.deepStrictEqual(texts(shown.accept('fresh', linesOf('7', ['new 1', 'new 2']))), [], 'held: they could still be shown ones');
    assert.deepStrictEqual(texts(shown.settle('fresh')), ['new 1', 'new 2']);
    assert.deepStrictEqual(texts(shown.accept('fresh', linesOf('7', ['new 3'], 12))), ['new 3']);
  });

  it('shows a recreated file\'s lines when the line at the last shown position has another text, or none starts there', () => {
    const shown = new ShownLines<LogLine>();
    shown.accept('old', linesOf('7', ['aa', 'bb']));
    assert.deepStrictEqual(texts(shown.accept('fresh', linesOf('7', ['xx', 'yy', 'zz']))), ['xx', 'yy', 'zz'], 'another text at offset 3');
    const jumped = new ShownLines<LogLine>();
    jumped.accept('old', linesOf('7', ['aa', 'bb']));
    assert.deepStrictEqual(texts(jumped.accept('fresh', linesOf('7', ['a long first line', 'next']))), ['a long first line', 'next'], 'no line starts at offset 3');
  });

  it('shows everything from another inode, and a read-back that starts after the last shown line', () => {
    const shown = new ShownLines<LogLine>();
    shown.accept('old', linesOf('7', ['a', 'b']));
    assert.deepStrictEqual(texts(shown.accept('fresh', linesOf('8', ['n1', 'n2']))), ['n1', 'n2']);
    const later = new ShownLines<LogLine>();
    later.accept('old', linesOf('7', ['a', 'b']));
    assert.deepStrictEqual(texts(later.accept('fresh', linesOf('7', ['e', 'f'], 100))), ['e', 'f']);
  });

  // The views' promise under random histories, with the real follower and hub source over a
  // stand-in unit: appends, copytruncate, recreation with the same inode number, rotation, and the
  // view following again with a fresh source (while the file changes, or not) at random moments.
  // Every line text is unique and numbered in write order, so "each line once, in order" is: the
  // numbers shown strictly increase, and every line any source read is shown.
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`seeded history ${seed}: each line any source read is shown exactly once, in order`, async () => {
      let s = seed * 7919;
      const rnd = (n: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31) % n);
      const unit = new FakeLogUnit();
      let n = 0;
      const write = (k: number) => {
        let t = '';
        for (let i = 0; i < k; i++) t += `${String(++n).padStart(5, '0')} Info SPOOLER line\n`;
        unit.write(LOG, t);
      };
      write(3);
      const shown = new ShownLines<HubLine>();
      const onScreen: string[] = [];
      const read = new Set<string>();
      let source: LogSource | undefined;
      let unsubscribe = () => undefined as void;
      const follow = async () => {
        source = new LogSource({ key: 'k', unitKey: 'lab/fake', cluster: 'lab', file: LOG }, unit, 5000, 1 + rnd(8));
        source.on('lines', (ls: HubLine[]) => ls.forEach((l) => read.add(l.text)));
        unsubscribe = subscribeUnshown(source, shown, { lines: (ls) => onScreen.push(...ls.map((l) => l.text)) });
        await source.start();
      };
      const caughtUp = () =>
        until('the source to read to the end of the file', () => {
          const f = unit.files.get(LOG)!;
          return source!.position.ino === String(f.ino) && source!.position.offset === f.data.length;
        });
      await follow();
      try {
        const history: string[] = [];
        for (let step = 0; step < 40; step++) {
          const op = rnd(11);
          history.push(['append', 'append', 'append', 'append', 'truncate', 'recreate same inode', 'rotate'][op] ?? (op === 10 ? 'follow again on the same shared source' : 'follow again'));
          if (op < 4) write(1 + rnd(5));
          else if (op === 4) unit.truncate(LOG);
          else if (op === 5) unit.recreateWithSameInode(LOG);
          else if (op === 6) {
            unit.rename(LOG, `${LOG}.${step}`);
            write(1 + rnd(3));
          } else if (op === 10) {
            // Handed the same (shared) source again: its ring is replayed to the new subscription.
            unsubscribe();
            unsubscribe = subscribeUnshown(source!, shown, { lines: (ls) => onScreen.push(...ls.map((l) => l.text)) });
          } else {
            // Follow again: the old source ends first; the file may change before the fresh one starts.
            unsubscribe();
            await source!.stop();
            const between = rnd(4);
            if (between === 1) write(1 + rnd(4));
            if (between === 2) unit.recreateWithSameInode(LOG);
            if (between === 3) {
              unit.recreateWithSameInode(LOG);
              write(1 + rnd(30));
            }
            history.push(`(${['nothing', 'appended', 'recreated', 'recreated and grown'][between]} in between)`);
            await follow();
          }
          await caughtUp();
          // Held lines are released by the end of the read-back, at the latest.
          await until('every line read to be on screen', () => [...read].every((t) => onScreen.includes(t)), 5_000).catch(() => undefined);
          const numbers = onScreen.map((t) => Number(t.slice(0, 5)));
          const out = numbers.find((x, i) => i > 0 && x <= numbers[i - 1]);
          assert.strictEqual(out, undefined, `shown twice or out of order: ${out} after ${history.join(', ')}; on screen ${numbers.join(' ')}`);
          const missing = [...read].filter((t) => !onScreen.includes(t));
          assert.deepStrictEqual(missing, [], `read but not shown after ${history.join(', ')}`);
        }
      } finally {
        unsubscribe();
        await source!.stop();
      }
    });
  }
});
