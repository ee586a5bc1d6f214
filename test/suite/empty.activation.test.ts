// In a workspace with no cluster configured: the extension activates (cheaply) at start-up, registers every
// command it declares, and shows nothing but the welcome content.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { activateExtension, EXTENSION_ID, waitFor } from './helpers';

describe('extension in an empty workspace', () => {
  it('declares no "*" activation, so it costs nothing until its view or a command is used', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, 'extension is loaded');
    const events: string[] = ext.packageJSON.activationEvents ?? [];
    assert.ok(!events.includes('*'), 'no * activation');
  });

  it('activates by itself in a workspace with .vscode/settings.json (where clusters are configured), without its view being opened', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.deepStrictEqual(ext.packageJSON.activationEvents, ['workspaceContains:.vscode/settings.json']);
    await waitFor('activation at start-up', () => ext.isActive);
    assert.strictEqual(ext.isActive, true);
  });

  it('with no cluster configured, activation connects nowhere', async () => {
    const api = await activateExtension();
    assert.strictEqual(api.services.pool.peek('x/y'), undefined);
    assert.strictEqual(api.clusterTree.leftovers().length, 0);
  });

  it('registers every command it declares in package.json', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    await activateExtension();
    const declared: string[] = ext.packageJSON.contributes.commands.map((c: { command: string }) => c.command);
    assert.ok(declared.length >= 4, 'declares its commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = declared.filter((c) => !registered.has(c));
    assert.deepStrictEqual(missing, [], `commands declared but not registered: ${missing.join(', ')}`);
  });

  it('shows no cluster and no error, so the welcome view is what the user sees', async () => {
    const api = await activateExtension();
    const roots = await api.clusterTree.getChildren();
    assert.deepStrictEqual(roots, []);
  });

  it('shows a settings error in the tree, naming cluster and field, when the settings are invalid', async () => {
    const api = await activateExtension();
    const cfg = vscode.workspace.getConfiguration('mailgwHa');
    await cfg.update('clusters', [{ name: 'bad', server: 'box 1', service: 'mailgw', units: [] }], vscode.ConfigurationTarget.Workspace);
    try {
      const roots = await waitFor('error nodes', async () => {
        const r = await api.clusterTree.getChildren();
        return r.length >= 2 ? r : undefined;
      });
      const messages = roots.map((r) => (r.kind === 'error' ? `${r.error.cluster}|${r.error.field}|${r.error.message}` : ''));
      assert.ok(messages.some((m) => m.startsWith('bad|server|') && m.includes('case sensitive')), messages.join('\n'));
      assert.ok(messages.some((m) => m.startsWith('bad|units|') && m.includes('exactly two units')), messages.join('\n'));
    } finally {
      await cfg.update('clusters', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await waitFor('tree empty again', async () => ((await api.clusterTree.getChildren()).length === 0 ? true : undefined));
  });
});
