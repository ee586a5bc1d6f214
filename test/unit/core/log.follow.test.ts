// The follower's own bookkeeping (line framing across chunks, partial lines, CRLF, over-long lines,
// backfill window, rotation, truncation, retry) against an in-memory stand-in for the unit that
// answers exactly as FOLLOW_SCRIPT does. The real script is checked against the lab in
// test/integration/logFollow.test.ts.
import * as assert from 'assert';
import { backfillShortText, cutMark, FollowNotice, LogFollower, LogLine } from '../../../src/core/log/follow';
import { FakeLogUnit as FakeUnit, until } from './fakeLogUnit';

const LOG = '/var/phion/logs/srv_box1_mailgw.log';

async function collect(unit: FakeUnit, opts: ConstructorParameters<typeof LogFollower>[1], act: (lines: LogLine[]) => Promise<void>): Promise<{ lines: LogLine[]; follower: LogFollower }> {
  const follower = new LogFollower(unit, { retryDelaysMs: [1, 5], waitMs: 100, ...opts });
  const lines: LogLine[] = [];
  follower.on('lines', (ls) => lines.push(...ls));
  await follower.start();
  try {
    await act(lines);
  } finally {
    await follower.stop();
  }
  return { lines, follower };
}


describe('core/log/follow (client side, against a stand-in unit)', () => {
  it('joins a line split across reads, strips CR, and records each line start offset', async () => {
    const u = new FakeUnit();
    u.write(LOG, 'old\n');
    const { lines } = await collect(u, { file: LOG, maxChunkBytes: 7 }, async (got) => {
      u.write(LOG, 'alpha beta\r\ngam');
      // The 15 bytes take three reads of 7; once a fourth has started, those three (all begun after
      // the write) have been handled.
      const calls = u.calls;
      await until('three reads after the write', () => u.calls >= calls + 4);
      assert.deepStrictEqual(got.map((l) => l.text), ['alpha beta'], 'the partial line waits for its end');
      u.write(LOG, 'ma\n');
      await until('gamma', () => got.length === 2);
    });
    assert.deepStrictEqual(lines.map((l) => [l.text, l.offset]), [['alpha beta', 4], ['gamma', 16]]);
  });

  it('backfills exactly the last N lines from a bounded window, dropping the cut first line', async () => {
    const u = new FakeUnit();
    let text = '';
    for (let i = 1; i <= 5000; i++) text += `line ${i} ${'x'.repeat(40)}\n`;
    u.write(LOG, text);
    const { lines } = await collect(u, { file: LOG, start: { lines: 3 }, maxBackfillBytes: 1000 }, async () => undefined);
    assert.deepStrictEqual(lines.map((l) => l.text.split(' ').slice(0, 2).join(' ')), ['line 4998', 'line 4999', 'line 5000']);
  });

  it('F12: backfill widens past a long line until it has the last N lines (a 200 KB line hid the ones before it)', async () => {
    const u = new FakeUnit();
    let text = '';
    for (let i = 1; i <= 30; i++) text += `line ${i}\n`;
    text += `${'L'.repeat(200_000)}\nafter 1\nafter 2\nafter 3\n`;
    u.write(LOG, text);
    const notices: FollowNotice[] = [];
    const follower = new LogFollower(u, { file: LOG, start: { lines: 10 }, retryDelaysMs: [1, 5], waitMs: 100 });
    const lines: LogLine[] = [];
    follower.on('lines', (ls) => lines.push(...ls));
    follower.on('notice', (n) => notices.push(n));
    await follower.start();
    await follower.stop();
    assert.deepStrictEqual(
      lines.map((l) => (l.text.startsWith('L') ? `L×${l.text.indexOf(' ')} ${l.text.endsWith(cutMark(64 << 10))}` : l.text)),
      ['line 25', 'line 26', 'line 27', 'line 28', 'line 29', 'line 30', `L×${64 << 10} true`, 'after 1', 'after 2', 'after 3'],
    );
    assert.strictEqual(lines[0].offset, text.indexOf('line 25\n'), 'each line at its own offset');
    assert.deepStrictEqual(notices, [], 'nothing was skipped');
  });

  it('F12: past the read-back bound it shows what it has and says how many lines it could not show, and why', async () => {
    const u = new FakeUnit();
    let text = 'first\n';
    for (let i = 1; i <= 5; i++) text += `${String(i).repeat(100_000)}\n`;
    text += 'last 1\nlast 2\n';
    u.write(LOG, text);
    const notices: FollowNotice[] = [];
    const follower = new LogFollower(u, { file: LOG, start: { lines: 10 }, retryDelaysMs: [1, 5], waitMs: 100, maxBackfillBytes: 250_000 });
    const lines: LogLine[] = [];
    follower.on('lines', (ls) => lines.push(...ls));
    follower.on('notice', (n) => notices.push(n));
    await follower.start();
    await follower.stop();
    // The last 250,000 bytes hold the end of line "3…" (it started before them), "4…", "5…" and the two short lines.
    assert.deepStrictEqual(lines.map((l) => l.text.slice(0, 6)), ['444444', '555555', 'last 1', 'last 2']);
    const short = notices.find((n) => n.type === 'backfillShort');
    assert.ok(short && short.type === 'backfillShort', JSON.stringify(notices));
    assert.deepStrictEqual({ wanted: short.wanted, shown: short.shown, readBackBytes: short.readBackBytes, skippedBytes: short.skippedBytes }, { wanted: 10, shown: 4, readBackBytes: 250_000, skippedBytes: Buffer.byteLength(text) - 250_000 });
    assert.match(backfillShortText(short), /^only 4 of the last 10 lines: the last 250,000 bytes read back \(the bound\) hold no more; the \d{3},\d{3} bytes before them were not read/);
  });

  it('cuts a line longer than maxLineBytes instead of holding it', async () => {
    const u = new FakeUnit();
    u.write(LOG, '');
    const { lines } = await collect(u, { file: LOG, maxLineBytes: 100 }, async (got) => {
      u.write(LOG, 'y'.repeat(250));
      await until('a cut line', () => got.length > 0);
    });
    assert.ok(lines[0].text.length >= 100 && lines[0].text.length <= 250);
  });

  it('cuts a complete over-long line to maxLineBytes too, once, and keeps the next line whole (was ~1 MiB)', async () => {
    const u = new FakeUnit();
    u.write(LOG, '');
    const { lines } = await collect(u, { file: LOG, maxLineBytes: 100 }, async (got) => {
      u.write(LOG, `${'y'.repeat(5000)}\nnext\n${'z'.repeat(3000)}`);
      await until('the cut z line', () => got.some((l) => l.text.startsWith('z')));
      u.write(LOG, `${'z'.repeat(3000)}\nafter\n`);
      await until('after', () => got.some((l) => l.text === 'after'));
    });
    assert.deepStrictEqual(
      lines.map((l) => (l.text.startsWith('y') || l.text.startsWith('z') ? `${l.text[0]}${Buffer.byteLength(l.text.split(' ')[0])}` : l.text)),
      ['y100', 'next', 'z100', 'after'],
    );
    assert.ok(lines[0].text.endsWith(cutMark(100)));
    assert.strictEqual(lines[1].offset, 5001);
    assert.strictEqual(lines[3].offset, 5006 + 6000 + 1);
  });

  it('finishes the renamed file (partial last line included), then reads the new one from 0', async () => {
    const u = new FakeUnit();
    u.write(LOG, 'a\n');
    const { lines, follower } = await collect(u, { file: LOG }, async (got) => {
      u.write(LOG, 'b\nc-no-newline');
      u.rename(LOG, `${LOG}.20261129-100000`);
      u.write(LOG, 'd\n');
      await until('d', () => got.some((l) => l.text === 'd'));
    });
    assert.deepStrictEqual(lines.map((l) => l.text), ['b', 'c-no-newline', 'd']);
    assert.strictEqual(lines[2].offset, 0);
    assert.notStrictEqual(lines[2].ino, lines[0].ino);
    assert.strictEqual(follower.position.offset, 2);
  });

  it('after a truncation reads from 0; after lost connections resumes at the same offset', async () => {
    const u = new FakeUnit();
    u.write(LOG, 'a\n');
    const notices: string[] = [];
    const follower = new LogFollower(u, { file: LOG, retryDelaysMs: [1, 5], waitMs: 100 });
    const lines: string[] = [];
    follower.on('lines', (ls) => lines.push(...ls.map((l) => l.text)));
    follower.on('notice', (n) => notices.push(n.type));
    await follower.start();
    u.write(LOG, 'b\n');
    await until('b', () => lines.includes('b'));
    u.truncate(LOG);
    await until('truncated', () => notices.includes('truncated'));
    u.failNext = 3;
    await until('resumed', () => notices.includes('resumed'));
    u.write(LOG, 'c\n');
    await until('c', () => lines.includes('c'));
    await follower.stop();
    assert.deepStrictEqual(lines, ['b', 'c']);
    assert.deepStrictEqual(notices.filter((n) => n !== 'truncated'), ['reconnecting', 'reconnecting', 'reconnecting', 'resumed']);
  });

  it('refuses a log path that is not a plain absolute path', () => {
    assert.throws(() => new LogFollower(new FakeUnit(), { file: '/var/log/$(reboot)' }), /not an absolute log file path/);
    assert.throws(() => new LogFollower(new FakeUnit(), { file: 'relative.log' }), /not an absolute log file path/);
  });
});
