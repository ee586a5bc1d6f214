// The hostile-input suite against the lab: a spoofed unit that answers with a pre-auth disconnect
// full of markdown and control characters, hostile mail headers and file names on a real unit,
// hostile log lines, and settings that name /dev/zero, FIFOs and directories. Nothing becomes a
// link or a terminal sequence, no file outside the spool is read, no setting makes a read unbounded.
// (The neutralisers themselves: test/unit/core/text.test.ts; in VS Code: test/suite/lab.zz-hostile.test.ts.)
import * as assert from 'assert';
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { parseSettings, UnitConfig } from '../../src/core/config';
import { MemorySecretStore, noPrompts, silentLogger } from '../../src/core/host';
import { cutMark, LogFollower, LogLine } from '../../src/core/log/follow';
import { readMessageSummary } from '../../src/core/message/headers';
import { NotRegularError, readFileLimited } from '../../src/core/message/read';
import { acquireClusterLock, ClusterLockedError, LOCK_NAME, readClusterLock } from '../../src/core/recovery/clusterLock';
import { addUnitHeld, readUnitHeld, removeUnitHeld, UNIT_HELD_DIR } from '../../src/core/recovery/held';
import { RecoveryError } from '../../src/core/recovery/remote';
import { ConnectionOptions, UnitConnection } from '../../src/core/ssh/connection';
import { SshError } from '../../src/core/ssh/errors';
import { knownHostsName } from '../../src/core/ssh/hostKeys';
import { ConnectionPool } from '../../src/core/ssh/pool';
import { readSyncHealth } from '../../src/core/sync/health';
import { listFolder } from '../../src/core/spool/list';
import { messageText } from '../../src/core/text/message';
import { labAddress } from '../lab/lab';
import { envelope, newMailId } from '../lab/mail';
import { waitFor } from '../lab/wait';
import { COMMAND_LINK } from '../hostile/corpus';
import { FakeSshServer, startFakeSshServer } from '../hostile/fakeSshServer';
import { lab } from './hooks';
import { buildCli } from './recoveryHelpers';

const run = promisify(execFile);
// eslint-disable-next-line no-control-regex -- what must not reach a terminal
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\u3164\ufeff\u{E0000}-\u{E007F}]/u;
const VSCODE_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)/i;
/** What the spoofed unit says before key exchange (the review's link, a screen clear, a bidi override). */
const SPOOF = `${COMMAND_LINK} \u001b]0;pwned\u0007\u001b[2J\u001b[HFAKE: all mails recovered OK \u202Egnp.exe`;

function labUnits(): UnitConfig[] {
  const raw = JSON.parse(fs.readFileSync(lab().settingsPath, 'utf8')) as Record<string, unknown>;
  return [...parseSettings(raw['mailgwHa.clusters'], raw['mailgwHa.knownHostsFile']).clusters[0].units];
}
function labCluster() {
  const raw = JSON.parse(fs.readFileSync(lab().settingsPath, 'utf8')) as Record<string, unknown>;
  return parseSettings(raw['mailgwHa.clusters'], raw['mailgwHa.knownHostsFile']).clusters[0];
}

