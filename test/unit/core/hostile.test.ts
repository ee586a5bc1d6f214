// Unit-level hostile input (no lab needed): known_hosts files that try to override the user's pin,
// files named in settings that are /dev/zero, FIFOs, directories or huge, log lines without end,
// log and mail paths outside the gateway's folders, and a caller that tries to re-point a pooled
// connection. The lab-level cases are in test/integration/hostile.test.ts.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AuditLog } from '../../../src/core/audit/log';
import { AuditEntry, defaultAuditFile } from '../../../src/core/audit/record';
import { parseSettings } from '../../../src/core/config';
import { MemorySecretStore, noPrompts, silentLogger } from '../../../src/core/host';
import { isGatewayLogPath } from '../../../src/core/log/paths';
import { readSettingFile, SettingFileError } from '../../../src/core/files';
import { writePrivateFile } from '../../../src/core/privateFiles';
import { judgeLock, newOwner } from '../../../src/core/recovery/clusterLock';
import { addHeld, heldFile } from '../../../src/core/recovery/held';
import { acquireLock, Journal } from '../../../src/core/recovery/journal';
import { addToTrustStore, fingerprintOf, KnownHosts, removeFromTrustStore } from '../../../src/core/ssh/hostKeys';
import { ConnectionPool } from '../../../src/core/ssh/pool';
import { SshError } from '../../../src/core/ssh/errors';
import { checkFromWebview } from '../../../src/views/logPanelMessageCheck';
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

// F11 (review of issue 27): every state file of this machine is private to the user. Made with a
// umask of 0, so the modes are the code's own and not the umask's.
describe('F11: state files on this machine are private: folders 0700, files 0600', () => {
  let tmp: string;
  let umask: number;
  let xdg: string | undefined;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-private-'));
    umask = process.umask(0);
    xdg = process.env.XDG_STATE_HOME;
    process.env.XDG_STATE_HOME = path.join(tmp, 'state');
  });
  afterEach(() => {
    process.umask(umask);
    if (xdg === undefined) delete process.env.XDG_STATE_HOME;
    else process.env.XDG_STATE_HOME = xdg;
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);
  /** Every folder and file under `root` (itself included) with its mode. */
  function modes(root: string): Record<string, string> {
    const out: Record<string, string> = { '.': mode(root) };
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        out[path.relative(root, p)] = mode(p);
        if (e.isDirectory()) walk(p);
      }
    };
    walk(root);
    return out;
  }
  const allPrivate = (m: Record<string, string>, root: string) => {
    const wrong = Object.entries(m).filter(([p, v]) => v !== (fs.statSync(path.join(root, p)).isDirectory() ? '700' : '600'));
    assert.deepStrictEqual(wrong, [], JSON.stringify(m));
  };
  const entry = { cluster: 'lab', unit: 'fw-a', unitHost: '127.0.0.2', action: 'signal', mails: [], outcome: 'ok' } as unknown as AuditEntry;

  it('a journal, its local lock, its held list and the archived journal; state folders made 0755 earlier are tightened', () => {
    const root = path.join(process.env.XDG_STATE_HOME!, 'mailgw-ha');
    const dir = path.join(root, 'lab-0123456789ab');
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(root, 0o755);
    fs.chmodSync(dir, 0o775);
    const file = path.join(dir, 'journal.jsonl');
    fs.writeFileSync(heldFile(file), '{}\n', { mode: 0o644 });
    fs.writeFileSync(file, '', { mode: 0o644 }); // an earlier version's journal
    const release = acquireLock(file);
    try {
      const j = Journal.open(file);
      j.append({ t: 'end', outcome: 'done', at: new Date().toISOString() });
      addHeld(file, '12345-12345-12345', 'why');
      allPrivate(modes(root), root);
      j.archive('20260101-000000');
    } finally {
      release();
    }
    allPrivate(modes(root), root);
  });

  it('the audit trail in its default place, also when the file was made 0644 before', () => {
    const file = defaultAuditFile();
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    fs.writeFileSync(file, '', { mode: 0o644 });
    assert.ok(new AuditLog({ file }, 'cli').append(entry));
    allPrivate(modes(path.dirname(file)), path.dirname(file));
    fs.rmSync(path.dirname(file), { recursive: true });
    assert.ok(new AuditLog({ file }, 'cli').append(entry), 'and made new');
    allPrivate(modes(path.dirname(file)), path.dirname(file));
  });

  it('a folder the admin named (--journal, mailgwHa.auditLogFile) that exists is left as it is; what the extension makes there is private', () => {
    const theirs = path.join(tmp, 'shared');
    fs.mkdirSync(theirs, { mode: 0o755 });
    const journal = path.join(theirs, 'new', 'journal.jsonl');
    Journal.open(journal).close();
    assert.ok(new AuditLog({ file: path.join(theirs, 'audit.jsonl') }, 'cli').append(entry));
    assert.strictEqual(mode(theirs), '755', "the admin's own folder is not changed");
    assert.strictEqual(mode(path.dirname(journal)), '700', 'a folder the extension made is private');
    assert.strictEqual(mode(journal), '600');
    assert.strictEqual(mode(path.join(theirs, 'audit.jsonl')), '600');
  });

  it("the trust store (in the extension's storage folder), after adding and after removing a host", () => {
    const storage = path.join(tmp, 'globalStorage', 'mailgw-ha.mailgw-ha');
    fs.mkdirSync(storage, { recursive: true, mode: 0o755 });
    const store = path.join(storage, 'known_hosts');
    fs.writeFileSync(store, '', { mode: 0o644 });
    addToTrustStore(store, 'fw-a.example', 22, { type: 'ssh-ed25519', blob: ed25519Blob() });
    addToTrustStore(store, 'fw-b.example', 22, { type: 'ssh-ed25519', blob: ed25519Blob() });
    allPrivate(modes(storage), storage);
    assert.strictEqual(removeFromTrustStore(store, 'fw-a.example', 22), 1);
    allPrivate(modes(storage), storage);
  });

  it('a report written whole (JSON or markdown) replaces the file with a private one', () => {
    const dir = path.join(process.env.XDG_STATE_HOME!, 'mailgw-ha', 'lab-x');
    const file = path.join(dir, 'journal-1.report.md');
    fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
    fs.writeFileSync(file, 'old', { mode: 0o666 });
    writePrivateFile(file, '# report\n');
    assert.strictEqual(fs.readFileSync(file, 'utf8'), '# report\n');
    allPrivate(modes(path.dirname(dir)), path.dirname(dir));
  });
});

