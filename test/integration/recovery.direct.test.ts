// Direct transfer in the lab: the secondary's own `ssh` sends the mails to the primary, logging in
// with a key made for that one transfer (the secondary's own key is taken away for these tests, so
// nothing else could log it in) and accepting only the primary's host key verified here. Cuts of the
// unit-to-unit stream are followed by a second run that must finish exactly once. A hostile
// secondary tries to use what it was given for anything else.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ClusterConfig, UnitConfig } from '../../src/core/config';
import { labAddress } from '../lab/lab';
import { ShapedLink } from '../lab/shapingProxy';
import { waitFor } from '../lab/wait';
import { lab } from './hooks';
import { assertExactlyOnce, labCluster, runRecovery, tempJournal, transferKeyLines } from './recoveryHelpers';

/** The lab cluster with `transfer` and the primary's HA address set. */
function cluster(transfer: ClusterConfig['transfer'], ha: { haHost?: string; haPort?: number } = {}): ClusterConfig {
  const c = labCluster();
  const primary: UnitConfig = { ...c.primary, ...ha };
  return { ...c, transfer, primary, units: [primary, c.secondary] };
}

/** The secondary's own key pair (root's, for the lab's HA sync), set aside while these tests run. */
function secondaryKeyFiles(): string[] {
  const dir = path.join(lab().stateDir, 'units', 'fw-b', 'root', '.ssh');
  return ['id_ed25519', 'id_ed25519.pub'].map((f) => path.join(dir, f));
}

