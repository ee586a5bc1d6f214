// Parsing a mail's .env (the lab's envelope format): strict, bounded, never throws on hostile text.
import * as assert from 'assert';
import { envelope } from '../../../lab/mail';
import { addressDomain, ENVELOPE_BYTES, MAX_RECIPIENTS, NO_DOMAIN, NULL_SENDER, parseEnvelope } from '../../../../src/core/message/envelope';

describe('envelope (.env)', () => {
  it('reads what the lab writes: sender, recipients, their domains, Received', () => {
    const when = new Date(Date.UTC(2026, 10, 28, 17, 46, 22));
    const e = parseEnvelope(envelope('00042-17301-00001', 'alice@Lab.Example', ['dave@dest.example', 'erin@DEST.example', 'x@other.example'], when));
    assert.strictEqual(e.sender, 'alice@Lab.Example');
    assert.strictEqual(e.senderDomain, 'lab.example');
    assert.deepStrictEqual(e.recipients, ['dave@dest.example', 'erin@DEST.example', 'x@other.example']);
    assert.deepStrictEqual(e.recipientDomains, ['dest.example', 'other.example'], 'lower-cased, each domain once');
    assert.strictEqual(e.recipientCount, 3);
    assert.strictEqual(e.receivedMs, when.getTime());
    assert.strictEqual(e.truncated, false);
  });

  it('accepts CRLF, lower-case verbs, spaces and ESMTP parameters; the first MAIL FROM counts', () => {
    const e = parseEnvelope('mail from: <a@one.example> SIZE=100 BODY=8BITMIME\r\nMAIL FROM:<b@two.example>\r\nrcpt to:<c@three.example> NOTIFY=NEVER\r\n');
    assert.strictEqual(e.senderDomain, 'one.example');
    assert.deepStrictEqual(e.recipientDomains, ['three.example']);
  });

  it('the null sender, or none at all, is <>', () => {
    assert.strictEqual(parseEnvelope('MAIL FROM:<>\nRCPT TO:<a@b.example>\n').senderDomain, NULL_SENDER);
    assert.strictEqual(parseEnvelope('RCPT TO:<a@b.example>\n').senderDomain, NULL_SENDER);
    assert.strictEqual(parseEnvelope('').senderDomain, NULL_SENDER);
    assert.deepStrictEqual(parseEnvelope('').recipientDomains, []);
  });

  it('addresses without a usable domain go to "(no domain)"', () => {
    for (const a of ['postmaster', 'a@', 'a@-bad.example', 'a@bad-.example', 'a@a..b', 'a@sp ace.example', `a@${'x'.repeat(64)}.example`, `a@${'abc.'.repeat(70)}example`, 'a@\u202eelpmaxe.com', 'a@exa\u0000mple.com', 'a@[300.1.1.1]', 'a@[nonsense]'])
      assert.strictEqual(addressDomain(a), NO_DOMAIN, JSON.stringify(a));
    assert.strictEqual(addressDomain('a@[192.0.2.1]'), '[192.0.2.1]');
    assert.strictEqual(addressDomain('a@[IPv6:2001:db8::1]'), '[ipv6:2001:db8::1]');
    assert.strictEqual(addressDomain('"odd@local"@Example.COM.'), 'example.com', 'the last @, trailing dot dropped');
    assert.strictEqual(addressDomain('@relay.example,@r2.example:user@final.example'), 'final.example', 'source route');
    assert.strictEqual(addressDomain('user@münchen.de'), 'xn--mnchen-3ya.de', 'IDN in its ASCII form');
    assert.strictEqual(addressDomain(`a@${'b'.repeat(600)}.example`), NO_DOMAIN, 'monster address');
    assert.deepStrictEqual(parseEnvelope('RCPT TO:<>\nRCPT TO:<nobody>\n').recipientDomains, [NO_DOMAIN]);
  });

  it('ignores garbage lines and lines that only look alike', () => {
    const e = parseEnvelope(
      ['X-Mgw-Envelope: 1', 'garbage \u0000\u0007\u001b[2J', 'RCPT TO: no brackets@x.example', 'RCPT TO:<a<b@x.example>', ' RCPT TO:<indented@x.example>', 'XRCPT TO:<prefixed@x.example>', 'Received: yesterday', 'Received: 2026-13-45T99:99:99Z', 'RCPT TO:<ok@good.example>', '\u00ff\u00fe binary'].join('\n'),
    );
    assert.deepStrictEqual(e.recipients, ['ok@good.example']);
    assert.strictEqual(e.receivedMs, undefined, 'not a time');
    assert.strictEqual(e.senderDomain, NULL_SENDER);
  });

  it('hostile sender text stays data: controls and bidi kept as written, the domain bucket clean', () => {
    const e = parseEnvelope('MAIL FROM:<evil\u001b]0;pwn\u0007@\u202egro.example>\nRCPT TO:<a@\u200bzero.example>\n');
    assert.strictEqual(e.sender, 'evil\u001b]0;pwn\u0007@\u202egro.example', 'kept as data (each sink escapes it)');
    assert.strictEqual(e.senderDomain, NO_DOMAIN);
    assert.deepStrictEqual(e.recipientDomains, [NO_DOMAIN]);
  });

  it('reads only the first 16 KB; the line cut there is dropped', () => {
    const filler = `X-Pad: ${'p'.repeat(ENVELOPE_BYTES - 40)}\n`;
    const text = `MAIL FROM:<a@s.example>\n${filler}RCPT TO:<cut@${'c'.repeat(30)}.example>\nRCPT TO:<late@late.example>\n`;
    assert.ok(Buffer.byteLength(text) > ENVELOPE_BYTES);
    const e = parseEnvelope(text);
    assert.strictEqual(e.truncated, true);
    assert.deepStrictEqual(e.recipientDomains, [], 'a half line is not a recipient; beyond the limit is not read');
    // Megabytes of one line: bounded time, no throw.
    const started = Date.now();
    const big = parseEnvelope(Buffer.alloc(8 << 20, 0x41));
    assert.strictEqual(big.recipientCount, 0);
    assert.ok(Date.now() - started < 1000);
  });

  it('keeps at most MAX_RECIPIENTS recipients and domains, and counts them all', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `RCPT TO:<u${i}@d${i}.example>`).join('\n');
    const e = parseEnvelope(`MAIL FROM:<a@b.example>\n${lines}\n`);
    assert.strictEqual(e.recipientCount, 400);
    assert.strictEqual(e.recipients.length, MAX_RECIPIENTS);
    assert.strictEqual(e.recipientDomains.length, MAX_RECIPIENTS);
  });

  it('never throws on random bytes', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(Array.from({ length: 1 + (i * 37) % 3000 }, () => (rnd() % 5 === 0 ? 0x0a : rnd())));
      const prefix = Buffer.from(i % 2 ? 'MAIL FROM:<' : 'RCPT TO:<');
      const e = parseEnvelope(Buffer.concat([prefix, b]));
      for (const d of [e.senderDomain, ...e.recipientDomains]) assert.ok(d === NO_DOMAIN || d === NULL_SENDER || /^[a-z0-9.\-[\]:]+$/.test(d), JSON.stringify(d));
    }
  });
});
