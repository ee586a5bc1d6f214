// The direct transfer's key on the primary: the scripts that authorize and remove it, run by this
// machine's sh against a temporary home (a stand-in below the SSH layer: the command runs locally
// instead of over a channel; the lab's integration tests run them on real units).
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { authorizeKey, fromAddress, KEY_TAG, makeTransferKey, revokeKey } from '../../../../src/core/recovery/transferKey';
import type { ExecOptions, ExecResult, UnitConnection } from '../../../../src/core/ssh/connection';

/** Runs scripts with sh here, HOME set to `home`. */
function localUnit(home: string): UnitConnection {
  const execScript = (script: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> =>
    new Promise((resolve, reject) => {
      const c = spawn('sh', ['-c', script, 'sh', ...args], { env: { PATH: process.env.PATH, HOME: home } });
      const out: Buffer[] = [];
      let stderr = '';
      c.stdout.on('data', (b: Buffer) => out.push(b));
      c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      c.on('error', reject);
      c.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
      c.stdin.end(typeof opts.stdin === 'string' ? opts.stdin : '');
    });
  return { address: { label: 'test/primary' }, execScript } as unknown as UnitConnection;
}

describe('core/recovery/transferKey', () => {
  let home = '';
  let stage = '';
  const file = (n = 'authorized_keys2') => path.join(home, '.ssh', n);
  const lines = (n?: string) => (fs.existsSync(file(n)) ? fs.readFileSync(file(n), 'utf8').split('\n').filter(Boolean) : []);
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-tk-'));
    stage = path.join(home, 'input', '.mailgw-ha-20261208-010000-abcdef');
    fs.mkdirSync(stage, { recursive: true });
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('a fresh ed25519 pair per transfer, named after the run', () => {
    const a = makeTransferKey('20261208-010000-abcdef');
    const b = makeTransferKey('20261208-010000-abcdef');
    assert.match(a.publicKey, /^ssh-ed25519 [A-Za-z0-9+/=]+$/);
    assert.match(a.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+-----END OPENSSH PRIVATE KEY-----\n?$/);
    assert.match(a.id, /^20261208-010000-abcdef-[0-9a-f]{8}$/);
    assert.notStrictEqual(a.publicKey, b.publicKey);
    assert.notStrictEqual(a.id, b.id);
  });

  it('authorizes the key only for tar into the stage, restricted, expiring, from the secondary; keeps the other lines; 0600', async () => {
    fs.mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    fs.writeFileSync(file(), 'ssh-ed25519 AAAAadmin admin@desk\n');
    const key = makeTransferKey('20261208-010000-abcdef');
    const written = await authorizeKey(localUnit(home), key, stage, '10.0.0.2');
    assert.strictEqual(written, file());
    const [admin, ours, ...rest] = lines();
    assert.deepStrictEqual(rest, []);
    assert.strictEqual(admin, 'ssh-ed25519 AAAAadmin admin@desk');
    const m = new RegExp(`^restrict,expiry-time="(\\d{14})Z",command="tar -xf - -C ${stage.replace(/[.]/g, '\\.')}",from="10\\.0\\.0\\.2" ${key.publicKey.replace(/[+]/g, '\\+')} ${KEY_TAG}:${key.id}:(\\d+)$`).exec(ours);
    assert.ok(m, ours);
    const expires = Number(m[2]) * 1000;
    assert.ok(expires > Date.now() + 240_000 && expires < Date.now() + 360_000, `expires in 5 minutes: ${new Date(expires).toISOString()}`);
    const utc = new Date(expires).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    assert.strictEqual(m[1], utc, 'expiry-time is the same moment, in UTC');
    assert.strictEqual(fs.statSync(file()).mode & 0o777, 0o600);
  });

  it('removing takes out its own line and expired ones of earlier runs, keeps live ones of other runs and everything else', async () => {
    fs.mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    const now = Math.floor(Date.now() / 1000);
    fs.writeFileSync(file(), [`restrict ssh-ed25519 AAAAold ${KEY_TAG}:20261201-000000-000000-00000000:${now - 10}`, `restrict ssh-ed25519 AAAAlive ${KEY_TAG}:20261208-000000-111111-11111111:${now + 100}`, 'ssh-ed25519 AAAAadmin admin'].join('\n') + '\n');
    const key = makeTransferKey('20261208-010000-abcdef');
    await authorizeKey(localUnit(home), key, stage, undefined);
    assert.ok(!lines().some((l) => l.includes('AAAAold')), 'the expired key of an earlier run is swept when a key is added');
    assert.ok(lines().some((l) => l.includes(key.publicKey) && !l.includes('from=')), 'no from= when the address is not known');
    await revokeKey(localUnit(home), key.id);
    assert.deepStrictEqual(lines(), [`restrict ssh-ed25519 AAAAlive ${KEY_TAG}:20261208-000000-111111-11111111:${now + 100}`, 'ssh-ed25519 AAAAadmin admin']);
  });

  it('an authorized_keys2 it made and emptied goes; authorized_keys stays', async () => {
    fs.mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    fs.writeFileSync(file('authorized_keys'), 'ssh-ed25519 AAAAadmin admin\n');
    const key = makeTransferKey('20261208-010000-abcdef');
    await authorizeKey(localUnit(home), key, stage, undefined);
    assert.strictEqual(lines().length, 1);
    await revokeKey(localUnit(home), key.id);
    assert.ok(!fs.existsSync(file()), 'authorized_keys2 removed');
    assert.deepStrictEqual(lines('authorized_keys'), ['ssh-ed25519 AAAAadmin admin']);
  });

  it("a lock a killed writer left (its PID gone, or a minute old without one) is taken over, not waited for; a live writer's is waited for", async function () {
    this.timeout(20_000);
    fs.mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    const lock = path.join(home, '.ssh', '.mailgw-ha-keys.lock');
    const dead = spawn('true');
    await new Promise((r) => dead.on('close', r));
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, 'pid'), `${dead.pid}\n`);
    const t0 = Date.now();
    const key = makeTransferKey('20261208-010000-abcdef');
    await authorizeKey(localUnit(home), key, stage, undefined);
    assert.ok(Date.now() - t0 < 5_000, `taken over at once (${Date.now() - t0} ms)`);
    assert.ok(!fs.existsSync(lock), 'the lock is gone after the writer ended');
    fs.mkdirSync(lock);
    const old = new Date(Date.now() - 120_000);
    fs.utimesSync(lock, old, old);
    await revokeKey(localUnit(home), key.id);
    assert.deepStrictEqual(lines(), []);
    assert.ok(!fs.existsSync(lock));
    // A live writer's lock (this process): waited for, then refused as busy, nothing written.
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, 'pid'), `${process.pid}\n`);
    const waiting = authorizeKey(localUnit(home), makeTransferKey('20261208-010000-abcdef'), stage, undefined);
    const early = await Promise.race([waiting.then(() => 'done', () => 'failed'), new Promise((r) => setTimeout(() => r('waiting'), 2_000))]);
    assert.strictEqual(early, 'waiting', 'a live lock is waited for');
    fs.rmSync(lock, { recursive: true });
    await waiting;
    assert.strictEqual(lines().length, 1, 'written once the lock was free');
  });

  it('refuses a symlinked keys file or .ssh, a stage that is not there, an unsafe stage or address', async () => {
    fs.mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    const target = path.join(home, 'elsewhere');
    fs.writeFileSync(target, 'x\n');
    fs.symlinkSync(target, file());
    const key = makeTransferKey('20261208-010000-abcdef');
    await assert.rejects(authorizeKey(localUnit(home), key, stage, undefined), /test\/primary: cannot authorize this transfer's key \(exit 3: .*symbolic link/);
    assert.strictEqual(fs.readFileSync(target, 'utf8'), 'x\n', 'the link target untouched');
    fs.rmSync(file());
    await assert.rejects(authorizeKey(localUnit(home), key, `${stage}-gone`, undefined), /staging folder .* is not there/);
    await assert.rejects(authorizeKey(localUnit(home), key, '/tmp/a b', undefined), /refusing unsafe folder/);
    await assert.rejects(authorizeKey(localUnit(home), key, stage, '10.0.0.2,0.0.0.0/0'), /refusing from= address/);
    assert.strictEqual(fromAddress('10.0.0.2'), '10.0.0.2');
    assert.strictEqual(fromAddress('fd00::2'), 'fd00::2');
    assert.strictEqual(fromAddress('*'), undefined);
    assert.strictEqual(fromAddress('fw-b.example'), undefined);
  });
});
