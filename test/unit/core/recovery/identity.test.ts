// What "the same mail" is: the same content (.body SHA-256) and envelope (.env SHA-256, or the same
// sender and recipient set when the gateway rewrote its bookkeeping); read on the unit in one frame.
import * as assert from 'assert';
import { compareMails, envelopeOf, MailIdentity, parseIdentityOutput } from '../../../../src/core/recovery/identity';

const sha = (c: string) => c.repeat(64);
const ident = (over: Partial<MailIdentity> = {}): MailIdentity => ({ id: 'a', bodySha: sha('1'), envSha: sha('2'), envelope: { sender: 's@x', recipients: ['a@d', 'b@d'] }, ...over });

describe('core/recovery/identity', () => {
  it('reads an envelope: sender, recipients normalized, distinct and sorted', () => {
    assert.deepStrictEqual(envelopeOf('X-Mgw-Envelope: 1\nId: 1\nMAIL FROM:<s@x>\nRCPT TO:<b@D.example>\nRCPT TO:<a@d.example>\nRCPT TO:<b@d.example>\n', false), { envelope: { sender: 's@x', recipients: ['a@d.example', 'b@d.example'] } });
    assert.deepStrictEqual(envelopeOf('MAIL FROM:<>\nRCPT TO:<a@d>\n', false).envelope?.sender, '', 'the null sender');
  });

  it('an envelope it cannot read in full is said so, never guessed', () => {
    assert.match(envelopeOf('RCPT TO:<a@d>\n', false).problem!, /no MAIL FROM/);
    assert.match(envelopeOf('MAIL FROM:<s@x>\n', false).problem!, /no RCPT TO/);
    assert.match(envelopeOf('MAIL FROM:<s@x>\nMAIL FROM:<t@x>\nRCPT TO:<a@d>\n', false).problem!, /two different senders/);
    assert.match(envelopeOf('MAIL FROM:<s@x>\nRCPT TO:<a@d>\n', true).problem!, /longer than/);
  });

  it('compares content first, then the .env bytes, then sender and recipient set', () => {
    assert.deepStrictEqual(compareMails(ident(), ident()), { same: true });
    assert.deepStrictEqual(compareMails(ident(), ident({ envSha: sha('3') })), { same: true }, 'a rewritten .env of the same transaction');
    assert.match((compareMails(ident(), ident({ bodySha: sha('4') })) as { differs: string }).differs, /content/);
    assert.match((compareMails(ident(), ident({ envSha: sha('3'), envelope: { sender: 's@x', recipients: ['a@d'] } })) as { differs: string }).differs, /recipients/);
    assert.match((compareMails(ident(), ident({ envSha: sha('3'), envelope: { sender: 't@x', recipients: ['a@d', 'b@d'] } })) as { differs: string }).differs, /sender/);
    assert.match((compareMails(ident(), ident({ envSha: sha('3'), envelope: undefined, envelopeProblem: 'no MAIL FROM' })) as { differs: string }).differs, /cannot be read in full \(no MAIL FROM\)/);
  });

  it('parses the unit\'s frames, with or without a last line break, and sees a cut answer', () => {
    const text = [`I a ${sha('1')} ${sha('2')} 30`, '|MAIL FROM:<s@x>', '|RCPT TO:<r@d>', '|', 'Z a', 'X b', `I c ${sha('3')} ${sha('4')} 29`, '|MAIL FROM:<s@x>', '|RCPT TO:<q@d>', 'Z c', 'E end'].join('\n');
    const r = parseIdentityOutput(text);
    assert.ok(r.complete);
    assert.deepStrictEqual([...r.mails.keys()], ['a', 'c']);
    assert.deepStrictEqual(r.mails.get('a')!.envelope, { sender: 's@x', recipients: ['r@d'] });
    assert.deepStrictEqual(r.mails.get('c')!.envelope, { sender: 's@x', recipients: ['q@d'] });
    assert.ok(!parseIdentityOutput(text.replace('E end', '')).complete);
  });
});
