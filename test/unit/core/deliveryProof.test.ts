import * as assert from 'assert';
import { judge, lineTimeMs, parseSearchOutput, unprovable } from '../../../src/core/recovery/deliveryLogs';
import { parseHeaderOutput } from '../../../src/core/recovery/remote';
import { matchLines } from '../../../src/core/recovery/patternRunner';
import { refuseUnit } from '../../../src/core/recovery/removalProof';
import { DEFAULT_DELIVERY_LOG_PATTERN } from '../../../src/core/recovery/settings';
import type { ClusterConfig, UnitConfig } from '../../../src/core/config';

const PATTERN = new RegExp(DEFAULT_DELIVERY_LOG_PATTERN);
const delivered = (mid: string) => `2026 11 30 10:00:00 +00:00 Info     DELIVERY mail delivered (id=1-2-3, message-id=${mid}, to=x@y)`;

describe('recovery: delivered-mail proof from the logs', () => {
  const out = [
    'F 1 100 1796035260 no\t/var/phion/logs/srv_box1_mailgw.log',
    'S 1\t2026 11 30 10:40:00 +00:00 Info     SERVICE gateway started (pid=5)',
    'F 2 300 1796034000 no\t/var/phion/logs/srv_box1_mailgw.log.20261130-102000',
    'S 2\t2026 11 30 08:00:00 +00:00 Info     SERVICE gateway started (pid=4)',
    `M 2 17:${delivered('<a@LAB.example>')}`,
    'M 2 18:2026 11 30 10:00:01 +00:00 Info     RECEIVED message-id=<b@lab.example>',
    'F 3 50 1796025600 gz\t/var/phion/logs/srv_box1_mailgw.log.20261130-080000.gz',
    'S 3\t2026 11 30 04:00:00 +00:00 Info     SERVICE gateway started (pid=3)',
    `M 3 2:${delivered('<c@lab.example>')}`,
    `D ${delivered("<z@lab.example>")}`,
    "Z end",
  ].join('\n');
  const wanted = new Map(['<a@lab.example>', '<b@lab.example>', '<c@lab.example>'].map((m) => [m, m]));

  it('parses the unit\'s answer: files, first lines, hits with line numbers, delivery samples', () => {
    const raw = parseSearchOutput(out);
    assert.strictEqual(raw.files.size, 3);
    assert.strictEqual(raw.files.get(3)!.compression, 'gz');
    assert.deepStrictEqual(raw.hits.map((h) => [h.file, h.line]), [[2, 17], [2, 18], [3, 2]]);
    assert.strictEqual(raw.sample.length, 1);
    assert.ok(raw.complete);
    assert.ok(!parseSearchOutput(out.slice(0, out.indexOf('Z end'))).complete, 'an answer cut short is seen as such');
  });

  it('confirms deliveries with the pattern, in rotated and compressed files, with file and line', async () => {
    const s = await judge(parseSearchOutput(out), wanted, { sinceMs: 0, pattern: PATTERN }, 'fw-a');
    assert.deepStrictEqual(s.delivered.get('<a@lab.example>'), { file: '/var/phion/logs/srv_box1_mailgw.log.20261130-102000', line: 17 });
    assert.deepStrictEqual(s.delivered.get('<c@lab.example>'), { file: '/var/phion/logs/srv_box1_mailgw.log.20261130-080000.gz', line: 2 });
    assert.ok(!s.delivered.has('<b@lab.example>'), 'a line that only mentions the Message-ID is no delivery');
    assert.ok(s.mentioned.has('<b@lab.example>'));
    assert.strictEqual(s.coverageFromMs, Date.UTC(2026, 10, 30, 4, 0, 0));
    assert.deepStrictEqual(s.warnings, []);
    assert.strictEqual(unprovable(s, '<b@lab.example>', Date.UTC(2026, 10, 30, 9, 0, 0)), undefined, 'covered: not delivered is proved');
  });

  it('holds mails older than the oldest remaining log (minus the margin)', async () => {
    const s = await judge(parseSearchOutput(out), wanted, { sinceMs: 0, pattern: PATTERN }, 'fw-a');
    assert.match(unprovable(s, '<b@lab.example>', Date.UTC(2026, 10, 30, 4, 30, 0))!, /logs start at 2026-11-30T04:00:00.000Z/);
    assert.strictEqual(unprovable(s, '<a@lab.example>', Date.UTC(2026, 10, 30, 4, 30, 0)), undefined, 'a proved delivery needs no coverage');
  });

  it('a needed file that cannot be read holds the mails of its time', async () => {
    const s = await judge(parseSearchOutput(out + '\nR 3'), wanted, { sinceMs: 0, pattern: PATTERN }, 'fw-a');
    assert.match(s.warnings[0], /could not be searched/);
    assert.match(unprovable(s, '<b@lab.example>', Date.UTC(2026, 10, 30, 7, 30, 0))!, /could not be searched/);
  });

  it('warns when the pattern matches none of the delivery lines, and holds mails the log mentions', async () => {
    const s = await judge(parseSearchOutput(out), wanted, { sinceMs: 0, pattern: /sent msgid=(?<messageId><[^>]+>)/ }, 'fw-a');
    assert.strictEqual(s.delivered.size, 0);
    assert.ok(s.patternUnusable);
    assert.match(s.warnings.join('\n'), /matched none of the 1 delivery line/);
    assert.match(unprovable(s, '<a@lab.example>', Date.UTC(2026, 10, 30, 9, 0, 0))!, /could not tell/);
  });

  it('a catastrophically backtracking pattern is stopped and reported, the event loop stays free', async () => {
    const evil = /^(a+)+$(?<messageId>x)?/;
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(Date.now()), 50);
    const t0 = Date.now();
    const raw = parseSearchOutput(`F 1 10 1764500000 no\t/l\nS 1\t\nM 1 3:${'a'.repeat(40)}! <a@lab.example>`);
    const s = await judge(raw, wanted, { sinceMs: 0, pattern: evil, lineBudgetMs: 500 }, 'fw-a');
    clearInterval(timer);
    assert.ok(Date.now() - t0 < 20_000, `stopped in ${Date.now() - t0} ms`);
    assert.ok(s.patternUnusable);
    assert.match(s.warnings.join('\n'), /took longer than 500 ms on a line of \/l \(line 3\)/);
    assert.ok(ticks.length >= 3, `the event loop ran meanwhile (${ticks.length} ticks)`);
  });

  it('matchLines returns the messageId group per line', async () => {
    const r = await matchLines(PATTERN, [delivered('<q@x>'), 'nothing']);
    assert.deepStrictEqual(r, { matches: ['<q@x>', null] });
  });

  it('reads the time of a log line (gateway and ISO formats, zones applied)', () => {
    assert.strictEqual(lineTimeMs('2026 11 30 12:00:00 +01:00 Info x'), Date.UTC(2026, 10, 30, 11, 0, 0));
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
