import * as assert from 'assert';
import { judge, lineTimeMs, parseSearchOutput, unprovable, Wanted } from '../../../src/core/recovery/deliveryLogs';
import { parseHeaderOutput } from '../../../src/core/recovery/remote';
import { matchLines } from '../../../src/core/recovery/patternRunner';
import { refuseUnit } from '../../../src/core/recovery/removalProof';
import { DEFAULT_DELIVERY_LOG_PATTERN } from '../../../src/core/recovery/settings';
import type { ClusterConfig, UnitConfig } from '../../../src/core/config';

const PATTERN = new RegExp(DEFAULT_DELIVERY_LOG_PATTERN);
const A = '11111-11111-11111';
const B = '22222-22222-22222';
const C = '33333-33333-33333';
const delivered = (id: string, mid: string, to: string, stamp = '2026 11 30 10:00:00 +00:00 Info    ') => `${stamp} DELIVERY mail delivered (id=${id}, message-id=${mid}, to=${to})`;
const want = (ids: string[], mids: string[] = []): Wanted => ({ ids: new Set(ids), messageIds: new Map(mids.map((m) => [m, m])) });

describe('recovery: what the logs say of mails, by gateway id', () => {
  const out = [
    'F 1 100 1796035260 no\t/var/phion/logs/srv_box1_mailgw.log',
    'S 1\t2026 11 30 10:40:00 +00:00 Info     SERVICE gateway started (pid=5)',
    'F 2 300 1796034000 no\t/var/phion/logs/srv_box1_mailgw.log.20261130-102000',
    'S 2\t2026 11 30 08:00:00 +00:00 Info     SERVICE gateway started (pid=4)',
    `M 2 17:${delivered(A, '<a@LAB.example>', 'dave@Dest.example')}`,
    `M 2 18:${delivered(A, '<a@LAB.example>', 'erin@dest.example')}`,
    `M 2 19:2026 11 30 10:00:01 +00:00 Info     SYNC mail mirrored to partner (id=${B})`,
    'F 3 50 1796025600 gz\t/var/phion/logs/srv_box1_mailgw.log.20261130-080000.gz',
    'S 3\t2026 11 30 04:00:00 +00:00 Info     SERVICE gateway started (pid=3)',
    `M 3 2:${delivered(C, '<c@lab.example>', 'x@y.example')}`,
    `D ${delivered('44444-44444-44444', '<z@lab.example>', 'q@z.example')}`,
    'Z end',
  ].join('\n');

  it('parses the unit\'s answer: files, first lines, hits with line numbers, delivery samples', () => {
    const raw = parseSearchOutput(out);
    assert.strictEqual(raw.files.size, 3);
    assert.strictEqual(raw.files.get(3)!.compression, 'gz');
    assert.deepStrictEqual(raw.hits.map((h) => [h.file, h.line]), [[2, 17], [2, 18], [2, 19], [3, 2]]);
    assert.strictEqual(raw.sample.length, 1);
    assert.ok(raw.complete);
    assert.ok(!parseSearchOutput(out.slice(0, out.indexOf('Z end'))).complete, 'an answer cut short is seen as such');
  });

  it('keeps each delivery line per id and recipient (domain without case), in rotated and compressed files, with file and line', async () => {
    const s = await judge(parseSearchOutput(out), want([A, B, C]), { sinceMs: 0, pattern: PATTERN }, 'fw-a');
    assert.deepStrictEqual(s.deliveries.get(A)!.map((d) => [d.to, d.line]), [['dave@dest.example', 17], ['erin@dest.example', 18]]);
    assert.strictEqual(s.deliveries.get(C)![0].file, '/var/phion/logs/srv_box1_mailgw.log.20261130-080000.gz');
    assert.ok(!s.deliveries.has(B), 'a line that only names the id is no delivery');
    assert.deepStrictEqual(s.mentions.get(B), { file: '/var/phion/logs/srv_box1_mailgw.log.20261130-102000', line: 19, what: 'named in a line that is no delivery' });
    assert.strictEqual(s.coverageFromMs, Date.UTC(2026, 10, 30, 4, 0, 0));
    assert.deepStrictEqual(s.warnings, []);
    assert.strictEqual(unprovable(s, [A], Date.UTC(2026, 10, 30, 9, 0, 0)), undefined, 'covered: "no delivery line" is a proof of absence');
  });

  it('a Message-ID finds delivery lines of other ids (an index: never filed under the mail looked for)', async () => {
    const s = await judge(parseSearchOutput(out), want([B], ['<a@lab.example>']), { sinceMs: 0, pattern: PATTERN }, 'fw-a');
    assert.deepStrictEqual(s.byMessageId.get('<a@lab.example>')!.map((d) => [d.id, d.to]), [[A, 'dave@dest.example'], [A, 'erin@dest.example']]);
    assert.ok(!s.deliveries.has(B));
  });

  it('a delivery line that names another mail id, or a field twice, proves nothing and makes every id in it doubtful', async () => {
    const forged = `M 1 7:${delivered(C, `<x@evil.example>, to=v@dest.example) DELIVERY mail delivered (id=${A}, message-id=<a@lab.example>`, 'v@dest.example')}`;
    const twice = `M 1 8:${delivered(B, '<id=x@evil.example>', 'w@dest.example')}`;
    const s = await judge(parseSearchOutput(`F 1 10 1796035260 no\t/l\nS 1\t\n${forged}\n${twice}\nZ end`), want([A, B, C]), { sinceMs: 0, pattern: PATTERN }, 'fw-a');
    assert.deepStrictEqual([...s.deliveries.keys()], [], 'no delivery at all');
    assert.match(s.doubtful.get(A)!.what, /proves nothing: it has more than one id= field/);
    assert.match(s.doubtful.get(C)!.what, /proves nothing/);
    assert.match(s.doubtful.get(B)!.what, /proves nothing: it has more than one id= field/, '"id=" inside a Message-ID counts as a second field');
  });

  it('only whole lines of the box\'s grammar count: text before the sentence, a line without a stamp, a cut line', async () => {
    const lines = [
      `M 1 1:2026 11 30 10:00:00 +00:00 Info     RECEIVED subject=${delivered(A, '<a@x.example>', 'v@d.example').slice(27)}`,
      `M 1 2:${delivered(A, '<a@x.example>', 'v@d.example').slice(27)}`,
      `M 1 3:${delivered(A, `<${'y'.repeat(9000)}@x.example>`, 'v@d.example')}`,
    ];
    const s = await judge(parseSearchOutput(`F 1 10 1796035260 no\t/l\nS 1\t\n${lines.join('\n')}\nZ end`), want([A]), { sinceMs: 0, pattern: PATTERN }, 'fw-a');
    assert.ok(!s.deliveries.has(A), 'none of them is a delivery');
    assert.strictEqual(s.unparsed, 1, 'the line without a stamp is counted');
    assert.match(s.warnings.join('\n'), /1 line\(s\) of the logs naming a mail looked for are not in the box's log format/);
  });

  it('reads the box line in either field order and any offset', async () => {
    const lines = [`M 1 1:${delivered(A, '<a@x.example>', 'one@d.example', '2026 11 30 11:00:00 Info     +01:00')}`, `M 1 2:${delivered(A, '<a@x.example>', 'two@d.example', '2026 11 30 05:00:00 -05:00 Notice  ')}`];
    const s = await judge(parseSearchOutput(`F 1 10 1796035260 no\t/l\nS 1\t2026 11 30 11:00:00 Security +01:00 x\n${lines.join('\n')}\nZ end`), want([A]), { sinceMs: 0, pattern: PATTERN }, 'fw-a');
    assert.deepStrictEqual(s.deliveries.get(A)!.map((d) => d.to), ['one@d.example', 'two@d.example']);
    assert.strictEqual(s.coverageFromMs, Date.UTC(2026, 10, 30, 10, 0, 0), 'the first line\'s time with its offset applied');
  });

  it('follows the spooler\'s renames and insertions as mentions of the id', async () => {
    const lines = [`M 1 1:2026 11 30 10:00:00 +00:00 Info     SPOOLER id already in spool, mail renamed (id=${A}, new-id=${B})`, `M 1 2:2026 11 30 10:00:00 +00:00 Info     SPOOLER new mail inserted (id=${C})`];
    const s = await judge(parseSearchOutput(`F 1 10 1796035260 no\t/l\nS 1\t\n${lines.join('\n')}\nZ end`), want([A, C]), { sinceMs: 0, pattern: PATTERN }, 'fw-a');
    assert.deepStrictEqual(s.renames.get(A), [B]);
    assert.match(s.mentions.get(A)!.what, /renamed to 22222/);
    assert.strictEqual(s.mentions.get(C)!.what, 'inserted by the spooler');
  });

  it('holds mails older than the oldest remaining log (minus the margin)', async () => {
    const s = await judge(parseSearchOutput(out), want([A, B]), { sinceMs: 0, pattern: PATTERN }, 'fw-a');
    assert.match(unprovable(s, [B], Date.UTC(2026, 10, 30, 4, 30, 0))!, /logs start at 2026-11-30T04:00:00.000Z/);
  });

  it('a needed file that cannot be read holds the mails of its time', async () => {
    const s = await judge(parseSearchOutput(out + '\nR 3'), want([A, B]), { sinceMs: 0, pattern: PATTERN }, 'fw-a');
    assert.match(s.warnings[0], /could not be searched/);
    assert.match(unprovable(s, [B], Date.UTC(2026, 10, 30, 7, 30, 0))!, /could not be searched/);
  });

  it('warns when the pattern matches none of the delivery lines, and holds mails the log names', async () => {
    const s = await judge(parseSearchOutput(out), want([A, B]), { sinceMs: 0, pattern: /sent msgid=(?<id>\S+) to=(?<to>\S+)/ }, 'fw-a');
    assert.strictEqual(s.deliveries.size, 0);
    assert.ok(s.patternUnusable);
    assert.match(s.warnings.join('\n'), /matched none of the 1 delivery line/);
    assert.match(unprovable(s, [B], Date.UTC(2026, 10, 30, 9, 0, 0))!, /could not tell/);
  });

  it('a catastrophically backtracking pattern is stopped and reported, the event loop stays free', async () => {
    const evil = /(a+)+$(?<id>x)?(?<to>y)?/;
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(Date.now()), 50);
    const t0 = Date.now();
    const raw = parseSearchOutput(`F 1 10 1764500000 no\t/l\nS 1\t\nM 1 3:2026 11 30 10:00:00 +00:00 Info     ${'a'.repeat(40)}! ${A}`);
    const s = await judge(raw, want([A]), { sinceMs: 0, pattern: evil, lineBudgetMs: 500 }, 'fw-a');
    clearInterval(timer);
    assert.ok(Date.now() - t0 < 20_000, `stopped in ${Date.now() - t0} ms`);
    assert.ok(s.patternUnusable);
    assert.match(s.warnings.join('\n'), /took longer than 500 ms on a line of \/l \(line 3\)/);
    assert.ok(ticks.length >= 3, `the event loop ran meanwhile (${ticks.length} ticks)`);
  });

  it('matchLines matches the whole text only and returns the named groups', async () => {
    const text = `DELIVERY mail delivered (id=${A}, message-id=<q@x>, to=r@s)`;
    const r = await matchLines(PATTERN, [text, `x ${text}`, 'nothing']);
    assert.deepStrictEqual(r, { matches: [{ id: A, to: 'r@s', messageId: '<q@x>' }, null, null] });
  });

  it('reads the time of a log line (the box\'s orders, ISO; zones applied)', () => {
    assert.strictEqual(lineTimeMs('2026 11 30 12:00:00 +01:00 Info x'), Date.UTC(2026, 10, 30, 11, 0, 0));
    assert.strictEqual(lineTimeMs('2026 11 30 12:00:00 Security +01:00 x'), Date.UTC(2026, 10, 30, 11, 0, 0));
    assert.strictEqual(lineTimeMs('2026-11-30T12:00:00Z x'), Date.UTC(2026, 10, 30, 12, 0, 0));
    assert.strictEqual(lineTimeMs('Nov 30 12:00:00 host x'), undefined, 'no year: not trusted');
  });
});

