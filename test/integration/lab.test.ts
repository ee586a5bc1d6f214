// The lab itself, checked with real processes: OpenSSH clients against the units' sshd, the gateway
// simulator signalled by name inside a unit, separate labs for long names and for `down`. On every box
// profile (MAILGW_LAB_PROFILE): where a profile changes what the lab offers (BusyBox has no pgrep/pkill
// but a /bin/kill that takes names; box-log writes another line layout and log name; legacy needs old
// algorithms), these checks use what that profile's unit really has.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Client } from 'ssh2';
import { DEFAULT_STATE_DIR, ExecResult, Lab, labPair, REPO_ROOT } from '../lab/lab';
import { profileFromEnv } from '../lab/profiles';
import { waitFor } from '../lab/wait';
import { lab, trackLab } from './hooks';

/** Run a host command; resolves with its exit code and output (never rejects on a non-zero exit). */
function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
  });
}

/** `ssh root@UNIT COMMAND` with the system OpenSSH client, the lab key and the lab's known_hosts. */
function ssh(l: Lab, unit: string, command: string): Promise<ExecResult> {
  return run('ssh', [...l.sshArgs(unit), command]);
}

function ok(r: ExecResult, what: string): ExecResult {
  assert.strictEqual(r.code, 0, `${what} failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
  return r;
}

/** `p`, or a rejection after `ms` (the timer does not keep mocha alive once `p` settles). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function sshLogin(l: Lab, host: string, port: number, username: string, password: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => resolve(c));
    c.once('error', reject);
    c.connect({ host, port, username, password, readyTimeout: 10_000, tryKeyboard: false, algorithms: l.profile.ssh2Algorithms });
  });
}


/** argv, run on a unit, that prints the PIDs named exactly `name` (exit 1: none): pgrep -x, or on BusyBox units (no pgrep) a walk over /proc. */
function pidsByName(l: Lab, name: string): string[] {
  if (!l.profile.busybox) return ['pgrep', '-x', name];
  return ['sh', '-c', 'r=1; for d in /proc/[0-9]*; do read -r c < "$d/comm" 2>/dev/null && [ "$c" = "$1" ] && echo "${d#/proc/}" && r=0; done; exit $r', 'sh', name];
}

/** A whole log line of the unit's profile: stamp, then type and offset in the profile's order, then `rest` (a regex source). */
function lineRe(l: Lab, level: string, rest: string): RegExp {
  const stamp = '\\d{4} \\d\\d \\d\\d \\d\\d:\\d\\d:\\d\\d';
  const lvl = level.padEnd(8);
  return l.profile.boxLog ? new RegExp(`^${stamp} ${lvl} [+-]\\d\\d:\\d\\d ${rest}$`) : new RegExp(`^${stamp} \\+00:00 ${lvl} ${rest}$`);
}

function remoteExec(c: Client, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err, stream) => {
      if (err) return reject(err);
      let out = '';
      stream.on('data', (d: Buffer) => (out += d.toString()));
      stream.stderr.on('data', () => undefined);
      stream.on('close', () => resolve(out));
    });
  });
}

function pidsInNamespaceOf(pid: number): number[] {
  const ns = fs.readlinkSync(`/proc/${pid}/ns/pid`);
  return fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return fs.readlinkSync(`/proc/${n}/ns/pid`) === ns;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('lab: the simulated HA pair', function () {
  beforeEach(async function () {
    await lab().reset();
  });

  it('runs the seed manual procedure verbatim over ssh, delivering each stranded mail once', async function () {
    const l = lab();
    const m = l.strand({ mails: 20 });
    const spool = '/var/phion/spool/mgw/box1_mailgw/spool';
    const primary = l.unit('primary').address;

    // On the secondary: look at the stranded mail.
    const ls = ok(await ssh(l, 'secondary', `cd ${spool} && ls -l`), 'ls -l on the secondary');
    for (const id of m.secondarySpool) assert.match(ls.stdout, new RegExp(`${id}\\.body`));
    assert.strictEqual(ls.stdout.split('\n').filter((x) => /\.(body|env)$/.test(x)).length, 40);

    // On the secondary: copy everything to the primary's input/ (uses the secondary's own
    // /root/.ssh key and known_hosts, as on a real pair).
    ok(await ssh(l, 'secondary', `cd ${spool} && scp * root@${primary}:/var/phion/spool/mgw/box1_mailgw/input/`), 'scp on the secondary');
    assert.strictEqual(fs.readdirSync(l.hostPath('primary', 'input')).length, 40);

    // On the primary: find the gateway by name, then signal that PID. Debian's /bin/kill (procps-ng)
    // cannot take a process name ("failed to parse argument"), so the name goes to pgrep, the PID to kill.
    // A BusyBox unit has no pgrep, but its /bin/kill takes the name, as the seed's procedure has it.
    if (l.profile.busybox) ok(await ssh(l, 'primary', '/bin/kill -s SIGUSR2 box1_mailgw'), 'kill -s SIGUSR2 box1_mailgw on the primary');
    else {
      const pid = ok(await ssh(l, 'primary', 'pgrep -x box1_mailgw'), 'pgrep on the primary').stdout.trim();
      assert.match(pid, /^\d+$/, `one gateway PID expected, got ${JSON.stringify(pid)}`);
      ok(await ssh(l, 'primary', `/bin/kill -s SIGUSR2 ${pid}`), 'kill -s SIGUSR2 on the primary');
    }
    const inserted = await l.waitForLog('primary', 'SPOOLER new mail inserted', 20);
    for (const id of m.secondarySpool) assert.ok(inserted.some((x) => x.includes(`(id=${id})`)), `no insertion logged for ${id}`);
    assert.match(inserted[0], lineRe(l, 'Info', 'SPOOLER new mail inserted \\(id=\\d{5}-\\d{5}-\\d{5}\\)'));

    // On the secondary: remove the copied mail.
    ok(await ssh(l, 'secondary', `cd ${spool} && rm * -f`), 'rm on the secondary');
    assert.deepStrictEqual(fs.readdirSync(l.hostPath('secondary', 'spool')), []);

    const d = await waitFor('20 deliveries', () => (l.deliveries().total >= 20 ? l.deliveries() : undefined), 15_000);
    for (const id of m.secondarySpool) assert.strictEqual(d.byMessageId[m.messageIds[id]], 1, `${m.messageIds[id]} delivered ${d.byMessageId[m.messageIds[id]] ?? 0} times`);
    assert.deepStrictEqual(d.duplicated, []);
    assert.strictEqual(d.total, 20);
    // One delivery line per recipient (1 to 3 per mail).
    const delivered = l.logLines('primary').filter((x) => x.includes('DELIVERY mail delivered'));
    assert.ok(delivered.length >= 20 && delivered.length <= 60, `${delivered.length} delivery lines for 20 mails`);
    assert.strictEqual(new Set(delivered.map((x) => /\(id=([^,]+),/.exec(x)![1])).size, 20, 'every mail has its delivery lines');
    assert.match(delivered[0], lineRe(l, 'Info', 'DELIVERY mail delivered \\(id=\\d{5}-\\d{5}-\\d{5}, message-id=<lab-[0-9a-f]+-\\d+@lab\\.example>, to=[^)]+@dest\\.example\\)'));
  });

  it('keeps a SIGUSR2 sent by name on the primary away from the secondary simulator', async function () {
    const l = lab();
    await l.startGateway('secondary'); // both simulators run, each in its own PID namespace
    const onHost = ok(await run('pgrep', ['-x', l.processName]), 'pgrep on the host');
    // The host sees both of this lab's simulators by name (other labs may run more of them).
    const hostPids = onHost.stdout.trim().split('\n').map(Number);
    const ours = l.status().map((u) => u.gateway?.pid);
    assert.strictEqual(ours.length, 2);
    for (const pid of ours) assert.ok(pid !== undefined && hostPids.includes(pid), `simulator ${pid} visible by name on the host (${hostPids.join(',')})`);
    const a = l.putMail('primary', 'input');
    const b = l.putMail('secondary', 'input');

    ok(await ssh(l, 'primary', l.usr2ByName(l.processName).join(' ')), 'SIGUSR2 by name on the primary');
    await l.waitForLog('primary', `SPOOLER new mail inserted (id=${a.id})`);
    // An absence check, so a window: the secondary's simulator would have handled a stray SIGUSR2
    // within milliseconds; load can only make a wrong insertion come later (this check weaker), never
    // fail a correct run. There is no event to wait for when nothing is meant to happen.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepStrictEqual(fs.readdirSync(l.hostPath('secondary', 'input')).sort(), b.files.sort());
    assert.deepStrictEqual(l.logLines('secondary').filter((x) => x.includes('SPOOLER')), []);
  });

  it('inserts only complete pairs with mail file names, and renames an id already in spool', async function () {
    const l = lab();
    l.pauseDelivery('primary');
    const input = l.hostPath('primary', 'input');
    const whole = l.putMail('primary', 'input');
    const half = l.putMail('primary', 'input', { parts: 'body' });
    const clash = l.putMail('primary', 'input');
    l.putMail('primary', 'spool', { id: clash.id });
    fs.writeFileSync(path.join(input, '.x.body.mgwha-tmp'), 'tmp');
    fs.writeFileSync(path.join(input, 'x.body.part'), 'part');
    ok(await l.exec('primary', l.usr2ByName(l.processName)), 'SIGUSR2 by name');
    const lines = await l.waitForLog('primary', 'SPOOLER new mail inserted', 2);
    assert.ok(lines.some((x) => x.includes(`(id=${whole.id})`)));
    await l.waitForLog('primary', `SPOOLER incomplete mail in input ignored (file=${half.id}.body)`);
    assert.ok(l.logLines('primary').some((x) => x.includes(`SPOOLER id already in spool, mail renamed (id=${clash.id}, new-id=`)));
    assert.deepStrictEqual(fs.readdirSync(input).sort(), ['.x.body.mgwha-tmp', `${half.id}.body`, 'x.body.part'].sort());
    assert.strictEqual(fs.readdirSync(l.hostPath('primary', 'spool')).length, 6);
    assert.ok(!l.logLines('primary').some((x) => /Warning.*(mgwha-tmp|\.part)/.test(x)), 'temporary names must be ignored silently');
  });

  it('strands mail as an interrupted takeback leaves it', async function () {
    const l = lab();
    l.pauseDelivery('primary'); // keep the duplicates in the primary's spool for the checks below
    const m = l.strand({ mails: 6, vscan: 2, duplicates: 2, orphans: 3, bigMb: 1 });
    const s = l.status();
    assert.deepStrictEqual([s[1].counts, s[1].incomplete], [{ spool: 7, vscan: 2, input: 0 }, { spool: 3, vscan: 0, input: 0 }]);
    assert.deepStrictEqual(s[0].counts, { spool: 2, vscan: 0, input: 0 });
    assert.strictEqual(m.secondarySpool.length, 7);
    assert.ok(m.big && m.secondarySpool.includes(m.big));
    assert.deepStrictEqual(m.duplicates, m.secondarySpool.slice(0, 2));
    assert.deepStrictEqual(m.orphans.map((n) => n.replace(/^.*\./, '')), ['body', 'env', 'body']);
    const sec = l.hostPath('secondary', 'spool');
    const pri = l.hostPath('primary', 'spool');
    for (const id of m.duplicates) assert.deepStrictEqual(fs.readFileSync(path.join(pri, `${id}.body`)), fs.readFileSync(path.join(sec, `${id}.body`)));
    const ids = [...m.secondarySpool, ...m.secondaryVscan];
    assert.strictEqual(new Set(ids.map((id) => m.messageIds[id])).size, ids.length, 'Message-IDs are unique');
    const bodies = m.secondarySpool.map((id) => fs.readFileSync(path.join(sec, `${id}.body`)));
    assert.ok(fs.statSync(path.join(sec, `${m.big}.body`)).size >= 1024 * 1024);
    for (const id of m.secondarySpool.filter((x) => x !== m.big)) {
      const size = fs.statSync(path.join(sec, `${id}.body`)).size;
      assert.ok(size >= 2048 && size <= 66 * 1024, `body of ${id} is ${size} bytes`);
      assert.ok(Date.now() - fs.statSync(path.join(sec, `${id}.env`)).mtimeMs > 60_000, 'stranded mail is a bit old');
      const env = fs.readFileSync(path.join(sec, `${id}.env`), 'utf8');
      assert.match(env, new RegExp(`^X-Mgw-Envelope: 1\\nId: ${id}\\nReceived: \\S+Z\\nMAIL FROM:<[^>]+>\\n(RCPT TO:<[^>]+>\\n)+$`));
    }
    const all = Buffer.concat(bodies).toString('utf8');
    assert.match(all, /^Subject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=\r$/m);
    assert.match(all, /^Subject: .*\r\n .*/m, 'a folded Subject');
    assert.match(all, /Grüße|Straße|café/);
    for (const id of m.secondarySpool) assert.ok(bodies.some((b) => b.includes(`Message-ID: ${m.messageIds[id]}\r\n`)));
  });

  it('moves scanned mail from vscan/ to spool/ and delivers it', async function () {
    const l = lab();
    const m = l.putMail('primary', 'vscan', { mtime: new Date(Date.now() - 60_000) });
    await l.waitForLog('primary', `VSCAN mail scanned clean (id=${m.id})`);
    await l.waitForLog('primary', `DELIVERY mail delivered (id=${m.id}, message-id=${m.messageId}, to=`);
    assert.deepStrictEqual(l.deliveries().byMessageId, { [m.messageId]: 1 });
  });

  it('rotates the log: new lines go to a new file, the old file keeps its lines', async function () {
    const l = lab();
    const a = l.putMail('primary', 'input');
    ok(await l.exec('primary', l.usr2ByName(l.processName)), 'SIGUSR2 by name');
    await l.waitForLog('primary', `(id=${a.id})`);
    const aside = await l.rotate('primary');
    assert.match(path.basename(aside), new RegExp(`^${path.basename(l.logFile).replace(/\./g, '\\.')}\\.\\d{8}-\\d{6}(-\\d+)?$`));
    assert.strictEqual(path.basename(l.logFile), l.profile.boxLog ? 'srv_box1_mailgw_mailgw.log' : 'srv_box1_mailgw.log');
    assert.match(fs.readFileSync(aside, 'utf8'), new RegExp(`SPOOLER new mail inserted \\(id=${a.id}\\)`));
    const b = l.putMail('primary', 'input');
    ok(await l.exec('primary', l.usr2ByName(l.processName)), 'SIGUSR2 by name');
    await l.waitForLog('primary', `(id=${b.id})`);
    assert.ok(!l.logLines('primary').some((x) => x.includes(a.id)), 'old lines must not be in the new file');
    assert.ok(!fs.readFileSync(aside, 'utf8').includes(b.id), 'new lines must not be in the old file');
  });

  it('moves the active gateway on takeover/takeback and leaves no zombie simulator', async function () {
    const l = lab();
    await l.takeover();
    assert.strictEqual(l.activeUnit()?.name, 'fw-b');
    const onPrimary = await l.exec('primary', pidsByName(l, l.processName));
    assert.strictEqual(onPrimary.code, 1, `no simulator (not even a zombie) expected on the primary: ${onPrimary.stdout}`);
    ok(await l.exec('secondary', pidsByName(l, l.processName)), 'the simulator by name on the secondary');
    await l.takeback();
    assert.strictEqual(l.activeUnit()?.name, 'fw-a');
    assert.ok(l.logLines('secondary').some((x) => lineRe(l, 'Info', 'SERVICE gateway stopped').test(x)));
    const ps = ok(await l.exec('primary', ['ps', '-o', 'pid=,ppid=,stat=,comm=', '-e']), 'ps').stdout;
    const sim = ps.split('\n').filter((x) => x.includes(l.processName));
    assert.strictEqual(sim.length, 1, ps);
    assert.match(sim[0], /^\s*\d+\s+1\s+[^Z]/, `the simulator must be a live child of the unit's PID 1: ${sim[0]}`);
  });

  it('accepts mgwadmin with its password and refuses a wrong one', async function () {
    const l = lab();
    const u = l.unit('secondary');
    const c = await sshLogin(l, u.address, l.port, 'mgwadmin', l.password);
    try {
      assert.strictEqual((await remoteExec(c, 'id -un')).trim(), 'mgwadmin');
    } finally {
      c.end();
    }
    await assert.rejects(sshLogin(l, u.address, l.port, 'mgwadmin', `${l.password}x`), /authentication methods failed/);
    await assert.rejects(sshLogin(l, u.address, l.port, 'root', l.password), /authentication methods failed/);
  });

  it('drops ssh connections on killSshSessions but keeps accepting new ones', async function () {
    const l = lab();
    const u = l.unit('primary');
    const c = new Client();
    const closed = new Promise<void>((resolve) => c.on('close', () => resolve()));
    c.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      c.once('ready', () => resolve());
      c.once('error', reject);
      c.connect({ host: u.address, port: l.port, username: 'root', privateKey: fs.readFileSync(l.keyPath), algorithms: l.profile.ssh2Algorithms });
    });
    assert.ok((await l.killSshSessions('primary')) >= 1);
    await within(closed, 20_000, 'connection dropped');
    assert.strictEqual(ok(await ssh(l, 'primary', 'echo still-listening'), 'new ssh').stdout.trim(), 'still-listening');
  });

  it('writes the settings, known_hosts and ssh_config the extension and ssh use', async function () {
    const l = lab();
    const settings = JSON.parse(fs.readFileSync(l.settingsPath, 'utf8'));
    assert.deepStrictEqual(settings, {
      'mailgwHa.clusters': [
        {
          name: 'lab',
          server: 'box1',
          service: 'mailgw',
          ...(l.profile.boxLog && l.logFileSetting ? { logFile: '/var/phion/logs/srv_box1_mailgw_mailgw.log' } : {}),
          units: [
            { name: 'fw-a', role: 'primary', host: l.units[0].address, port: l.port, username: 'root', identityFile: l.keyPath, ...(l.profile.unitAlgorithms ? { algorithms: l.profile.unitAlgorithms } : {}) },
            { name: 'fw-b', role: 'secondary', host: l.units[1].address, port: l.port, username: 'root', identityFile: l.keyPath, ...(l.profile.unitAlgorithms ? { algorithms: l.profile.unitAlgorithms } : {}) },
          ],
        },
      ],
      'mailgwHa.knownHostsFile': l.knownHostsPath,
      'mailgwHa.syncTransactionLog': '/var/phion/spool/mgw/box1_mailgw/sync.tlog',
    });
    // The workspace holds what a workspace may set; the machine-scoped known_hosts file goes to the
    // user settings of the VS Code that opens it.
    const { 'mailgwHa.knownHostsFile': knownHostsFile, ...workspaceSettings } = settings;
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(l.workspacePath, '.vscode', 'settings.json'), 'utf8')), workspaceSettings);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(l.stateDir, 'user-settings.json'), 'utf8')), { 'mailgwHa.knownHostsFile': knownHostsFile });
    const kh = fs.readFileSync(l.knownHostsPath, 'utf8').trim().split('\n');
    assert.strictEqual(kh.length, 2);
    const r = ok(await run('ssh', ['-F', l.sshConfigPath, '-o', 'BatchMode=yes', 'lab-secondary', 'hostname; cat /proc/1/cmdline | tr "\\0" " "']), 'ssh via alias');
    assert.match(r.stdout, /^fw-b\n.*unit-init\.sh \S+\/units\/fw-b fw-b/);
  });

  it('CLI: status, exec passes the exit code through, usage errors exit 2', async function () {
    const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    const labCli = (...args: string[]) => run(tsx, [path.join(REPO_ROOT, 'test', 'lab', 'cli.ts'), ...args]);
    const dir = `--state-dir=${lab().stateDir}`;
    const st = ok(await labCli('status', dir), 'status');
    const [a, b] = lab().units.map((u) => u.address.replace(/\./g, '\\.'));
    assert.match(st.stdout, new RegExp(`fw-a primary\\s+${a}\\s+sshd pid \\d+\\s+gateway pid \\d+ in the unit \\(host pid \\d+\\)\\s+active yes`));
    assert.match(st.stdout, new RegExp(`fw-b secondary ${b}\\s+sshd pid \\d+\\s+gateway not running\\s+active no`));
    const ex = await labCli('exec', dir, 'secondary', '--', 'sh', '-c', 'test -d /var/phion/spool/mgw/box1_mailgw/input && exit 7');
    assert.strictEqual(ex.code, 7, ex.stderr);
    const bad = await labCli('strand', dir, '--mails', 'many');
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /--mails must be a whole number/);
    assert.strictEqual((await labCli('frobnicate', dir)).code, 2);
  });
});

