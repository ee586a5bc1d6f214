// The audit trail against the lab: a real recovery of stranded mail through the CLI leaves, for the
// cluster, its start, the place / signal / confirm / remove steps naming exactly the recovered ids
// with their Message-IDs, and its end; `signal` appends one record; a recovery SIGKILLed mid-way and
// run again shows both runs; an unwritable trail refuses the run before anything moves; a trail that
// fails mid-run does not fail the run.
import * as assert from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { AuditEntry, AuditRecord, AuditSink } from '../../src/core/audit/record';
import type { StrandManifest } from '../lab/lab';
import { waitFor } from '../lab/wait';
import { lab } from './hooks';
import { assertExactlyOnce, buildCli, labCluster, labSettingsFile, mailIds, runRecovery, tempJournal } from './recoveryHelpers';

interface CliRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
}

function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

function readTrail(file: string): AuditRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as AuditRecord);
}

function tempAudit(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-audit-it-')), 'audit', 'audit.jsonl');
}

const sorted = (ids: Iterable<string>) => [...ids].sort();
/** The ids a step named over all its records (each once). */
function idsOf(records: readonly AuditRecord[], action: string): string[] {
  const all = records.filter((r) => r.action === action).flatMap((r) => r.mails.map((m) => m.id));
  assert.strictEqual(new Set(all).size, all.length, `each mail named once by "${action}"`);
  return sorted(all);
}

function movedIds(m: StrandManifest): string[] {
  const dup = new Set(m.duplicates);
  return sorted([...m.secondarySpool, ...m.secondaryVscan].filter((id) => !dup.has(id)));
}

/** Every mail a record names carries the Message-ID the lab wrote into it. */
function assertMessageIds(records: readonly AuditRecord[], m: StrandManifest): void {
  for (const r of records) for (const mail of r.mails) assert.strictEqual(mail.messageId, m.messageIds[mail.id], `${r.action} names ${mail.id} with its Message-ID`);
}

