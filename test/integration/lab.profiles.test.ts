// The lab's box profiles are real variants, checked from outside with the system's own tools (OpenSSH
// client, sftp, the units' shells): what the legacy sshd offers and negotiates, that Dropbear serves
// shell and SFTP, that a minimal unit's tools are BusyBox's and its /bin/kill takes names, that box-log
// writes the box's line layout under the sub-log name; and that the lab's HA sync works on each. One
// side lab per profile (addresses 127.<net>.0.50-57), up one after the other; nothing of the product.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BUSYBOX_TOOLS } from '../lab/busybox';
import { DEFAULT_STATE_DIR, ExecResult, Lab, labPair } from '../lab/lab';
import { LEGACY_ALGORITHMS, ProfileName, zonedStamp } from '../lab/profiles';
import { waitFor } from '../lab/wait';
import { trackLab } from './hooks';

function run(cmd: string, args: string[], input = '', timeoutMs = 30_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

function ok(r: ExecResult, what: string): ExecResult {
  assert.strictEqual(r.code, 0, `${what} failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
  return r;
}

/** The server's KEXINIT proposal as `ssh -vv` prints it: "KEX algorithms" → list, etc. */
function serverProposal(vv: string): Record<string, string> {
  const block = vv.split('peer server KEXINIT proposal')[1] ?? '';
  const out: Record<string, string> = {};
  for (const m of block.matchAll(/^debug2: ([A-Za-z ]+): (.*)$/gm)) if (!(m[1] in out)) out[m[1]] = m[2];
  return out;
}

/** A side lab of `profile` with the HA sync on, up for the describe block. */
function profileLab(profile: ProfileName, first: number, extra: Partial<ConstructorParameters<typeof Lab>[0]> = {}): () => Lab {
  const l = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'side', `profile-${profile}`), addresses: labPair(first), profile, syncDelayMs: 300, ...extra });
  const untrack = trackLab(l);
  before(async function () {
    this.timeout(120_000);
    await l.up();
  });
  after(async function () {
    this.timeout(120_000);
    await l.down();
    untrack();
  });
  return () => l;
}

/** The lab's HA sync (OpenSSH client and tar on the active unit, the partner's SSH server and shell) mirrors a spooled mail. */
async function syncMirrors(l: Lab): Promise<void> {
  l.pauseDelivery('primary');
  const m = l.putMail('primary', 'spool');
  await waitFor(`the HA sync to mirror ${m.id} to the secondary (see ${l.hostLogFile('primary')})`, () => fs.existsSync(path.join(l.hostPath('secondary', 'spool'), `${m.id}.env`)) && fs.existsSync(path.join(l.hostPath('secondary', 'spool'), `${m.id}.body`)), 20_000);
  l.resumeDelivery('primary');
  await l.waitForQuiet();
  assert.strictEqual(l.deliveries().total, 1);
  assert.ok(!fs.existsSync(path.join(l.hostPath('secondary', 'spool'), `${m.id}.env`)), 'the delivered mail left the secondary too');
}

describe('lab profiles: each a real variant of the box (separate labs)', function () {
  this.timeout(120_000);

  describe('legacy', function () {
    const l = profileLab('legacy', 50);

    it('offers only ssh-rsa, diffie-hellman-group14-sha1, aes128/256-ctr and hmac-sha1, and OpenSSH negotiates them', async () => {
      const r = ok(await run('ssh', ['-vv', ...l().sshArgs('secondary'), 'true']), 'ssh -vv with the lab options');
      const offer = serverProposal(r.stderr);
      // OpenSSH 9.2 adds its strict-kex marker to any KEX list (a pseudo-algorithm, CVE-2023-48795).
      assert.deepStrictEqual(offer['KEX algorithms']?.split(',').filter((a) => !a.startsWith('kex-strict-')), [LEGACY_ALGORITHMS.kex]);
      assert.strictEqual(offer['host key algorithms'], LEGACY_ALGORITHMS.hostKey);
      assert.strictEqual(offer['ciphers stoc'], LEGACY_ALGORITHMS.ciphers);
      assert.strictEqual(offer['MACs stoc'], LEGACY_ALGORITHMS.macs);
      assert.match(r.stderr, new RegExp(`kex: algorithm: ${LEGACY_ALGORITHMS.kex}\\b`));
      assert.match(r.stderr, /kex: host key algorithm: ssh-rsa\b/);
      assert.match(r.stderr, /kex: server->client cipher: aes128-ctr MAC: hmac-sha1 /);
      assert.match(fs.readFileSync(l().knownHostsPath, 'utf8'), /^\S+ ssh-rsa AAAA/);
    });

    it('is refused by a default OpenSSH 9 client (no options)', async () => {
      const args = l().sshArgs('secondary').filter((a, i, all) => !(a === '-o' && /^(HostKeyAlgorithms|KexAlgorithms)=/.test(all[i + 1] ?? '')) && !/^(HostKeyAlgorithms|KexAlgorithms)=/.test(a));
      const r = await run('ssh', [...args, 'true']);
      assert.strictEqual(r.code, 255, r.stderr);
      assert.match(r.stderr, /no matching (key exchange method|host key type) found/);
    });

    it('runs the HA sync and the units\' own scp (their ~/.ssh/config has the options)', async () => {
      await l().reset();
      await syncMirrors(l());
      const primary = l().unit('primary').address;
      ok(await run('ssh', [...l().sshArgs('secondary'), `echo x > /tmp/lab-legacy-scp && scp -q /tmp/lab-legacy-scp root@${primary}:/var/phion/spool/mgw/box1_mailgw/input/x.part && rm -f /tmp/lab-legacy-scp`]), 'scp from the secondary to the primary');
      assert.ok(fs.existsSync(path.join(l().hostPath('primary', 'input'), 'x.part')));
    });
  });

  describe('dropbear', function () {
    const l = profileLab('dropbear', 52);

    it('serves shell logins as root by key with Dropbear, its host key in the lab\'s known_hosts', async () => {
      const r = ok(await run('ssh', ['-v', ...l().sshArgs('primary'), 'hostname']), 'ssh to Dropbear');
      assert.strictEqual(r.stdout.trim(), 'fw-a');
      assert.match(r.stderr, /remote software version dropbear_\d{4}\.\d+/);
      assert.strictEqual(l().status().every((s) => s.sshdPid !== null), true, 'the listener is a dropbear process');
      const [a] = fs.readFileSync(l().knownHostsPath, 'utf8').trim().split('\n');
      assert.match(a, /^\S+ ssh-ed25519 AAAA/);
      assert.strictEqual(a.split(' ').slice(1).join(' '), fs.readFileSync(`${path.join(l().stateDir, 'units', 'fw-a', 'dropbear_ed25519_host_key')}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' '));
    });

    it('serves SFTP (Dropbear runs /usr/lib/sftp-server inside the unit)', async () => {
      fs.writeFileSync(path.join(l().hostPath('secondary', 'spool'), 'probe.txt'), 'probe\n');
      const local = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-sftp-')), 'probe.txt');
      const r = ok(await run('sftp', ['-F', l().sshConfigPath, '-o', 'BatchMode=yes', '-b', '-', 'lab-secondary'], `ls -l /var/phion/spool/mgw/box1_mailgw/spool\nget /var/phion/spool/mgw/box1_mailgw/spool/probe.txt ${local}\n`), 'sftp');
      assert.match(r.stdout, /probe\.txt/);
      assert.strictEqual(fs.readFileSync(local, 'utf8'), 'probe\n');
      fs.rmSync(path.dirname(local), { recursive: true });
      fs.rmSync(path.join(l().hostPath('secondary', 'spool'), 'probe.txt'));
    });

    it('runs the HA sync (OpenSSH client on one unit, Dropbear on the other)', async () => {
      await l().reset();
      await syncMirrors(l());
    });
  });

  describe('minimal (long gateway name)', function () {
    const l = profileLab('minimal', 54, { server: 'mailsrv01', service: 'mailgateway' });

    it('runs BusyBox as the login shell and for every tool the extension uses; pgrep/pkill are absent', async () => {
      const script = `for t in "$@"; do printf '%s %s\\n' "$t" "$(readlink -f "/usr/bin/$t")"; done; for t in pgrep pkill; do [ -e "/usr/bin/$t" ] || echo "absent $t"; done\n`;
      const tools = BUSYBOX_TOOLS.filter((t) => t !== '[');
      const r = ok(await run('ssh', [...l().sshArgs('primary'), `readlink /proc/$$/exe; sh -s -- ${tools.join(' ')}`], script), 'tools on the minimal unit');
      const lines = r.stdout.trim().split('\n');
      assert.match(lines[0], /busybox$/, 'root\'s login shell');
      for (const t of tools) assert.ok(lines.includes(`${t} /usr/bin/busybox`) || lines.some((x) => x.startsWith(`${t} `) && x.endsWith('/busybox')), `${t} is BusyBox's: ${r.stdout}`);
      assert.ok(lines.includes('absent pgrep') && lines.includes('absent pkill'), r.stdout);
      const find = await run('ssh', [...l().sshArgs('primary'), 'find /var/phion -maxdepth 0 -printf %f']);
      assert.notStrictEqual(find.code, 0, 'BusyBox find has no -printf');
      assert.match(find.stderr, /unrecognized: -printf/);
    });

    it('has a /bin/kill that takes the 15-character process name, as util-linux\'s does', async () => {
      await l().reset();
      const m = l().putMail('primary', 'input');
      const full = await run('ssh', [...l().sshArgs('primary'), '/bin/kill -s SIGUSR2 mailsrv01_mailgateway']);
      assert.strictEqual(full.code, 1, full.stderr);
      assert.match(full.stderr, /cannot find process "mailsrv01_mailgateway"/);
      ok(await run('ssh', [...l().sshArgs('primary'), '/bin/kill -s SIGUSR2 mailsrv01_mailg']), 'kill by the cut name');
      await l().waitForLog('primary', `SPOOLER new mail inserted (id=${m.id})`);
      // BusyBox's pidof matches otherwise: not the cut name of a process whose name was cut, but the
      // basename of its argv[0] (here the full name of the simulator's link).
      const pidof = await run('ssh', [...l().sshArgs('primary'), 'pidof mailsrv01_mailg; echo "rc=$?"; pidof mailsrv01_mailgateway; echo "rc=$?"']);
      assert.match(pidof.stdout, /^rc=1\n\d+\nrc=0\n$/, pidof.stdout);
    });

    it('runs the HA sync with BusyBox sh, tar, mkdir, mv and rm', async () => {
      await l().reset();
      await syncMirrors(l());
    });
  });

  describe('box-log', function () {
    const l = profileLab('box-log', 56);

    it('writes the _mailgw sub-log in local time, type before a non-zero offset, with Notice/Security/Internal lines', async () => {
      await l().reset();
      assert.strictEqual(l().logFile, '/var/phion/logs/srv_box1_mailgw_mailgw.log');
      const m = l().putMail('primary', 'input');
      ok(await l().exec('primary', ['/usr/bin/pkill', '-USR2', '-x', l().processName]), 'pkill');
      const [inserted] = await l().waitForLog('primary', `SPOOLER new mail inserted (id=${m.id})`);
      const now = zonedStamp(new Date(), 'Europe/Vienna');
      assert.notStrictEqual(now.offset, '+00:00');
      const re = /^(\d{4} \d\d \d\d \d\d:\d\d:\d\d) (Info|Notice|Warning|Error|Security|Internal) +([+-]\d\d:\d\d) (.*)$/;
      const parsed = re.exec(inserted);
      assert.ok(parsed, inserted);
      assert.strictEqual(parsed[3], now.offset);
      assert.strictEqual(inserted.slice(20, 35), `Info     ${now.offset}`);
      // Local wall-clock time: within a minute of the zone's time now.
      const asUtc = (s: string) => Date.parse(`${s.replace(/^(\d{4}) (\d\d) (\d\d) /, '$1-$2-$3T')}Z`);
      assert.ok(Math.abs(asUtc(parsed[1]) - asUtc(now.stamp)) < 60_000, `${parsed[1]} vs ${now.stamp}`);
      for (const type of ['Notice', 'Security', 'Internal']) await l().waitForLog('primary', new RegExp(`^\\S+ \\S+ \\S+ \\S+ ${type} +[+-]\\d\\d:\\d\\d `), 1, 15_000);
      assert.ok(l().logLines('primary').every((x) => re.test(x)), 'every line in the box layout');
      const settings = l().settings()['mailgwHa.clusters'] as { logFile?: string }[];
      assert.strictEqual(settings[0].logFile, '/var/phion/logs/srv_box1_mailgw_mailgw.log');
      const date = ok(await run('ssh', [...l().sshArgs('primary'), 'date +%z']), 'date on the unit').stdout.trim();
      assert.strictEqual(date, now.offset.replace(':', ''), 'the unit runs in local time (TZ)');
    });

    it('rotates under the sub-log name, and can leave logFile out of the settings', async () => {
      const aside = await l().rotate('primary');
      assert.match(path.basename(aside), /^srv_box1_mailgw_mailgw\.log\.\d{8}-\d{6}(-\d+)?$/);
      const hidden = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'side', 'profile-box-log-nofile'), profile: 'box-log', logFileSetting: false, port: 22 });
      assert.strictEqual((hidden.settings()['mailgwHa.clusters'] as { logFile?: string }[])[0].logFile, undefined);
    });

    it('runs the HA sync', async () => {
      await l().reset();
      await syncMirrors(l());
    });
  });
});
