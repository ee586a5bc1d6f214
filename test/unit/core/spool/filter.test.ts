// The exiqgrep-like filter and the pairing of directory entries.
import * as assert from 'assert';
import { describeFilter, filterNeedsHeaders, formatAge, formatBytes, isFilterActive, MailFilterRun, mailMatcher, parseAge, textMatcher, validateFilter } from '../../../../src/core/spool/filter';
import { testInWorker } from '../../../../src/core/regexWorker';
import { MailEntry, pairEntries } from '../../../../src/core/spool/list';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const mail = (id: string, ageMin: number): MailEntry => ({ id, folder: 'spool', complete: true, size: 10, mtimeMs: NOW - ageMin * 60_000, body: { name: `${id}.body`, size: 5, mtimeMs: NOW }, env: { name: `${id}.env`, size: 5, mtimeMs: NOW } });

describe('spool filter', () => {
  it('parses ages like exiqgrep -o, in s/m/h/d', () => {
    assert.strictEqual(parseAge('90'), 90);
    assert.strictEqual(parseAge('15m'), 900);
    assert.strictEqual(parseAge(' 2H '), 7200);
    assert.strictEqual(parseAge('1.5d'), 129600);
    assert.strictEqual(parseAge('soon'), undefined);
    assert.strictEqual(parseAge('-5m'), undefined);
  });

  it('matches text case-insensitively as substring, or as /regex/', () => {
    assert.ok(textMatcher('ALICE')('Alice <alice@lab.example>'));
    assert.ok(!textMatcher('alice')(undefined));
    assert.ok(textMatcher('/^bob@/')('bob@x'));
    assert.ok(!textMatcher('/^bob@/')('a bob@x'));
    assert.throws(() => validateFilter({ subject: '/(/' }), /not a valid regular expression/);
  });

  it('combines sender, recipient (To or Cc), subject and minimum age', () => {
    const m = mailMatcher({ from: 'alice', to: 'carol', subject: 'invoice', minAgeSeconds: 600 }, NOW);
    const s = { from: 'Alice <alice@x>', to: 'bob@x', cc: 'carol@x', subject: 'Invoice 42', truncated: false };
    assert.ok(m(mail('a', 11), s));
    assert.ok(!m(mail('a', 9), s), 'too young');
    assert.ok(!m(mail('a', 11), { ...s, cc: undefined }), 'recipient missing');
    assert.ok(!m(mail('a', 11), undefined), 'headers unknown never match a header criterion');
    assert.ok(mailMatcher({ minAgeSeconds: 600 }, NOW)(mail('a', 11), undefined), 'age alone needs no headers');
  });

  it('describes itself for the view description and knows when headers are needed', () => {
    assert.strictEqual(describeFilter({ from: 'alice', minAgeSeconds: 5400 }), 'from:alice · older than 1h30m');
    assert.ok(!isFilterActive({}));
    assert.ok(isFilterActive({ minAgeSeconds: 60 }));
    assert.ok(!filterNeedsHeaders({ minAgeSeconds: 60 }));
    assert.ok(filterNeedsHeaders({ to: 'x' }));
  });

  it('formats sizes and ages compactly', () => {
    assert.strictEqual(formatBytes(512), '512 B');
    assert.strictEqual(formatBytes(4096), '4.0 KB');
    assert.strictEqual(formatBytes(3 * 1024 * 1024), '3.0 MB');
    assert.strictEqual(formatAge(NOW - 125 * 60_000, NOW), '2h5m');
    assert.strictEqual(formatAge(NOW - 3 * 86400_000, NOW), '3d');
  });
});

describe('pairEntries', () => {
  const REG = 0o100644;
  const e = (filename: string, mtime = 1000, mode = REG, size = 10) => ({ filename, mode, size, mtime });
  it('pairs .body and .env, flags incomplete ones, sorts oldest first, and ignores the rest with reasons', () => {
    const l = pairEntries('spool', '/s', [e('b.body', 2000), e('b.env', 2000), e('a.body', 1000), e('a.env', 1001), e('c.env', 1500), e('.tmp.body'), e('notes.txt'), e('bad name.body'), e('d.body', 1, 0o120777), e('.'), e('..')]);
    assert.deepStrictEqual(l.mails.map((m) => [m.id, m.complete]), [['a', true], ['c', false], ['b', true]]);
    assert.strictEqual(l.completeCount, 2);
    assert.strictEqual(l.incompleteCount, 1);
    assert.strictEqual(l.totalBytes, 50);
    assert.strictEqual(l.oldestMtimeMs, 1_000_000);
    assert.deepStrictEqual(l.ignored.map((i) => `${i.name}:${i.reason}`).sort(), ['.tmp.body:temporary', 'bad name.body:unsafe-name', 'd.body:not-a-regular-file', 'notes.txt:not-a-mail-file']);
  });
});

