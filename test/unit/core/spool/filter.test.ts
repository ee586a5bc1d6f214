// The exiqgrep-like filter and the pairing of directory entries.
import * as assert from 'assert';
import { describeFilter, filterNeedsHeaders, formatAge, formatBytes, isFilterActive, mailMatcher, parseAge, textMatcher, validateFilter } from '../../../../src/core/spool/filter';
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
