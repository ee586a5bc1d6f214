import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { insertedIds } from '../../../src/core/recovery/confirm';
import { acquireLock, Journal, replay } from '../../../src/core/recovery/journal';
import { normalizeMessageId, readMessageId } from '../../../src/core/recovery/messageId';
import { deliveredMessageIds } from '../../../src/core/recovery/plan';
import { copyBatches, journalFileFor } from '../../../src/core/recovery/run';
import { DEFAULT_DELIVERY_LOG_PATTERN, parseRecoverySettings } from '../../../src/core/recovery/settings';

describe('recovery: Message-ID reader', () => {
  const head = (h: string) => Buffer.from(h, 'latin1');
  it('reads a plain and a folded Message-ID, case-insensitive header name', () => {
    assert.strictEqual(readMessageId(head('From: a@b\r\nMessage-ID: <x.1@lab.example>\r\n\r\nbody Message-ID: <no@no>')), '<x.1@lab.example>');
    assert.strictEqual(readMessageId(head('Subject: s\nmessage-id:\n <folded@lab.example>\n\n')), '<folded@lab.example>');
  });
  it('ignores the body, malformed ids, and two Message-ID headers', () => {
    assert.strictEqual(readMessageId(head('From: a\r\n\r\nMessage-ID: <in-body@x>\r\n')), undefined);
    assert.strictEqual(readMessageId(head('Message-ID: no-brackets@x\n\n')), undefined);
    assert.strictEqual(readMessageId(head('Message-ID: <a b@x>\n\n')), undefined);
    assert.strictEqual(readMessageId(head('Message-ID: <a@x>\nMessage-ID: <b@x>\n\n')), undefined);
  });
  it('with a cut header block, only complete lines count', () => {
    assert.strictEqual(readMessageId(head('Message-ID: <a@x>\nSubject: cut here')), '<a@x>');
    assert.strictEqual(readMessageId(head('Subject: s\nMessage-ID: <a@x')), undefined);
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
  it('maps insertions, including ids the gateway renamed', () => {
    const log = [
      'x Info     SPOOLER new mail inserted (id=1-1-1)',
      'x Info     SPOOLER id already in spool, mail renamed (id=2-2-2, new-id=9-9-9)',
      'x Info     SPOOLER new mail inserted (id=9-9-9)',
      'x Info     SPOOLER new mail inserted (id=3-3-3)',
    ].join('\n');
    const m = insertedIds(log, new Set(['1-1-1', '2-2-2', '4-4-4']));
    assert.deepStrictEqual([...m], [['1-1-1', '1-1-1'], ['2-2-2', '9-9-9']]);
  });
  it('reads delivered Message-IDs with the default and a custom pattern', () => {
    const line = '2026 11 29 10:00:00 +00:00 Info     DELIVERY mail delivered (id=1-2-3, message-id=<a@LAB.example>, to=x@y)';
    assert.deepStrictEqual([...deliveredMessageIds(line, new RegExp(DEFAULT_DELIVERY_LOG_PATTERN))], ['<a@lab.example>']);
    const custom = parseRecoverySettings({ 'mailgwHa.deliveryLogPattern': 'sent msgid=(?<messageId><[^>]+>)' });
    assert.deepStrictEqual(custom.errors, []);
    assert.deepStrictEqual([...deliveredMessageIds('sent msgid=<b@c>', custom.settings.deliveryLogPattern)], ['<b@c>']);
  });
  it('settings: bad values are reported and replaced by the defaults', () => {
    const r = parseRecoverySettings({ 'mailgwHa.signalMethod': 'kill', 'mailgwHa.deliveryLogPattern': 'no group (' });
    assert.strictEqual(r.settings.signalMethod, 'pid');
    assert.strictEqual(r.errors.length, 2);
    assert.strictEqual(parseRecoverySettings({ 'mailgwHa.signalMethod': 'kill-by-name' }).settings.signalMethod, 'kill-by-name');
    assert.match(parseRecoverySettings({ 'mailgwHa.deliveryLogPattern': 'x(?<id>y)' }).errors[0], /messageId/);
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

