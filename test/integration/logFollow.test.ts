// Following the gateway log over the lab's real sshd while lines are written into it from outside:
// numbered lines are checked for loss, repetition and order across rotation, truncation and a
// killed SSH connection.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ClusterConfig, parseSettings } from '../../src/core/config';
import { signalGateway } from '../../src/core/gateway';
import { MemorySecretStore, noPrompts, silentLogger } from '../../src/core/host';
import { FollowNotice, FollowStart, listLogFiles, LogFollower, LogLine, readBefore } from '../../src/core/log/follow';
import { parseLine } from '../../src/core/log/parse';
import { ConnectionPool } from '../../src/core/ssh/pool';
import { waitFor } from '../lab/wait';
import { lab } from './hooks';

const REPO = path.resolve(__dirname, '..', '..');
const SEQ = / TEST seq=(\d+)$/;

function labCluster(): ClusterConfig {
  const raw = JSON.parse(fs.readFileSync(lab().settingsPath, 'utf8')) as Record<string, unknown>;
  const s = parseSettings(raw['mailgwHa.clusters'], raw['mailgwHa.knownHostsFile']);
  assert.deepStrictEqual(s.errors, []);
  return s.clusters[0];
}

function stamp(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()} ${p(d.getUTCMonth() + 1)} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +00:00`;
}

/** Appends numbered lines to the primary's current log (by path, like the gateway). */
function writeSeq(from: number, to: number): void {
  let text = '';
  for (let i = from; i <= to; i++) text += `${stamp()} Info     TEST seq=${i}\n`;
  fs.appendFileSync(lab().hostLogFile('primary'), text);
}

/** Writes from..to in small bursts over `ms`, calling `during` at the middle. */
async function writeSeqOver(from: number, to: number, ms: number, during?: () => Promise<unknown>): Promise<void> {
  const bursts = 20;
  const per = Math.ceil((to - from + 1) / bursts);
  let n = from;
  for (let b = 0; b < bursts && n <= to; b++) {
    const end = Math.min(to, n + per - 1);
    writeSeq(n, end);
    n = end + 1;
    if (b === bursts / 2 && during) await during();
    await new Promise((r) => setTimeout(r, ms / bursts));
  }
}

interface Capture {
  follower: LogFollower;
  lines: LogLine[];
  notices: FollowNotice[];
  seqs(): number[];
}

async function follow(pool: ConnectionPool, cluster: ClusterConfig, start: FollowStart = { from: 'end' }, waitMs = 2_000): Promise<Capture> {
  const follower = new LogFollower(pool.get(cluster.primary), { file: cluster.logFile, start, waitMs, retryDelaysMs: [200, 1000] });
  const cap: Capture = {
    follower,
    lines: [],
    notices: [],
    seqs: () => cap.lines.map((l) => SEQ.exec(l.text)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])),
  };
  follower.on('lines', (ls) => cap.lines.push(...ls));
  follower.on('notice', (n) => cap.notices.push(n));
  await follower.start();
  return cap;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

let barriers = 0;

/**
 * Waits for line seq=`last`, then for a barrier line written after it: whatever the follower would
 * repeat or add from before the barrier has arrived by then, so the caller can assert the exact list.
 */
async function waitForSeqs(cap: Capture, last: number, timeoutMs = 15_000): Promise<void> {
  const fail = (err: Error) => {
    throw new Error(`${err.message}; got ${cap.seqs().length} lines, notices ${JSON.stringify(cap.notices)}`);
  };
  await waitFor(`line seq=${last}`, () => (cap.seqs().includes(last) ? true : undefined), timeoutMs).catch(fail);
  const barrier = `TEST barrier=${++barriers}`;
  fs.appendFileSync(lab().hostLogFile('primary'), `${stamp()} Info     ${barrier}\n`);
  await waitFor(`the barrier line after seq=${last}`, () => (cap.lines.some((l) => l.text.endsWith(barrier)) ? true : undefined), timeoutMs).catch(fail);
}

describe('log follow against the lab (core/log/follow)', function () {
  this.timeout(60_000);
  let pool: ConnectionPool;
  let cluster: ClusterConfig;
  const followers: LogFollower[] = [];

  beforeEach(async () => {
    await lab().reset();
    await lab().waitForLog('primary', 'SERVICE gateway started');
    cluster = labCluster();
    pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [lab().knownHostsPath], reconnectDelaysMs: [200, 1000] });
  });
  afterEach(async () => {
    await Promise.all(followers.splice(0).map((f) => f.stop()));
    pool.dispose();
  });

  it('starts at the end and gets every line written afterwards, once and in order', async () => {
    writeSeq(1, 50);
    const cap = await follow(pool, cluster);
    followers.push(cap.follower);
    await writeSeqOver(51, 1050, 1000);
    await waitForSeqs(cap, 1050);
    assert.deepStrictEqual(cap.seqs(), range(51, 1050));
  });

  it('starts with the last N lines, then follows', async () => {
    writeSeq(1, 500);
    const cap = await follow(pool, cluster, { lines: 10 });
    followers.push(cap.follower);
    assert.deepStrictEqual(cap.seqs(), range(491, 500));
    writeSeq(501, 520);
    await waitForSeqs(cap, 520);
    assert.deepStrictEqual(cap.seqs(), range(491, 520));
  });

  it('follows across a rotation by the gateway (SIGHUP) while lines keep coming', async () => {
    const cap = await follow(pool, cluster);
    followers.push(cap.follower);
    let archive = '';
    await writeSeqOver(1, 2000, 1500, async () => (archive = await lab().rotate('primary')));
    await waitForSeqs(cap, 2000);
    assert.deepStrictEqual(cap.seqs(), range(1, 2000));
    const rotated = cap.notices.filter((n) => n.type === 'rotated');
    assert.strictEqual(rotated.length, 1, JSON.stringify(cap.notices));
    assert.strictEqual(rotated[0].type === 'rotated' && rotated[0].archive?.split('/').pop(), archive.split('/').pop());
  });

  it('follows across a truncation', async () => {
    const cap = await follow(pool, cluster);
    followers.push(cap.follower);
    writeSeq(1, 300);
    await waitForSeqs(cap, 300);
    fs.truncateSync(lab().hostLogFile('primary'), 0);
    await waitFor('truncation noticed', () => (cap.notices.some((n) => n.type === 'truncated') ? true : undefined), 20_000);
    writeSeq(301, 400);
    await waitForSeqs(cap, 400);
    assert.deepStrictEqual(cap.seqs(), range(1, 400));
  });

  it('resumes after the SSH connection is killed, without losing or repeating a line', async () => {
    const cap = await follow(pool, cluster);
    followers.push(cap.follower);
    await writeSeqOver(1, 3000, 2000, async () => assert.ok((await lab().killSshSessions('primary')) > 0, 'a session was killed'));
    await waitForSeqs(cap, 3000, 20_000);
    assert.deepStrictEqual(cap.seqs(), range(1, 3000));
    assert.ok(cap.notices.some((n) => n.type === 'reconnecting'), JSON.stringify(cap.notices));
    assert.ok(cap.notices.some((n) => n.type === 'resumed'), JSON.stringify(cap.notices));
  });

  it('when the log was rotated while disconnected, finishes the old file (found by inode) before the new one', async () => {
    const cap = await follow(pool, cluster);
    followers.push(cap.follower);
    writeSeq(1, 100);
    await waitForSeqs(cap, 100);
    const endOf100 = fs.statSync(lab().hostLogFile('primary')).size;
    // Drop the connection, and keep it from coming back until the log has moved on.
    const conn = pool.get(cluster.primary);
    await lab().killSshSessions('primary');
    writeSeq(101, 200); // into the file that is about to be rotated away
    await lab().rotate('primary');
    writeSeq(201, 300); // into the new file
    await waitForSeqs(cap, 300, 20_000);
    assert.deepStrictEqual(cap.seqs(), range(1, 300));
    // The resume happened on the old inode, at the end of line 100, and only then came the switch.
    const resumed = cap.notices.findIndex((n) => n.type === 'resumed');
    const rotated = cap.notices.findIndex((n) => n.type === 'rotated' && n.oldFileFound);
    assert.ok(resumed >= 0 && rotated > resumed, JSON.stringify(cap.notices));
    const r = cap.notices[resumed];
    assert.ok(r.type === 'resumed' && r.position.ino === cap.lines[0].ino && r.position.offset === endOf100, JSON.stringify(r));
    assert.strictEqual(conn.state, 'connected');
  });

  it('reads the gateway\'s own insertion lines after SIGUSR2 and parses their ids', async () => {
    const cap = await follow(pool, cluster);
    followers.push(cap.follower);
    const a = lab().putMail('primary', 'input');
    const b = lab().putMail('primary', 'input');
    await signalGateway(pool.get(cluster.primary), cluster);
    await waitFor('two insertions', () => (cap.lines.map((l) => parseLine(l.text)).filter((r) => r.kind === 'inserted').length >= 2 ? true : undefined), 10_000);
    const ids = cap.lines.map((l) => parseLine(l.text)).filter((r) => r.kind === 'inserted').flatMap((r) => r.ids);
    assert.deepStrictEqual(ids.sort(), [a.id, b.id].sort());
  });

  it('starts on a missing file and picks it up when it appears; lists the log folder; reads earlier text', async () => {
    fs.rmSync(lab().hostLogFile('primary'));
    const cap = await follow(pool, cluster);
    followers.push(cap.follower);
    assert.ok(cap.notices.some((n) => n.type === 'missing'));
    writeSeq(1, 20);
    await waitForSeqs(cap, 20);
    assert.deepStrictEqual(cap.seqs(), range(1, 20));
    const files = await listLogFiles(pool.get(cluster.primary));
    assert.ok(files.some((f) => f.path === cluster.logFile && f.size === fs.statSync(lab().hostLogFile('primary')).size), JSON.stringify(files));
    const size = fs.statSync(lab().hostLogFile('primary')).size;
    const before = await readBefore(pool.get(cluster.primary), cluster.logFile, size, 200);
    assert.ok(before.startOffset > 0 && before.startOffset < size);
    assert.match(before.text, /TEST seq=20\n[^\n]* TEST barrier=\d+\n$/); // waitForSeqs wrote the barrier last
    assert.ok(before.text.split('\n').every((l) => l === '' || SEQ.test(l) || / TEST barrier=\d+$/.test(l)), 'starts at a line start');
  });
});

describe('mailgw-ha logs (CLI) against the lab', function () {
  this.timeout(60_000);
  beforeEach(async () => {
    await lab().reset();
    await lab().waitForLog('primary', 'SERVICE gateway started');
  });

  function cli(args: string[], opts: { until?: RegExp; onStderr?: (text: string) => void } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'cli.ts'), ...args, '--settings', lab().settingsPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MAILGW_HA_VERBOSE: '1' } });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (opts.until?.test(stdout)) child.kill('SIGINT');
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        opts.onStderr?.(stderr);
      });
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('prints the last N lines and exits 0', async () => {
    writeSeq(1, 40);
    const r = await cli(['logs', 'primary', '--lines', '5']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(r.stdout.trim().split('\n').map((l) => Number(SEQ.exec(l)?.[1])), [36, 37, 38, 39, 40]);
  });

  it('--follow --inserted --json prints one record per inserted mail until interrupted', async () => {
    const a = lab().putMail('primary', 'input');
    let following: () => void = () => undefined;
    const started = new Promise<void>((r) => (following = r));
    const run = cli(['logs', 'fw-a', '--follow', '--inserted', '--json', '--lines', '0'], { until: new RegExp(a.id), onStderr: (t) => /following \//.test(t) && following() });
    await started;
    await lab().exec('primary', lab().usr2ByName());
    const r = await run;
    assert.strictEqual(r.code, 0, r.stderr);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; ids: string[]; unit: string });
    assert.deepStrictEqual(recs.map((x) => [x.unit, x.kind, x.ids]), [['lab/fw-a', 'inserted', [a.id]]]);
  });

  it('exits 2 on a bad --lines value', async () => {
    const r = await cli(['logs', 'primary', '--lines', 'many']);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /--lines needs a whole number/);
  });
});
