// The SSH layer against the lab's real OpenSSH units: host keys, auth, reconnect, timeouts.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { parseSettings, UnitConfig } from '../../src/core/config';
import { findGateway, signalGateway } from '../../src/core/gateway';
import { Logger, MemorySecretStore, noPrompts, Prompts } from '../../src/core/host';
import { ConnectionOptions, UnitConnection } from '../../src/core/ssh/connection';
import { SshError } from '../../src/core/ssh/errors';
import { ConnectionPool } from '../../src/core/ssh/pool';
import { waitFor } from '../lab/wait';
import { lab } from './hooks';

const REPO = path.resolve(__dirname, '..', '..');

/** A logger that keeps every line, to assert on what reaches the output channel. */
function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
  return { lines, debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
}

function promptsCounting(over: Partial<Prompts> = {}): Prompts & { hostKeyQuestions: unknown[]; secretQuestions: unknown[] } {
  const hostKeyQuestions: unknown[] = [];
  const secretQuestions: unknown[] = [];
  return {
    hostKeyQuestions,
    secretQuestions,
    confirmHostKey: async (q) => {
      hostKeyQuestions.push(q);
      return over.confirmHostKey ? over.confirmHostKey(q) : 'reject';
    },
    askSecret: async (q) => {
      secretQuestions.push(q);
      return over.askSecret ? over.askSecret(q) : undefined;
    },
    askKeyboardInteractive: async () => undefined,
  };
}

function labUnits(): UnitConfig[] {
  const raw = JSON.parse(fs.readFileSync(lab().settingsPath, 'utf8')) as Record<string, unknown>;
  const s = parseSettings(raw['mailgwHa.clusters'], raw['mailgwHa.knownHostsFile']);
  assert.deepStrictEqual(s.errors, []);
  return [...s.clusters[0].units];
}

function sshdLog(unit: string): string {
  return fs.readFileSync(path.join(lab().stateDir, 'units', unit, 'sshd.log'), 'utf8');
}

/** Lines sshd writes once a client starts to authenticate. */
const AUTH_ATTEMPT = /Accepted|Failed|Postponed|userauth|Invalid user|authenticating user/;

/** sshd's log of a unit since `from`, once it holds the line sshd writes when that session ended. */
async function sshdClosed(unit: string, from: number): Promise<string> {
  let text = '';
  await waitFor(`sshd on ${unit} to log the end of the session`, () => {
    text = sshdLog(unit).slice(from);
    return /Connection (closed|reset)|Disconnected from|disconnect/i.test(text);
  }, 15_000).catch((err: Error) => {
    throw new Error(`${err.message}; its log since: ${JSON.stringify(text.slice(-500))}`);
  });
  return text;
}

/**
 * Waits until the `sleep <seconds>` a test started over SSH runs on the unit (the operation is in
 * flight); each test sleeps for its own number of seconds, so a leftover of another test does not count.
 */
async function remoteSleepRunning(unit: string, seconds: number): Promise<void> {
  await waitFor(`"sleep ${seconds}" to run on ${unit}`, async () => (await lab().exec(unit, ['pgrep', '-fx', `sleep ${seconds}`])).code === 0, 15_000);
}

function hostFingerprint(unit: string): string {
  const pub = path.join(lab().stateDir, 'units', unit, 'ssh_host_ed25519_key.pub');
  return execFileSync('ssh-keygen', ['-lf', pub], { encoding: 'utf8' }).split(' ')[1];
}

