// A command started before its input is known acts only on what it is finally given: a given input
// stays given (a later withhold changes nothing), a withheld one never becomes given, and withholding
// is not an unhandled rejection of its own.
import * as assert from 'assert';
import { LaterInput } from '../../../../src/core/ssh/laterInput';

describe('core/ssh/laterInput', () => {
  it('gives the value once; a withhold after it changes nothing', async () => {
    const input = new LaterInput<string>();
    input.give('signal\n');
    input.withhold('too late');
    assert.strictEqual(await input.promise, 'signal\n');
  });

  it('a withheld input rejects with why, and a give after it changes nothing', async () => {
    const input = new LaterInput<string[]>();
    input.withhold('the checks before the signal did not pass');
    input.give(['12345-67890-12345']);
    await assert.rejects(input.promise, /the checks before the signal did not pass/);
  });

  it('withholding an input nobody awaits raises no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      new LaterInput<void>().withhold('not needed');
      await new Promise<void>((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.deepStrictEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
