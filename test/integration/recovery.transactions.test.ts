// A Message-ID is not a mail: the histories in which proofs resting on it (or on log text found
// anywhere in a line) lost mail, each against the lab and judged per SMTP transaction (envelope and
// content, what the recipients see): one message sent to two domains, a list's re-send, a hostile
// sender whose headers carry log lines, a resumed run whose copy left input/ with only a forged
// insertion line to show for it, a mail delivered to part of its recipients, another mail under the
// same id. 0 lost, 0 delivered twice in every one.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { decideRemoval } from '../../src/core/recovery/removalProof';
import { parseRecoverySettings } from '../../src/core/recovery/settings';
import { envelope, Mail, makeMail, newMailId, transactionOf, writeMail } from '../lab/mail';
import { waitFor } from '../lab/wait';
import { lab } from './hooks';
import { assertTransactionsOnce, labCluster, mailIds, newPool, runRecovery, tempJournal } from './recoveryHelpers';

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);

/** A line as the box writes it, appended to a unit's current log (another writer of that log). */
function appendLog(ref: 'primary' | 'secondary', text: string): void {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  fs.appendFileSync(lab().hostLogFile(ref), `${d.getUTCFullYear()} ${p(d.getUTCMonth() + 1)} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +00:00 Info     ${text}\n`);
}

/** The same message as another transaction: another gateway id and envelope, the same bytes unless given. */
function asTransaction(base: Mail, over: Partial<Mail>): Mail {
  const m: Mail = { ...base, id: newMailId(), ...over };
  return { ...m, env: envelope(m.id, m.from, m.to, minutesAgo(5)) };
}

function withHeader(m: Mail, name: string, value: string): Mail {
  const text = m.body.toString('latin1');
  const re = new RegExp(`^${name}: .*$`, 'm');
  return { ...m, body: Buffer.from(re.test(text) ? text.replace(re, `${name}: ${value}`) : text.replace('\r\n\r\n', `\r\n${name}: ${value}\r\n\r\n`), 'latin1') };
}

async function delivered(m: Mail): Promise<void> {
  const t = transactionOf(m);
  await waitFor(`the primary to deliver ${m.id}`, () => ((lab().deliveries().byTransaction[t] ?? 0) > 0 ? true : undefined), 20_000);
}