// F14 (review of issue 27): an admin's filter regex meets hostile header values; on the extension
// host's thread a backtracking one froze VS Code. It runs like deliveryLogPattern: in a worker,
// each value within a budget, the whole look within a deadline; a stopped pattern says so.
describe('F14: a filter regular expression runs off the main thread, bounded and stopped after a deadline', () => {
  const subject = (text: string) => ({ subject: text, truncated: false });
  /** Runs `fn` while measuring the longest gap between 10 ms ticks of the event loop. */
  async function longestStall(fn: () => Promise<void>): Promise<number> {
    let last = Date.now();
    let worst = 0;
    const t = setInterval(() => {
      const now = Date.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 10);
    try {
      await fn();
    } finally {
      clearInterval(t);
    }
    return Math.max(worst, Date.now() - last);
  }

  it('a backtracking pattern on a hostile Subject is stopped after its budget; the event loop never stalls; the filter says so', async function () {
    this.timeout(30_000);
    const run = new MailFilterRun({ subject: '/^(a+)+$/' }, { valueBudgetMs: 300 });
    const ok = subject('aaaa');
    const evil = subject(`${'a'.repeat(40)}!`);
    const after = subject('aaa');
    const t0 = Date.now();
    const stall = await longestStall(() => run.prepare([ok, evil, after]));
    assert.ok(Date.now() - t0 < 15_000, `${Date.now() - t0} ms`);
    assert.ok(stall < 250, `the event loop stalled ${stall} ms`);
    assert.ok(run.matches(mail('a', 1), ok), 'checked before the hostile value: matches');
    assert.ok(!run.matches(mail('b', 1), evil), 'the value it was stopped on does not match');
    assert.ok(!run.matches(mail('c', 1), after), 'not checked once stopped: not listed');
    assert.match(run.stopped ?? '', /^Subject \/\^\(a\+\)\+\$\/ was stopped: it took longer than 0\.3 s on one mail's header \(it backtracks too much\); mails it did not check are not listed\. Change the filter\.$/);
    assert.ok(run.isReady(after), 'a stopped pattern decides no more: nothing left to wait for');
    run.dispose();
  });

  it('the whole look has a deadline too: many slow values stop it, saying so', async function () {
    this.timeout(30_000);
    // Each value takes some 100 ms: far under the value budget, but 40 of them pass the deadline.
    const slow = Array.from({ length: 40 }, (_, i) => subject(`${'a'.repeat(22 + (i % 2))}!`));
    const r = await testInWorker('^(a+)+$', 'i', slow.map((s) => s.subject), { valueBudgetMs: 5_000, deadlineMs: 700 });
    assert.strictEqual(r.stopped?.reason, 'deadline');
    assert.ok((r.stopped?.at ?? 99) < 40);
    assert.deepStrictEqual(r.results.slice(r.stopped!.at), Array(40 - r.stopped!.at).fill(undefined), 'unchecked values are unknown, not false');
  });

  it('gives the same answers as the plain matcher for ordinary patterns, To or Cc, and ages; a plain text needs no worker', async () => {
    const f = { from: '/^alice/', to: '/carol@/', subject: 'invoice', minAgeSeconds: 600 };
    const s = { from: 'Alice <alice@x>', to: 'bob@x', cc: 'carol@x', subject: 'Invoice 42', truncated: false };
    const others = [{ ...s, cc: undefined }, { ...s, from: 'bob' }, undefined];
    const run = new MailFilterRun(f);
    await run.prepare([s, ...others]);
    const plain = mailMatcher(f, NOW);
    for (const [m, sum] of [[mail('a', 11), s], [mail('a', 9), s], ...others.map((o) => [mail('a', 11), o] as const)] as const) assert.strictEqual(run.matches(m, sum, NOW), plain(m, sum), JSON.stringify(sum));
    assert.strictEqual(run.stopped, undefined);
    const text = new MailFilterRun({ subject: 'invoice' });
    assert.ok(text.isReady(s) && text.matches(mail('a', 1), s), 'a substring is decided at once');
  });

  it('cuts each value to 8 KiB before matching (bounded work and messages)', async () => {
    const r = await testInWorker('b$', '', [`${'a'.repeat(9000)}b`, 'ab']);
    assert.deepStrictEqual(r.results, [false, true]);
  });
});

