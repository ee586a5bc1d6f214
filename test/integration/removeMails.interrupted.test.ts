// Remove Mails after an interrupted recovery: the run's placed copies wait in the primary's input/;
// they must not count as proof, or the standby's originals go and the next run takes the copies back
// (the original is gone) — the mails would be lost. Found while checking HA histories.
import * as assert from 'assert';
import { gatewayDirs } from '../../src/core/config';
import { removeMails } from '../../src/core/recovery/remote';
import { decideRemoval } from '../../src/core/recovery/removalProof';
import { parseRecoverySettings } from '../../src/core/recovery/settings';
import { lab } from './hooks';
import { assertExactlyOnce, labCluster, mailIds, newPool, runRecovery, tempJournal } from './recoveryHelpers';

describe('Remove Mails after an interrupted recovery (lab)', function () {
  this.timeout(120_000);
  beforeEach(async () => {
    await lab().reset();
  });

  it("a placed copy in the primary's input/ is no proof: nothing is removed, the next run finishes exactly once", async () => {
    const m = lab().strand({ mails: 3 });
    const journal = tempJournal();
    const first = await runRecovery(journal, { faults: (p) => { if (p === 'after-place') throw new Error('stopped after placing'); } });
    assert.strictEqual(first.outcome, 'failed');
    assert.strictEqual(mailIds('input', 'primary').size, 3, 'the copies wait in input/');
    const pool = newPool();
    const cluster = labCluster();
    try {
      const d = await decideRemoval(pool, cluster, cluster.secondary, m.secondarySpool.map((id) => ({ id, folder: 'spool' as const })), parseRecoverySettings({}).settings.deliveryLogPattern);
      assert.deepStrictEqual(d.removable.map((x) => x.id), [], JSON.stringify(d.removable));
      assert.ok(d.kept.every((k) => /does not have it: no mail with its gateway id, content and envelope in its spool\/ or vscan\/.*input\/ is not inserted yet/.test(k.why)), JSON.stringify(d.kept));
      for (const x of d.removable) await removeMails(pool.get(cluster.secondary), gatewayDirs(cluster).spool, [x.id]);
    } finally {
      pool.dispose();
    }
    const second = await runRecovery(journal);
    assert.strictEqual(second.outcome, 'done', JSON.stringify(second.errors));
    await assertExactlyOnce(m);
  });
});
