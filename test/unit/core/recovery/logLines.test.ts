// What a delivery line proves: only a line that names one id field, one message-id field, one
// recipient field and no mail id but its own, once. Anything a sender wrote into a header that looks
// like another field or another mail's id makes the line doubtful for every id in it.
import * as assert from 'assert';
import { boxIdTokens, judgeDeliveryLine, normalizeAddress } from '../../../../src/core/recovery/logLines';

const A = '11111-11111-11111';
const B = '22222-22222-22222';
const text = (mid: string, to = 'r@d.example', id = A) => `DELIVERY mail delivered (id=${id}, message-id=${mid}, to=${to})`;

describe('core/recovery/logLines: judgeDeliveryLine', () => {
  it('a clean line is a delivery of its id to its recipient', () => {
    assert.deepStrictEqual(judgeDeliveryLine(text('<m@x>'), { id: A, to: 'r@d.example', messageId: '<m@x>' }), { kind: 'delivery', id: A, to: 'r@d.example', messageId: '<m@x>' });
  });

  it('a Message-ID carrying another mail\'s id, a second field or its own id again proves nothing', () => {
    const cases: [string, RegExp][] = [
      [`<m@x> ${B}`, /another mail id/],
      [`<m@x>, id=${B}`, /more than one id= field/],
      ['<m@x>, message-id=<n@y>', /more than one message-id= field/],
      ['<m@x>, to=v@victim.example', /more than one to= field/],
      [`<${A}@x>`, /names 11111-11111-11111 more than once/],
    ];
    for (const [mid, why] of cases) {
      const r = judgeDeliveryLine(text(mid), { id: A, to: 'r@d.example', messageId: mid });
      assert.strictEqual(r.kind, 'ambiguous', mid);
      assert.match((r as { why: string }).why, why, mid);
    }
    const r = judgeDeliveryLine(text(`<m@x> ${B}`), { id: A, to: 'r@d.example' });
    assert.deepStrictEqual([...(r as { ids: readonly string[] }).ids].sort(), [A, B], 'every id in it is doubtful');
  });

  it('no id, an id that is not a mail id, or no recipient proves nothing', () => {
    assert.strictEqual(judgeDeliveryLine(text('<m@x>'), { to: 'r@d.example' }).kind, 'ambiguous');
    assert.strictEqual(judgeDeliveryLine(text('<m@x>'), { id: '../x', to: 'r@d.example' }).kind, 'ambiguous');
    assert.strictEqual(judgeDeliveryLine(text('<m@x>'), { id: A, to: '' }).kind, 'ambiguous');
  });

  it('box id tokens are found with their bounds; addresses compare with the domain lower-cased', () => {
    assert.deepStrictEqual(boxIdTokens(`x ${A} y1${B} ${B}.body`), [A, B]);
    assert.strictEqual(normalizeAddress('Dave@Dest.EXAMPLE'), 'Dave@dest.example');
  });
});
