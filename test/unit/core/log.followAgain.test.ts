// A log view whose source keeps ending follows again at most 3 times a minute, then says "stopped"
// instead of looping; the user's own Resume / Open mailgw Log starts a fresh budget.
import * as assert from 'assert';
import { FollowAgainBudget } from '../../../src/core/log/followAgain';

describe('core/log/followAgain', () => {
  it('allows 3 attempts within a minute, a 4th only once the first is a minute old', () => {
    const b = new FollowAgainBudget();
    assert.deepStrictEqual([b.take(0), b.take(10_000), b.take(20_000), b.take(59_999)], [true, true, true, false]);
    assert.strictEqual(b.take(60_000), true, 'the attempt at 0 no longer counts');
    assert.strictEqual(b.take(60_001), false);
  });

  it('a refused attempt is not counted, and reset gives a fresh budget', () => {
    const b = new FollowAgainBudget();
    for (let i = 0; i < 3; i++) b.take(0);
    assert.strictEqual(b.take(30_000), false);
    assert.deepStrictEqual([b.take(60_000), b.take(60_000), b.take(60_000)], [true, true, true], 'the refused one at 30 s does not count');
    b.reset();
    assert.deepStrictEqual([b.take(60_001), b.take(60_002)], [true, true]);
  });
});
