// The follower's own bookkeeping (line framing across chunks, partial lines, CRLF, over-long lines,
// backfill window, rotation, truncation, retry) against an in-memory stand-in for the unit that
// answers exactly as FOLLOW_SCRIPT does. The real script is checked against the lab in
// test/integration/logFollow.test.ts.
import * as assert from 'assert';
import { cutMark, FOLLOW_SCRIPT, LogConnection, LogFollower, LogLine } from '../../../src/core/log/follow';
import type { ExecOptions, ExecResult } from '../../../src/core/ssh/connection';
import { SshError } from '../../../src/core/ssh/errors';

class FakeUnit implements LogConnection {
  readonly address = { label: 'lab/fake' };
  /** path → file; an inode is kept while a file is renamed. */
  files = new Map<string, { ino: number; data: Buffer }>();
  private nextIno = 100;
  failNext = 0;
  calls = 0;

  write(path: string, text: string): void {
    const f = this.files.get(path);
    if (f) f.data = Buffer.concat([f.data, Buffer.from(text)]);
    else this.files.set(path, { ino: this.nextIno++, data: Buffer.from(text) });
  }
  rename(from: string, to: string): void {
    this.files.set(to, this.files.get(from)!);
    this.files.delete(from);
  }
  truncate(path: string): void {
    this.files.get(path)!.data = Buffer.alloc(0);
  }

  async exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    this.calls++;
    assert.strictEqual(argv[2], FOLLOW_SCRIPT);
    if (this.failNext > 0) {
      this.failNext--;
      throw new SshError('lost', 'lab/fake: the connection dropped');
    }
    const [file, ino, offStr, maxStr] = argv.slice(4);
    const off = Number(offStr);
    const max = Number(maxStr);
    const out = (head: string, data?: Buffer): ExecResult => ({ code: 0, stdout: Buffer.concat([Buffer.from(head + '\n'), data ?? Buffer.alloc(0)]), stderr: '' });
    const cur = this.files.get(file);
    if (ino === '-') return cur ? out(`S ${cur.ino} ${cur.data.length}`) : out('M');
    const byIno = [...this.files.entries()].find(([, f]) => String(f.ino) === ino);
    for (let tick = 0; tick < 3; tick++) {
      if (options?.cancellation?.isCancellationRequested) throw new SshError('closed', 'cancelled');
      if (cur && String(cur.ino) !== ino) {
        if (byIno && byIno[1].data.length > off) return out(`D ${ino} ${off} ${byIno[0]}`, byIno[1].data.subarray(off, off + max));
        return out(`R ${cur.ino} ${cur.data.length} ${byIno ? byIno[0] : '-'}`);
      }
      if (cur && cur.data.length < off) return out(`T ${cur.ino} ${cur.data.length}`);
      if (cur && cur.data.length > off) return out(`D ${ino} ${off}`, cur.data.subarray(off, off + max));
      await new Promise((r) => setTimeout(r, 5));
    }
    return out(`I ${ino} ${off}`);
  }
}

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

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
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
