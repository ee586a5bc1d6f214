// The box's log line as a grammar: both documented field orders, any offset, every type; anything
// that does not have the shape from its first character is not a line of the box (and proves nothing).
import * as assert from 'assert';
import { parseBoxLine } from '../../../../src/core/log/lineGrammar';

describe('core/log/lineGrammar', () => {
  it('reads offset-before-type lines (the lab, SecureEdge samples), the type padded to 8', () => {
    assert.deepStrictEqual(parseBoxLine('2026 11 30 10:00:00 +00:00 Info     SPOOLER new mail inserted (id=1)'), { timeMs: Date.UTC(2026, 10, 30, 10, 0, 0), offsetMinutes: 0, type: 'Info', text: 'SPOOLER new mail inserted (id=1)' });
    assert.strictEqual(parseBoxLine('2025 04 02 12:20:39 +00:00 Notice   x')!.type, 'Notice');
  });

  it('reads type-before-offset lines (the firewall activity log) and applies the offset', () => {
    const l = parseBoxLine('2018 01 30 13:12:21 Security +01:00 Block: type=FWD|proto=UDP');
    assert.deepStrictEqual(l, { timeMs: Date.UTC(2018, 0, 30, 12, 12, 21), offsetMinutes: 60, type: 'Security', text: 'Block: type=FWD|proto=UDP' });
    assert.strictEqual(parseBoxLine('2026 11 30 05:00:00 Info     -05:30 x')!.timeMs, Date.UTC(2026, 10, 30, 10, 30, 0));
  });

  it('reads lines without an offset (taken as UTC) and every capitalised type', () => {
    assert.deepStrictEqual(parseBoxLine('2026 11 30 10:00:00 Internal text here'), { timeMs: Date.UTC(2026, 10, 30, 10, 0, 0), type: 'Internal', text: 'text here' });
    assert.strictEqual(parseBoxLine('2026 11 30 10:00:00 +02:00 Warning')!.text, '');
  });

  it('refuses what is not a box line: no stamp, a bad date, text before the stamp, a lower-case or missing type, a glued offset', () => {
    for (const bad of [
      'SPOOLER new mail inserted (id=1)',
      'x 2026 11 30 10:00:00 +00:00 Info     y',
      '2026 13 30 10:00:00 +00:00 Info     y',
      '2026 11 30 24:00:00 +00:00 Info     y',
      '2026-11-30 10:00:00 +00:00 Info     y',
      '2026 11 30 10:00:00 +00:00 info     y',
      '2026 11 30 10:00:00 +00:00 ',
      '2026 11 30 10:00:00 +00:00Info y',
      '2026 11 30 10:00:00 Info +01:00x y',
      '2026 11 30 10:00:00 +25:00 Info y',
    ]) assert.strictEqual(parseBoxLine(bad), undefined, bad);
  });

  it('drops a CR at the end', () => {
    assert.strictEqual(parseBoxLine('2026 11 30 10:00:00 +00:00 Info     x\r')!.text, 'x');
  });
});