describe('hostile input against the lab', function () {
  this.timeout(60_000);
  const open: UnitConnection[] = [];
  let tmp: string;
  let cli: string;
  let fake: FakeSshServer;

  before(async function () {
    this.timeout(120_000);
    cli = await buildCli();
    fake = await startFakeSshServer(labAddress(30), SPOOF);
  });
  after(async () => {
    await fake?.close();
  });
  beforeEach(async () => {
    await lab().reset();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-hostile-'));
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function connection(unit: { name?: string; host: string; port?: number; username?: string; identityFile?: string }, opts: Partial<ConnectionOptions> = {}): UnitConnection {
    const c = new UnitConnection(
      { label: `lab/${unit.name ?? 'x'}`, host: unit.host, port: unit.port, username: unit.username, identityFile: unit.identityFile },
      { prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [lab().knownHostsPath], sshConfigFile: '/nonexistent', connectTimeoutMs: 5000, ...opts },
    );
    open.push(c);
    return c;
  }

  /** Runs the bundled CLI; returns its exit code and output. */
  async function runCli(args: string[], settings = lab().settingsPath): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, [cli, ...args, '--settings', settings], { encoding: 'utf8', env: { ...process.env, HOME: tmp, SSH_AUTH_SOCK: '' }, timeout: 30_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  function settingsWith(change: (raw: Record<string, unknown>, unit: Record<string, unknown>) => void): string {
    const raw = JSON.parse(fs.readFileSync(lab().settingsPath, 'utf8')) as Record<string, unknown>;
    const unit = (raw['mailgwHa.clusters'] as { units: Record<string, unknown>[] }[])[0].units[0];
    change(raw, unit);
    const file = path.join(tmp, 'settings.json');
    fs.writeFileSync(file, JSON.stringify(raw));
    return file;
  }

  describe('a spoofed unit: SSH disconnect before key exchange with markdown and control characters', () => {
    it('the error carries the server text (the input is real), and as a notification it has no link, icon or control character', async () => {
      const c = connection({ name: 'evil', host: fake.host, port: fake.port });
      const err = await c.connect().then(
        () => assert.fail('connected to the spoofed unit'),
        (e: unknown) => e as SshError,
      );
      assert.ok(err.message.includes(COMMAND_LINK), 'ssh2 hands the server text through');
      const shown = messageText(err.message);
      assert.ok(!VSCODE_LINK.test(shown), shown);
      assert.ok(!RAW_CONTROL.test(shown), JSON.stringify(shown));
      assert.ok(shown.startsWith('lab/evil: '), 'names the unit');
    });

    it('mailgw-ha status prints it with every control character escaped (no screen clear, no title, no fake line)', async () => {
      const settings = settingsWith((_raw, unit) => {
        unit.host = fake.host;
        unit.port = fake.port;
      });
      const r = await runCli(['status'], settings);
      assert.strictEqual(r.code, 1);
      assert.ok(!RAW_CONTROL.test(r.stdout), JSON.stringify(r.stdout));
      assert.ok(!RAW_CONTROL.test(r.stderr), JSON.stringify(r.stderr));
      assert.match(r.stdout, /\\x1b\[2J/, 'the ESC is shown as \\x1b');
      assert.ok(!r.stdout.split('\n').some((l) => l.startsWith('FAKE')), 'no line of its own');
    });

    it('mailgw-ha status --json keeps it valid JSON holding exactly what the server sent', async () => {
      const settings = settingsWith((_raw, unit) => {
        unit.host = fake.host;
        unit.port = fake.port;
      });
      const r = await runCli(['status', '--json'], settings);
      assert.ok(!RAW_CONTROL.test(r.stdout.replace(/\n/g, '')), 'no raw control character, even in JSON');
      const units = (JSON.parse(r.stdout) as { units: { unit: string; error?: string }[] }).units;
      assert.ok(units.find((u) => u.unit === 'fw-a')?.error?.includes(SPOOF), 'the value is the server text');
    });

    it('the pool never lets a caller replace a unit\'s connection by a host of its choosing', async () => {
      const [a] = labUnits();
      const pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [lab().knownHostsPath], sshConfigFile: '/nonexistent' });
      try {
        pool.update(labUnits());
        const real = pool.get(a);
        await real.connect();
        const before = fake.connections;
        assert.throws(() => pool.get({ ...a, host: fake.host, port: fake.port }), (e: Error) => e instanceof SshError && /not the address configured/.test(e.message));
        assert.strictEqual(pool.get(a), real, 'the pooled connection is kept');
        assert.strictEqual(real.state, 'connected');
        assert.strictEqual(fake.connections, before, 'nothing connected to the forged host');
      } finally {
        pool.dispose();
      }
    });
  });

  describe('hostile mail and file names on a unit', () => {
    function putHostileMail(folder: 'spool' | 'vscan' = 'spool'): { id: string } {
      const id = newMailId();
      const b64 = (s: string) => `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
      const head = [
        `From: "[Update trusted host key](command:mailgwHa.removeMails?[{\\"yes\\":true}])" <eve@evil.example>`,
        `To: ${b64('victim\u001b[2J\u001b]0;title\u0007@example.com')}`,
        `Subject: ${b64('invoice \u202Egnp.exe $(check) https://evil.example/x')}`,
        `Message-ID: <$(warning)\u001b[31m@evil.example>`,
        '',
        'body',
      ].join('\r\n');
      const dir = lab().hostPath('secondary', folder);
      fs.writeFileSync(path.join(dir, `${id}.body`), head);
      fs.writeFileSync(path.join(dir, `${id}.env`), envelope(id, 'eve@evil.example', ['victim@example.com']));
      return { id };
    }

    it('mailgw-ha ls shows hostile header values with their control characters escaped', async () => {
      const { id } = putHostileMail();
      const r = await runCli(['ls', 'secondary']);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(id));
      assert.ok(!RAW_CONTROL.test(r.stdout), JSON.stringify(r.stdout));
      assert.ok(r.stdout.includes('\\u202e') || r.stdout.includes('\\\\u202e'), 'the bidi override is visible as an escape');
    });

    it('mailgw-ha ls --json is valid JSON with the header values unchanged', async () => {
      const { id } = putHostileMail();
      const r = await runCli(['ls', 'secondary', '--json']);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.ok(!RAW_CONTROL.test(r.stdout.replace(/\n/g, '')));
      const mail = (JSON.parse(r.stdout) as { mails: { id: string; from?: string; to?: string; subject?: string; messageId?: string }[] }).mails.find((m) => m.id === id)!;
      // Exactly what the header parser reads from the file: escaped for the terminal, not changed.
      const parsed = readMessageSummary(fs.readFileSync(path.join(lab().hostPath('secondary', 'spool'), `${id}.body`)));
      assert.deepStrictEqual([mail.from, mail.to, mail.subject, mail.messageId], [parsed.from, parsed.to, parsed.subject, parsed.messageId]);
      assert.strictEqual(mail.subject, 'invoice \u202Egnp.exe $(check) https://evil.example/x');
    });

    it('hostile file names are listed as "not a mail", escaped, and none fakes a line', async () => {
      const dir = lab().hostPath('secondary', 'spool');
      const names = ['\u001b[2J\u001b[H.body', 'x\nFAKE: all mails recovered OK.env', '\u202Egnp.exe.body', '[a](command:mailgwHa.recover).body', '$(check).env', '\u009b31m.body'];
      for (const n of names) fs.writeFileSync(path.join(dir, n), 'x');
      const r = await runCli(['ls', 'secondary', 'spool']);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.ok(!RAW_CONTROL.test(r.stdout), JSON.stringify(r.stdout));
      assert.ok(!r.stdout.split('\n').some((l) => l.startsWith('FAKE')), r.stdout);
      assert.strictEqual((r.stdout.match(/not a mail/g) ?? []).length, names.length, r.stdout);
    });

    it('a spool name that is a symlink to /etc/shadow is never read', async () => {
      const id = newMailId();
      const cluster = labCluster();
      await lab().exec('secondary', ['ln', '-s', '/etc/shadow', `${lab().spoolDir}/spool/${id}.body`]);
      const c = connection(labUnits()[1]);
      await assert.rejects(readFileLimited(c, `${lab().spoolDir}/spool/${id}.body`, 1 << 20), (e: Error) => e instanceof NotRegularError && /symbolic link/.test(e.message));
      const listing = await listFolder(c, cluster, 'spool');
      assert.ok(!listing.mails.some((m) => m.id === id), 'not listed as a mail');
    });

    it('a FIFO named like a mail is refused at once, not waited on', async () => {
      const id = newMailId();
      await lab().exec('secondary', ['mkfifo', `${lab().spoolDir}/spool/${id}.body`]);
      const c = connection(labUnits()[1]);
      const t0 = Date.now();
      await assert.rejects(readFileLimited(c, `${lab().spoolDir}/spool/${id}.body`, 1 << 20), NotRegularError);
      assert.ok(Date.now() - t0 < 5_000);
    });
  });

  describe('hostile log lines', () => {
    it('mailgw-ha logs prints a line with OSC, ESC and bidi escaped', async () => {
      fs.appendFileSync(lab().hostLogFile('primary'), `2026-11-30 12:00:00 [info] DELIVERY to <a\u001b]0;pwned\u0007\u001b[2J@x>\u202e FAKE\n`);
      const r = await runCli(['logs', 'primary', '--lines', '5']);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes('\\x1b]0;pwned\\x07\\x1b[2J'), r.stdout);
      assert.ok(!RAW_CONTROL.test(r.stdout), JSON.stringify(r.stdout));
    });

    it('a 5 MiB line is handed out cut to 64 KiB, and the next line is intact', async () => {
      const c = connection(labUnits()[0]);
      const follower = new LogFollower(c, { file: lab().logFile, start: { from: 'end' } });
      const got: LogLine[] = [];
      follower.on('lines', (l) => got.push(...l));
      await follower.start();
      try {
        fs.appendFileSync(lab().hostLogFile('primary'), `${'z'.repeat(5 << 20)}\nafter the long line\n`);
        await waitFor('the line after the long one', () => got.some((l) => l.text === 'after the long line'), 30_000);
        const long = got.find((l) => l.text.startsWith('zzz'))!;
        assert.ok(Buffer.byteLength(long.text) <= (64 << 10) + 100, `${Buffer.byteLength(long.text)} bytes`);
        assert.ok(long.text.endsWith(cutMark(64 << 10)));
        assert.strictEqual(got.filter((l) => l.text.startsWith('z')).length, 1, 'one line, not eighty pieces');
      } finally {
        await follower.stop();
      }
    });

    it('a log path that is a symlink (to /etc/shadow) is refused, not followed', async () => {
      await lab().exec('primary', ['ln', '-sf', '/etc/shadow', '/var/phion/logs/evil.log']);
      const c = connection(labUnits()[0]);
      const follower = new LogFollower(c, { file: '/var/phion/logs/evil.log', start: { from: 'start' } });
      const got: LogLine[] = [];
      follower.on('lines', (l) => got.push(...l));
      await assert.rejects(follower.start(), /symbolic link/);
      await follower.stop();
      assert.deepStrictEqual(got, []);
    });
  });

  // The review of issue 27 (docs/security.md, F9–F15); the cases that need no lab are in
  // test/unit/core/hostile.test.ts.
  describe('F9: the state kept on a unit (held marks, the recovery lock) is never read or written through a link', () => {
    const SECRET = 'SECRET-line-of-a-file-outside-the-state';
    const secretFile = '/var/phion/logs/secret.txt';
    const elsewhere = '/var/phion/logs/elsewhere';
    const heldDir = () => `${lab().spoolDir}/${UNIT_HELD_DIR}`;
    const lockDirOnUnit = () => `${lab().spoolDir}/${LOCK_NAME}`;
    /** Runs a fixed script inside the primary (the lab's own hand, as an attacker on the unit would). */
    const onPrimary = async (script: string, ...args: string[]) => {
      const r = await lab().exec('primary', ['sh', '-c', script, 'sh', ...args]);
      assert.strictEqual(r.code, 0, r.stderr.toString());
    };
    const elsewhereNames = async () => (await lab().exec('primary', ['ls', '-A', elsewhere])).stdout.toString().split('\n').filter(Boolean);
    beforeEach(async () => {
      await onPrimary('printf "%s\\n" "$1" > "$2" && mkdir -p "$3"', SECRET, secretFile, elsewhere);
    });

    it('a held mark that is a link (to a secret file) is refused naming the unit and the path; mailgw-ha held shows nothing of it', async () => {
      const id = newMailId();
      await onPrimary('mkdir -m 700 "$1" && ln -s "$2" "$1/$3"', heldDir(), secretFile, id);
      const c = connection(labUnits()[0]);
      await assert.rejects(readUnitHeld(c, labCluster()), (e: Error) => e instanceof RecoveryError && e.message.startsWith('lab/fw-a: ') && e.message.includes(`${heldDir()}/${id}`) && /symbolic link/.test(e.message) && !e.message.includes(SECRET));
      const r = await runCli(['held', '--json', '--journal', path.join(tmp, 'journal.jsonl')]);
      assert.strictEqual(r.code, 1, r.stdout);
      assert.ok(!(r.stdout + r.stderr).includes(SECRET), r.stdout + r.stderr);
      assert.match(r.stderr, /symbolic link/);
    });

    it('a held folder that is a link is refused: no mark is written into, read from or removed in its target', async () => {
      await onPrimary('ln -s "$1" "$2" && printf "%s\\n" "$3" > "$1/$4"', elsewhere, heldDir(), SECRET, newMailId());
      const before = await elsewhereNames();
      const c = connection(labUnits()[0]);
      const id = newMailId();
      const isLinkRefusal = (e: Error) => e instanceof RecoveryError && e.message.startsWith('lab/fw-a: ') && e.message.includes(heldDir()) && /symbolic link/.test(e.message);
      await assert.rejects(addUnitHeld(c, labCluster(), id, 'why'), isLinkRefusal);
      await assert.rejects(readUnitHeld(c, labCluster()), isLinkRefusal);
      await assert.rejects(removeUnitHeld(c, labCluster(), before[0]), isLinkRefusal);
      assert.deepStrictEqual(await elsewhereNames(), before, 'the link target is untouched');
    });

    it("links planted at a held mark's temporary or final name are not written through", async () => {
      const [a, b] = [newMailId(), newMailId()];
      await onPrimary('mkdir -m 700 "$1" && ln -s "$2" "$1/.$3.tmp" && ln -s "$4" "$1/$5"', heldDir(), secretFile, a, elsewhere, b);
      const c = connection(labUnits()[0]);
      await assert.rejects(addUnitHeld(c, labCluster(), a, 'overwrite?'), (e: Error) => /symbolic link/.test(e.message) && e.message.includes(`${heldDir()}/.${a}.tmp`));
      await assert.rejects(addUnitHeld(c, labCluster(), b, 'into the folder?'), (e: Error) => /symbolic link/.test(e.message) && e.message.includes(`${heldDir()}/${b}`));
      assert.strictEqual((await lab().exec('primary', ['cat', secretFile])).stdout.toString(), `${SECRET}\n`, 'the linked file is unchanged');
      assert.deepStrictEqual(await elsewhereNames(), [], 'nothing moved into the linked folder');
    });

    it('a recovery lock folder or owner that is a link is refused naming it; the linked text is never shown as an owner', async () => {
      const cluster = labCluster();
      const c = connection(labUnits()[0]);
      const isLinkRefusal = (where: string) => (e: Error) => e instanceof RecoveryError && !(e instanceof ClusterLockedError) && e.message.startsWith('lab/fw-a: ') && e.message.includes(where) && /symbolic link/.test(e.message) && !e.message.includes(SECRET);
      // The lock folder itself a link to a folder holding a plausible owner.
      await onPrimary('printf "%s\\n" "$1" > "$2/owner" && ln -s "$2" "$3"', JSON.stringify({ user: 'alice', host: 'ws9', pid: 1, tool: SECRET, at: '2026-01-01T00:00:00.000Z' }), elsewhere, lockDirOnUnit());
      await assert.rejects(acquireClusterLock(c, cluster, 'test', { takeOver: true }), isLinkRefusal(lockDirOnUnit()));
      await assert.rejects(readClusterLock(c, cluster), isLinkRefusal(lockDirOnUnit()));
      assert.deepStrictEqual(await elsewhereNames(), ['owner'], 'the linked folder is untouched');
      // A real lock folder whose owner is a link to a secret file.
      await onPrimary('rm -f "$1" && mkdir -m 700 "$1" && ln -s "$2" "$1/owner"', lockDirOnUnit(), secretFile);
      await assert.rejects(acquireClusterLock(c, cluster, 'test', { takeOver: true }), isLinkRefusal(`${lockDirOnUnit()}/owner`));
      await assert.rejects(readClusterLock(c, cluster), isLinkRefusal(`${lockDirOnUnit()}/owner`));
      const r = await runCli(['recover', '--yes', '--json', '--take-over-lock', '--journal', path.join(tmp, 'journal.jsonl')]);
      assert.strictEqual(r.code, 1);
      assert.ok(!(r.stdout + r.stderr).includes(SECRET), r.stdout);
      assert.match(r.stdout, /symbolic link/);
      assert.strictEqual((await lab().exec('primary', ['cat', secretFile])).stdout.toString(), `${SECRET}\n`);
    });
  });

  describe('F11: state files on this machine', () => {
    it('a CLI recovery under umask 0 leaves only private state: folders 0700 (one made 0755 earlier tightened), files 0600', async () => {
      lab().strand({ mails: 3 });
      const state = path.join(tmp, 'state');
      fs.mkdirSync(path.join(state, 'mailgw-ha'), { recursive: true, mode: 0o755 });
      fs.chmodSync(path.join(state, 'mailgw-ha'), 0o755);
      const r = await run('sh', ['-c', 'umask 0; exec "$@"', 'sh', process.execPath, cli, 'recover', '--yes', '--json', '--settings', lab().settingsPath], { encoding: 'utf8', env: { ...process.env, HOME: tmp, XDG_STATE_HOME: state, SSH_AUTH_SOCK: '' }, timeout: 60_000 });
      assert.strictEqual((JSON.parse(r.stdout) as { outcome: string }).outcome, 'done', r.stdout);
      const found: Record<string, string> = {};
      const walk = (dir: string) => {
        found[path.relative(state, dir)] = (fs.statSync(dir).mode & 0o777).toString(8);
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          if (e.isDirectory()) walk(path.join(dir, e.name));
          else found[path.relative(state, path.join(dir, e.name))] = (fs.statSync(path.join(dir, e.name)).mode & 0o777).toString(8);
        }
      };
      walk(path.join(state, 'mailgw-ha'));
      const names = Object.keys(found);
      assert.ok(names.some((n) => n.endsWith('.done.jsonl')) && names.some((n) => n.endsWith('.report.json')) && names.includes('mailgw-ha/audit.jsonl'), JSON.stringify(found));
      const wrong = Object.entries(found).filter(([n, m]) => m !== (fs.statSync(path.join(state, n)).isDirectory() ? '700' : '600'));
      assert.deepStrictEqual(wrong, [], JSON.stringify(found));
    });
  });

  describe('F12: one long log line does not hide the earlier ones', () => {
    it('mailgw-ha logs --lines 10 after a 200 KB line prints the lines before it too', async () => {
      const before = Array.from({ length: 20 }, (_, i) => `2026-11-30 12:00:${String(i).padStart(2, '0')} [info] line ${i + 1} before`);
      fs.appendFileSync(lab().hostLogFile('primary'), `${before.join('\n')}\n${'z'.repeat(200_000)}\nafter the long line\n`);
      const r = await runCli(['logs', 'primary', '--lines', '10']);
      assert.strictEqual(r.code, 0, r.stderr);
      const out = r.stdout.split('\n').filter(Boolean);
      assert.strictEqual(out.length, 10, r.stdout.slice(0, 500));
      assert.deepStrictEqual([...out.slice(0, 8), out[9]], [...before.slice(12), 'after the long line']);
      assert.ok(out[8].startsWith('zzz') && out[8].endsWith(cutMark(64 << 10)), 'the long line, cut');
    });

    it('past the read-back bound it says how many lines it shows and why the rest are not', async () => {
      const mb = 'y'.repeat(1 << 20);
      fs.appendFileSync(lab().hostLogFile('primary'), `${Array.from({ length: 6 }, () => mb).join('\n')}\nthe last line\n`);
      const r = await runCli(['logs', 'primary', '--lines', '10']);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout.split('\n').filter(Boolean).length, 4, 'three of the 1 MiB lines (cut) and the last line: what 4 MiB hold');
      assert.match(r.stderr, /only 4 of the last 10 lines: the last 4,194,304 bytes read back \(the bound\) hold no more; the [\d,]+ bytes before them were not read/);
    });
  });

  describe('F13: lock owner text', () => {
    it('an owner holding backslashes and quotes (a Windows domain user, a path) is read back exactly, not as "unknown"', async () => {
      const cluster = labCluster();
      const tool = 'VS Code extension (CORP\\ops, C:\\Tools\\mailgw-ha "portable")';
      const held = await acquireClusterLock(connection(labUnits()[0]), cluster, tool);
      try {
        const err = await acquireClusterLock(connection(labUnits()[0]), cluster, 'second').then(
          () => assert.fail('took a held lock'),
          (e: unknown) => e as ClusterLockedError,
        );
        assert.ok(err instanceof ClusterLockedError, String(err));
        assert.strictEqual(err.lock.owner?.tool, tool, err.message);
        assert.strictEqual(JSON.parse(err.lock.raw).tool, tool, 'the raw owner is exactly what was written');
        assert.strictEqual((await readClusterLock(connection(labUnits()[0]), cluster))?.owner?.tool, tool);
      } finally {
        await held.release();
      }
      assert.strictEqual(await readClusterLock(connection(labUnits()[0]), cluster), undefined, 'released: the heartbeat and release compare the owner exactly');
    });
  });

  describe('settings naming /dev/zero, FIFOs and directories', () => {
    const fifo = () => {
      const p = path.join(tmp, 'fifo');
      execFileSync('mkfifo', [p]);
      return p;
    };

    for (const [what, make] of [
      ['/dev/zero', () => '/dev/zero'],
      ['a FIFO', fifo],
      ['a directory', () => tmp],
    ] as const) {
      it(`identityFile = ${what}: a clear error naming the identity file, at once`, async () => {
        const [a] = labUnits();
        const c = connection({ ...a, identityFile: make() }, { agentSocket: undefined });
        const t0 = Date.now();
        await assert.rejects(c.connect(), (e: Error) => e instanceof SshError && e.code === 'config' && /identity file/.test(e.message) && /not a regular file/.test(e.message));
        assert.ok(Date.now() - t0 < 10_000, `${Date.now() - t0} ms`);
      });

      it(`knownHostsFile = ${what}: a clear error naming the known_hosts file, at once`, async () => {
        const [a] = labUnits();
        const c = connection(a, { knownHostsFiles: [make()] });
        const t0 = Date.now();
        await assert.rejects(c.connect(), (e: Error) => /known_hosts file/.test(e.message) && /not a regular file/.test(e.message));
        assert.ok(Date.now() - t0 < 10_000);
      });
    }

    it('an ssh config that is /dev/zero is refused naming it', async () => {
      const [a] = labUnits();
      const c = connection(a, { sshConfigFile: '/dev/zero' });
      await assert.rejects(c.connect(), (e: Error) => /ssh config/.test(e.message) && /character device/.test(e.message));
    });

    it('mailgw-ha --settings /dev/zero fails at once naming --settings', async () => {
      const r = await runCli(['status'], '/dev/zero');
      assert.strictEqual(r.code, 1);
      assert.match(r.stderr, /--settings: \/dev\/zero is a character device/);
    });

    it('mailgwHa.knownHostsFile = /dev/zero in the CLI settings: refused naming it, exit 1', async () => {
      const r = await runCli(['status'], settingsWith((raw) => (raw['mailgwHa.knownHostsFile'] = '/dev/zero')));
      assert.strictEqual(r.code, 1);
      assert.match(r.stdout, /known_hosts file/);
    });

    it('mailgwHa.syncTransactionLog = /dev/zero on the unit: "unknown" pending actions, no endless read', async () => {
      const cluster = labCluster();
      const pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [lab().knownHostsPath], sshConfigFile: '/nonexistent' });
      try {
        const t0 = Date.now();
        const h = await readSyncHealth(pool, cluster, { intervalMs: 10_000, lagWarningMs: 60_000, transactionLog: '/dev/zero' });
        assert.strictEqual(h.pendingActions, 'unknown');
        assert.ok(Date.now() - t0 < 8_000, `${Date.now() - t0} ms`);
      } finally {
        pool.dispose();
      }
    });

    it("a key pinned in the user's known_hosts wins over another file listing the presented key: refused as changed, before login", async () => {
      const [a] = labUnits();
      // The user's pin: some other ed25519 key for this host (as if the unit had been reinstalled by an attacker).
      const other = execFileSync('ssh-keygen', ['-t', 'ed25519', '-N', '', '-q', '-f', path.join(tmp, 'k')], { stdio: 'pipe' }) && fs.readFileSync(path.join(tmp, 'k.pub'), 'utf8').split(' ');
      const pin = path.join(tmp, 'user_known_hosts');
      fs.writeFileSync(pin, `${knownHostsName(a.host, a.port ?? 22)} ${other[0]} ${other[1]}\n`);
      const c = connection(a, { userKnownHostsFiles: [pin], knownHostsFiles: [lab().knownHostsPath] });
      await assert.rejects(c.connect(), (e: Error) => e instanceof SshError && e.code === 'hostkey-changed' && e.message.includes(pin));
    });
  });
});
