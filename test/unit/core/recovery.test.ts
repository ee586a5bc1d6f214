import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { insertionsOf, spoolerEvent } from '../../../src/core/log/spoolerLines';
import { acquireLock, Journal, replay } from '../../../src/core/recovery/journal';
import { messageIdOf, normalizeMessageId, readMessageId } from '../../../src/core/message/messageId';
import { copyBatches } from '../../../src/core/recovery/transfer';
import { journalFileFor } from '../../../src/core/recovery/journalPath';
import { DEFAULT_DELIVERY_LOG_PATTERN, parseRecoverySettings } from '../../../src/core/recovery/settings';

describe('recovery: Message-ID reader', () => {
  const head = (h: string) => Buffer.from(h, 'latin1');
  it('reads a plain and a folded Message-ID, case-insensitive header name', () => {
    assert.strictEqual(readMessageId(head('From: a@b\r\nMessage-ID: <x.1@lab.example>\r\n\r\nbody Message-ID: <no@no>')), '<x.1@lab.example>');
    assert.strictEqual(readMessageId(head('Subject: s\nmessage-id:\n <folded@lab.example>\n\n')), '<folded@lab.example>');
  });
  it('ignores the body, malformed ids, and two different Message-ID headers', () => {
    assert.strictEqual(readMessageId(head('From: a\r\n\r\nMessage-ID: <in-body@x>\r\n')), undefined);
    assert.strictEqual(readMessageId(head('Message-ID: no-brackets@x\n\n')), undefined);
    assert.strictEqual(readMessageId(head('Message-ID: <a b@x>\n\n')), undefined);
    assert.strictEqual(readMessageId(head('Message-ID: <a@x>\nMessage-ID: <b@x>\n\n')), undefined);
  });
  it('says why a mail has no usable Message-ID: none, two different, malformed, header cut', () => {
    assert.deepStrictEqual(messageIdOf('From: a\r\nSubject: s\r\n\r\nMessage-ID: <in-body@x>\r\n', true), { kind: 'none' });
    assert.deepStrictEqual(messageIdOf('Message-ID: <a@x>\nMessage-ID: <b@x>\n\n', true), { kind: 'conflict', ids: ['<a@x>', '<b@x>'] });
    assert.deepStrictEqual(messageIdOf('Message-ID: <a@x>\nmessage-id:  <a@x>\n\n', true), { kind: 'ok', id: '<a@x>' }, 'the same value twice is one Message-ID');
    assert.deepStrictEqual(messageIdOf('Message-ID: a@x\n\n', true), { kind: 'malformed', value: 'a@x' });
    // Cut before the blank line: a later line could still add a second Message-ID.
    assert.deepStrictEqual(messageIdOf('Message-ID: <a@x>\nSubject: cut here', false), { kind: 'truncated' });
    assert.deepStrictEqual(messageIdOf('Subject: s\nMessage-ID: <a@x', false), { kind: 'truncated' });
    // The whole file is the header (no body): complete.
    assert.deepStrictEqual(messageIdOf('Subject: s\nMessage-ID: <a@x>', true), { kind: 'ok', id: '<a@x>' });
  });
  it('finds a Message-ID after 9 KB of Received/DKIM headers', () => {
    const filler = Array.from({ length: 90 }, (_, i) => `Received: from relay${i}.example (relay${i}.example [192.0.2.${i}])\r\n\tby mx.example with ESMTPS; Mon, 30 Nov 2026 10:00:00 +0000`).join('\r\n');
    assert.ok(filler.length > 9000);
    assert.deepStrictEqual(messageIdOf(`${filler}\r\nMessage-ID: <late@x>\r\n\r\nbody`, false), { kind: 'ok', id: '<late@x>' });
  });
  it('compares domains case-insensitively, local parts exactly', () => {
    assert.strictEqual(normalizeMessageId('<Ab@LAB.Example>'), '<Ab@lab.example>');
  });
});

describe('recovery: journal', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-journal-'));
  it('replays the last state of each mail and ignores a torn last line', () => {
    const f = path.join(dir, 'j.jsonl');
    const j = Journal.open(f);
    j.append({ t: 'run', v: 1, runId: 'r', cluster: 'c', primary: 'c/a', secondary: 'c/b', spoolBase: '/s', stage: '/s/input/.x', logFile: '/l', at: '' });
    j.append({ t: 'plan', mails: [{ id: 'm1', folder: 'spool', bodySize: 1, envSize: 2 }, { id: 'm2', folder: 'vscan', bodySize: 3, envSize: 4 }] });
    j.state(['m1', 'm2'], 'copied', { sha: { m1: { body: 'b1', env: 'e1' } } });
    j.state(['m1'], 'placed');
    j.append({ t: 'signal', phase: 'after', ids: ['m1'], mark: { inode: '7', size: 9 }, at: '' });
    j.close();
    fs.appendFileSync(f, '{"t":"state","ids":["m2"],"sta');
    const st = Journal.read(f)!;
    assert.strictEqual(st.ended, undefined);
    assert.deepStrictEqual({ ...st.mails.get('m1') }, { id: 'm1', folder: 'spool', bodySize: 1, envSize: 2, state: 'signalled', sha: { body: 'b1', env: 'e1' }, mark: { inode: '7', size: 9 } });
    assert.strictEqual(st.mails.get('m2')!.state, 'copied');
  });
  it('refuses a journal damaged in the middle', () => {
    assert.throws(() => replay('{"t":"plan","mails":[]}\nnot json\n{"t":"end","outcome":"done","at":""}\n'), /damaged/);
  });
  it('a lock held by a live process refuses; one left by a dead process is taken over', () => {
    const f = path.join(dir, 'lock.jsonl');
    fs.writeFileSync(`${f}.lock`, '999999999');
    const release = acquireLock(f);
    assert.strictEqual(fs.readFileSync(`${f}.lock`, 'utf8'), String(process.pid));
    release();
    fs.writeFileSync(`${f}.lock`, String(process.ppid));
    assert.throws(() => acquireLock(f), /another recovery/);
    fs.rmSync(`${f}.lock`);
  });
  it('journal file names are safe for any cluster name', () => {
    const f = journalFileFor('/state', '../we ird/$(x)');
    assert.strictEqual(path.dirname(f), '/state');
    assert.match(path.basename(f), /^recovery-[A-Za-z0-9_-]+\.jsonl$/);
  });
});