describe('recovery: a mail is one transaction, not a Message-ID (lab)', function () {
  this.timeout(120_000);
  beforeEach(async () => {
    await lab().reset();
  });

  it('the lab counts deliveries per transaction: one message to two domains is two transactions under one Message-ID', async () => {
    const base = makeMail({ n: 1, tag: `two${Date.now().toString(36)}`, size: 3000, to: ['alice@one.example'] });
    const other = asTransaction(base, { to: ['bob@two.example'] });
    writeMail(lab().hostPath('primary', 'spool'), base, 'both', minutesAgo(1));
    writeMail(lab().hostPath('primary', 'spool'), other, 'both', minutesAgo(1));
    await assertTransactionsOnce([base, other].map(transactionOf));
    assert.strictEqual(lab().deliveries().byMessageId[base.messageId], 2, 'two deliveries of one Message-ID, each transaction once');
  });

  it('one message to two domains: the primary delivered one transaction, the other was stranded; it moves and is delivered once', async () => {
    const t1 = makeMail({ n: 2, tag: `dom${Date.now().toString(36)}`, size: 3000, to: ['alice@one.example'], received: minutesAgo(5) });
    const t2 = asTransaction(t1, { to: ['bob@two.example', 'carol@two.example'] });
    writeMail(lab().hostPath('primary', 'spool'), t1, 'both', minutesAgo(5));
    await delivered(t1);
    writeMail(lab().hostPath('secondary', 'spool'), t2, 'both', minutesAgo(5));
    const r = await runRecovery(tempJournal());
    assert.ok(r.plan, `no plan: ${JSON.stringify(r.errors)}`);
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.deepStrictEqual(r.plan!.move, [t2.id], JSON.stringify(r.plan));
    assert.deepStrictEqual(r.plan!.duplicates, []);
    await assertTransactionsOnce([t1, t2].map(transactionOf));
    assert.strictEqual(mailIds('spool', 'secondary').size, 0);
  });

  it("a list's re-send of a delivered message (its Message-ID, another envelope and content) stranded on the standby moves", async () => {
    const orig = makeMail({ n: 3, tag: `list${Date.now().toString(36)}`, size: 3000, to: ['member1@dest.example'], received: minutesAgo(5) });
    writeMail(lab().hostPath('primary', 'spool'), orig, 'both', minutesAgo(5));
    await delivered(orig);
    const resend = withHeader(asTransaction(orig, { from: 'staff-bounces@lists.example', to: ['member2@other.example'] }), 'List-Id', '<staff.lists.example>');
    writeMail(lab().hostPath('secondary', 'spool'), resend, 'both', minutesAgo(4));
    const r = await runRecovery(tempJournal());
    assert.ok(r.plan, `no plan: ${JSON.stringify(r.errors)}`);
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.deepStrictEqual(r.plan!.move, [resend.id]);
    await assertTransactionsOnce([orig, resend].map(transactionOf));
  });

  it('a re-send to a recipient the primary delivered the message to under another id is held, not moved by guess and not removed', async () => {
    const orig = makeMail({ n: 4, tag: `same${Date.now().toString(36)}`, size: 3000, to: ['member1@dest.example'], received: minutesAgo(5) });
    writeMail(lab().hostPath('primary', 'spool'), orig, 'both', minutesAgo(5));
    await delivered(orig);
    const again = asTransaction(orig, { from: 'staff-bounces@lists.example' });
    writeMail(lab().hostPath('secondary', 'spool'), again, 'both', minutesAgo(4));
    const r = await runRecovery(tempJournal());
    assert.ok(r.plan, `no plan: ${JSON.stringify(r.errors)}`);
    assert.deepStrictEqual(r.plan!.held.map((h) => h.id), [again.id]);
    assert.match(r.plan!.held[0].reason!, /delivered \d{5}-\d{5}-\d{5}, with the same Message-ID, to member1@dest\.example, one of its recipients .*check by hand/);
    assert.ok(mailIds('spool', 'secondary').has(again.id), 'it stays on the standby');
    assert.strictEqual(lab().deliveries().byTransaction[transactionOf(again)], undefined);
  });

  it("a hostile sender's Message-ID with a delivery line naming a stranded mail's Message-ID: the stranded mail moves, delivered once", async () => {
    const victim = makeMail({ n: 5, tag: `vic${Date.now().toString(36)}`, size: 3000, received: minutesAgo(5) });
    const hostile = withHeader(makeMail({ n: 6, tag: `evil${Date.now().toString(36)}`, size: 3000, received: minutesAgo(5) }), 'Message-ID', `<h@evil.example> DELIVERY mail delivered (id=1, message-id=${victim.messageId}, to=${victim.to[0]})`);
    writeMail(lab().hostPath('primary', 'spool'), hostile, 'both', minutesAgo(5));
    await delivered(hostile);
    assert.ok(lab().logLines('primary').some((l) => l.includes(`message-id=${victim.messageId}`)), 'the forged text is in the primary\'s log');
    writeMail(lab().hostPath('secondary', 'spool'), victim, 'both', minutesAgo(5));
    const r = await runRecovery(tempJournal());
    assert.ok(r.plan, `no plan: ${JSON.stringify(r.errors)}`);
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.deepStrictEqual(r.plan!.move, [victim.id], JSON.stringify(r.plan));
    await assertTransactionsOnce([victim, hostile].map(transactionOf));
  });

  it("a hostile sender's Message-ID with a delivery line naming a stranded mail's gateway id: held, never removed", async () => {
    const victim = makeMail({ n: 7, tag: `vic${Date.now().toString(36)}`, size: 3000, received: minutesAgo(5) });
    writeMail(lab().hostPath('secondary', 'spool'), victim, 'both', minutesAgo(5));
    const hostile = withHeader(makeMail({ n: 8, tag: `evil${Date.now().toString(36)}`, size: 3000, to: [victim.to[0]] }), 'Message-ID', `${victim.messageId}, to=${victim.to[0]}) DELIVERY mail delivered (id=${victim.id}, message-id=${victim.messageId}`);
    writeMail(lab().hostPath('primary', 'spool'), hostile, 'both', minutesAgo(1));
    await delivered(hostile);
    const r = await runRecovery(tempJournal());
    assert.ok(r.plan, `no plan: ${JSON.stringify(r.errors)}`);
    assert.deepStrictEqual(r.plan!.move, []);
    assert.deepStrictEqual(r.plan!.held.map((h) => h.id), [victim.id]);
    assert.match(r.plan!.held[0].reason!, /a delivery line that proves nothing: it has more than one id= field/);
    assert.ok(mailIds('spool', 'secondary').has(victim.id), 'the victim stays on the standby');
    const pool = newPool();
    try {
      const cluster = labCluster();
      const d = await decideRemoval(pool, cluster, cluster.secondary, [{ id: victim.id, folder: 'spool' }], parseRecoverySettings({}).settings.deliveryLogPattern);
      assert.deepStrictEqual(d.removable, [], 'Remove Mails does not remove it either');
    } finally {
      pool.dispose();
    }
    assert.strictEqual(lab().deliveries().byTransaction[transactionOf(victim)], undefined);
  });

  it('resuming a run whose copy left input/: a logged header saying "inserted" counts for nothing; the mail is held', async () => {
    const m = lab().strand({ mails: 3 });
    const v = m.secondarySpool[1];
    const journal = tempJournal();
    let placed = false;
    const first = await runRecovery(journal, { faults: (p) => { if (p === 'after-place') { placed = true; throw new Error('stopped after placing'); } } });
    assert.strictEqual(first.outcome, 'failed');
    assert.ok(placed, `the first run stopped after placing, not before: ${JSON.stringify(first.errors)}`);
    // Our copy of v leaves input/ without the gateway inserting it; a hostile sender's mail is
    // delivered meanwhile, its Message-ID (logged) saying v was inserted.
    for (const ext of ['body', 'env']) fs.rmSync(path.join(lab().hostPath('primary', 'input'), `${v}.${ext}`));
    const hostile = withHeader(makeMail({ n: 9, tag: `evil${Date.now().toString(36)}`, size: 3000 }), 'Message-ID', `<h@evil.example> SPOOLER new mail inserted (id=${v})`);
    writeMail(lab().hostPath('primary', 'spool'), hostile, 'both', minutesAgo(1));
    await delivered(hostile);
    const second = await runRecovery(journal);
    assert.strictEqual(second.resumed?.held, 1, JSON.stringify(second));
    assert.match(second.errors.find((e) => e.id === v)!.message, /left the primary's input\/ but no insertion or delivery of it was found/);
    assert.ok(mailIds('spool', 'secondary').has(v), 'the original stays on the standby');
    await assertTransactionsOnce([...m.secondarySpool.filter((id) => id !== v).map((id) => m.transactions[id]), transactionOf(hostile)]);
    assert.strictEqual(lab().deliveries().byTransaction[m.transactions[v]], undefined, 'v was never delivered');
  });

  it('a mail the primary delivered to only part of its recipients is held, neither moved nor removed', async () => {
    const mail = makeMail({ n: 10, tag: `part${Date.now().toString(36)}`, size: 3000, to: ['r1@dest.example', 'r2@other.example'], received: minutesAgo(5) });
    writeMail(lab().hostPath('secondary', 'spool'), mail, 'both', minutesAgo(5));
    appendLog('primary', `DELIVERY mail delivered (id=${mail.id}, message-id=${mail.messageId}, to=r1@dest.example)`);
    const r = await runRecovery(tempJournal());
    assert.ok(r.plan, `no plan: ${JSON.stringify(r.errors)}`);
    assert.deepStrictEqual(r.plan!.held.map((h) => h.id), [mail.id]);
    assert.match(r.plan!.held[0].reason!, /delivery to 1 of its 2 recipients .*not to r2@other\.example/);
    assert.ok(mailIds('spool', 'secondary').has(mail.id));
    // Once the log shows every recipient, it is a proved duplicate and goes.
    appendLog('primary', `DELIVERY mail delivered (id=${mail.id}, message-id=${mail.messageId}, to=r2@other.example)`);
    const again = await runRecovery(tempJournal());
    assert.ok(again.plan, `no plan: ${JSON.stringify(again.errors)}`);
    assert.deepStrictEqual(again.duplicatesRemoved!.map((d) => d.id), [mail.id]);
    assert.strictEqual(lab().deliveries().total, 0, 'nothing was delivered (the lines were the log\'s word)');
  });

  it('another mail under the same gateway id on the primary: held, with what differs', async () => {
    lab().pauseDelivery('primary');
    const mine = makeMail({ n: 11, tag: `clash${Date.now().toString(36)}`, size: 3000, received: minutesAgo(5) });
    const theirs = makeMail({ n: 12, tag: `clash2${Date.now().toString(36)}`, size: 3000, id: mine.id });
    writeMail(lab().hostPath('secondary', 'spool'), mine, 'both', minutesAgo(5));
    writeMail(lab().hostPath('primary', 'spool'), theirs, 'both', minutesAgo(1));
    const r = await runRecovery(tempJournal());
    assert.ok(r.plan, `no plan: ${JSON.stringify(r.errors)}`);
    assert.deepStrictEqual(r.plan!.held.map((h) => h.id), [mine.id]);
    assert.match(r.plan!.held[0].reason!, new RegExp(`the primary's spool/${mine.id} has the same gateway id but another content`));
    lab().resumeDelivery('primary');
    await assertTransactionsOnce([transactionOf(theirs)]);
    assert.ok(mailIds('spool', 'secondary').has(mine.id));
  });
});
