// Queue shape (qshape's buckets, per domain), the stuck-mail check and the shape's export.
import * as assert from 'assert';
import { toCsv, toJsonLines } from '../../../../src/core/export/table';
import { parseEnvelope, NO_DOMAIN, NULL_SENDER } from '../../../../src/core/message/envelope';
import type { FolderListing, MailEntry, SpoolFolder } from '../../../../src/core/spool/list';
import { BUCKET_LABELS, bucketIndex, NO_ENVELOPE_ROW, NO_RECIPIENT_ROW, OTHER_ROW, parseStuckMailMinutes, queueShape, shapeTable, stuckMail, TOTAL_ROW } from '../../../../src/core/spool/queueShape';

const NOW = Date.UTC(2026, 11, 1, 5, 0, 0);
const MIN = 60_000;
const env = (from: string, ...to: string[]) => parseEnvelope([`MAIL FROM:<${from}>`, ...to.map((t) => `RCPT TO:<${t}>`), ''].join('\n'));
const mail = (ageMin: number, envelope?: ReturnType<typeof env>) => ({ mtimeMs: NOW - ageMin * MIN, envelope });
const entry = (id: string, ageMin: number, complete = true): MailEntry => ({ id, folder: 'spool', complete, size: 10, mtimeMs: NOW - ageMin * MIN, body: { name: `${id}.body`, size: 5, mtimeMs: NOW - ageMin * MIN }, env: complete ? { name: `${id}.env`, size: 5, mtimeMs: NOW - ageMin * MIN } : undefined });
const listing = (folder: SpoolFolder, mails: MailEntry[], missing = false): FolderListing => ({ folder, path: `/x/${folder}`, mails, completeCount: mails.filter((m) => m.complete).length, incompleteCount: mails.filter((m) => !m.complete).length, totalBytes: 0, ignored: [], missing });

