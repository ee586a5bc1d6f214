// One SSH connection never opens more channels than sshd allows (MaxSessions): at most `limit` holders, waiters served in the order they came,
// and a release called twice gives back one slot only.
import * as assert from 'assert';
import { Semaphore } from '../../../../src/core/ssh/semaphore';

/** Lets every pending promise continuation run (one turn of the event loop, no timer). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Starts an acquire and records when it is granted. */
function request(s: Semaphore, name: string, granted: string[]) {
  const held: { release?: () => void } = {};
  void s.acquire().then((release) => {
    granted.push(name);
    held.release = release;
  });
  return held;
}

describe('core/ssh/semaphore', () => {
  it('grants at most `limit` holders; each release lets exactly one more in', async () => {
    const s = new Semaphore(2);
    const granted: string[] = [];
    const holders = ['a', 'b', 'c', 'd', 'e'].map((n) => request(s, n, granted));
    await settle();
    assert.deepStrictEqual(granted, ['a', 'b']);
    holders[0].release!();
    await settle();
    assert.deepStrictEqual(granted, ['a', 'b', 'c']);
    holders[1].release!();
    holders[2].release!();
    await settle();
    assert.deepStrictEqual(granted, ['a', 'b', 'c', 'd', 'e']);
  });

  it('serves waiters first come, first served', async () => {
    const s = new Semaphore(1);
    const granted: string[] = [];
    const first = request(s, 'first', granted);
    await settle();
    const waiters = ['w1', 'w2', 'w3', 'w4'].map((n) => request(s, n, granted));
    await settle();
    assert.deepStrictEqual(granted, ['first']);
    first.release!();
    for (const [i, w] of waiters.entries()) {
      await settle();
      assert.deepStrictEqual(granted.slice(1), ['w1', 'w2', 'w3', 'w4'].slice(0, i + 1));
      w.release!();
    }
  });

  it('a release called twice wakes one waiter, not two', async () => {
    const s = new Semaphore(1);
    const granted: string[] = [];
    const a = request(s, 'a', granted);
    const b = request(s, 'b', granted);
    request(s, 'c', granted);
    await settle();
    a.release!();
    a.release!();
    await settle();
    assert.deepStrictEqual(granted, ['a', 'b'], 'c must wait while b holds the only slot');
    b.release!();
    await settle();
    assert.deepStrictEqual(granted, ['a', 'b', 'c']);
  });

  it('a release called twice with nobody waiting still leaves only `limit` slots', async () => {
    const s = new Semaphore(1);
    const release = await s.acquire();
    release();
    release();
    const granted: string[] = [];
    request(s, 'x', granted);
    request(s, 'y', granted);
    await settle();
    assert.deepStrictEqual(granted, ['x'], 'the extra release must not have made room for a second holder');
  });

  it('an acquire made right after a release that woke a waiter (before it ran) waits its turn: never two holders', async () => {
    const s = new Semaphore(1);
    const granted: string[] = [];
    let holding = 0;
    let most = 0;
    const take = (name: string) =>
      s.acquire().then((release) => {
        granted.push(name);
        most = Math.max(most, ++holding);
        return () => {
          holding--;
          release();
        };
      });
    const a = await take('a');
    const b = take('b');
    await settle();
    a();
    const d = take('d'); // in the same synchronous step as the release
    (await b)();
    (await d)();
    assert.deepStrictEqual(granted, ['a', 'b', 'd']);
    assert.strictEqual(most, 1);
  });

  it('a slot given back is free again: acquire after release does not wait', async () => {
    const s = new Semaphore(1);
    (await s.acquire())();
    const granted: string[] = [];
    request(s, 'again', granted);
    await settle();
    assert.deepStrictEqual(granted, ['again']);
  });
});