describe('lab: long gateway names (separate lab)', function () {
  // Side labs live inside the default state folder (git-ignored), each with its own addresses.
  const l = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'side', 'long'), addresses: labPair(4), server: 'mailsrv01', service: 'mailgateway', profile: profileFromEnv() });

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

  it('is found by its 15-character process name only, and SIGUSR2 to that PID inserts', async function () {
    assert.strictEqual(l.processName, 'mailsrv01_mailg');
    const full = await l.exec('primary', pidsByName(l, 'mailsrv01_mailgateway'));
    assert.strictEqual(full.code, 1);
    assert.strictEqual(full.stdout, '');
    const pid = ok(await l.exec('primary', pidsByName(l, 'mailsrv01_mailg')), 'the cut name').stdout.trim();
    assert.match(pid, /^\d+$/);
    const m = l.putMail('primary', 'input');
    if (l.profile.busybox) {
      // The name-taking /bin/kill matches as util-linux's does: the cut name only.
      const byFull = await l.exec('primary', ['/bin/kill', '-s', 'SIGUSR2', 'mailsrv01_mailgateway']);
      assert.strictEqual(byFull.code, 1, byFull.stdout + byFull.stderr);
      assert.match(byFull.stderr, /cannot find process "mailsrv01_mailgateway"/);
      ok(await l.exec('primary', ['/bin/kill', '-s', 'SIGUSR2', 'mailsrv01_mailg']), 'kill by the cut name');
    } else ok(await l.exec('primary', ['/bin/kill', '-s', 'SIGUSR2', pid]), 'kill');
    await l.waitForLog('primary', `SPOOLER new mail inserted (id=${m.id})`);
    assert.ok(fs.existsSync(path.join(l.hostPath('primary', 'logs'), l.profile.boxLog ? 'srv_mailsrv01_mailgateway_mailgw.log' : 'srv_mailsrv01_mailgateway.log')));
    assert.ok(fs.existsSync(path.join(l.hostPath('primary', 'spool'), `${m.id}.env`)) || l.deliveries().total === 1);
  });
});

