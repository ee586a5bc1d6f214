// Test Connection against the lab's real sshd, from inside the VS Code host.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { ConnectionTestResult } from '../../src/commands/connectionCommands';
import { activateExtension, waitFor } from './helpers';
import { hostLab } from './labHelpers';

describe('lab: connections', () => {
  it('looks at the units in the background on activation, so stranded mail reaches the badge before the view is opened', async () => {
    const api = await activateExtension();
    // Nothing in this group has shown the tree yet: only the start-up look can have listed the units.
    await waitFor('both units looked at without the view', () => (api.clusterTree.overview('lab/fw-a') && api.clusterTree.overview('lab/fw-b') ? true : undefined));
    assert.strictEqual(api.clusterTree.overview('lab/fw-a')!.active, true);
  });

  it('reads the lab cluster from the workspace settings', async () => {
    const api = await activateExtension();
    const clusters = api.services.settings.clusters;
    assert.deepStrictEqual(
      clusters.map((c) => [c.name, c.gateway, c.units.map((u) => `${u.name}:${u.role}`)]),
      [['lab', 'box1_mailgw', ['fw-a:primary', 'fw-b:secondary']]],
    );
  });

  it('"Test Connection" reaches the primary by key, reports the fingerprint and finds the gateway', async () => {
    await activateExtension();
    const lab = hostLab();
    const result = await vscode.commands.executeCommand<ConnectionTestResult>('mailgwHa.testConnection', 'lab/fw-a');
    assert.ok(result?.ok, result?.error);
    assert.strictEqual(result.authMethod, 'publickey');
    assert.match(result.hostKey ?? '', /^ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}$/);
    assert.deepStrictEqual(result.gatewayPids, [lab.status().find((u) => u.name === 'fw-a')!.gateway!.unitPid]);
  });

  it('"Test Connection" on the standby unit reports no gateway there', async () => {
    const result = await vscode.commands.executeCommand<ConnectionTestResult>('mailgwHa.testConnection', 'lab/fw-b');
    assert.ok(result?.ok, result?.error);
    assert.deepStrictEqual(result.gatewayPids, []);
  });

  it('shows a connected unit in the tree', async () => {
    const api = await activateExtension();
    const state = await waitFor('fw-a connected', () => (api.services.pool.peek('lab/fw-a')?.state === 'connected' ? true : undefined));
    assert.ok(state);
  });
});
