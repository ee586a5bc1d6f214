import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { gatewayName, gatewayProcessName, isSafeAbsolutePath, isSafeMailId, isValidServicePart, shellCommand, shellQuote } from '../../../src/core/names';

/** Names an attacker or a typo could put into settings or spool file names. */
export const HOSTILE = [
  '',
  ' ',
  'box1 ',
  'box;rm -rf /',
  'box$(id)',
  'box`id`',
  "box'1",
  'box"1',
  'box\n1',
  'box\t1',
  '../box',
  'box/1',
  '-box',
  'box_1', // '_' separates server from service
  'box*',
  'box?',
  'box|1',
  'box&1',
  'box>1',
  'bóx',
  'box\u00001',
  'a'.repeat(33),
];

describe('core/names', () => {
  it('accepts server and service names as the box shows them, case kept', () => {
    for (const ok of ['box1', 'Box1', 'mailsrv01', 'mail-gw', 'MAILGW', '1fw']) assert.ok(isValidServicePart(ok), ok);
    assert.strictEqual(gatewayName('Box1', 'MailGW'), 'Box1_MailGW');
  });

  it('refuses every hostile server or service name instead of quoting it', () => {
    for (const bad of HOSTILE) {
      assert.strictEqual(isValidServicePart(bad), false, JSON.stringify(bad));
      assert.throws(() => gatewayName(bad, 'mailgw'), /invalid server name/);
      assert.throws(() => gatewayName('box1', bad), /invalid service name/);
    }
  });

  it('cuts the gateway process name to the 15 characters Linux keeps', () => {
    assert.strictEqual(gatewayProcessName('mailsrv01', 'mailgateway'), 'mailsrv01_mailg');
    assert.strictEqual(gatewayProcessName('box1', 'mailgw'), 'box1_mailgw');
  });

  it('treats only plain names as mail ids', () => {
    for (const ok of ['12345-67890-12345', 'A1', 'x_y-z', 'a.b']) assert.ok(isSafeMailId(ok), ok);
    for (const bad of [...HOSTILE.filter((h) => h !== 'box_1' && h !== 'a'.repeat(33)), '.hidden', 'a..b', 'x.body', 'x.env', 'a.', '..']) {
      assert.strictEqual(isSafeMailId(bad), false, JSON.stringify(bad));
    }
  });

  it('accepts only absolute paths of plain segments', () => {
    for (const ok of ['/', '/var/phion/spool/mgw', '/var/phion/logs/srv_box1_mailgw.log', '/a/b/']) assert.ok(isSafeAbsolutePath(ok), ok);
    for (const bad of ['var/phion', '/var/../etc', '/var/./x', '/var/ph ion', '/var/$(id)', "/var/'x", '/var//x', '/var/x\n', '']) {
      assert.strictEqual(isSafeAbsolutePath(bad), false, JSON.stringify(bad));
    }
  });

  it('quotes arguments so a real shell passes them through unchanged', () => {
    const args = ['plain', 'with space', "it's", 'a"b', '$(id)', '`id`', 'semi;colon', 'new\nline', '*', '-n', '', '\\'];
    const script = `printf '%s\\0' ${args.map(shellQuote).join(' ')}`;
    const out = execFileSync('/bin/sh', ['-c', script]).toString('utf8');
    assert.deepStrictEqual(out.split('\0').slice(0, -1), args);
    assert.strictEqual(shellCommand(['ls', '-l', 'a b']), "ls -l 'a b'");
    assert.throws(() => shellQuote('a\0b'), /NUL/);
    assert.throws(() => shellCommand([]), /empty/);
  });
});