describe('ssh: connections to the lab units', function () {
  const open: UnitConnection[] = [];
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-ssh-'));
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function connection(unit: Partial<UnitConfig> & { host: string }, opts: Partial<ConnectionOptions> = {}): UnitConnection {
    const c = new UnitConnection(
      { label: `lab/${unit.name ?? 'x'}`, host: unit.host, port: unit.port, username: unit.username, identityFile: unit.identityFile },
      { prompts: noPrompts, secrets: new MemorySecretStore(), logger: captureLogger(), knownHostsFiles: [lab().knownHostsPath], sshConfigFile: '/nonexistent', connectTimeoutMs: 5000, ...opts },
    );
    open.push(c);
    return c;
  }

  it('runs with the ssh2 crypto the run asked for (native addon, or pure JS with MAILGW_SSH2_PURE_JS=1)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- ssh2 does not export this flag
    const { bindingAvailable } = require('ssh2/lib/protocol/crypto') as { bindingAvailable: boolean };
    assert.strictEqual(bindingAvailable, process.env.MAILGW_SSH2_PURE_JS !== '1');
  });

  it('logs in by key, verifies the host key against known_hosts and runs quoted commands unchanged', async () => {
    const [a] = labUnits();
    const c = connection(a);
    await c.connect();
    assert.strictEqual(c.state, 'connected');
    assert.strictEqual(c.info?.authMethod, 'publickey');
    assert.strictEqual(c.info?.fingerprint, hostFingerprint('fw-a'));
    const hostile = ['a b', "it's", '$(touch /tmp/pwned)', '; rm -rf /', '`id`', 'line1\nline2', '--help', '*'];
    const r = await c.exec(['printf', '%s\\0', ...hostile]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(r.stdout.toString('utf8').split('\0').slice(0, -1), hostile);
    const r2 = await c.execScript('test -e /tmp/pwned && echo exists; echo "$#:$1"', ['$(touch /tmp/pwned)']);
    assert.strictEqual(r2.stdout.toString(), '1:$(touch /tmp/pwned)\n');
  });

  it('logs in by password when asked, remembers it only when the user agrees, and never logs it', async () => {
    const logger = captureLogger();
    const secrets = new MemorySecretStore();
    const prompts = promptsCounting({ askSecret: async () => ({ value: lab().password, remember: true }) });
    const c = connection({ name: 'fw-a', host: lab().addresses[0], username: 'mgwadmin' }, { prompts, secrets, logger });
    await c.connect();
    assert.strictEqual(c.info?.authMethod, 'password');
    assert.strictEqual(prompts.secretQuestions.length, 1);
    assert.strictEqual((await c.exec(['id', '-un'])).stdout.toString().trim(), 'mgwadmin');
    // connect() does not wait for the secret to be committed to the store.
    await waitFor('the password to be stored', async () => (await secrets.get(`password:mgwadmin@${lab().addresses[0]}:${lab().port}`)) === lab().password);
    // A second connection uses the stored password without asking.
    const prompts2 = promptsCounting();
    const c2 = connection({ name: 'fw-a', host: lab().addresses[0], username: 'mgwadmin' }, { prompts: prompts2, secrets, logger });
    await c2.connect();
    assert.strictEqual(prompts2.secretQuestions.length, 0);
    assert.ok(logger.lines.length > 0);
    for (const line of logger.lines) assert.ok(!line.includes(lab().password), `secret in log line: ${line}`);
  });

  it('a wrong password fails with a clear error after three prompts, without a retry storm or the secret in any message', async () => {
    const logger = captureLogger();
    const wrong = 'not-the-password-Zq9';
    const prompts = promptsCounting({ askSecret: async () => ({ value: wrong, remember: true }) });
    const secrets = new MemorySecretStore();
    // A first reconnect delay of 100 ms: a wrong reconnect would ask again well inside the window below.
    const c = connection({ name: 'fw-a', host: lab().addresses[0], username: 'mgwadmin' }, { prompts, secrets, logger, reconnectDelaysMs: [100, 200] });
    const before = (sshdLog('fw-a').match(/Failed password/g) ?? []).length;
    const err = await c.connect().then(() => undefined, (e: unknown) => e as SshError);
    assert.ok(err instanceof SshError);
    assert.strictEqual(err.code, 'auth');
    assert.match(err.message, /lab\/fw-a: mgwadmin@127\.\S+ refused every login method tried \(password\)/);
    assert.ok(!err.message.includes(wrong));
    assert.strictEqual(prompts.secretQuestions.length, 3);
    assert.strictEqual(c.state, 'failed');
    // An absence check, so a window: 15x the first reconnect delay. Load can only make a wrong
    // reconnect come later (and this check weaker), never fail a correct run.
    await new Promise((r) => setTimeout(r, 1500));
    assert.strictEqual(c.state, 'failed', 'still failed, not reconnecting');
    assert.strictEqual(prompts.secretQuestions.length, 3, 'no reconnect after an auth failure');
    const after = (sshdLog('fw-a').match(/Failed password/g) ?? []).length;
    assert.strictEqual(after - before, 3, 'exactly three password attempts reached sshd');
    assert.strictEqual(await secrets.get(`password:mgwadmin@${lab().addresses[0]}:${lab().port}`), undefined, 'a refused password is not stored');
    for (const line of logger.lines) assert.ok(!line.includes(wrong), `secret in log line: ${line}`);
  });

  it('asks about an unknown host key with its type and SHA256 fingerprint; refusing stops before authentication', async () => {
    const [a] = labUnits();
    const prompts = promptsCounting();
    const c = connection(a, { prompts, knownHostsFiles: [path.join(tmp, 'empty_known_hosts')] });
    const logBefore = sshdLog('fw-a').length;
    const err = await c.connect().then(() => undefined, (e: unknown) => e as SshError);
    assert.strictEqual(err?.code, 'hostkey-unknown', err?.message);
    assert.match(err!.message, /not known and was refused/);
    assert.deepStrictEqual(prompts.hostKeyQuestions, [{ unit: 'lab/fw-a', host: a.host, port: lab().port, keyType: 'ssh-ed25519', fingerprint: hostFingerprint('fw-a'), otherKnownTypes: [] }]);
    const newLog = await sshdClosed('fw-a', logBefore);
    assert.match(newLog, /Connection (from|closed|reset)/);
    assert.doesNotMatch(newLog, AUTH_ATTEMPT);
  });

  it('"trust permanently" writes the extension\'s own store (not known_hosts) and is not asked again', async () => {
    const [a] = labUnits();
    const store = path.join(tmp, 'trust', 'known_hosts');
    const userKnownHosts = path.join(tmp, 'user_known_hosts');
    fs.writeFileSync(userKnownHosts, '');
    const prompts = promptsCounting({ confirmHostKey: async () => 'always' });
    const c = connection(a, { prompts, knownHostsFiles: [userKnownHosts], trustStoreFile: store });
    await c.connect();
    assert.strictEqual(prompts.hostKeyQuestions.length, 1);
    assert.strictEqual(fs.readFileSync(userKnownHosts, 'utf8'), '', "the user's known_hosts is never written");
    assert.match(fs.readFileSync(store, 'utf8'), new RegExp(`^${a.host.replace(/\./g, '\\.')} ssh-ed25519 AAAA`));
    const prompts2 = promptsCounting();
    const c2 = connection(a, { prompts: prompts2, knownHostsFiles: [userKnownHosts], trustStoreFile: store });
    await c2.connect();
    assert.strictEqual(prompts2.hostKeyQuestions.length, 0);
  });

  it('refuses a changed host key before authenticating, saying it may be an attack and how to clear it', async () => {
    const [a] = labUnits();
    const fake = path.join(tmp, 'fake');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', fake]);
    const knownHosts = path.join(tmp, 'known_hosts');
    fs.writeFileSync(knownHosts, `${a.host} ${fs.readFileSync(`${fake}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    const prompts = promptsCounting({ confirmHostKey: async () => 'always' });
    const c = connection(a, { prompts, knownHostsFiles: [knownHosts] });
    const logBefore = sshdLog('fw-a').length;
    const err = await c.connect().then(() => undefined, (e: unknown) => e as SshError);
    assert.strictEqual(err?.code, 'hostkey-changed', err?.message);
    assert.match(err!.message, /HOST KEY CHANGED/);
    assert.match(err!.message, /may be an attack/);
    assert.ok(err!.message.includes(hostFingerprint('fw-a')));
    assert.ok(err!.message.includes(`ssh-keygen -R '${a.host}' -f ${knownHosts}`), err!.message);
    assert.strictEqual(prompts.hostKeyQuestions.length, 0, 'a changed key is never offered for trust');
    assert.strictEqual(c.state, 'failed');
    assert.doesNotMatch(await sshdClosed('fw-a', logBefore), AUTH_ATTEMPT);
  });

  it('resolves a Host alias from an ssh config file (HostName, Port, User, IdentityFile)', async () => {
    const c = connection({ name: 'fw-b', host: 'lab-secondary' }, { sshConfigFile: lab().sshConfigPath });
    await c.connect();
    assert.strictEqual(c.info?.target.hostName, lab().addresses[1]);
    assert.strictEqual(c.info?.authMethod, 'publickey');
    assert.strictEqual((await c.exec(['hostname'])).code, 0);
  });

  it('fails an operation in flight cleanly when the session is killed, then reconnects by itself', async () => {
    const [a] = labUnits();
    const c = connection(a, { reconnectDelaysMs: [200, 1000] });
    await c.connect();
    const states: string[] = [];
    c.on('state', (s: string) => states.push(s));
    const t0 = Date.now();
    const inFlight = c.exec(['sleep', '37']).then(() => undefined, (e: unknown) => e as SshError);
    await remoteSleepRunning('fw-a', 37);
    assert.ok((await lab().killSshSessions('fw-a')) > 0);
    const err = await inFlight;
    assert.strictEqual(err?.code, 'lost');
    assert.match(err!.message, /lab\/fw-a: the connection dropped/);
    assert.ok(Date.now() - t0 < 10_000, 'the operation failed promptly instead of hanging');
    const deadline = Date.now() + 10_000;
    while (c.state !== 'connected' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.strictEqual(c.state, 'connected');
    assert.ok(states.includes('reconnecting'), `states: ${states.join(',')}`);
    assert.strictEqual((await c.exec(['echo', 'back'])).stdout.toString(), 'back\n');
  });

  it('a read-only command whose connection drops is run again on the new connection; one that changes things is not', async () => {
    const [a] = labUnits();
    const c = connection(a, { reconnectDelaysMs: [200, 1000] });
    await c.connect();
    // A read: the first run is cut while it sleeps; the second (after the reconnect) prints its marker.
    const marker = `/root/.mailgw-read-${process.pid}`;
    const read = c.execScript('if [ -e "$1" ]; then echo second; else : > "$1"; sleep 38; echo first; fi', [marker], { readOnly: true });
    await remoteSleepRunning('fw-a', 38);
    assert.ok((await lab().killSshSessions('fw-a')) > 0);
    const r = await read;
    assert.strictEqual(r.stdout.toString(), 'second\n', 'run again after the drop, on the new connection');
    await c.exec(['rm', '-f', marker]);
    // Not marked read-only: the drop is the caller's to handle.
    const write = c.exec(['sleep', '39']).then(() => undefined, (e: unknown) => e as SshError);
    await remoteSleepRunning('fw-a', 39);
    assert.ok((await lab().killSshSessions('fw-a')) > 0);
    assert.strictEqual((await write)?.code, 'lost');
  });

  it('reports an unreachable unit and a silent one with clear, bounded errors', async () => {
    const refused = connection({ name: 'gone', host: '127.0.0.1', port: 1 });
    const e1 = await refused.connect().then(() => undefined, (e: unknown) => e as SshError);
    assert.strictEqual(e1?.code, 'unreachable');
    assert.match(e1!.message, /lab\/gone: cannot connect to 127\.0\.0\.1:1 \(ECONNREFUSED\)\. Check that the unit is up/);

    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const c = connection({ name: 'silent', host: '127.0.0.1', port }, { connectTimeoutMs: 700 });
      const t0 = Date.now();
      const e2 = await c.connect().then(() => undefined, (e: unknown) => e as SshError);
      assert.strictEqual(e2?.code, 'timeout');
      assert.match(e2!.message, /lab\/silent: no SSH answer from 127\.0\.0\.1:\d+ within 1 s/);
      // Bounded is the feature: 0.7 s idle; the limit holds on a loaded machine and still catches a hang.
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    } finally {
      silent.close();
    }
  });

  it('finds the gateway by its exact name only on the active unit and refuses to signal a standby unit', async () => {
    const [a, b] = labUnits();
    const raw = JSON.parse(fs.readFileSync(lab().settingsPath, 'utf8')) as Record<string, unknown>;
    const cluster = parseSettings(raw['mailgwHa.clusters']).clusters[0];
    const ca = connection(a);
    const cb = connection(b);
    const ga = await findGateway(ca, cluster);
    assert.deepStrictEqual(ga.pids, [lab().status().find((u) => u.name === 'fw-a')!.gateway!.unitPid]);
    assert.deepStrictEqual((await findGateway(cb, cluster)).pids, []);
    await assert.rejects(signalGateway(cb, cluster), /lab\/fw-b: the gateway process box1_mailgw is not running on this unit, so nothing was signalled/);
  });

  it('a command started before its input waits for it, and its time limit counts from when the input is sent', async () => {
    const [a] = labUnits();
    const c = connection(a);
    await c.connect();
    const input = new Promise<string>((resolve) => setTimeout(() => resolve('late input\n'), 1500));
    const r = await c.exec(['cat'], { stdin: input, timeoutMs: 1000 });
    assert.strictEqual(r.code, 0);
    assert.strictEqual(r.stdout.toString(), 'late input\n');
  });

  it('a command whose input is withheld gets none, and the call fails with why it was withheld', async () => {
    const [a] = labUnits();
    const c = connection(a);
    const dir = (await lab().exec('primary', ['mktemp', '-d'])).stdout.trim();
    const withheld = new Promise<string>((_, reject) => setTimeout(() => reject(new Error('withheld on purpose')), 300));
    await assert.rejects(c.execScript('n=$(wc -c); printf %s "$n" > "$1/seen.tmp" && mv -- "$1/seen.tmp" "$1/seen"', [dir], { stdin: withheld }), /withheld on purpose/);
    const seen = await waitFor('the remote command to end', async () => {
      const r = await lab().exec('primary', ['cat', `${dir}/seen`]);
      return r.code === 0 ? r.stdout : undefined;
    }, 10_000);
    assert.strictEqual(seen.trim(), '0', 'the command read an empty input');
    await lab().exec('primary', ['rm', '-rf', '--', dir]);
  });

  it('commands waiting for their input never take every channel: the command producing it still runs', async () => {
    const [a] = labUnits();
    const c = connection(a, { maxChannels: 4 });
    await c.connect();
    let give!: (s: string) => void;
    const input = new Promise<string>((resolve) => (give = resolve));
    // Four commands wait on an input that only the fifth command's answer provides.
    const waiting = [1, 2, 3, 4].map(() => c.exec(['cat'], { stdin: input }));
    // Their channel slots are taken within microtasks (the connection is open): let them all try first.
    await new Promise((resolve) => setImmediate(resolve));
    const producer = await c.exec(['echo', 'produced'], { timeoutMs: 20_000 });
    give(producer.stdout.toString());
    for (const r of await Promise.all(waiting)) assert.strictEqual(r.stdout.toString(), 'produced\n');
  });

  it('signals nothing when two processes carry the gateway\'s name, and names both PIDs', async () => {
    const [a] = labUnits();
    const raw = JSON.parse(fs.readFileSync(lab().settingsPath, 'utf8')) as Record<string, unknown>;
    const cluster = parseSettings(raw['mailgwHa.clusters']).clusters[0];
    // The real gateway's PID, read before the look-alike exists (the lab finds it by name too).
    const gateway = lab().status().find((u) => u.name === 'fw-a')!.gateway!.unitPid;
    // A look-alike: sleep under the gateway's name (SIGUSR2 would end it).
    const started = await lab().exec('primary', ['sh', '-c', 'd=$(mktemp -d) && cp /bin/sleep "$d/box1_mailgw" && { "$d/box1_mailgw" 60 >/dev/null 2>&1 & echo "$! $d"; }']);
    const [decoyPid, dir] = started.stdout.trim().split(' ');
    const decoy = Number(decoyPid);
    assert.ok(decoy > 0, `the look-alike started: ${started.stdout} ${started.stderr}`);
    try {
      const pids = [gateway, decoy].sort((x, y) => x - y);
      await assert.rejects(signalGateway(connection(a), cluster), new RegExp(`lab/fw-a: 2 processes are named box1_mailgw \\(PIDs ${pids.join(', ')}\\); refusing to guess`));
      const alive = await lab().exec('primary', ['kill', '-0', String(decoy)]);
      assert.strictEqual(alive.code, 0, 'the look-alike was not signalled');
    } finally {
      await lab().exec('primary', ['sh', '-c', 'kill "$1"; rm -rf -- "$2"', 'sh', String(decoy), dir]);
    }
  });

  it('pool: a settings change closes the changed unit\'s connection and its operations fail with a clear error', async () => {
    const [a, b] = labUnits();
    const pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: captureLogger(), knownHostsFiles: [lab().knownHostsPath], sshConfigFile: '/nonexistent' });
    try {
      const ca = pool.get(a);
      const cb = pool.get(b);
      assert.strictEqual(pool.get(a), ca, 'one pooled connection per unit');
      await Promise.all([ca.connect(), cb.connect()]);
      const inFlight = ca.exec(['sleep', '38']).then(() => undefined, (e: unknown) => e as SshError);
      await remoteSleepRunning('fw-a', 38);
      pool.update([{ ...a, port: 2222 }, b]);
      assert.strictEqual((await inFlight)?.code, 'closed');
      assert.strictEqual(cb.state, 'connected', 'an unchanged unit keeps its connection');
      assert.notStrictEqual(pool.get({ ...a, port: 2222 }), ca);
    } finally {
      pool.dispose();
    }
  });

  it('pool: Add Cluster\'s test connects to a unit not in the settings without the pool ever handing that connection out', async () => {
    const [a, b] = labUnits();
    const pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: captureLogger(), knownHostsFiles: [lab().knownHostsPath], sshConfigFile: '/nonexistent' });
    try {
      pool.update([b]);
      const draft = { ...a, key: 'draft/fw-a' };
      const probe = pool.probe(draft);
      await probe.connect();
      assert.strictEqual(probe.state, 'connected');
      assert.strictEqual(pool.peek(draft.key), undefined, 'not pooled');
      assert.throws(() => pool.get(draft), /is not a configured unit; refusing to connect/);
      probe.close();
      assert.strictEqual(probe.state, 'closed');
    } finally {
      pool.dispose();
    }
  });
});