describe('audit trail (lab)', function () {
  this.timeout(120_000);
  let cli = '';
  before(async function () {
    this.timeout(60_000);
    cli = await buildCli();
  });
  beforeEach(async () => {
    await lab().reset();
  });

  it('a CLI recovery: start, place, signal, confirm, remove with exactly the recovered ids and their Message-IDs, duplicates, end done; who and where', async () => {
    const m = lab().strand({ mails: 8, vscan: 2, duplicates: 2, orphans: 1 });
    const audit = tempAudit();
    const run = startCli([cli, 'recover', '--yes', '--json', '--settings', labSettingsFile(), '--journal', tempJournal(), '--audit-log', audit]);
    const res = await run.done;
    assert.strictEqual(res.code, 0, `${res.stdout}\n${res.stderr}`);
    const cluster = labCluster();
    const trail = readTrail(audit);
    const moved = movedIds(m);
    assert.ok(moved.length === 8, 'the lab stranded what the test expects');

    assert.ok(trail.length >= 7, JSON.stringify(trail.map((r) => r.action)));
    for (const r of trail) {
      assert.deepStrictEqual([r.v, r.cluster, r.tool, r.pid, r.user, r.host], [1, cluster.name, 'cli', run.child.pid, os.userInfo().username, os.hostname()]);
      assert.ok(Math.abs(Date.parse(r.at) - Date.now()) < 120_000, `time stamp ${r.at}`);
    }
    const runIds = new Set(trail.map((r) => r.runId));
    assert.strictEqual(runIds.size, 1, 'one run id over the run');
    assert.ok([...runIds][0], 'the run id is set');
    assertMessageIds(trail, m);

    const actions: string[] = trail.map((r) => r.action);
    const first = (a: string) => actions.indexOf(a);
    assert.strictEqual(actions[0], 'run-start');
    assert.strictEqual(actions[actions.length - 1], 'run-end');
    assert.ok(first('place') < first('signal') && first('signal') < first('confirm') && first('confirm') < first('remove'), actions.join(' '));
    const start = trail[0];
    assert.deepStrictEqual(sorted(start.mails.map((x) => x.id)), moved);
    assert.match(start.detail ?? '', new RegExp(`${moved.length} mail\\(s\\) planned`));
    assert.deepStrictEqual(idsOf(trail, 'place'), moved);
    assert.deepStrictEqual(idsOf(trail, 'confirm'), moved);
    assert.deepStrictEqual(idsOf(trail, 'remove'), moved);
    assert.deepStrictEqual(idsOf(trail, 'remove-duplicates'), sorted(m.duplicates));
    const signals = trail.filter((r) => r.action === 'signal');
    assert.strictEqual(signals.length, 1);
    assert.match(signals[0].detail ?? '', /SIGUSR2 to PID \d+/);
    assert.deepStrictEqual(sorted(signals[0].mails.map((x) => x.id)), moved);
    const unitOf = (a: string) => [...new Set(trail.filter((r) => r.action === a).map((r) => `${r.unit} ${r.unitHost}`))];
    const where = (u: typeof cluster.primary) => `${u.name} ${u.port !== undefined && u.port !== 22 ? `${u.host}:${u.port}` : u.host}`;
    assert.deepStrictEqual(unitOf('place'), [where(cluster.primary)]);
    assert.deepStrictEqual(unitOf('signal'), [where(cluster.primary)]);
    assert.deepStrictEqual(unitOf('confirm'), [where(cluster.primary)]);
    assert.deepStrictEqual(unitOf('remove'), [where(cluster.secondary)]);
    assert.deepStrictEqual(unitOf('remove-duplicates'), [where(cluster.secondary)]);
    const end = trail[trail.length - 1];
    assert.strictEqual(end.outcome, 'done');
    assert.match(end.detail ?? '', new RegExp(`${moved.length} inserted, ${moved.length} removed`));
    await assertExactlyOnce(m);

    // `mailgw-ha audit` shows it: a text line per record, a CSV row per mail, the records as JSON.
    const text = await startCli([cli, 'audit', '--cluster', cluster.name, '--audit-log', audit]).done;
    assert.strictEqual(text.code, 0, text.stderr);
    const lines = text.stdout.trim().split('\n');
    assert.strictEqual(lines.length, trail.length);
    assert.match(lines[lines.length - 1], /run-end {2}done/);
    const csv = await startCli([cli, 'audit', '--csv'], { MAILGW_HA_AUDIT_LOG: audit }).done;
    assert.strictEqual(csv.code, 0, csv.stderr);
    const rows = csv.stdout.trim().split('\r\n');
    assert.strictEqual(rows.length, 1 + trail.reduce((n, r) => n + Math.max(1, r.mails.length), 0));
    const json = await startCli([cli, 'audit', '--json', '--audit-log', audit, '--cluster', 'no-such-cluster']).done;
    assert.deepStrictEqual((JSON.parse(json.stdout) as { records: unknown[] }).records, []);
  });

  it('`signal` appends one record naming the unit, the PID and the outcome', async () => {
    const audit = tempAudit();
    const res = await startCli([cli, 'signal', 'primary', '--json', '--settings', lab().settingsPath, '--audit-log', audit]).done;
    assert.strictEqual(res.code, 0, res.stderr);
    const pid = (JSON.parse(res.stdout) as { pid: number }).pid;
    const trail = readTrail(audit);
    assert.strictEqual(trail.length, 1);
    const cluster = labCluster();
    assert.deepStrictEqual([trail[0].action, trail[0].outcome, trail[0].cluster, trail[0].unit, trail[0].tool, trail[0].runId, trail[0].mails], ['signal', 'ok', cluster.name, cluster.primary.name, 'cli', undefined, []]);
    assert.match(trail[0].detail ?? '', new RegExp(`to PID ${pid}\\b`));
  });

  it('a recovery SIGKILLed mid-way and run again: the trail shows both runs, the second finishing the first under its id', async () => {
    const m = lab().strand({ mails: 20, vscan: 2, bigMb: 1 });
    const audit = tempAudit();
    const journal = tempJournal();
    const args = [cli, 'recover', '--yes', '--json', '--settings', labSettingsFile(), '--journal', journal, '--audit-log', audit];
    // Small batches: the run is still copying when its first copies are placed.
    const first = startCli(args, { MAILGW_HA_COPY_BATCH: '2' });
    await waitFor('the first copies placed (audited)', () => readTrail(audit).some((r) => r.action === 'place'), 60_000);
    first.child.kill('SIGKILL');
    assert.strictEqual((await first.done).signal, 'SIGKILL');
    const killed = readTrail(audit);
    assert.ok(!killed.some((r) => r.action === 'run-end'), `killed before its end: ${killed.map((r) => r.action).join(' ')}`);
    const firstRun = killed[0].runId!;
    assert.strictEqual(killed[0].action, 'run-start');

    const second = startCli([...args, '--take-over-lock']);
    const res = await second.done;
    assert.strictEqual(res.code, 0, `${res.stdout}\n${res.stderr}`);
    const trail = readTrail(audit);
    const byFirst = trail.filter((r) => r.pid === first.child.pid);
    const bySecond = trail.filter((r) => r.pid === second.child.pid);
    assert.strictEqual(byFirst.length + bySecond.length, trail.length);
    assert.strictEqual(bySecond[0].action, 'run-resume');
    assert.strictEqual(bySecond[0].runId, firstRun, 'the resume names the interrupted run');
    const resumeEnd = bySecond.find((r) => r.action === 'run-end' && r.runId === firstRun);
    assert.ok(resumeEnd, 'the interrupted run is ended by the second process');
    assert.strictEqual(resumeEnd.outcome, 'done');
    // Whatever the first run had not finished, the second did (under the first run's id, or its own
    // run for mails the first never touched); over both, each moved mail confirmed and removed once.
    const moved = movedIds(m);
    assert.deepStrictEqual(idsOf(trail, 'confirm'), moved);
    assert.deepStrictEqual(idsOf(trail, 'remove'), moved);
    assertMessageIds(trail, m);
    await assertExactlyOnce(m);
  });

  it('an audit trail that cannot be written: nothing is started — no recovery, no dry run that would finish an interrupted one, no signal', async () => {
    const m = lab().strand({ mails: 3 });
    const blocker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-audit-it-')), 'a-file');
    fs.writeFileSync(blocker, '');
    const blocked = path.join(blocker, 'audit.jsonl');
    const journal = tempJournal();
    const recoverArgs = [cli, 'recover', '--json', '--settings', labSettingsFile(), '--journal', journal];
    const res = await startCli([...recoverArgs, '--yes', '--audit-log', blocked]).done;
    assert.strictEqual(res.code, 1, res.stdout);
    const report = JSON.parse(res.stdout) as { errors: { message: string }[]; planned: number };
    assert.match(report.errors[0].message, /cannot write the audit trail .*nothing was done/);
    assert.deepStrictEqual(sorted(mailIds('spool', 'secondary')), sorted(m.secondarySpool));
    assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')), []);

    // An interrupted run (copies placed, not signalled): a dry run would finish it, so not unaudited.
    const first = await runRecovery(journal, { faults: (p) => { if (p === 'after-place') throw new Error('stopped after placing'); } });
    assert.strictEqual(first.outcome, 'failed');
    const placed = fs.readdirSync(lab().hostPath('primary', 'input')).sort();
    assert.strictEqual(placed.length, 6);
    const dry = await startCli([...recoverArgs, '--dry-run', '--audit-log', blocked]).done;
    assert.strictEqual(dry.code, 1, dry.stdout);
    assert.match(dry.stdout, /cannot write the audit trail .*was not finished/);
    assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')).sort(), placed, 'the interrupted run left as it was');

    const sig = await startCli([cli, 'signal', 'primary', '--settings', lab().settingsPath, '--audit-log', blocked]).done;
    assert.strictEqual(sig.code, 1);
    assert.match(sig.stderr, /cannot write the audit trail.*no signal was sent/);
    assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')).sort(), placed, 'not inserted by a signal');

    // With a trail that works, the interrupted run is finished, audited, exactly once.
    const audit = tempAudit();
    const ok = await startCli([...recoverArgs, '--yes', '--audit-log', audit]).done;
    assert.strictEqual(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
    const trail = readTrail(audit);
    assert.strictEqual(trail[0].action, 'run-resume');
    assert.deepStrictEqual(idsOf(trail, 'remove'), sorted(m.secondarySpool));
    await assertExactlyOnce(m);
  });

  it('an audit trail that fails mid-run: the recovery still finishes, exactly once, with the records taken before', async () => {
    const m = lab().strand({ mails: 6, vscan: 1 });
    const seen: AuditEntry[] = [];
    // Takes the first records, then breaks (a disk filling up); a sink may even throw.
    const sink: AuditSink = {
      probe: () => undefined,
      append(e) {
        if (seen.length >= 2) throw new Error('disk full');
        seen.push(e);
      },
    };
    const r = await runRecovery(tempJournal(), { audit: sink });
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.strictEqual(r.inserted, 7);
    assert.deepStrictEqual(seen.map((e) => e.action), ['run-start', 'place']);
    await assertExactlyOnce(m);
  });
});
