// Recovery from inside a real VS Code host against the lab: the cluster command moves stranded
// mail end to end; the manual way (copy selected, SIGUSR2, remove confirmed) does too.
import * as assert from 'assert';
import * as path from 'path';
import { defaultJournalFile } from '../../src/core/recovery/journalPath';
import { listFolder } from '../../src/core/spool/list';
import type { RecoveryEvent } from '../../src/core/recovery/runContract';
import { activateExtension } from './helpers';
import { deliveredOnce, hostLab } from './labHelpers';

describe('lab: recovery', function () {
  this.timeout(90_000);
  beforeEach(async () => {
    await hostLab().reset();
  });

  it('"Recover Stranded Mail…" on the cluster moves stranded mail exactly once and reports progress events', async () => {
    const api = await activateExtension();
    const lab = hostLab();
    const m = lab.strand({ mails: 15, vscan: 3, duplicates: 2, orphans: 2, bigMb: 2 });
    const events: RecoveryEvent[] = [];
    const sub = api.services.recoveryEvents.event((e) => events.push(e));
    const cluster = api.services.cluster('lab')!;
    const report = await api.actions.recover({ kind: 'cluster', cluster }, { yes: true });
    sub.dispose();
    assert.strictEqual(report?.outcome, 'done', JSON.stringify(report?.errors));
    assert.strictEqual(report.inserted, 15 - 2 + 3 + 1);
    assert.strictEqual(report.skippedDuplicates, 2);
    assert.strictEqual(report.skippedOrphans, 2);
    await deliveredOnce(Object.values(m.transactions));
    const last = events.filter((e) => e.phase === 'confirm').pop();
    assert.strictEqual(last?.confirmedIds?.length, report.inserted);
    assert.ok(events.some((e) => e.phase === 'done'));
    // The journal folder the CLI shares (one per user and cluster), not the extension's own storage.
    assert.strictEqual(path.dirname(report.reportFile ?? ''), path.dirname(defaultJournalFile(cluster)), 'a report file in the shared journal folder');
  });

  it('the manual way: copy selected mails, SIGUSR2 with the PID, remove those confirmed on the primary', async () => {
    const api = await activateExtension();
    const lab = hostLab();
    const m = lab.strand({ mails: 4 });
    const cluster = api.services.cluster('lab')!;
    const listing = await listFolder(api.services.pool.get(cluster.secondary), cluster, 'spool');
    const nodes = listing.mails.map((mail) => ({ kind: 'mail', cluster, unit: cluster.secondary, folder: 'spool', mail }));
    const picked = nodes.slice(0, 3);
    const copy = await api.actions.copyToPrimary(picked[0], picked, { yes: true });
    assert.strictEqual(copy?.outcome, 'done', JSON.stringify(copy?.errors));
    assert.strictEqual(copy.inserted, 0, 'copy does not signal');
    const input = await listFolder(api.services.pool.get(cluster.primary), cluster, 'input');
    assert.deepStrictEqual(input.mails.map((x) => x.id).sort(), picked.map((n) => n.mail.id).sort());
    const sig = await api.actions.signalGateway('lab/fw-a', { yes: true });
    assert.strictEqual(sig?.pid, lab.status().find((u) => u.name === 'fw-a')!.gateway!.unitPid);
    await deliveredOnce(picked.map((n) => m.transactions[n.mail.id]));
    // All four selected: three are confirmed on the primary (delivered), the fourth is not and stays.
    const removed = await api.actions.removeMails(nodes[0], nodes, { yes: true });
    assert.deepStrictEqual(removed?.removed.sort(), picked.map((n) => n.mail.id).sort());
    const left = await listFolder(api.services.pool.get(cluster.secondary), cluster, 'spool');
    assert.deepStrictEqual(left.mails.map((x) => x.id), [nodes[3].mail.id]);
  });
});