// F13 (review of issue 27), the log panel's part: what its webview sends is checked on the
// extension side before anything acts on it; a reveal names a mail id by the one mail id rule.
describe('F13: the log panel checks every message from its webview', () => {
  it('a reveal whose id is not a mail id (an object, a path, a command link, too long) is dropped', () => {
    const src = 'lab/fw-a:/var/phion/logs/srv_box1_mailgw.log';
    assert.deepStrictEqual(checkFromWebview({ type: 'reveal', src, id: '12345-12345-12345' }), { type: 'reveal', src, id: '12345-12345-12345' });
    for (const id of [{ toString: () => '12345-12345-12345' }, ['12345-12345-12345'], 12345, '../../etc/shadow', '[x](command:mailgwHa.removeMails)', '12345-12345-12345.body', 'x'.repeat(500), undefined]) {
      assert.strictEqual(checkFromWebview({ type: 'reveal', src, id }), undefined, JSON.stringify(id));
    }
    assert.strictEqual(checkFromWebview({ type: 'reveal', src: 42, id: '12345-12345-12345' }), undefined);
  });

  it('anything else that is not one of its messages, as typed, is dropped too', () => {
    assert.deepStrictEqual(checkFromWebview({ type: 'ready' }), { type: 'ready' });
    assert.deepStrictEqual(checkFromWebview({ type: 'stop', src: 'a:b' }), { type: 'stop', src: 'a:b' });
    for (const m of [null, 'reveal', [], { type: 'nope' }, { type: 'stop' }, { type: 'openEditor', src: {} }, { type: 'state', rows: '1' }, { type: 'state', rows: 1, insertedIds: [1] }]) {
      assert.strictEqual(checkFromWebview(m), undefined, JSON.stringify(m));
    }
    const state = { type: 'state', rows: 3, insertedIds: ['12345-12345-12345'], highlighted: 1, errors: 0, unparsed: 0, paused: false, newWhilePaused: 0, received: 3, at: 1 };
    assert.deepStrictEqual(checkFromWebview(state), state);
  });
});

// F15 (review of issue 27): a recovery killed on this workstation left its lock; the next run here
// takes it back only when the lock provably is that run's (this host, its process gone, and a run
// id of this machine's unfinished journal); anything else still needs the admin's takeover.
describe("F15: the lock of this workstation's interrupted run", () => {
  const text = (owner: Record<string, unknown>) => `held\nnow 1000\ndir 990\nbeat 999\nowner ${JSON.stringify(owner)}\n`;
  const mine = { user: 'ops', host: 'ws1', pid: 4242, tool: 'mailgw-ha CLI', at: '2026-11-30T10:00:00.000Z', runs: ['20261130-100000-abcdef'] };
  const gone = () => false;
  it('names this machine\'s unfinished run and its process is gone: taken back at once, saying so', () => {
    const l = judgeLock(text(mine), 'ws1', gone, 1, () => false, '20261130-100000-abcdef');
    assert.strictEqual(l.leftByRun, '20261130-100000-abcdef');
    assert.match(l.stale ?? '', /left by this workstation's interrupted run 20261130-100000-abcdef \(process 4242 no longer runs\)/);
    assert.deepStrictEqual(l.owner?.runs, ['20261130-100000-abcdef']);
  });
  it('another run id, no unfinished journal, a live process or another host: not taken back', () => {
    assert.strictEqual(judgeLock(text(mine), 'ws1', gone, 1, () => false, '20261130-110000-123456').leftByRun, undefined, 'another run');
    assert.match(judgeLock(text(mine), 'ws1', gone, 1, () => false, '20261130-110000-123456').stale ?? '', /no longer runs/, 'stale: the admin may take it over');
    assert.strictEqual(judgeLock(text(mine), 'ws1', gone, 1, () => false, undefined).leftByRun, undefined, 'no unfinished journal');
    assert.strictEqual(judgeLock(text(mine), 'ws1', () => true, 1, () => false, '20261130-100000-abcdef').leftByRun, undefined, 'its process still runs');
    assert.strictEqual(judgeLock(text(mine), 'ws1', () => true, 1, () => false, '20261130-100000-abcdef').stale, undefined);
    assert.strictEqual(judgeLock(text({ ...mine, host: 'ws2' }), 'ws1', gone, 1, () => false, '20261130-100000-abcdef').leftByRun, undefined, 'another workstation');
    assert.strictEqual(judgeLock(text({ ...mine, runs: 'x' }), 'ws1', gone, 1, () => false, 'x').leftByRun, undefined, 'runs must be a list of run ids');
  });
  it('the owner line names the runs it works on', () => {
    const o = JSON.parse(newOwner('mailgw-ha CLI', ['20261130-100000-abcdef', '20261130-100500-fedcba'])) as { runs: string[]; pid: number };
    assert.deepStrictEqual(o.runs, ['20261130-100000-abcdef', '20261130-100500-fedcba']);
    assert.strictEqual(o.pid, process.pid);
  });
});