describe('lab: down (separate lab)', function () {
  const stateDir = path.join(DEFAULT_STATE_DIR, 'side', 'down');
  const l = new Lab({ stateDir, addresses: labPair(6), profile: profileFromEnv() });
  const untrack = trackLab(l);

  after(async function () {
    this.timeout(120_000);
    await l.down(); // no-op when the test got that far
    untrack();
  });

  it('leaves no process and no mount behind', async function () {
    this.timeout(120_000);
    await l.up();
    await l.startGateway('secondary');
    // A live session on each unit, so that per-connection sshd processes exist too.
    const sessions = l.units.map((u) => spawn('ssh', [...l.sshArgs(u.name), 'sleep 60'], { stdio: 'ignore' }));
    const ended = sessions.map((s) => new Promise<number | null>((resolve) => s.on('close', resolve)));
    try {
      await waitFor('ssh sessions', () => l.status().every((s) => s.initPid !== null && pidsInNamespaceOf(s.initPid).length >= 6), 10_000);
      const before = l.status().flatMap((s) => pidsInNamespaceOf(s.initPid as number));
      const starts = new Map(before.map((p) => [p, fs.readFileSync(`/proc/${p}/stat`, 'utf8')]));
      await l.down();
      for (const p of before) {
        let same = false;
        try {
          same = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(' ')[21] === starts.get(p)?.split(' ')[21];
        } catch {
          same = false;
        }
        assert.ok(!same, `process ${p} of the lab is still there`);
      }
      // Our own ssh clients (their command lines name the lab key) end once their connection is cut.
      const codes = await within(Promise.all(ended), 20_000, 'ssh clients to end');
      assert.ok(codes.every((c) => c !== 0), 'the ssh sessions must have been cut');
      const marker = stateDir + path.sep;
      const procs = fs
        .readdirSync('/proc')
        .filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid)
        .filter((n) => {
          try {
            return fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(marker);
          } catch {
            return false;
          }
        });
      assert.deepStrictEqual(procs, [], 'processes mentioning the state folder');
      assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(marker), 'a mount mentions the state folder');
      const mounts = fs
        .readdirSync('/proc')
        .filter((n) => /^\d+$/.test(n))
        .filter((n) => {
          try {
            return fs.readFileSync(`/proc/${n}/mountinfo`, 'utf8').includes(marker);
          } catch {
            return false;
          }
        });
      assert.deepStrictEqual(mounts, [], 'processes whose mount namespace mentions the state folder');
    } finally {
      for (const s of sessions) if (s.exitCode === null) s.kill('SIGKILL');
    }
  });
});
