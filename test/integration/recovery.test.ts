// Recovery against the lab: real sshd, real gateway simulator. The happy path with spool, vscan,
// duplicates, orphans and a 20 MB body; the refusals; id collisions; the SFTP fallback; hostile names.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Journal } from '../../src/core/recovery/journal';
import { lab } from './hooks';
import { assertExactlyOnce, assertTransactionsOnce, labCluster, mailIds, runRecovery, tarMethod, tempJournal } from './recoveryHelpers';

describe('recovery (lab)', function () {
  this.timeout(90_000);
  beforeEach(async () => {
    await lab().reset();
  });

  it('moves spool and vscan mail exactly once, removes proved duplicates, leaves orphans, reports everything', async () => {
    const m = lab().strand({ mails: 30, vscan: 6, duplicates: 4, orphans: 3, bigMb: 20 });
    const journal = tempJournal();
    const r = await runRecovery(journal);
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.strictEqual(r.planned, 30 - 4 + 6 + 1);
    for (const k of ['copied', 'verified', 'inserted', 'removed'] as const) assert.strictEqual(r[k], r.planned, k);
    assert.strictEqual(r.skippedDuplicates, 4);
    assert.strictEqual(r.skippedOrphans, 3);
    assert.strictEqual(r.method, tarMethod());
    await assertExactlyOnce(m);
    // Orphans untouched and reported; duplicates, proved on the primary, removed from the secondary.
    for (const name of m.orphans) assert.ok(fs.existsSync(path.join(lab().hostPath('secondary', 'spool'), name)), `orphan ${name} kept`);
    assert.deepStrictEqual(r.plan!.incomplete.map((i) => i.id).sort(), m.orphans.map((n) => n.replace(/\.(body|env)$/, '')).sort());
    assert.strictEqual(r.removedDuplicates, 4);
    assert.deepStrictEqual(r.duplicatesRemoved!.map((d) => d.id).sort(), [...m.duplicates].sort());
    for (const d of r.duplicatesRemoved!) assert.match(d.proof, /already in the primary's spool\/ as \S+, same content and envelope|already delivered by the primary to all \d+ recipient\(s\) \(.*, line \d+/);
    for (const id of m.duplicates) assert.ok(!mailIds('spool', 'secondary').has(id), `duplicate ${id} removed`);
    assert.deepStrictEqual([...mailIds('spool', 'secondary')].sort(), m.orphans.map((n) => n.replace(/\.(body|env)$/, '')).sort(), 'the secondary keeps only the incomplete halves');
    assert.match(r.standbyLeft!, /keeps 3 incomplete, 0 held for a decision/);
    assert.ok(r.plan!.logs.some((l) => l.startsWith(`${lab().logFile}: searched`)), r.plan!.logs.join('\n'));
    // Journal archived with an end record; the report file holds the same counts.
    assert.ok(r.journal && /\.done\.jsonl$/.test(r.journal));
    const st = Journal.read(r.journal)!;
    assert.strictEqual(st.ended?.outcome, 'done');
    assert.ok([...st.mails.values()].every((x) => x.state === 'removed'));
    const saved = JSON.parse(fs.readFileSync(r.reportFile!, 'utf8'));
    assert.strictEqual(saved.inserted, r.planned);
    // A second run finds nothing to do.
    const again = await runRecovery(journal);
    assert.strictEqual(again.planned, 0);
    assert.strictEqual(again.outcome, 'nothing-to-do');
  });

  it('a dry run changes nothing on either unit', async () => {
    const m = lab().strand({ mails: 5, orphans: 1 });
    const before = [...mailIds('spool', 'secondary')].sort();
    const r = await runRecovery(tempJournal(), { dryRun: true });
    assert.strictEqual(r.outcome, 'dry-run');
    assert.strictEqual(r.planned, 5);
    assert.deepStrictEqual([...mailIds('spool', 'secondary')].sort(), before);
    assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')), []);
    await lab().waitForQuiet();
    assert.strictEqual(Object.values(m.messageIds).filter((mid) => lab().deliveries().byMessageId[mid]).length, 0);
  });

  it('refuses when the gateway is not running on the primary, then recovers once it runs', async () => {
    const m = lab().strand({ mails: 5 });
    await lab().stopGateway('primary');
    const journal = tempJournal();
    const r = await runRecovery(journal);
    assert.strictEqual(r.outcome, 'failed');
    assert.match(r.errors[0].message, /not running on the primary lab\/fw-a/);
    assert.strictEqual(mailIds('spool', 'secondary').size, 5);
    assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')), []);
    await lab().startGateway('primary');
    const r2 = await runRecovery(journal);
    assert.strictEqual(r2.outcome, 'done', JSON.stringify(r2.errors));
    await assertExactlyOnce(m);
  });

  it('refuses when the secondary is the active unit', async () => {
    lab().strand({ mails: 3 });
    lab().pauseDelivery('secondary');
    await lab().takeover();
    const r = await runRecovery(tempJournal());
    assert.strictEqual(r.outcome, 'failed');
    assert.match(r.errors[0].message, /primary is not the active unit/);
    assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')), []);
  });

  it('refuses when both units are the same host', async () => {
    lab().strand({ mails: 2 });
    const c = labCluster();
    const same = { ...c, secondary: { ...c.secondary, host: c.primary.host } };
    const r = await runRecovery(tempJournal(), {}, same);
    assert.strictEqual(r.outcome, 'failed');
    assert.match(r.errors[0].message, /same host/);
  });

  it('maps ids the gateway renames, and never overwrites a file already in input/', async () => {
    const m = lab().strand({ mails: 4 });
    const [clash, held] = m.secondarySpool;
    lab().pauseDelivery('primary');
    // A foreign file with one of our names in the primary's input/ (not a pair: never inserted).
    fs.writeFileSync(path.join(lab().hostPath('primary', 'input'), `${held}.body`), 'foreign');
    // The gateway takes its time to insert; meanwhile, after the signal, a different mail with the
    // same id reaches its spool: it renames ours as it inserts it.
    lab().pauseInsertion('primary');
    const r = await runRecovery(tempJournal(), {
      faults: (p) => {
        if (p !== 'after-signal') return;
        lab().putMail('primary', 'spool', { id: clash });
        lab().resumeInsertion('primary');
      },
    });
    assert.strictEqual(r.inserted, 3);
    assert.deepStrictEqual(r.errors.map((e) => e.id), [held]);
    assert.strictEqual(fs.readFileSync(path.join(lab().hostPath('primary', 'input'), `${held}.body`), 'utf8'), 'foreign');
    const renamed = lab().logLines('primary').find((l) => l.includes(`renamed (id=${clash},`));
    assert.ok(renamed, 'the gateway renamed the clashing id');
    assert.ok(mailIds('spool', 'secondary').has(held), 'the mail that could not be placed stays on the secondary');
    assert.ok(!mailIds('spool', 'secondary').has(clash), 'the renamed mail was confirmed and removed');
  });

  it('a copy whose mail reaches the primary (the HA sync way: same id) before the signal is taken back, then removed as proved', async () => {
    const m = lab().strand({ mails: 5 });
    const x = m.secondarySpool[2];
    lab().pauseDelivery('primary');
    const r = await runRecovery(tempJournal(), {
      faults: (p) => {
        if (p !== 'after-place') return;
        const src = lab().hostPath('secondary', 'spool');
        const dst = lab().hostPath('primary', 'spool');
        fs.copyFileSync(path.join(src, `${x}.body`), path.join(dst, `${x}.body`));
        fs.copyFileSync(path.join(src, `${x}.env`), path.join(dst, `${x}.env`));
      },
    });
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.strictEqual(r.inserted, 4);
    assert.strictEqual(r.skippedDuplicates, 1);
    assert.strictEqual(r.rolledBack, 1);
    assert.deepStrictEqual(r.duplicatesRemoved!.map((d) => [d.id, d.proof]), [[x, `already in the primary's spool/ as ${x}, same content and envelope`]]);
    assert.ok(!mailIds('spool', 'secondary').has(x), 'the duplicate left the secondary');
    assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')), []);
    lab().resumeDelivery('primary');
    await assertTransactionsOnce(Object.values(m.transactions));
  });

  it('a copy whose same content and envelope reach the primary under another id before the signal is taken back and held, never inserted by guess', async () => {
    const m = lab().strand({ mails: 5 });
    const x = m.secondarySpool[2];
    lab().pauseDelivery('primary');
    const r = await runRecovery(tempJournal(), {
      faults: (p) => {
        if (p !== 'after-place') return;
        // This mail renamed, or the same message sent twice: nothing can tell which.
        const src = lab().hostPath('secondary', 'spool');
        const dst = lab().hostPath('primary', 'spool');
        fs.copyFileSync(path.join(src, `${x}.body`), path.join(dst, '11111-22222-33333.body'));
        fs.copyFileSync(path.join(src, `${x}.env`), path.join(dst, '11111-22222-33333.env'));
      },
    });
    assert.strictEqual(r.inserted, 4, `${r.outcome}: ${JSON.stringify(r.errors)}`);
    assert.strictEqual(r.held, 1);
    assert.strictEqual(r.rolledBack, 1);
    assert.match(r.errors.find((e) => e.id === x)!.message, /held for a decision: not inserted: the primary's spool\/11111-22222-33333 has the same content and envelope under another gateway id/);
    assert.ok(mailIds('spool', 'secondary').has(x), 'the original stays on the standby');
    assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')), []);
    lab().resumeDelivery('primary');
    // The primary delivers its copy once; the standby's stays held for the admin.
    await assertTransactionsOnce(Object.values(m.transactions));
    assert.ok(mailIds('spool', 'secondary').has(x));
  });

  it('copies over SFTP when asked (fallback for boxes without tar/sha256sum)', async () => {
    const m = lab().strand({ mails: 12, vscan: 2, bigMb: 3 });
    const r = await runRecovery(tempJournal(), { forceSftp: true });
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.strictEqual(r.method, 'sftp');
    assert.strictEqual(r.inserted, 15);
    await assertExactlyOnce(m);
  });

  it('hostile names: nothing executed, nothing outside the spool read or removed, all reported', async () => {
    const m = lab().strand({ mails: 3 });
    const spool = lab().hostPath('secondary', 'spool');
    const outside = path.join(lab().hostPath('secondary', 'spool'), '..', 'outside-secret.txt');
    fs.writeFileSync(outside, 'secret\n');
    const hostile = ['a b.body', 'a b.env', "q'uote.body", 'semi;colon.env', '$(touch PWNED).body', '$(touch PWNED).env', 'new\nline.body', '-rf.body', '..body'];
    for (const n of hostile) fs.writeFileSync(path.join(spool, n), 'x');
    // Links to a file outside the spool, named like a complete mail.
    fs.symlinkSync(outside, path.join(spool, '66666-66666-66666.body'));
    fs.symlinkSync(outside, path.join(spool, '66666-66666-66666.env'));
    fs.symlinkSync('../../../../../../etc/passwd', path.join(spool, '77777-77777-77777.body'));
    fs.writeFileSync(path.join(spool, '77777-77777-77777.env'), 'env\n');
    const r = await runRecovery(tempJournal());
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.strictEqual(r.inserted, 3);
    await assertExactlyOnce(m);
    for (const n of hostile) assert.ok(fs.existsSync(path.join(spool, n)), `${JSON.stringify(n)} left alone`);
    for (const n of ['66666-66666-66666.body', '66666-66666-66666.env', '77777-77777-77777.body', '77777-77777-77777.env']) assert.ok(fs.lstatSync(path.join(spool, n)), `${n} left alone`);
    assert.strictEqual(fs.readFileSync(outside, 'utf8'), 'secret\n');
    const ignored = r.plan!.ignored.map((e) => e.name);
    for (const n of ['a b.body', '$(touch PWNED).body', 'new\nline.body', '66666-66666-66666.body']) assert.ok(ignored.includes(n), `${JSON.stringify(n)} reported`);
    // Nothing ran: no PWNED file anywhere the scripts could have cd'ed to, and nothing delivered from links.
    const pwned = await lab().exec('secondary', ['sh', '-c', 'n=0; for d in / /root /tmp /var/phion/spool/mgw/*/*; do [ -e "$d/PWNED" ] && n=$((n+1)); done; echo $n']);
    assert.strictEqual(pwned.stdout.trim(), '0');
    assert.ok(!Object.keys(lab().deliveries().byMessageId).some((k) => k === ''), 'no link target delivered');
    fs.rmSync(outside);
  });
});
