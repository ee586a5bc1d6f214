// The "HA sync" node of a cluster in the real host: in step, mail only on the standby, lagging.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { MailgwHaTestApi } from '../../src/extension';
import { activateExtension, waitFor, shownMarkdown } from './helpers';
import { hostLab } from './labHelpers';

async function syncRow(api: MailgwHaTestApi) {
  const [cluster] = (await api.clusterTree.describeChildren()).filter((r) => r.node.kind === 'cluster');
  const row = (await api.clusterTree.describeChildren(cluster.node)).find((r) => r.node.kind === 'sync');
  assert.ok(row, 'the cluster has an HA sync node');
  return row;
}

describe('lab: HA sync health node', () => {
  let api: MailgwHaTestApi;
  const lab = hostLab();
  before(async () => {
    api = await activateExtension();
    await lab.reset();
  });
  after(() => lab.reset());

  it('shows the pair in step when neither unit holds mail the other lacks', async () => {
    await api.clusterTree.refresh();
    const row = await syncRow(api);
    assert.strictEqual(row.label, 'HA sync');
    assert.match(row.description, /^in step fw-a → fw-b$/);
    assert.strictEqual(row.contextValue, 'syncHealth');
  });

  it('counts mail only on the standby (stranded, or copies whose delivery did not sync)', async () => {
    lab.strand({ mails: 4, orphans: 1 });
    await api.clusterTree.refresh();
    const row = await syncRow(api);
    assert.match(row.description, /in step fw-a → fw-b · 4 only on fw-b$/);
    assert.match(shownMarkdown(row.tooltip), /only on fw-b: 4 — stranded by a takeover, or copies whose delivery was not synced yet/);
    assert.match(shownMarkdown(row.tooltip), /0 pending action\(s\)|pending actions unknown/);
  });

  it('warns when mail on the active unit has not been mirrored for longer than the warning threshold', async () => {
    lab.pauseDelivery('primary');
    lab.putMail('primary', 'spool');
    lab.putMail('primary', 'spool');
    // The lag counts from when a mail was first seen on the active unit: short thresholds, not old mtimes.
    const cfg = vscode.workspace.getConfiguration('mailgwHa');
    await cfg.update('syncIntervalSeconds', 1, vscode.ConfigurationTarget.Workspace);
    await cfg.update('syncLagWarningSeconds', 2, vscode.ConfigurationTarget.Workspace);
    try {
      const row = await waitFor('lagging', async () => {
        await api.clusterTree.refresh();
        const r = await syncRow(api);
        return api.clusterTree.syncHealth.get('lab')?.state === 'lagging' && /^2 lagging \(oldest \d+ s\)/.test(r.description) ? r : undefined;
      });
      assert.match(shownMarkdown(row.tooltip), /2 mail\(s\) on fw-a not mirrored to fw-b for up to \d+ s: a takeover now would strand them/);
      assert.strictEqual(api.clusterTree.syncHealth.get('lab')?.state, 'lagging');
    } finally {
      await cfg.update('syncIntervalSeconds', undefined, vscode.ConfigurationTarget.Workspace);
      await cfg.update('syncLagWarningSeconds', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
