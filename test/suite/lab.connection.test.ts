// Test Connection against the lab's real sshd, from inside the VS Code host.
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ConnectionTestResult } from '../../src/commands/connectionCommands';
import { passwordSecretKey } from '../../src/core/ssh/auth';
import { knownHostsName } from '../../src/core/ssh/hostKeys';
import { resolveTarget } from '../../src/core/ssh/sshConfig';
import type { ShownMessage } from '../../src/safeWindow';
import { secretStorageStore } from '../../src/vscodeHost';
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

  it('"Clear Stored Secrets" and "Forget Host Key" ask first, even with the unit as an argument: Cancel keeps both, confirming removes them', async () => {
    const api = await activateExtension();
    const { unit } = api.services.unit('lab/fw-a')!;
    const t = resolveTarget(unit.host, { port: unit.port, username: unit.username });
    const secretKey = passwordSecretKey(t.username, t.hostName, t.port);
    // The extension's own view of its secret storage (its keys carry a prefix).
    const secrets = secretStorageStore(api.services.context.secrets);
    const store = api.services.trustStoreFile;
    const storeBefore = fs.existsSync(store) ? fs.readFileSync(store, 'utf8') : undefined;
    // A trusted key for fw-a as "Trust and Remember" would have stored it (a made-up ed25519 key).
    const type = Buffer.from('ssh-ed25519');
    const raw = crypto.randomBytes(32);
    const blob = Buffer.concat([Buffer.from([0, 0, 0, type.length]), type, Buffer.from([0, 0, 0, 32]), raw]);
    const line = `${knownHostsName(t.hostName, t.port)} ssh-ed25519 ${blob.toString('base64')}`;
    fs.mkdirSync(path.dirname(store), { recursive: true });
    fs.writeFileSync(store, `${storeBefore ?? ''}${line}\n`);
    await secrets.store(secretKey, 'not-a-real-password');
    const asked: ShownMessage[] = [];
    let confirm = false;
    api.setMessageHook((shown) => {
      if (!shown.modal) return undefined;
      asked.push(shown);
      return confirm ? shown.items[0] : null;
    });
    try {
      await vscode.commands.executeCommand('mailgwHa.clearSecrets', 'lab/fw-a');
      await vscode.commands.executeCommand('mailgwHa.forgetHostKey', 'lab/fw-a');
      assert.deepStrictEqual(asked.map((m) => m.items), [['Clear Secrets'], ['Forget Host Key']], 'one modal each');
      assert.match(asked[0].message, /lab\/fw-a/);
      assert.match(asked[1].message, new RegExp(`${t.hostName.replace(/\./g, '\\.')}:${t.port}`));
      assert.strictEqual(await secrets.get(secretKey), 'not-a-real-password', 'Cancel keeps the stored password');
      assert.ok(fs.readFileSync(store, 'utf8').includes(line), 'Cancel keeps the trusted key');
      confirm = true;
      await vscode.commands.executeCommand('mailgwHa.clearSecrets', 'lab/fw-a');
      await vscode.commands.executeCommand('mailgwHa.forgetHostKey', 'lab/fw-a');
      assert.strictEqual(asked.length, 4);
      assert.strictEqual(await secrets.get(secretKey), undefined, 'confirmed: the stored password is gone');
      assert.ok(!fs.readFileSync(store, 'utf8').includes(line), 'confirmed: the trusted key is gone');
    } finally {
      api.setMessageHook(undefined);
      await secrets.delete(secretKey);
      if (storeBefore === undefined) fs.rmSync(store, { force: true });
      else fs.writeFileSync(store, storeBefore);
    }
  });
});
