// Real HA histories the recovery must survive with each mail delivered exactly once: deliveries in a
// rotated (and compressed) log, duplicates left on the standby before a takeover, a Message-ID behind
// a long header block, and a delivery pattern that matches nothing or backtracks without end.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { MemorySecretStore, noPrompts, silentLogger } from '../../src/core/host';
import { decideRemoval } from '../../src/core/recovery/removalProof';
import { recover } from '../../src/core/recovery/run';
import type { RecoveryReport } from '../../src/core/recovery/runContract';
import { parseRecoverySettings } from '../../src/core/recovery/settings';
import { ConnectionPool } from '../../src/core/ssh/pool';
import { DEFAULT_STATE_DIR, Lab, labPair } from '../lab/lab';
import { makeMail, transactionOf, writeMail } from '../lab/mail';
import { waitFor } from '../lab/wait';
import { lab, trackLab } from './hooks';
import { assertExactlyOnce, assertTransactionsOnce, labCluster, mailIds, newPool, runRecovery, tempJournal } from './recoveryHelpers';

/** Each transaction (envelope and content) delivered exactly once over both units of `l`, after it had time to deliver all. */
async function exactlyOnce(l: Lab, transactions: readonly string[]): Promise<void> {
  await waitFor('every transaction to be delivered', () => (transactions.every((t) => (l.deliveries().byTransaction[t] ?? 0) >= 1) ? true : undefined), 20_000).catch(() => undefined);
  await l.waitForQuiet(); // once quiet, a late second delivery is impossible
  const d = l.deliveries();
  assert.deepStrictEqual({ lost: transactions.filter((t) => !d.byTransaction[t]), twice: transactions.filter((t) => (d.byTransaction[t] ?? 0) > 1) }, { lost: [], twice: [] }, 'exactly-once delivery');
}

describe('recovery: real HA histories (sync lab)', function () {
  this.timeout(120_000);
  const l = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'side', 'history'), addresses: labPair(16), syncDelayMs: 500 });
  let untrack: () => void;
  const cluster = () => labCluster(l.settingsPath);
  const run = async (): Promise<RecoveryReport> => {
    const pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [l.knownHostsPath], sshConfigFile: '/nonexistent' });
    try {
      return await recover({ pool, cluster: cluster(), settings: parseRecoverySettings({}).settings, journalFile: tempJournal(), confirmTimeoutMs: 20_000 });
    } finally {
      pool.dispose();
    }
  };

  before(async () => {
    untrack = trackLab(l);
    await l.up();
  });
  after(async () => {
    await l.down();
    untrack();
  });
  beforeEach(() => l.reset());

  for (const gzip of [false, true]) {
    it(`8 mails delivered while the sync path was cut, then the log rotated${gzip ? ' and compressed' : ''}: 0 moved, all removed from the standby as delivered, none twice after a takeover`, async () => {
      l.pauseDelivery('primary');
      const mails = Array.from({ length: 8 }, () => l.putMail('primary', 'spool'));
      const spoolB = l.hostPath('secondary', 'spool');
      await waitFor('the 8 mails mirrored to the standby', () => (mails.every((m) => fs.existsSync(path.join(spoolB, `${m.id}.env`))) ? true : undefined), 30_000);
      l.partition();
      l.resumeDelivery('primary');
      await waitFor('the primary to deliver the 8 mails', () => (l.deliveries().total === 8 ? true : undefined), 30_000);
      const aside = await l.rotate('primary', { gzip });
      assert.strictEqual(mails.filter((m) => fs.existsSync(path.join(spoolB, `${m.id}.env`))).length, 8, 'the standby kept its 8 copies');

      const r = await run();
      assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
      assert.strictEqual(r.planned, 0, 'nothing moved');
      assert.strictEqual(r.skippedDuplicates, 8);
      assert.strictEqual(r.removedDuplicates, 8);
      const inFile = path.basename(aside);
      for (const d of r.duplicatesRemoved!) assert.match(d.proof, new RegExp(`already delivered by the primary to all \\d recipient\\(s\\) \\(/var/phion/logs/${inFile.replace(/\./g, '\\.')}, line \\d+( and \\d+ more line\\(s\\))?\\)`));
      assert.ok(r.plan!.logs.some((x) => x.startsWith(`/var/phion/logs/${inFile}${gzip ? ' (gzip)' : ''}: searched`)), r.plan!.logs.join('\n'));
      assert.deepStrictEqual(fs.readdirSync(spoolB).filter((n) => /\.(body|env)$/.test(n)), [], 'the standby holds nothing');

      l.heal();
      await l.takeover();
      await exactlyOnce(l, mails.map((m) => m.transaction));
    });
  }
});

