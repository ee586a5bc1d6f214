// One recovery per cluster wherever it runs: the lock on the primary keeps a CLI run and a core run
// (as the extension calls it) of one cluster apart even with different journals (two workstations);
// the CLI and the core share one default journal, so either finishes the other's interrupted run; a
// stale lock is shown and replaced only when the admin says so; a journal whose staging folder is
// not ours is refused.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LOCK_NAME } from '../../src/core/recovery/clusterLock';
import { defaultJournalFile } from '../../src/core/recovery/journalPath';
import { waitFor } from '../lab/wait';
import { lab } from './hooks';
import { assertExactlyOnce, buildCli, labCluster, labSettingsFile, mailIds, runRecovery } from './recoveryHelpers';

function cliChild(cli: string, stateHome: string, extra: string[] = []) {
  const child = spawn(process.execPath, [cli, 'recover', '--yes', '--json', '--settings', labSettingsFile(), ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_STATE_HOME: stateHome } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

const lockPath = () => path.join(path.dirname(lab().hostPath('primary', 'spool')), LOCK_NAME);
const tempHome = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-state-'));

describe('recovery lock and shared journal (lab)', function () {
  this.timeout(120_000);
  let cli = '';
  before(async function () {
    this.timeout(60_000);
    cli = await buildCli();
  });
  beforeEach(async () => {
    await lab().reset();
  });

  it('a CLI run while the core runs (other journal, as from another workstation) is refused naming the owner; the first finishes exactly once', async () => {
    const m = lab().strand({ mails: 30, vscan: 3, bigMb: 6 });
    const first = runRecovery(path.join(tempHome(), 'journal.jsonl'), { client: 'core test' });
    await waitFor('the lock on the primary', () => fs.existsSync(path.join(lockPath(), 'owner')), 20_000);
    const second = await cliChild(cli, tempHome()).done;
    assert.strictEqual(second.code, 1, second.stderr);
    const j = JSON.parse(second.stdout) as { outcome: string; planned: number; errors: { message: string }[]; lockedBy: { owner: { user: string; host: string; pid: number; tool: string }; stale: string | null } };
    assert.strictEqual(j.outcome, 'failed');
    assert.strictEqual(j.planned, 0, 'nothing planned or touched');
    assert.strictEqual(j.lockedBy.owner.tool, 'core test');
    assert.strictEqual(j.lockedBy.owner.pid, process.pid);
    assert.strictEqual(j.lockedBy.owner.host, os.hostname());
    assert.strictEqual(j.lockedBy.stale, null);
    assert.match(j.errors[0].message, new RegExp(`another recovery of cluster "lab" holds the lock on the primary: \\S+@${os.hostname()} \\(core test, process ${process.pid}, since .*\\), last heartbeat \\d+ s ago\\. Wait for it to finish`));
    const r = await first;
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.ok(!fs.existsSync(lockPath()), 'the lock is released');
    await assertExactlyOnce(m);
  });

  it('the core while a CLI run holds the lock: refused; with --take-over-lock a live lock is still refused', async () => {
    const m = lab().strand({ mails: 30, bigMb: 6 });
    const home = tempHome();
    const run = cliChild(cli, home);
    await waitFor('the lock on the primary', () => fs.existsSync(path.join(lockPath(), 'owner')), 20_000);
    const r = await runRecovery(path.join(tempHome(), 'journal.jsonl'), { takeOverStaleLock: true });
    assert.strictEqual(r.outcome, 'failed');
    assert.strictEqual(r.lockedBy?.owner?.tool, 'mailgw-ha CLI');
    assert.strictEqual(r.lockedBy?.stale, undefined);
    assert.strictEqual(r.planned, 0);
    const c = await run.done;
    assert.strictEqual(c.code, 0, c.stderr);
    await assertExactlyOnce(m);
  });

  /** A CLI run with the per-user default journal of `home`, SIGKILLed once it places copies: its lock stays on the primary. */
  async function killedCliRun(home: string): Promise<string> {
    const journal = defaultJournalFile(labCluster(), { XDG_STATE_HOME: home });
    const run = cliChild(cli, home);
    await waitFor('the CLI run to place copies', () => fs.existsSync(journal) && /"state":"(placing|placed)"/.test(fs.readFileSync(journal, 'utf8')), 60_000, 5);
    run.child.kill('SIGKILL');
    assert.strictEqual((await run.done).signal, 'SIGKILL');
    assert.ok(fs.existsSync(path.join(lockPath(), 'owner')), 'the killed run left its lock');
    return journal;
  }
  const runIdOf = (journal: string) => (JSON.parse(fs.readFileSync(journal, 'utf8').split('\n')[0]) as { runId: string }).runId;

  it('F15: a CLI run SIGKILLed mid-way is finished by the core from the shared default journal without a takeover: the lock is provably that run\'s, and the report says so', async () => {
    const m = lab().strand({ mails: 25, vscan: 2, bigMb: 4 });
    const journal = await killedCliRun(tempHome());
    const runId = runIdOf(journal);
    // The core, as the extension calls it, with the same per-user default journal; no takeover asked.
    const r = await runRecovery(journal);
    assert.ok(['done', 'nothing-to-do'].includes(r.outcome), JSON.stringify(r.errors));
    assert.ok(r.resumed, 'the CLI run was resumed');
    assert.match(r.lockTakenBack ?? '', new RegExp(`left by this workstation's interrupted run ${runId} \\(process \\d+ no longer runs\\); taken back to finish it`));
    assert.ok(!fs.existsSync(lockPath()));
    await assertExactlyOnce(m);
  });

  it('F15: after a SIGKILLed CLI run the next CLI run on the same machine resumes it without --take-over-lock and says so', async () => {
    const m = lab().strand({ mails: 25, vscan: 2, bigMb: 4 });
    const home = tempHome();
    const journal = await killedCliRun(home);
    const runId = runIdOf(journal);
    const next = await cliChild(cli, home).done;
    assert.strictEqual(next.code, 0, next.stdout + next.stderr);
    const j = JSON.parse(next.stdout) as { outcome: string; resumed?: unknown; lockTakenBack?: string };
    assert.ok(j.resumed, next.stdout);
    assert.match(j.lockTakenBack ?? '', new RegExp(`interrupted run ${runId}`));
    assert.match(next.stderr, new RegExp(`mailgw-ha warning: .*recovery lock .*left by this workstation's interrupted run ${runId}`));
    assert.ok(!fs.existsSync(lockPath()));
    await assertExactlyOnce(m);
  });

  it("F15: the killed run's lock seen from another journal (not provably its run): stale, refused until the admin takes it over", async () => {
    const m = lab().strand({ mails: 25, vscan: 2, bigMb: 4 });
    const journal = await killedCliRun(tempHome());
    const other = path.join(tempHome(), 'journal.jsonl');
    const refused = await runRecovery(other);
    assert.strictEqual(refused.outcome, 'failed');
    assert.match(refused.lockedBy?.stale ?? '', /no longer runs/);
    assert.match(refused.errors[0].message, /looks stale: .*take the lock over/);
    assert.strictEqual(refused.lockTakenBack, undefined);
    // The admin takes it over for the killed run's own journal, which then is finished.
    const r = await runRecovery(journal, { takeOverStaleLock: true });
    assert.ok(['done', 'nothing-to-do'].includes(r.outcome), JSON.stringify(r.errors));
    assert.ok(r.resumed);
    await assertExactlyOnce(m);
  });

  it('a lock of another workstation with a recent heartbeat is never taken over; without a heartbeat it is, on request only', async () => {
    const m = lab().strand({ mails: 5 });
    fs.mkdirSync(lockPath());
    fs.writeFileSync(path.join(lockPath(), 'owner'), JSON.stringify({ user: 'alice', host: 'ws-elsewhere', pid: 1234, tool: 'VS Code extension', at: '2026-11-30T09:00:00.000Z' }) + '\n');
    const journal = path.join(tempHome(), 'journal.jsonl');
    const live = await runRecovery(journal, { takeOverStaleLock: true });
    assert.strictEqual(live.outcome, 'failed');
    assert.match(live.errors[0].message, /alice@ws-elsewhere \(VS Code extension, process 1234/);
    const old = new Date(Date.now() - 10 * 60_000);
    fs.utimesSync(path.join(lockPath(), 'owner'), old, old);
    const stale = await runRecovery(journal);
    assert.match(stale.lockedBy?.stale ?? '', /no heartbeat for \d+ s/);
    assert.strictEqual(mailIds('spool', 'secondary').size, 5, 'nothing touched while refused');
    const r = await runRecovery(journal, { takeOverStaleLock: true });
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    await assertExactlyOnce(m);
  });

  it('a journal whose staging folder is not the hidden folder in input/ is refused; nothing is removed', async () => {
    const m = lab().strand({ mails: 3 });
    const cluster = labCluster();
    const journal = path.join(tempHome(), 'journal.jsonl');
    const spool = `${lab().spoolDir}/spool`;
    fs.writeFileSync(
      journal,
      [
        { t: 'run', v: 1, runId: '20261130-100000-abcdef', cluster: cluster.name, primary: cluster.primary.key, secondary: cluster.secondary.key, spoolBase: lab().spoolDir, stage: spool, logFile: cluster.logFile, at: '' },
        { t: 'plan', mails: [{ id: m.secondarySpool[0], folder: 'spool', bodySize: 1, envSize: 1 }] },
        { t: 'state', ids: [m.secondarySpool[0]], state: 'copying', at: '' },
      ].map((x) => JSON.stringify(x) + '\n').join(''),
    );
    const primaryMail = lab().putMail('primary', 'spool');
    lab().pauseDelivery('primary');
    const r = await runRecovery(journal);
    assert.strictEqual(r.outcome, 'failed');
    assert.match(r.errors[0].message, /names the staging folder .*\/spool", not the hidden folder .*input\/\.mailgw-ha-<run>/);
    assert.ok(mailIds('spool', 'primary').has(primaryMail.id), "the primary's spool/ is untouched");
    assert.strictEqual(mailIds('spool', 'secondary').size, 3);
    assert.ok(!fs.existsSync(lockPath()), 'the lock is released after the refusal');
  });
});