describe('recovery: direct transfer, unit to unit (lab)', function () {
  this.timeout(180_000);
  before(() => {
    for (const f of secondaryKeyFiles()) if (fs.existsSync(f)) fs.renameSync(f, `${f}.aside`);
  });
  after(() => {
    for (const f of secondaryKeyFiles()) if (fs.existsSync(`${f}.aside`)) fs.renameSync(`${f}.aside`, f);
  });
  beforeEach(async () => {
    await lab().reset();
  });

  it('moves every mail straight from the secondary, with a key made for the transfer; the report says direct and why; exactly once; no key left', async () => {
    // Without a key of its own, only the lent key can have logged the secondary in to the primary.
    assert.ok(!fs.existsSync(secondaryKeyFiles()[0]), 'the secondary has no key of its own');
    const m = lab().strand({ mails: 25, vscan: 3, orphans: 1, duplicates: 2, bigMb: 4 });
    const r = await runRecovery(tempJournal(), {}, cluster('direct'));
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.strictEqual(r.method, 'direct');
    assert.strictEqual(r.transfer?.path, 'direct');
    assert.match(r.transfer?.why ?? '', /^direct: .*host key SHA256:.*a key made for this transfer that the primary accepts only to unpack into this run's staging folder, only from 127\.0\.0\.1, for 5 minutes at most; nothing of yours is lent/);
    assert.strictEqual(r.inserted, m.secondarySpool.length + m.secondaryVscan.length - m.duplicates.length);
    await assertExactlyOnce(m);
    assert.deepStrictEqual(transferKeyLines(), [], 'the transfer key is gone from the primary');
  });

  it('auto: when the secondary cannot reach the primary, relays instead and says why; exactly once', async () => {
    const m = lab().strand({ mails: 10, bigMb: 1 });
    const r = await runRecovery(tempJournal(), {}, cluster('auto', { haHost: labAddress(99) }));
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.strictEqual(r.method, 'tar');
    assert.strictEqual(r.transfer?.path, 'relay');
    assert.match(r.transfer?.why ?? '', /could not send to the primary directly.*cannot reach the primary at root@127\.\d+\.0\.99/);
    await assertExactlyOnce(m);
  });

  it('direct: when the secondary cannot reach the primary, fails before anything is placed; a relay run then finishes exactly once', async () => {
    const m = lab().strand({ mails: 10, bigMb: 1 });
    const journal = tempJournal();
    const first = await runRecovery(journal, {}, cluster('direct', { haHost: labAddress(99) }));
    assert.strictEqual(first.outcome, 'failed');
    assert.strictEqual(first.inserted, 0);
    assert.match(first.errors.map((e) => e.message).join('\n'), /cannot reach the primary at root@127\.\d+\.0\.99.*haHost/);
    assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')), [], 'nothing placed or staged on the primary');
    const second = await runRecovery(journal, {}, cluster('relay'));
    assert.strictEqual(second.outcome, 'done', JSON.stringify(second.errors));
    await assertExactlyOnce(m);
  });

  // The unit-to-unit stream runs through a shaped link (at the primary's haHost/haPort), slow
  // enough to be cut while bytes flow.
  for (const cut of ['the secondary\'s ssh killed', 'the unit-to-unit connection cut'] as const) {
    for (const crash of [false, true]) {
      it(`${cut} mid-stream${crash ? ' and the run stopped there' : ''}: the next run finishes, exactly once`, async () => {
        const link = new ShapedLink({ name: 'ha', bitsPerSecond: 40e6, rttMs: 2 });
        try {
          const primary = lab().unit('primary');
          const port = await link.listen({ host: primary.address, port: lab().port });
          const direct = cluster('direct', { haHost: '127.0.0.1', haPort: port });
          const m = lab().strand({ mails: 20, vscan: 2, bigMb: 8 });
          const journal = tempJournal();
          let hit = 0;
          let cutAt = 0;
          const first = await runRecovery(
            journal,
            {
              faults: async (p) => {
                if (p !== 'mid-copy' || hit++) return;
                await waitFor('a megabyte on its way from the secondary to the primary', () => link.counters.up > 1024 * 1024, 60_000);
                cutAt = link.counters.up;
                if (cut === 'the unit-to-unit connection cut') await link.close();
                else {
                  const k = await lab().exec('secondary', ['pkill', '-KILL', '-x', 'ssh']);
                  assert.strictEqual(k.code, 0, 'an ssh process ran on the secondary');
                }
                if (crash) throw new Error('stopped mid-stream');
              },
            },
            direct,
          );
          assert.strictEqual(hit, 1, 'the copy started');
          assert.ok(cutAt > 0 && cutAt < 8 * 1024 * 1024, `cut while the stream ran (${cutAt} bytes through)`);
          assert.strictEqual(first.outcome, 'failed', `first run: ${first.outcome}`);
          assert.strictEqual(first.inserted, 0);
          if (!crash) assert.match(first.errors.map((e) => e.message).join('\n'), /primary|secondary|tar|ssh/);
          // The second run goes direct again (a new link if the old one was cut).
          const again = new ShapedLink({ name: 'ha2', rttMs: 0 });
          try {
            const port2 = await again.listen({ host: primary.address, port: lab().port });
            const second = await runRecovery(journal, {}, cluster('direct', { haHost: '127.0.0.1', haPort: port2 }));
            assert.strictEqual(second.outcome, 'done', `second run: ${JSON.stringify(second.errors)} (first: ${JSON.stringify(first.errors)})`);
            assert.strictEqual(second.method, 'direct');
            assert.ok(second.resumed, 'the second run resumed the journal');
          } finally {
            await again.close();
          }
          await assertExactlyOnce(m);
        } finally {
          await link.close();
        }
      });
    }
  }
});

// A compromised secondary: its `ssh` is a wrapper that, before doing the transfer it was asked for,
// tries to use what it was given for anything else, and keeps a copy of the key for later. Each
// attempt's exit code and output go to /root/hostile/ on the secondary.
const HOSTILE_SSH = `#!/bin/sh
R=/root/hostile/real-ssh; out=/root/hostile
key=; port=22; user=root; host=; prev=; seen=
for a in "$@"; do
  if [ -n "$seen" ] && [ -z "$host" ]; then host=$a; fi
  case $prev in -o) case $a in IdentityFile=*) key=\${a#IdentityFile=} ;; esac ;; -p) port=$a ;; -l) user=$a ;; esac
  [ "$a" = -- ] && seen=1
  prev=$a
done
if [ -n "$key" ] && [ ! -e $out/tried ]; then
  : > $out/tried
  cp "$key" $out/stolen-key
  o="-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o ConnectTimeout=10 -i $key -p $port -l $user"
  try() { n=$1; shift; timeout 20 "$@" > $out/$n.out 2>&1 </dev/null; echo "$n $?" >> $out/results; }
  try command $R $o "$host" 'id; touch /root/pwned'
  try pty $R $o -tt "$host"
  try forward $R $o -W 127.0.0.1:22 "$host"
  try tunnel $R $o -N -R 127.0.0.1:2999:127.0.0.1:22 -o ExitOnForwardFailure=yes "$host"
  try other-host $R $o "$SECONDARY" true
  try agent-list ssh-add -l
  try agent-delete ssh-add -D
  try agent-sign sh -c 'echo data > /tmp/hostile-data.$$ && ssh-keygen -Y sign -n file -f /root/hostile/admin.pub /tmp/hostile-data.$$'
fi
exec $R "$@"
`;

describe('recovery: direct transfer from a hostile secondary (lab)', function () {
  this.timeout(180_000);
  const hostileDir = () => path.join(lab().stateDir, 'units', 'fw-b', 'root', 'hostile');
  let agent: { pid: number; socket: string } | undefined;
  beforeEach(async () => {
    await lab().reset();
    fs.rmSync(hostileDir(), { recursive: true, force: true });
    fs.mkdirSync(hostileDir(), { recursive: true });
    fs.copyFileSync('/usr/bin/ssh', path.join(hostileDir(), 'real-ssh'));
    fs.chmodSync(path.join(hostileDir(), 'real-ssh'), 0o755);
    fs.writeFileSync(path.join(hostileDir(), 'ssh'), HOSTILE_SSH.replace('$SECONDARY', lab().unit('secondary').address), { mode: 0o755 });
    fs.copyFileSync(`${lab().keyPath}.pub`, path.join(hostileDir(), 'admin.pub'));
    const m = await lab().exec('secondary', ['mount', '--bind', '/root/hostile/ssh', '/usr/bin/ssh']);
    assert.strictEqual(m.code, 0, m.stderr);
    // The admin's ssh-agent, holding the admin's key: what the old design lent to the unit.
    const socket = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-agent-')), 'agent.sock');
    const a = spawnSync('ssh-agent', ['-a', socket, '-s'], { encoding: 'utf8' });
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(a.stdout)?.[1]);
    assert.ok(pid > 0, a.stdout + a.stderr);
    agent = { pid, socket };
    const add = spawnSync('ssh-add', [lab().keyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: 'utf8' });
    assert.strictEqual(add.status, 0, add.stderr);
  });
  afterEach(async () => {
    await lab().exec('secondary', ['umount', '/usr/bin/ssh']);
    if (agent) process.kill(agent.pid);
    agent = undefined;
  });

  it('every use of the credential but the transfer is refused (another command, a pty, forwarding, another host, the agent, later); the recovery is exactly once and no key is left', async () => {
    const m = lab().strand({ mails: 12, vscan: 2, bigMb: 1 });
    // The connections log in through the admin's agent: nothing of it may reach the unit.
    const c = labCluster();
    const viaAgent = (u: UnitConfig): UnitConfig => ({ ...u, identityFile: undefined });
    const units = [viaAgent(c.primary), viaAgent(c.secondary)];
    const auto: ClusterConfig = { ...c, transfer: 'auto', primary: units[0], secondary: units[1], units };
    const r = await runRecovery(tempJournal(), {}, auto, { agentSocket: agent!.socket });
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.strictEqual(r.method, 'direct', r.transfer?.why);
    await assertExactlyOnce(m);

    const results = Object.fromEntries(fs.readFileSync(path.join(hostileDir(), 'results'), 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]));
    const outputs = (n: string) => fs.readFileSync(path.join(hostileDir(), `${n}.out`), 'utf8');
    assert.deepStrictEqual(Object.keys(results).sort(), ['agent-delete', 'agent-list', 'agent-sign', 'command', 'forward', 'other-host', 'pty', 'tunnel'], 'every attempt was made');
    // The forced command ran instead of the one asked for: tar, never a shell.
    assert.ok(!outputs('command').includes('uid='), `another command ran on the primary: ${outputs('command')}`);
    assert.ok(!fs.existsSync(path.join(lab().stateDir, 'units', 'fw-a', 'root', 'pwned')), 'nothing written outside the staging folder');
    assert.ok(!outputs('pty').includes('uid=') && !/[#$] $/.test(outputs('pty')), `a shell was offered: ${outputs('pty')}`);
    for (const n of ['forward', 'tunnel', 'other-host', 'agent-list', 'agent-delete', 'agent-sign']) assert.notStrictEqual(results[n], '0', `${n} succeeded: ${outputs(n)}`);
    assert.match(outputs('forward') + outputs('tunnel'), /administratively prohibited|forwarding|refused|denied/i);
    assert.match(outputs('other-host'), /Permission denied/);
    assert.match(outputs('agent-list') + outputs('agent-delete'), /Could not open a connection to your authentication agent|Error connecting to agent/);
    // The admin's agent still holds the admin's key.
    const list = spawnSync('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: agent!.socket }, encoding: 'utf8' });
    assert.strictEqual(list.status, 0, `the admin's agent lost its key: ${list.stdout}${list.stderr}`);
    // The key the unit kept is worth nothing now: the primary no longer accepts it.
    assert.deepStrictEqual(transferKeyLines(), [], 'no transfer key left on the primary');
    const later = await lab().exec('secondary', ['/root/hostile/real-ssh', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-i', '/root/hostile/stolen-key', '-p', String(lab().port), `root@${lab().unit('primary').address}`, 'true']);
    assert.notStrictEqual(later.code, 0, 'the kept key still logs in');
    assert.match(later.stderr, /Permission denied/);
  });
});