describe('recovery: histories on the plain lab', function () {
  this.timeout(120_000);
  beforeEach(async () => {
    await lab().reset();
  });

  it('duplicates left on the standby are removed with their proof, so a takeover delivers nothing twice', async () => {
    const m = lab().strand({ mails: 10, duplicates: 3 });
    const r = await runRecovery(tempJournal());
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.strictEqual(r.inserted, 7);
    assert.strictEqual(r.skippedDuplicates, 3);
    assert.strictEqual(r.removedDuplicates, 3);
    assert.deepStrictEqual(r.duplicatesRemoved!.map((d) => d.id).sort(), [...m.duplicates].sort());
    assert.strictEqual(mailIds('spool', 'secondary').size, 0, 'the standby holds nothing');
    assert.match(r.standbyLeft!, /keeps 0 incomplete, 0 held for a decision$/);
    // The journal has the removal, with each proof, before and after.
    const lines = fs.readFileSync(r.journal!, 'utf8').trim().split('\n').map((x) => JSON.parse(x) as { t: string; phase?: string; mails?: { id: string; proof: string }[] });
    const removing = lines.find((x) => x.t === 'duplicates' && x.phase === 'removing');
    assert.deepStrictEqual(removing?.mails?.map((x) => x.id).sort(), [...m.duplicates].sort());
    assert.ok(lines.some((x) => x.t === 'duplicates' && x.phase === 'removed'));
    await assertExactlyOnce(m);
    await lab().takeover();
    await lab().takeback();
    await assertExactlyOnce(m);
  });

  it('a run stopped in the middle of removing duplicates: the next run checks them again and removes them', async () => {
    const m = lab().strand({ mails: 6, duplicates: 2 });
    const journal = tempJournal();
    const r = await runRecovery(journal, {
      faults: (p) => {
        if (p === 'mid-duplicates') throw new Error('stopped as by a crash');
      },
    });
    assert.strictEqual(r.outcome, 'failed');
    assert.strictEqual(r.inserted, 4);
    assert.strictEqual(mailIds('spool', 'secondary').size, 2, 'the duplicates are still there');
    const again = await runRecovery(journal);
    assert.strictEqual(again.outcome, 'done', JSON.stringify(again.errors));
    assert.deepStrictEqual(again.duplicatesRemoved!.map((d) => d.id).sort(), [...m.duplicates].sort());
    assert.strictEqual(mailIds('spool', 'secondary').size, 0);
    await assertExactlyOnce(m);
  });

  it('a mail the primary delivered (its Message-ID after 9 KB of headers) is found by its id and not moved again; mails with no or two Message-IDs move, exactly once', async () => {
    const received = Array.from({ length: 60 }, (_, i) => `Received: from relay${i}.example.net (relay${i}.example.net [198.51.100.${i + 1}])\r\n\tby mx${i}.example.net with ESMTPS id ${1000 + i}; Mon, 30 Nov 2026 10:00:00 +0000`).join('\r\n');
    const dkim = `DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=s1; b=${'A'.repeat(1500)}`;
    const mail = makeMail({ n: 7, tag: `long${Date.now().toString(36)}`, size: 4096 });
    mail.body = Buffer.concat([Buffer.from(`${received}\r\n${dkim}\r\n`), mail.body]);
    assert.ok(mail.body.indexOf('Message-ID:') > 9 * 1024, `Message-ID at byte ${mail.body.indexOf('Message-ID:')}`);
    // Delivered by the primary, and a copy left on the standby.
    writeMail(lab().hostPath('primary', 'spool'), mail, 'both', new Date(Date.now() - 60_000));
    await waitFor('the primary to deliver the long-header mail', () => (lab().deliveries().byMessageId[mail.messageId] ? true : undefined), 20_000);
    writeMail(lab().hostPath('secondary', 'spool'), mail, 'both', new Date(Date.now() - 120_000));
    // A mail whose complete header has no Message-ID, and one with two different ones: the gateway's
    // id decides, so they move like any other (the primary's logs cover them and never name them).
    const noMid = makeMail({ n: 1, tag: 'nomid', size: 3000 });
    noMid.body = Buffer.from(noMid.body.toString('latin1').replace(/^Message-ID: .*\r\n/m, ''), 'latin1');
    writeMail(lab().hostPath('secondary', 'spool'), noMid, 'both', new Date(Date.now() - 60_000));
    const twoMids = makeMail({ n: 2, tag: 'twomid', size: 3000 });
    twoMids.body = Buffer.from(twoMids.body.toString('latin1').replace(/^(Message-ID: .*\r\n)/m, '$1Message-ID: <other-2@lab.example>\r\n'), 'latin1');
    writeMail(lab().hostPath('secondary', 'spool'), twoMids, 'both', new Date(Date.now() - 60_000));

    const r = await runRecovery(tempJournal());
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.deepStrictEqual(r.plan!.move.sort(), [noMid.id, twoMids.id].sort(), JSON.stringify(r.plan));
    assert.deepStrictEqual(r.duplicatesRemoved!.map((d) => [d.id, d.messageId]), [[mail.id, mail.messageId]]);
    assert.match(r.duplicatesRemoved![0].proof, /already delivered by the primary to all \d recipient\(s\) \(\/var\/phion\/logs\/srv_box1_mailgw\.log, line \d+/);
    assert.deepStrictEqual(r.plan!.held, []);
    assert.deepStrictEqual([...mailIds('spool', 'secondary')], [], 'nothing stays on the standby');
    await assertTransactionsOnce([mail, noMid, twoMids].map(transactionOf));
  });

  it('a delivery pattern that matches no delivery line is reported, and mails the log names are held, not moved', async () => {
    const delivered = lab().putMail('primary', 'spool', { mtime: new Date(Date.now() - 60_000) });
    await waitFor('the primary to deliver a mail', () => (lab().deliveries().byMessageId[delivered.messageId] ? true : undefined), 20_000);
    // A mail only the standby has, and the delivered mail's copy on the standby (a stranded mail
    // given its Message-ID).
    const m = lab().strand({ mails: 1 });
    const stranded = lab().strand({ mails: 1 });
    const dupId = stranded.secondarySpool[0];
    const dupBody = path.join(lab().hostPath('secondary', 'spool'), `${dupId}.body`);
    fs.writeFileSync(dupBody, fs.readFileSync(dupBody, 'latin1').replace(/^Message-ID: .*$/m, `Message-ID: ${delivered.messageId}`), 'latin1');
    const settings = parseRecoverySettings({ 'mailgwHa.deliveryLogPattern': String.raw`SENT msgid=(?<messageId><[^>]+>) id=(?<id>\S+) to=(?<to>\S+)` });
    assert.deepStrictEqual(settings.errors, []);
    const r = await runRecovery(tempJournal(), { settings: settings.settings });
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.match(r.plan!.warnings.join('\n'), /deliveryLogPattern matched none of the \d+ delivery line\(s\) in the current log/);
    assert.deepStrictEqual(r.plan!.move, m.secondarySpool, 'the mail the log does not name is moved');
    assert.deepStrictEqual(r.plan!.held.map((h) => h.id), [dupId]);
    assert.match(r.plan!.held[0].reason!, /could not tell whether that line is a delivery/);
    assert.ok(mailIds('spool', 'secondary').has(dupId), 'the held mail stays on the standby');
    await exactlyOnce(lab(), [delivered.transaction, ...Object.values(m.transactions)]);
  });

  it('a backtracking delivery pattern is stopped and reported; the run does not stall', async () => {
    const delivered = lab().putMail('primary', 'spool', { mtime: new Date(Date.now() - 60_000) });
    await waitFor('the primary to deliver a mail', () => (lab().deliveries().byMessageId[delivered.messageId] ? true : undefined), 20_000);
    const stranded = lab().strand({ mails: 2 });
    const dupId = stranded.secondarySpool[0];
    const dupBody = path.join(lab().hostPath('secondary', 'spool'), `${dupId}.body`);
    fs.writeFileSync(dupBody, fs.readFileSync(dupBody, 'latin1').replace(/^Message-ID: .*$/m, `Message-ID: ${delivered.messageId}`), 'latin1');
    // Exponential in the length of a delivery line's text, which never ends the way it asks.
    const settings = parseRecoverySettings({ 'mailgwHa.deliveryLogPattern': String.raw`(([\S\s]|\S)+)+, message-id=(?<id>\S+) to=(?<to>\S+)` });
    assert.deepStrictEqual(settings.errors, []);
    let ticks = 0;
    let maxGap = 0;
    let last = Date.now();
    const timer = setInterval(() => {
      ticks++;
      maxGap = Math.max(maxGap, Date.now() - last);
      last = Date.now();
    }, 50);
    const t0 = Date.now();
    const r = await runRecovery(tempJournal(), { settings: settings.settings }).finally(() => clearInterval(timer));
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.match(r.plan!.warnings.join('\n'), /deliveryLogPattern took longer than 1000 ms .* was stopped/);
    assert.deepStrictEqual(r.plan!.held.map((h) => h.id), [dupId], 'the mail the log names is held');
    assert.deepStrictEqual(r.plan!.move, [stranded.secondarySpool[1]]);
    assert.ok(maxGap < 5000, `the event loop was blocked for ${maxGap} ms (${ticks} ticks in ${Date.now() - t0} ms)`);
    await exactlyOnce(lab(), [delivered.transaction, stranded.transactions[stranded.secondarySpool[1]]]);
  });

  it('mails older than the primary\'s oldest remaining log are held, not moved on a guess', async () => {
    // The box's older logs are gone: only the current file, started now, is left.
    const logs = path.dirname(lab().hostLogFile('primary'));
    for (const n of fs.readdirSync(logs)) if (n !== path.basename(lab().hostLogFile('primary'))) fs.rmSync(path.join(logs, n));
    const m = lab().strand({ mails: 3 });
    const r = await runRecovery(tempJournal());
    assert.strictEqual(r.outcome, 'nothing-to-do', JSON.stringify(r.errors));
    assert.deepStrictEqual(r.plan!.move, []);
    assert.deepStrictEqual(r.plan!.held.map((h) => h.id).sort(), [...m.secondarySpool].sort());
    for (const h of r.plan!.held) assert.match(h.reason!, /the primary's logs start at .*an earlier delivery could not be checked/);
    assert.match(r.plan!.warnings.join('\n'), /3 mail\(s\) are older than the primary's oldest remaining log/);
    assert.deepStrictEqual(r.plan!.logs.filter((l) => !l.startsWith('gateway log ')).length, 1, r.plan!.logs.join('\n'));
    assert.strictEqual(mailIds('spool', 'secondary').size, 3, 'all left on the standby');
    assert.strictEqual(lab().deliveries().total, 0);
  });

  it('Remove Mails: only standby mails the active primary proves; refused on the primary and after a takeover', async () => {
    // A mail the primary delivers, whose copy is left on the standby.
    const delivered = lab().putMail('primary', 'spool', { mtime: new Date(Date.now() - 60_000) });
    const src = path.join(lab().hostPath('primary', 'spool'), delivered.id);
    const copy = { body: fs.readFileSync(`${src}.body`), env: fs.readFileSync(`${src}.env`) };
    await waitFor('the primary to deliver one mail', () => (lab().deliveries().byMessageId[delivered.messageId] ? true : undefined), 20_000);
    fs.writeFileSync(path.join(lab().hostPath('secondary', 'spool'), `${delivered.id}.body`), copy.body);
    fs.writeFileSync(path.join(lab().hostPath('secondary', 'spool'), `${delivered.id}.env`), copy.env);
    // Two duplicates held in the primary's spool (not delivered), two mails only on the standby.
    lab().pauseDelivery('primary');
    const m = lab().strand({ mails: 4, duplicates: 2 });
    const cluster = labCluster();
    const pool = newPool();
    try {
      const all = [...m.secondarySpool, delivered.id].map((id) => ({ id, folder: 'spool' as const }));
      const pattern = parseRecoverySettings({}).settings.deliveryLogPattern;
      const d = await decideRemoval(pool, cluster, cluster.secondary, all, pattern);
      const proved = new Map(d.removable.map((x) => [x.id, x.why]));
      assert.deepStrictEqual([...proved.keys()].sort(), [...m.duplicates, delivered.id].sort());
      assert.match(proved.get(delivered.id)!, /already delivered by the primary to all \d recipient\(s\) \(\/var\/phion\/logs\/srv_box1_mailgw\.log, line \d+/);
      for (const id of m.duplicates) assert.strictEqual(proved.get(id), `already in the primary's spool/ as ${id}, same content and envelope`);
      assert.deepStrictEqual(d.kept.map((x) => x.id).sort(), m.secondarySpool.filter((id) => !m.duplicates.includes(id)).sort());
      for (const k of d.kept) assert.match(k.why, /lab\/fw-a does not have it: no mail with its gateway id, content and envelope in its spool\/ or vscan\/, and no delivery of it to all its recipients/);
      // On the active unit: refused, whatever the proof.
      await assert.rejects(decideRemoval(pool, cluster, cluster.primary, [{ id: delivered.id, folder: 'spool' }], pattern), /works only on the standby unit lab\/fw-b/);
      // After a takeover the standby's mail is live: refused.
      lab().pauseDelivery('secondary');
      await lab().takeover();
      await assert.rejects(decideRemoval(pool, cluster, cluster.secondary, all, pattern), /primary is not the active unit/);
    } finally {
      pool.dispose();
    }
    // Nothing was removed by deciding.
    assert.strictEqual(mailIds('spool', 'secondary').size, 5);
  });
});
