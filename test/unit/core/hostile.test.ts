// Unit-level hostile input (no lab needed): known_hosts files that try to override the user's pin,
// files named in settings that are /dev/zero, FIFOs, directories or huge, log lines without end,
// log and mail paths outside the gateway's folders, and a caller that tries to re-point a pooled
// connection. The lab-level cases are in test/integration/hostile.test.ts.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseSettings } from '../../../src/core/config';
import { MemorySecretStore, noPrompts, silentLogger } from '../../../src/core/host';
import { isGatewayLogPath } from '../../../src/core/log/paths';
import { readSettingFile, SettingFileError } from '../../../src/core/files';
import { fingerprintOf, KnownHosts } from '../../../src/core/ssh/hostKeys';
import { ConnectionPool } from '../../../src/core/ssh/pool';
import { SshError } from '../../../src/core/ssh/errors';
import { ed25519Blob } from './ssh/testKeys';

const line = (host: string, blob: Buffer) => `${host} ssh-ed25519 ${blob.toString('base64')}\n`;

describe('hostile: known_hosts files cannot override the user\'s pin', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-kh-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, text);
    return f;
  };

  it('a key the user pinned differently is "changed" even when another file lists the presented key', () => {
    const pinned = ed25519Blob();
    const attacker = ed25519Blob();
    const user = write('known_hosts', line('fw-a.example', pinned));
    const workspace = write('repo_known_hosts', line('fw-a.example', attacker));
    const check = KnownHosts.load([workspace], [user]).check('fw-a.example', 22, { type: 'ssh-ed25519', blob: attacker });
    assert.strictEqual(check.status, 'changed');
    assert.strictEqual(check.source, `${user}:1`);
  });

  it('the pinned key itself is trusted whatever the other file says', () => {
    const pinned = ed25519Blob();
    const user = write('known_hosts', line('fw-a.example', pinned));
    const other = write('other', line('fw-a.example', ed25519Blob()));
    assert.strictEqual(KnownHosts.load([other], [user]).check('fw-a.example', 22, { type: 'ssh-ed25519', blob: pinned }).status, 'trusted');
  });

  it('without a pin, the extra file decides as before (trusted / changed / unknown)', () => {
    const known = ed25519Blob();
    const extra = write('extra', line('[fw-a.example]:2222', known));
    const kh = KnownHosts.load([extra], [path.join(tmp, 'missing')]);
    assert.strictEqual(kh.check('fw-a.example', 2222, { type: 'ssh-ed25519', blob: known }).status, 'trusted');
    assert.strictEqual(kh.check('fw-a.example', 2222, { type: 'ssh-ed25519', blob: ed25519Blob() }).status, 'changed');
    assert.strictEqual(kh.check('fw-b.example', 2222, { type: 'ssh-ed25519', blob: known }).status, 'unknown');
  });

  it('@revoked in any file still refuses', () => {
    const key = ed25519Blob();
    const user = write('known_hosts', line('fw-a.example', key));
    const extra = write('extra', `@revoked * ssh-ed25519 ${key.toString('base64')}\n`);
    assert.strictEqual(KnownHosts.load([extra], [user]).check('fw-a.example', 22, { type: 'ssh-ed25519', blob: key }).status, 'revoked');
    assert.ok(fingerprintOf(key).startsWith('SHA256:'));
  });
});

describe('hostile: files named in settings are read only if regular and small', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-files-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('/dev/zero is refused at once, naming the setting (it grew the process to 10 GB before)', () => {
    const t0 = Date.now();
    assert.throws(() => readSettingFile('/dev/zero', 'mailgwHa.knownHostsFile'), (e: Error) => e instanceof SettingFileError && /^mailgwHa\.knownHostsFile: \/dev\/zero is a character device/.test(e.message));
    assert.ok(Date.now() - t0 < 1000);
  });

  it('a FIFO is refused without blocking on it', () => {
    const fifo = path.join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => readSettingFile(fifo, 'identityFile'), /a FIFO/);
  });

  it('a directory is refused', () => {
    assert.throws(() => readSettingFile(tmp, 'identityFile'), /a directory/);
  });

  it('a file over the cap is refused with its size', () => {
    const big = path.join(tmp, 'big');
    fs.writeFileSync(big, Buffer.alloc((1 << 20) + 1));
    assert.throws(() => readSettingFile(big, 'mailgwHa.knownHostsFile'), (e: Error) => e instanceof SettingFileError && e.code === 'EFBIG' && /1,048,577 bytes/.test(e.message));
  });

  it('a missing file is ENOENT (known_hosts treats it as empty), a regular one is read whole', () => {
    assert.throws(() => readSettingFile(path.join(tmp, 'none'), 'x'), (e: Error) => e instanceof SettingFileError && e.code === 'ENOENT');
    fs.writeFileSync(path.join(tmp, 'ok'), 'hello');
    assert.strictEqual(readSettingFile(path.join(tmp, 'ok'), 'x').toString(), 'hello');
  });

  it('KnownHosts.load names the known_hosts setting for /dev/zero (it aborted with bad_alloc at 16.8 GB before)', () => {
    assert.throws(() => KnownHosts.load(['/dev/zero']), /known_hosts file .*\/dev\/zero is a character device/);
  });
});

describe('hostile: mailgw-log: paths stay in the gateway log folder', () => {
  const cluster = { logFile: '/var/phion/logs/srv_box1_mailgw.log' };
  for (const [file, ok] of [
    ['/var/phion/logs/srv_box1_mailgw.log', true],
    ['/var/phion/logs/srv_box1_mailgw.log.20261130-120000', true],
    ['/etc/shadow', false],
    ['/var/phion/logs/../../../etc/shadow', false],
    ['/var/phion/logs/./srv_box1_mailgw.log', false],
    ['/var/phion/logs/sub/file.log', false],
    ['/var/phion/logs/', false],
    ['/var/phion/logs/a b', false],
    ['relative.log', false],
  ] as const) {
    it(`${ok ? 'allows' : 'refuses'} ${JSON.stringify(file)}`, () => assert.strictEqual(isGatewayLogPath(cluster, file), ok));
  }
});

describe('hostile: a caller cannot re-point a pooled connection', () => {
  it('a unit config with another host than the settings is refused; the configured one is served', () => {
    const units = parseSettings([{ name: 'c', server: 'box1', service: 'mailgw', units: [{ name: 'a', role: 'primary', host: '127.0.0.2' }, { name: 'b', role: 'secondary', host: '127.0.0.3' }] }]).clusters[0].units;
    const pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [] });
    try {
      pool.update(units);
      const conn = pool.get(units[0]);
      assert.throws(() => pool.get({ ...units[0], host: 'attacker.example' }), (e: Error) => e instanceof SshError && e.code === 'config');
      assert.throws(() => pool.get({ ...units[0], key: 'c/unknown' }), /not a configured unit/);
      assert.strictEqual(pool.get(units[0]), conn);
      assert.strictEqual(conn.address.host, '127.0.0.2');
    } finally {
      pool.dispose();
    }
  });
});
