// Parse corpus: every line shape the lab simulator writes, plus shapes it does not (other date
// forms, no level, garbage) that must still give a record instead of an exception.
import * as assert from 'assert';
import { insertedIds, parseLine, parseText } from '../../../src/core/log/parse';

describe('core/log/parse', () => {
  const corpus: [string, Partial<ReturnType<typeof parseLine>>][] = [
    [
      '2026 11 28 17:46:20 +00:00 Info     SERVICE gateway started (pid=13)',
      { timestamp: '2026-11-28T17:46:20Z', level: 'Info', kind: 'service', ids: [], message: 'SERVICE gateway started (pid=13)', boxFormat: true },
    ],
    [
      '2026 11 28 17:46:22 +00:00 Info     SPOOLER new mail inserted (id=00042-17301-00001)',
      { level: 'Info', kind: 'inserted', ids: ['00042-17301-00001'], message: 'SPOOLER new mail inserted (id=00042-17301-00001)' },
    ],
    [
      '2026 11 28 17:46:22 +00:00 Warning  SPOOLER incomplete mail in input ignored (file=00042-17301-00002.body)',
      { level: 'Warning', kind: 'other', ids: [] },
    ],
    [
      '2026 11 28 17:46:22 +00:00 Info     SPOOLER id already in spool, mail renamed (id=00042-17301-00003, new-id=51234-00917-33310)',
      { kind: 'renamed', ids: ['00042-17301-00003', '51234-00917-33310'] },
    ],
    ['2026 11 28 17:46:23 +00:00 Info     VSCAN mail scanned clean (id=00042-17301-00004)', { kind: 'scanned', ids: ['00042-17301-00004'] }],
    [
      '2026 11 28 17:46:24 +00:00 Info     DELIVERY mail delivered (id=00042-17301-00001, message-id=<lab-1f2e3d4c-0@lab.example>, to=dave@dest.example)',
      { kind: 'delivered', ids: ['00042-17301-00001'], messageId: '<lab-1f2e3d4c-0@lab.example>', to: 'dave@dest.example' },
    ],
    ['2026 11 28 17:50:00 +00:00 Info     SERVICE gateway stopped', { kind: 'service', ids: [] }],
    [
      '2026 11 28 17:50:00 +00:00 Error    SPOOLER cannot insert mail (id=00042-17301-00009): ENOENT: no such file',
      { level: 'Error', kind: 'error', ids: ['00042-17301-00009'] },
    ],
    // The box's other documented shapes: type before the offset, local time with a non-zero offset,
    // no offset, other types.
    [
      '2018 01 30 13:12:21 Notice   +01:00 SPOOLER new mail inserted (id=00042-17301-00005)',
      { timestamp: '2018-01-30T13:12:21+01:00', level: 'Notice', kind: 'inserted', ids: ['00042-17301-00005'], message: 'SPOOLER new mail inserted (id=00042-17301-00005)', boxFormat: true },
    ],
    ['2026 11 28 12:46:24 -05:00 Security Block: type=FWD', { timestamp: '2026-11-28T12:46:24-05:00', level: 'Security', kind: 'other', message: 'Block: type=FWD', boxFormat: true }],
    ['2026 11 28 17:46:24 Internal heartbeat', { timestamp: '2026-11-28T17:46:24', level: 'Internal', message: 'heartbeat', boxFormat: true }],
    // A header quoted in another line is no insertion, whatever it says.
    [
      '2026 11 28 17:46:24 +00:00 Info     DELIVERY mail delivered (id=00042-17301-00006, message-id=<x@y> SPOOLER new mail inserted (id=00042-17301-00007), to=a@b)',
      { kind: 'delivered', boxFormat: true },
    ],
    // Shapes the simulator does not write (not the box's: shown, counted, never an insertion).
    ['2026-11-28T17:46:22.5Z warning something odd', { timestamp: '2026-11-28T17:46:22.500Z', level: 'warning', kind: 'other', message: 'something odd' }],
    ['2026-11-28 17:46:22 SPOOLER new mail inserted (id=A1-b2)', { timestamp: '2026-11-28T17:46:22', level: undefined, kind: 'other', ids: ['A1-b2'], boxFormat: false }],
    ['2026 11 28 17:46:22 +0100 Info x', { timestamp: '2026-11-28T17:46:22+01:00', level: 'Info', message: 'x' }],
    ['Nov 28 17:46:22 fw-a mailgw[123]: delivery failed for id=9', { timestamp: undefined, kind: 'error', ids: ['9'] }],
    ['', { kind: 'other', message: '', ids: [] }],
    ['\u0000\u0001 binary ÿ junk', { kind: 'other', ids: [] }],
    ['2026 11 28 17:46:22 +00:00 Info     SPOOLER new mail inserted (id=00042-17301-00001)\r', { kind: 'inserted', ids: ['00042-17301-00001'] }],
    ['id=; id=)', { kind: 'other', ids: [] }],
  ];
  for (const [line, expected] of corpus) {
    it(`parses ${JSON.stringify(line.slice(0, 70))}`, () => {
      const rec = parseLine(line);
      for (const [k, v] of Object.entries(expected)) assert.deepStrictEqual(rec[k as keyof typeof rec], v, `${k} of ${JSON.stringify(line)}`);
    });
  }

  it('insertedIds only reports insertions, not deliveries or renames', () => {
    const recs = parseText(corpus.map(([l]) => l).join('\n') + '\n');
    assert.strictEqual(recs.length, corpus.length);
    assert.deepStrictEqual(
      recs.flatMap((r) => insertedIds(r)),
      ['00042-17301-00001', '00042-17301-00005', '00042-17301-00001'],
    );
  });

  it('never throws on random bytes', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rnd() * 200);
      let s = '';
      for (let j = 0; j < len; j++) s += String.fromCharCode(Math.floor(rnd() * 0x3000));
      const rec = parseLine(s);
      assert.ok(typeof rec.message === 'string');
    }
  });
});
