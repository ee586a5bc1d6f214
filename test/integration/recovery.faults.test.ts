// Faults during recovery, each followed by a second run that must finish the job with every
// stranded mail delivered exactly once (checked against what the simulators delivered).
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { FaultPoint } from '../../src/core/recovery/runContract';
import { lab } from './hooks';
import { assertExactlyOnce, buildCli, labSettingsFile, mailIds, runRecovery, tarMethod, tempJournal, transferKeyLines } from './recoveryHelpers';

const POINTS: FaultPoint[] = ['before-copy', 'mid-copy', 'after-copy', 'after-place', 'after-signal', 'mid-cleanup'];

describe('recovery faults (lab)', function () {
  this.timeout(120_000);
  beforeEach(async () => {
    await lab().reset();
  });

  for (const [unit, crash] of [['primary', false], ['secondary', false], ['primary', true], ['secondary', true]] as const) {
    for (const point of POINTS) {
      const how = crash ? 'killed and the run stopped there (as by a crash)' : 'killed';
      it(`connection to the ${unit} ${how} at ${point}: the next run finishes, exactly once`, async () => {
        const m = lab().strand({ mails: 25, vscan: 3, orphans: 1, bigMb: 8 });
        const journal = tempJournal();
        let hit = 0;
        const first = await runRecovery(journal, {
          faults: async (p) => {
            if (p !== point || hit++) return;
            await lab().killSshSessions(unit);
            if (crash) throw new Error(`stopped at ${point}`);
          },
        });
        // Direct: the secondary's other streams may start flowing before the primary's loss stops them.
        if (tarMethod() === 'direct' && point === 'mid-copy') assert.ok(hit >= 1, `fault point ${point} reached`);
        else assert.strictEqual(hit, 1, `fault point ${point} reached`);
        const second = await runRecovery(journal);
        assert.ok(['done', 'nothing-to-do'].includes(second.outcome), `second run: ${second.outcome} ${JSON.stringify(second.errors)} (first: ${first.outcome} ${JSON.stringify(first.errors)})`);
        assert.ok(!fs.existsSync(journal), 'the journal was finished and archived');
        if (first.outcome === 'failed') assert.ok(second.resumed, 'the second run resumed the journal');
        if (crash) {
          assert.strictEqual(first.outcome, 'failed');
          assert.ok(second.resumed, 'the second run resumed the journal');
        }
        if (process.env.MAILGW_TEST_VERBOSE) console.log(`      first: ${first.outcome} ${first.errors.map((e) => e.message).join('; ')}; second resumed: ${JSON.stringify(second.resumed)}`);
        await assertExactlyOnce(m);
      });
    }
  }

  // Small batches: several are in flight at once when the fault hits (the copy runs 3 batches concurrently).
  for (const [unit, point] of [['secondary', 'mid-copy'], ['primary', 'after-copy'], ['primary', 'after-place']] as const) {
    it(`with batches in flight, the ${unit} killed at ${point} and the run stopped: the next run finishes, exactly once`, async () => {
      const m = lab().strand({ mails: 30, vscan: 4, orphans: 1, bigMb: 2 });
      const journal = tempJournal();
      let hit = 0;
      const first = await runRecovery(journal, {
        batchSize: 4,
        faults: async (p) => {
          if (p !== point || hit++) return;
          await lab().killSshSessions(unit);
          throw new Error(`stopped at ${point}`);
        },
      });
      assert.strictEqual(first.outcome, 'failed');
      const second = await runRecovery(journal);
      assert.ok(['done', 'nothing-to-do'].includes(second.outcome), `second run: ${second.outcome} ${JSON.stringify(second.errors)}`);
      assert.ok(second.resumed, 'the second run resumed the journal');
      await assertExactlyOnce(m);
    });
  }

  it('many small batches in flight: every mail moved exactly once', async () => {
    const m = lab().strand({ mails: 40, vscan: 5, orphans: 1, bigMb: 3 });
    const r = await runRecovery(tempJournal(), { batchSize: 3 });
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.strictEqual(r.inserted, m.secondarySpool.length + m.secondaryVscan.length);
    await assertExactlyOnce(m);
  });

  it("the primary's input/ too small for what a run would copy: refused before anything is copied, in the doctor's words", async () => {
    lab().strand({ mails: 10, bigMb: 4 });
    const input = `${lab().spoolDir}/input`;
    const mount = await lab().exec('primary', ['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', input]);
    assert.strictEqual(mount.code, 0, mount.stderr);
    try {
      const r = await runRecovery(tempJournal());
      assert.strictEqual(r.outcome, 'failed');
      assert.match(r.errors[0].message, /refuses this recovery; nothing was copied: lab\/fw-a: Free space in input\/: 1\.0 MB free .*what this recovery would copy is 4\.\d MB\. Fix: Free space on fw-a/);
      assert.strictEqual((await lab().exec('primary', ['ls', '-A', input])).stdout.trim(), '', 'nothing reached input/');
      assert.strictEqual(r.copied, 0);
    } finally {
      await lab().exec('primary', ['umount', input]);
    }
  });

  it("the primary's input/ filling up while the copies stream (another writer): nothing half placed; the next run finishes", async () => {
    const m = lab().strand({ mails: 10, bigMb: 4 });
    const input = `${lab().spoolDir}/input`;
    const mount = await lab().exec('primary', ['mount', '-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', input]);
    assert.strictEqual(mount.code, 0, mount.stderr);
    const journal = tempJournal();
    try {
      // Room enough when the run checks; taken by someone else just before the copy.
      const r = await runRecovery(journal, { faults: async (p) => void (p === 'before-copy' && (await lab().exec('primary', ['sh', '-c', `dd if=/dev/zero of=${input}/.filler bs=1M count=7 2>/dev/null; exit 0`]))) });
      assert.strictEqual(r.outcome, 'failed');
      assert.match(r.errors.map((e) => e.message).join('\n'), /full|space|not writable/i);
      await lab().exec('primary', ['rm', '-f', `${input}/.filler`]);
      const inside = await lab().exec('primary', ['ls', '-A', input]);
      assert.strictEqual(inside.stdout.trim(), '', 'staging folder removed from the full input/');
    } finally {
      await lab().exec('primary', ['umount', input]);
    }
    const r2 = await runRecovery(journal);
    assert.strictEqual(r2.outcome, 'done', JSON.stringify(r2.errors));
    await assertExactlyOnce(m);
  });

  it("the primary's input/ not writable: refused cleanly; the next run finishes", async () => {
    const m = lab().strand({ mails: 6 });
    const input = `${lab().spoolDir}/input`;
    for (const argv of [['mount', '--bind', input, input], ['mount', '-o', 'remount,bind,ro', input]]) {
      const r = await lab().exec('primary', argv);
      assert.strictEqual(r.code, 0, r.stderr);
    }
    const journal = tempJournal();
    try {
      const r = await runRecovery(journal);
      assert.strictEqual(r.outcome, 'failed');
      assert.match(r.errors[0].message, /refuses this recovery; nothing was changed: lab\/fw-a: Gateway folders: input\/ is not writable/);
      assert.strictEqual(r.removed, 0);
    } finally {
      await lab().exec('primary', ['umount', input]);
    }
    const r2 = await runRecovery(journal);
    assert.strictEqual(r2.outcome, 'done', JSON.stringify(r2.errors));
    await assertExactlyOnce(m);
  });

  it('the gateway stops after the copies are placed: the copies are taken back, nothing inserted twice once it runs again', async () => {
    const m = lab().strand({ mails: 8, vscan: 2 });
    const journal = tempJournal();
    const r = await runRecovery(journal, { faults: async (p) => (p === 'after-place' ? lab().stopGateway('primary') : undefined) });
    assert.strictEqual(r.outcome, 'failed');
    // Not signalled: no copy waits in input/ for a gateway start or another signal.
    assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')).filter((n) => /\.(body|env)$/.test(n)), [], 'no copy left in the primary\'s input/');
    assert.strictEqual(r.rolledBack, 10);
    const r2 = await runRecovery(journal);
    assert.strictEqual(r2.outcome, 'failed', 'still refused while no gateway runs');
    await lab().startGateway('primary');
    const r3 = await runRecovery(journal);
    assert.strictEqual(r3.outcome, 'done', JSON.stringify(r3.errors));
    assert.strictEqual(r3.inserted, 10);
    await assertExactlyOnce(m);
  });

  for (const point of ['after-copy', 'after-place'] as const) {
    it(`a takeover at ${point} (the secondary delivers its own mail): after the takeback nothing is delivered twice`, async () => {
      const m = lab().strand({ mails: 12, vscan: 2 });
      const journal = tempJournal();
      const r = await runRecovery(journal, { faults: async (p) => (p === point ? lab().takeover() : undefined) });
      assert.strictEqual(r.outcome, 'failed');
      assert.match(r.errors.map((e) => e.message).join('\n'), /not the active unit/);
      // The check before the signal refused: our copies were taken back, none waits in input/ for
      // whoever signals the primary next.
      if (point === 'after-place') {
        assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')).filter((n) => /\.(body|env)$/.test(n)), [], 'no copy left in the primary\'s input/');
        assert.strictEqual(r.rolledBack, m.secondarySpool.length + m.secondaryVscan.length);
      }
      // While active, the secondary delivers what it holds.
      await lab().waitForQuiet();
      await lab().takeback();
      const r2 = await runRecovery(journal);
      assert.ok(['done', 'nothing-to-do'].includes(r2.outcome), JSON.stringify(r2.errors));
      await assertExactlyOnce(m);
    });
  }

  it('a placed copy that vanished from input/ without any trace of insertion is held, never copied again on a guess', async () => {
    const m = lab().strand({ mails: 4 });
    const journal = tempJournal();
    const first = await runRecovery(journal, {
      faults: (p) => {
        if (p === 'after-place') throw new Error('stopped after placing');
      },
    });
    assert.strictEqual(first.outcome, 'failed');
    // Someone removes one of the placed copies by hand: no SIGUSR2, no log line, not in spool/.
    const x = m.secondarySpool[1];
    const input = lab().hostPath('primary', 'input');
    fs.rmSync(path.join(input, `${x}.body`));
    fs.rmSync(path.join(input, `${x}.env`));
    const second = await runRecovery(journal);
    assert.strictEqual(second.outcome, 'failed');
    assert.strictEqual(second.resumed?.held, 1);
    assert.strictEqual(second.held, 1);
    assert.strictEqual(second.resumed?.finished, 3);
    assert.ok(second.errors.some((e) => e.id === x && /manual check/.test(e.message)), JSON.stringify(second.errors));
    assert.ok(mailIds('spool', 'secondary').has(x), 'the original stays on the secondary');
    // Later runs leave it alone and keep reporting it.
    const third = await runRecovery(journal);
    assert.strictEqual(third.planned, 0);
    assert.ok(third.errors.some((e) => e.id === x && /held/.test(e.message)));
    assert.ok(mailIds('spool', 'secondary').has(x));
    await lab().waitForQuiet();
    const d = lab().deliveries();
    assert.deepStrictEqual(m.secondarySpool.map((id) => d.byMessageId[m.messageIds[id]] ?? 0), m.secondarySpool.map((id) => (id === x ? 0 : 1)));
  });

  describe('the recovering process SIGKILLed at random points (CLI child)', () => {
    let cli = '';
    before(async function () {
      this.timeout(60_000);
      cli = await buildCli();
    });
    for (let i = 0; i < 3; i++) {
      it(`iteration ${i + 1}: killed, then a second run; exactly once`, async () => {
        const m = lab().strand({ mails: 20, vscan: 3, bigMb: 2 });
        const journal = tempJournal();
        const args = [cli, 'recover', '--yes', '--json', '--settings', labSettingsFile(), '--journal', journal];
        const delay = 100 + Math.floor(Math.random() * 900);
        const first = await runCli(args, delay);
        // The killed run's lock stays on the primary and is only ever taken over on request: the
        // admin, told its process is gone, runs again with --take-over-lock (a live lock would
        // still be refused).
        const second = await runCli([...args, '--take-over-lock']);
        assert.strictEqual(second.code, 0, `${second.stdout}\n${second.stderr} (first killed after ${delay} ms: ${first.signal ?? first.code})`);
        await assertExactlyOnce(m);
        // A direct transfer's key the killed run had authorized was removed by the second run.
        assert.deepStrictEqual(transferKeyLines(), [], 'no transfer key left on the primary');
      });
    }
  });
});

function runCli(args: string[], killAfterMs?: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const t = killAfterMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), killAfterMs) : undefined;
    child.on('close', (code, signal) => {
      if (t) clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
