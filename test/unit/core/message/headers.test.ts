// Header parsing corpus: what senders really put into a .body, and what the explorer must show.
import * as assert from 'assert';
import { addressOf, cleanValue, decodeEncodedWords, displayNameOf, headerBlock, parseHeaderFields, readMessageSummary } from '../../../../src/core/message/headers';
import { makeMail } from '../../../lab/mail';

const msg = (text: string) => Buffer.from(text, 'utf8');

describe('message headers', () => {
  it('reads From, To, Subject, Date and Message-ID of a plain message', () => {
    const s = readMessageSummary(msg('From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: Hello\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\nMessage-ID: <abc@example.org>\r\n\r\nbody\r\nFrom: not-a-header\r\n'));
    assert.deepStrictEqual(s, { from: 'Alice <alice@example.org>', to: 'bob@example.org', cc: undefined, subject: 'Hello', date: 'Sun, 29 Nov 2026 10:00:00 +0000', messageId: '<abc@example.org>', truncated: false });
  });

  it('unfolds folded headers (CRLF + whitespace) and joins repeated To headers', () => {
    const s = readMessageSummary(msg('Subject: a long subject\r\n that is folded\r\n\tagain\r\nTo: a@x,\r\n    b@x\r\nTo: c@x\r\n\r\n'));
    assert.strictEqual(s.subject, 'a long subject that is folded again');
    assert.strictEqual(s.to, 'a@x, b@x, c@x');
  });

  it('accepts bare LF line ends and header names in any case', () => {
    const s = readMessageSummary(msg('SUBJECT: lf only\nmessage-id: <x@y>\n\nbody'));
    assert.strictEqual(s.subject, 'lf only');
    assert.strictEqual(s.messageId, '<x@y>');
  });

  it('decodes RFC 2047 B and Q words, in UTF-8 and legacy charsets', () => {
    assert.strictEqual(decodeEncodedWords('=?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?='), 'Grüße aus München');
    assert.strictEqual(decodeEncodedWords('=?utf-8?q?R=C3=A9union_=C3=A0_15_h?='), 'Réunion à 15 h');
    assert.strictEqual(decodeEncodedWords('=?ISO-8859-1?Q?Caf=E9?= ouvert'), 'Café ouvert');
    assert.strictEqual(decodeEncodedWords('=?windows-1252?Q?=80_5?='), '€ 5');
    assert.strictEqual(decodeEncodedWords('=?KOI8-R?B?8NLJ18XU?='), 'Привет');
    assert.strictEqual(decodeEncodedWords('=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?='), 'テスト');
    assert.strictEqual(decodeEncodedWords('=?UTF-8*en?Q?hi?='), 'hi');
  });

  it('drops whitespace between adjacent encoded words and keeps a character split across them whole', () => {
    // "ü" is C3 BC: split over two words.
    assert.strictEqual(decodeEncodedWords('=?UTF-8?Q?Gr=C3?= =?UTF-8?Q?=BC=C3=9Fe?='), 'Grüße');
    assert.strictEqual(decodeEncodedWords('=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?='), 'ab');
    // Plain text between words is kept, with its spaces.
    assert.strictEqual(decodeEncodedWords('=?UTF-8?Q?a?= and =?UTF-8?Q?b?='), 'a and b');
  });

  it('leaves words with an unknown charset or broken base64 as written', () => {
    assert.strictEqual(decodeEncodedWords('=?x-unknown?Q?abc?='), '=?x-unknown?Q?abc?=');
    assert.strictEqual(decodeEncodedWords('=?UTF-8?B?!!!?='), '=?UTF-8?B?!!!?=');
    assert.strictEqual(decodeEncodedWords('no words here =?'), 'no words here =?');
  });

  it('decodes an encoded display name in From', () => {
    const s = readMessageSummary(msg('From: =?UTF-8?B?SsO8cmdlbg==?= <j@x.example>\r\n\r\n'));
    assert.strictEqual(s.from, 'Jürgen <j@x.example>');
    assert.strictEqual(displayNameOf(s.from), 'Jürgen');
    assert.strictEqual(addressOf(s.from), 'j@x.example');
    assert.strictEqual(displayNameOf('"Doe, Jane" <jane@x>'), 'Doe, Jane');
    assert.strictEqual(displayNameOf('plain@x'), 'plain@x');
  });

  it('leaves missing headers undefined and treats empty ones as missing', () => {
    const s = readMessageSummary(msg('X-Other: 1\r\nSubject:\r\n\r\n'));
    assert.strictEqual(s.from, undefined);
    assert.strictEqual(s.subject, undefined);
    assert.strictEqual(s.messageId, undefined);
    assert.strictEqual(s.truncated, false);
    assert.deepStrictEqual(readMessageSummary(Buffer.alloc(0)), { from: undefined, to: undefined, cc: undefined, subject: undefined, date: undefined, truncated: true });
    assert.strictEqual(readMessageSummary(msg('\r\nFrom: a@b\r\n')).from, undefined, 'a body that starts with an empty line has no headers');
  });

  it('survives binary junk: skips lines without a field name, drops control characters, Latin-1 fallback', () => {
    const junk = Buffer.concat([msg('From: a@b\r\n'), Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x0d, 0x0a]), msg('Subject: x\u0007y\r\n'), Buffer.from('Comment: caf\xe9\r\n\r\n', 'latin1')]);
    const s = readMessageSummary(junk);
    assert.strictEqual(s.from, 'a@b');
    assert.strictEqual(s.subject, 'xy');
    assert.strictEqual(parseHeaderFields(headerBlock(junk).block).get('comment')?.[0].trim(), 'café');
    // Random bytes: nothing throws.
    for (let i = 0; i < 200; i++) {
      const b = Buffer.from(Array.from({ length: 300 }, (_, k) => (k * 7919 + i * 104729) % 256));
      readMessageSummary(b);
    }
  });

  it('raw UTF-8 in headers (RFC 6532) is read as UTF-8', () => {
    assert.strictEqual(readMessageSummary(msg('Subject: Статус заказа ✓\r\n\r\n')).subject, 'Статус заказа ✓');
  });

  it('flags a header block that does not end within the bytes read', () => {
    const s = readMessageSummary(msg('From: a@b\r\nSubject: cut here'));
    assert.strictEqual(s.truncated, true);
    assert.strictEqual(s.from, 'a@b');
    assert.strictEqual(s.subject, 'cut here');
  });

  it('shows a Message-ID only where the recovery would go by it (one well-formed value), and says why not', () => {
    assert.strictEqual(readMessageSummary(msg('Message-ID: <a@x>\r\nMessage-ID: <a@x>\r\n\r\n')).messageId, '<a@x>', 'the same value twice is one Message-ID');
    const two = readMessageSummary(msg('Message-ID: <a@x>\r\nSubject: s\r\nMessage-ID: <b@x>\r\n\r\n'));
    assert.strictEqual(two.messageId, undefined, 'two different Message-IDs: none shown (the recovery holds such a mail)');
    assert.match(two.messageIdProblem ?? '', /2 different Message-IDs: <a@x>, <b@x>/);
    const bad = readMessageSummary(msg('Message-ID: not-an-id\r\n\r\n'));
    assert.strictEqual(bad.messageId, undefined);
    assert.match(bad.messageIdProblem ?? '', /malformed Message-ID: not-an-id/);
    const folded = readMessageSummary(msg('Message-ID:\r\n <f@x>\r\n\r\n'));
    assert.strictEqual(folded.messageId, '<f@x>', 'a folded Message-ID is unfolded');
    assert.strictEqual(readMessageSummary(msg('Subject: s\r\n\r\nMessage-ID: <body@x>\r\n')).messageId, undefined, 'a Message-ID line in the body is not a header');
  });

  it('cuts absurdly long values', () => {
    const v = cleanValue('x'.repeat(5000));
    assert.strictEqual(v.length, 998);
    assert.ok(v.endsWith('…'));
  });

  it('reads every header variant the lab generates (folded, B and Q subjects, encoded From)', () => {
    for (let n = 0; n < 20; n++) {
      const m = makeMail({ n, tag: 't', size: 4096, id: `00000-00000-${String(n).padStart(5, '0')}` });
      const s = readMessageSummary(m.body.subarray(0, 8192));
      assert.strictEqual(s.messageId, m.messageId, `mail ${n}`);
      assert.strictEqual(addressOf(s.from), m.from, `mail ${n}`);
      assert.deepStrictEqual(s.to?.split(', '), m.to, `mail ${n}`);
      assert.ok(s.subject && !s.subject.includes('=?') && !/[\r\n]/.test(s.subject), `mail ${n}: ${s.subject}`);
      assert.strictEqual(s.truncated, false);
    }
  });
});
