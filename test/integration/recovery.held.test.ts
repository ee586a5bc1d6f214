// Held mails: listed with why they are held (an interrupted run that could not decide, or a plan that
// cannot prove delivery either way), and resolved by the admin through `mailgw-ha held`: insert
// (delivered exactly once, removed from the standby) or discard (the standby's copy removed, never
// delivered); each journaled with the decision.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { makeMail, transactionOf, writeMail } from '../lab/mail';
import { lab } from './hooks';
import { assertExactlyOnce, buildCli, mailIds, runRecovery, tempJournal } from './recoveryHelpers';

function held(cli: string, journal: string, extra: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'held', '--settings', lab().settingsPath, '--journal', journal, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface HeldJson {
  held: { id: string; folder?: string; why: string; source: 'journal' | 'plan'; messageId?: string }[];
}

/** A run stopped after placing; one placed copy then vanishes from input/ without trace: held by the next run. */
async function heldByInterruptedRun(journal: string, id: string): Promise<void> {
  const first = await runRecovery(journal, { faults: (p) => { if (p === 'after-place') throw new Error('stopped after placing'); } });
  assert.strictEqual(first.outcome, 'failed');
  const input = lab().hostPath('primary', 'input');
  for (const ext of ['body', 'env']) fs.rmSync(path.join(input, `${id}.${ext}`));
  const second = await runRecovery(journal);
  assert.strictEqual(second.resumed?.held, 1, JSON.stringify(second));
}

/**
 * A mail on the standby that a hostile sender's delivery line on the primary names (its Message-ID
 * carried this mail's id): that line proves nothing either way, so the plan holds the mail.
 */
function unprovableMail(): { id: string; messageId: string; transaction: string } {
  const m = makeMail({ n: 7, tag: 'held-named', size: 3000 });
  writeMail(lab().hostPath('secondary', 'spool'), m, 'both', new Date(Date.now() - 60_000));
  const stamp = new Date().toISOString().replace(/^(\d{4})-(\d\d)-(\d\d)T([\d:]{8}).*$/, '$1 $2 $3 $4');
  fs.appendFileSync(lab().hostLogFile('primary'), `${stamp} +00:00 Info     DELIVERY mail delivered (id=54321-54321-54321, message-id=<x@evil.example> id=${m.id}, to=v@dest.example)\n`);
  return { id: m.id, messageId: m.messageId, transaction: transactionOf(m) };
}

describe('recovery: held mails (lab)', function () {
  this.timeout(120_000);
  let cli = '';
  before(async function () {
    this.timeout(60_000);
    cli = await buildCli();
  });
  beforeEach(async () => {
    await lab().reset();
  });

  it('lists held mails with why; insert delivers exactly once, discard removes the copy unsent; both journaled', async () => {
    const m = lab().strand({ mails: 4, vscan: 1 });
    const journal = tempJournal();
    const x = m.secondarySpool[1];
    await heldByInterruptedRun(journal, x);
    const y = unprovableMail();

    const list = await held(cli, journal, ['--json']);
    assert.strictEqual(list.code, 0, list.stderr);
    const l = JSON.parse(list.stdout) as HeldJson;
    assert.deepStrictEqual(l.held.map((h) => [h.id, h.source, h.folder]).sort(), [[x, 'journal', 'spool'], [y.id, 'plan', 'spool']].sort());
    assert.match(l.held.find((h) => h.id === x)!.why, /left the primary's input\/ but no insertion or delivery of it was found/);
    assert.match(l.held.find((h) => h.id === y.id)!.why, /names it in a delivery line that proves nothing: it has more than one id= field/);
    const text = await held(cli, journal, []);
    assert.match(text.stdout, new RegExp(`${x}  spool/ .*held by an interrupted run`));

    // Without a terminal to confirm on and without --yes: refused, nothing changes.
    const refused = await held(cli, journal, ['--insert', x]);
    assert.strictEqual(refused.code, 1);
    assert.match(refused.stderr, /pass --yes/);
    assert.ok(mailIds('spool', 'secondary').has(x));

    const ins = await held(cli, journal, ['--insert', x, '--yes', '--json']);
    assert.strictEqual(ins.code, 0, ins.stdout + ins.stderr);
    assert.deepStrictEqual((JSON.parse(ins.stdout) as { resolved: unknown }).resolved, { id: x, action: 'insert', done: true, why: l.held.find((h) => h.id === x)!.why });
    const dis = await held(cli, journal, ['--discard', y.id, '--yes']);
    assert.strictEqual(dis.code, 0, dis.stdout + dis.stderr);
    assert.match(dis.stdout, /the standby's copy discarded/);

    const after = JSON.parse((await held(cli, journal, ['--json'])).stdout) as HeldJson;
    assert.deepStrictEqual(after.held, []);
    await assertExactlyOnce(m);
    assert.ok(!mailIds('spool', 'secondary').has(y.id), 'the discarded copy is gone');
    assert.strictEqual(lab().deliveries().byTransaction[y.transaction], undefined, 'the discarded mail was never delivered');
    const dir = path.dirname(journal);
    const decisions = fs.readdirSync(dir).filter((f) => f.endsWith('.done.jsonl')).flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter((line) => line.includes('"t":"decision"')).map((line) => JSON.parse(line) as { action: string; id: string }));
    assert.deepStrictEqual(decisions.map((d) => `${d.action} ${d.id}`).sort(), [`discard ${y.id}`, `insert ${x}`].sort());
  });

  it('a mail held by an interrupted run on one workstation is held by a run from another too (the mark on the primary); either resolves it', async () => {
    const m = lab().strand({ mails: 4 });
    const journalA = tempJournal();
    const x = m.secondarySpool[2];
    await heldByInterruptedRun(journalA, x);
    const mark = path.join(path.dirname(lab().hostPath('primary', 'spool')), '.mailgw-ha-held', x);
    assert.match(fs.readFileSync(mark, 'utf8'), /left the primary's input\/ but no insertion or delivery of it was found/, 'the mark on the primary says why');

    // Workstation B knows nothing of A's run: its plan must not move x on evidence A found wanting.
    const journalB = tempJournal();
    const b = await runRecovery(journalB);
    assert.ok(!b.plan?.move.includes(x), `B's plan moves the held mail: ${JSON.stringify(b.plan)}`);
    assert.ok(mailIds('spool', 'secondary').has(x), 'the held mail stays on the standby');
    assert.strictEqual(lab().deliveries().byMessageId[m.messageIds[x]], undefined, 'the held mail was not delivered by B');
    const listB = JSON.parse((await held(cli, journalB, ['--json'])).stdout) as HeldJson;
    assert.deepStrictEqual(listB.held.map((h) => [h.id, h.source]), [[x, 'journal']], 'B lists it as held by an interrupted run');

    // B's admin checked with the recipients: not delivered; B inserts it. The mark goes with it.
    const ins = await held(cli, journalB, ['--insert', x, '--yes']);
    assert.strictEqual(ins.code, 0, ins.stdout + ins.stderr);
    assert.ok(!fs.existsSync(mark), 'the mark on the primary is removed once resolved');
    // A's own list still names it until A looks: A's resolution finds it gone and takes it off.
    const disA = await held(cli, journalA, ['--discard', x, '--yes']);
    assert.strictEqual(disA.code, 0, disA.stdout + disA.stderr);
    assert.deepStrictEqual((JSON.parse((await held(cli, journalA, ['--json'])).stdout) as HeldJson).held, []);
    await assertExactlyOnce(m);
  });

  it('insert is refused when the primary is proved to have the mail; the copy stays held', async () => {
    const m = lab().strand({ mails: 3 });
    const journal = tempJournal();
    const x = m.secondarySpool[0];
    await heldByInterruptedRun(journal, x);
    // The same mail reached the primary's spool meanwhile (held there: delivery paused).
    lab().pauseDelivery('primary');
    fs.copyFileSync(path.join(lab().hostPath('secondary', 'spool'), `${x}.body`), path.join(lab().hostPath('primary', 'spool'), `${x}.body`));
    fs.copyFileSync(path.join(lab().hostPath('secondary', 'spool'), `${x}.env`), path.join(lab().hostPath('primary', 'spool'), `${x}.env`));
    const ins = await held(cli, journal, ['--insert', x, '--yes']);
    assert.strictEqual(ins.code, 1);
    assert.match(ins.stdout + ins.stderr, /not inserted: .*discard the standby's copy instead/);
    assert.ok(mailIds('spool', 'secondary').has(x), 'the copy stays on the standby');
    const l = JSON.parse((await held(cli, journal, ['--json'])).stdout) as HeldJson;
    assert.deepStrictEqual(l.held.map((h) => h.id), [x], 'still held');
    // The admin discards it instead; the primary delivers its own copy once.
    const dis = await held(cli, journal, ['--discard', x, '--yes']);
    assert.strictEqual(dis.code, 0, dis.stdout + dis.stderr);
    lab().resumeDelivery('primary');
    await assertExactlyOnce(m);
  });

  it('an unknown or unsafe id is refused without touching anything', async () => {
    lab().strand({ mails: 2 });
    const journal = tempJournal();
    const bad = await held(cli, journal, ['--discard', '../x', '--yes']);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /is not a mail id/);
    const unknown = await held(cli, journal, ['--discard', '00000-00000-00000', '--yes']);
    assert.strictEqual(unknown.code, 1);
    assert.match(unknown.stderr, /is not held on cluster "lab"/);
    assert.strictEqual(mailIds('spool', 'secondary').size, 2);
  });
});