describe('recovery: log parsing', () => {
  const line = (text: string) => `2026 11 30 10:00:00 +00:00 Info     ${text}`;
  it('maps insertions, including ids the gateway renamed', () => {
    const log = [
      line('SPOOLER new mail inserted (id=1-1-1)'),
      line('SPOOLER id already in spool, mail renamed (id=2-2-2, new-id=9-9-9)'),
      line('SPOOLER new mail inserted (id=9-9-9)'),
      line('SPOOLER new mail inserted (id=3-3-3)'),
    ];
    const m = insertionsOf(log, new Set(['1-1-1', '2-2-2', '4-4-4']));
    assert.deepStrictEqual([...m], [['1-1-1', '1-1-1'], ['2-2-2', '9-9-9']]);
  });
  it('an insertion counts only as a whole line of the box: never found inside another line (a logged header)', () => {
    const hostile = [
      line('DELIVERY mail delivered (id=5-5-5, message-id=<x@y> SPOOLER new mail inserted (id=1-1-1), to=a@b)'),
      line('RECEIVED subject=SPOOLER new mail inserted (id=1-1-1)'),
      'SPOOLER new mail inserted (id=1-1-1)',
      `x ${line('SPOOLER new mail inserted (id=1-1-1)')}`,
      line('SPOOLER new mail inserted (id=1-1-1) and more'),
      line('SPOOLER new mail inserted (id=1-1-1, id=2-2-2)'),
    ];
    assert.deepStrictEqual([...insertionsOf(hostile, new Set(['1-1-1', '2-2-2']))], []);
    assert.deepStrictEqual(spoolerEvent('2026 11 30 11:00:00 Notice   +01:00 SPOOLER new mail inserted (id=1-1-1)'), { kind: 'inserted', id: '1-1-1' }, 'either field order');
  });
  it('settings: bad values are reported and replaced by the defaults', () => {
    const r = parseRecoverySettings({ 'mailgwHa.signalMethod': 'kill', 'mailgwHa.deliveryLogPattern': 'no group (' });
    assert.strictEqual(r.settings.signalMethod, 'pid');
    assert.strictEqual(r.errors.length, 2);
    assert.strictEqual(parseRecoverySettings({ 'mailgwHa.signalMethod': 'kill-by-name' }).settings.signalMethod, 'kill-by-name');
    assert.match(parseRecoverySettings({ 'mailgwHa.deliveryLogPattern': 'x(?<id>y)' }).errors[0], /no named group \(\?<to>…\): a delivery line must name the gateway's mail id and the recipient/);
    assert.match(parseRecoverySettings({ 'mailgwHa.deliveryLogPattern': 'sent (?<messageId><[^>]+>)' }).errors[0], /\(\?<id>…\) and \(\?<to>…\)/, 'a Message-ID alone is no delivery');
    assert.deepStrictEqual(parseRecoverySettings({ 'mailgwHa.deliveryLogPattern': 'sent (?<id>\\S+) to (?<to>\\S+)' }).errors, []);
  });
});

describe('recovery: manifest', () => {
  it("package.json's default delivery pattern is the core's", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require('../../../package.json') as { contributes: { configuration: { properties: Record<string, { default?: unknown }> } } };
    assert.strictEqual(pkg.contributes.configuration.properties['mailgwHa.deliveryLogPattern'].default, DEFAULT_DELIVERY_LOG_PATTERN);
  });
});

describe('copyBatches', () => {
  it('cuts by count and by bytes, keeps order, and gives a large body a batch of its own', () => {
    const m = (id: string, kb: number) => ({ id, bodySize: kb * 1024, envSize: 100 });
    const batches = copyBatches([m('a', 10), m('b', 10), m('c', 10), m('big', 20_000), m('d', 10)], 2, 16 * 1024 * 1024);
    assert.deepStrictEqual(batches.map((b) => b.map((x) => x.id)), [['a', 'b'], ['c'], ['big'], ['d']]);
    assert.deepStrictEqual(copyBatches([], 5, 1000), []);
  });
});