describe('recovery: header blocks read on the unit', () => {
  it('parses one framed header block per mail, with how it ended', () => {
    const text = ['H 1-1-1', '|Subject: s\r', '|Message-ID: <a@x>\r', '|\r', 'E 1-1-1 blank', 'X 2-2-2', 'H 3-3-3', '|Subject: only', 'E 3-3-3 eof', 'H 4-4-4', '|Received: x', 'E 4-4-4 cap', 'H 5-5-5', '|Subject: s', '|', 'E 5-5-5 blank'].join('\n');
    const r = parseHeaderOutput(text);
    assert.deepStrictEqual(r.get('1-1-1'), { kind: 'ok', id: '<a@x>' });
    assert.deepStrictEqual(r.get('2-2-2'), { kind: 'unreadable' });
    assert.deepStrictEqual(r.get('3-3-3'), { kind: 'none' });
    assert.deepStrictEqual(r.get('4-4-4'), { kind: 'truncated' });
    assert.deepStrictEqual(r.get('5-5-5'), { kind: 'none' });
  });
});

describe('recovery: what Remove Mails may delete', () => {
  const unit = (name: string, role: 'primary' | 'secondary') => ({ name, role, key: `c/${name}`, host: '127.0.0.1' }) as unknown as UnitConfig;
  const cluster = { name: 'c', primary: unit('a', 'primary'), secondary: unit('b', 'secondary') } as unknown as ClusterConfig;
  it('refuses the active primary with a reason, accepts the standby', () => {
    assert.match(refuseUnit(cluster, cluster.primary)!, /only on the standby unit c\/b.*proves nothing/s);
    assert.strictEqual(refuseUnit(cluster, cluster.secondary), undefined);
  });
});