describe('queue shape', () => {
  it("has qshape's buckets: under 5, 10, 20, ... 1280 minutes, and 1280+", () => {
    assert.deepStrictEqual(BUCKET_LABELS, ['5', '10', '20', '40', '80', '160', '320', '640', '1280', '1280+']);
    assert.strictEqual(bucketIndex(0), 0);
    assert.strictEqual(bucketIndex(5 * MIN - 1), 0);
    assert.strictEqual(bucketIndex(5 * MIN), 1, 'exactly 5 minutes is no longer "under 5"');
    assert.strictEqual(bucketIndex(10 * MIN - 1), 1);
    assert.strictEqual(bucketIndex(10 * MIN), 2);
    assert.strictEqual(bucketIndex(640 * MIN), 8);
    assert.strictEqual(bucketIndex(1280 * MIN - 1), 8);
    assert.strictEqual(bucketIndex(1280 * MIN), 9);
    assert.strictEqual(bucketIndex(365 * 24 * 60 * MIN), 9);
    assert.strictEqual(bucketIndex(-10 * MIN), 0, 'an mtime in the future (clock skew) is new');
    assert.strictEqual(bucketIndex(NaN), 0);
  });

  it('counts a mail once per recipient domain; the total counts it once', () => {
    const s = queueShape([mail(1, env('a@s.example', 'x@one.example', 'y@two.example', 'z@three.example', 'w@ONE.example')), mail(7, env('b@s.example', 'q@one.example'))], NOW, 'recipient');
    assert.strictEqual(s.total.domain, TOTAL_ROW);
    assert.strictEqual(s.total.total, 2);
    assert.deepStrictEqual(s.total.counts, [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepStrictEqual(s.rows.map((r) => [r.domain, r.total]), [['one.example', 2], ['three.example', 1], ['two.example', 1]], 'most first, then by name');
    assert.deepStrictEqual(s.rows[0].counts, [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('by sender: one row per sender domain, the null sender as <>', () => {
    const s = queueShape([mail(1, env('a@S.example', 'x@d.example')), mail(30, env('', 'x@d.example')), mail(2000, env('b@s.example', 'x@d.example')), mail(3, env('nodomain', 'x@d.example'))], NOW, 'sender');
    const by = Object.fromEntries(s.rows.map((r) => [r.domain, r.counts]));
    assert.deepStrictEqual(by['s.example'], [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepStrictEqual(by[NULL_SENDER], [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.deepStrictEqual(by[NO_DOMAIN], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.strictEqual(s.total.total, 4);
  });

  it('mails without an envelope or without recipients keep their own rows (nothing disappears)', () => {
    const s = queueShape([mail(1), mail(1, env('a@b.example'))], NOW, 'recipient');
    assert.deepStrictEqual(s.rows.map((r) => r.domain).sort(), [NO_ENVELOPE_ROW, NO_RECIPIENT_ROW].sort());
  });

  it('sums the domains beyond the limit in (other), last', () => {
    const mails = Array.from({ length: 30 }, (_, i) => mail(i, env('a@s.example', ...Array.from({ length: i % 5 === 0 ? 3 : 1 }, (_, k) => `u@d${(i + k) % 25}.example`))));
    const s = queueShape(mails, NOW, 'recipient', 5);
    assert.strictEqual(s.rows.length, 6);
    assert.strictEqual(s.rows[5].domain, OTHER_ROW);
    assert.strictEqual(s.domains, 25);
    const full = queueShape(mails, NOW, 'recipient', 100);
    const summed = full.rows.reduce((n, r) => n + r.total, 0);
    assert.strictEqual(s.rows.reduce((n, r) => n + r.total, 0), summed, 'the (other) row holds the rest');
    for (let b = 0; b < BUCKET_LABELS.length; b++) assert.strictEqual(s.rows.reduce((n, r) => n + r.counts[b], 0), full.rows.reduce((n, r) => n + r.counts[b], 0));
    assert.strictEqual(queueShape(mails, NOW, 'recipient', 25).rows.some((r) => r.domain === OTHER_ROW), false, 'no (other) when all fit');
  });

  it('exports as CSV and JSON lines: TOTAL first, one line per row, columns qshape-like', () => {
    const s = queueShape([mail(1, env('a@s.example', 'x@one.example')), mail(100, env('a@s.example', 'x@=cmd.example', 'x@one.example'))], NOW, 'recipient');
    const t = shapeTable(s, { cluster: 'lab', unit: 'fw-b', folder: 'spool' });
    assert.deepStrictEqual(t.columns, ['cluster', 'unit', 'folder', 'by', 'domain', 'total', ...BUCKET_LABELS]);
    const lines = toJsonLines(t).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.strictEqual(lines[0].domain, TOTAL_ROW);
    assert.strictEqual(lines[0].total, 2);
    assert.strictEqual(lines[0]['160'], 1);
    assert.strictEqual(lines[1].domain, 'one.example');
    assert.strictEqual(lines[1].total, 2);
    const csv = toCsv(t).split('\r\n');
    assert.strictEqual(csv[0], 'cluster,unit,folder,by,domain,total,5,10,20,40,80,160,320,640,1280,1280+');
    assert.strictEqual(csv[1], 'lab,fw-b,spool,recipient,TOTAL,2,1,0,0,0,0,1,0,0,0,0');
    assert.ok(csv.some((l) => l.includes(`${NO_DOMAIN}`)), '=cmd.example is no domain, so it never reaches a cell as a formula');
  });
});

describe('stuck mail', () => {
  it('counts the mails older than N minutes and the oldest age', () => {
    const l = listing('spool', [entry('1', 200), entry('2', 61), entry('3', 60), entry('4', 5), entry('5', 90, false)]);
    assert.deepStrictEqual(stuckMail(l, NOW, 60), { count: 3, oldestAgeS: 200 * 60 }, 'exactly 60 minutes is not older than 60; incomplete pairs count (they sit there too)');
    assert.deepStrictEqual(stuckMail(listing('vscan', [entry('1', 2)]), NOW, 1), { count: 1, oldestAgeS: 120 });
  });

  it('is undefined when nothing is stuck, the folder is input/ or missing, or the check is off', () => {
    assert.strictEqual(stuckMail(listing('spool', [entry('1', 59)]), NOW, 60), undefined);
    assert.strictEqual(stuckMail(listing('spool', []), NOW, 60), undefined);
    assert.strictEqual(stuckMail(listing('input', [entry('1', 500)]), NOW, 60), undefined);
    assert.strictEqual(stuckMail(listing('spool', [], true), NOW, 60), undefined);
    for (const m of [0, -5, NaN, Infinity]) assert.strictEqual(stuckMail(listing('spool', [entry('1', 500)]), NOW, m), undefined, String(m));
  });

  it('reads the setting: minutes >= 1, else the default with an error naming it', () => {
    assert.deepStrictEqual(parseStuckMailMinutes(undefined), { minutes: 60 });
    assert.deepStrictEqual(parseStuckMailMinutes(15), { minutes: 15 });
    assert.deepStrictEqual(parseStuckMailMinutes('90'), { minutes: 90 });
    for (const bad of [0, -1, 'soon', '', true, {}]) {
      const r = parseStuckMailMinutes(bad);
      assert.strictEqual(r.minutes, 60);
      assert.match(r.error ?? '', /mailgwHa\.stuckMailMinutes/);
    }
    assert.match(parseStuckMailMinutes('x', '--stuck-after').error ?? '', /^--stuck-after/);
  });
});