describe('ssh: the bundled CLI run outside the repo (pure-JS ssh2, as users get it)', function () {
  let settingsNoKnownHosts: string;
  before(function () {
    this.timeout(60_000);
    execFileSync(process.execPath, ['esbuild.js'], { cwd: REPO, stdio: 'pipe' });
    const raw = JSON.parse(fs.readFileSync(lab().settingsPath, 'utf8')) as Record<string, unknown>;
    delete raw['mailgwHa.knownHostsFile'];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-cli-'));
    settingsNoKnownHosts = path.join(dir, 'settings.json');
    fs.writeFileSync(settingsNoKnownHosts, JSON.stringify(raw));
    // Run the bundle from a folder with no node_modules anywhere above it: nothing native can load,
    // so ssh2 runs on its pure-JS crypto exactly as in the packaged extension.
    cliPath = path.join(dir, 'cli.js');
    fs.copyFileSync(path.join(REPO, 'dist', 'cli.js'), cliPath);
  });
  let cliPath: string;

  function cli(args: string[]): { code: number; stdout: string; stderr: string } {
    try {
      const stdout = execFileSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: path.dirname(settingsNoKnownHosts), SSH_AUTH_SOCK: '' } });
      return { code: 0, stdout, stderr: '' };
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      return { code: e.status, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('status refuses unknown host keys unless --known-hosts or --accept-new, and lists both units with them', () => {
    const refused = cli(['status', '--settings', settingsNoKnownHosts]);
    assert.strictEqual(refused.code, 1);
    assert.match(refused.stdout, /lab\/fw-a \(primary, [\d.]+\): UNREACHABLE: lab\/fw-a: the host key ssh-ed25519 SHA256:\S+ of [\d.]+ is not known/);

    const ok = cli(['status', '--settings', settingsNoKnownHosts, '--known-hosts', lab().knownHostsPath, '--json']);
    assert.strictEqual(ok.code, 0, ok.stderr);
    const units = (JSON.parse(ok.stdout) as { units: { unit: string; reachable: boolean; active: boolean; authMethod: string }[] }).units;
    assert.deepStrictEqual(
      units.map((u) => [u.unit, u.reachable, u.active, u.authMethod]),
      [
        ['fw-a', true, true, 'publickey'],
        ['fw-b', true, false, 'publickey'],
      ],
    );
    const accepted = cli(['status', '--settings', settingsNoKnownHosts, '--accept-new']);
    assert.strictEqual(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /lab\/fw-a \(primary, [\d.]+\): ACTIVE, gateway PID \d+/);
    assert.match(accepted.stdout, /lab\/fw-b \(secondary, [\d.]+\): standby/);
  });
});
