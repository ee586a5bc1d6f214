// Runs last in the "lab" group (hence the name): its attacks (a forged node's Reveal in Log, a spoofed
// unit) leave the log panel in a state that made the next suite's panel check time out; see the note on issue 14.
// Hostile input inside a real VS Code host (test mode), against the lab: a spoofed unit whose
// pre-auth disconnect carries a command link and control characters, a hostile cluster name,
// hostile mail headers, command arguments that try to skip a dialog or choose where to connect,
// and URIs that try to leave the gateway's folders. Every message is observed as shown
// (api.setMessageHook sees what VS Code would render), and every modal is answered "Cancel".
import * as assert from 'assert';
import * as vscode from 'vscode';
import { listFolder } from '../../src/core/spool/list';
import type { ShownMessage } from '../../src/safeWindow';
import type { MailgwHaTestApi } from '../../src/testApi';
import { labAddress } from '../lab/lab';
import { COMMAND_LINK } from '../hostile/corpus';
import { FakeSshServer, startFakeSshServer } from '../hostile/fakeSshServer';
import { activateExtension, waitFor } from './helpers';
import { hostLab } from './labHelpers';

/** VS Code's link syntax in notifications (vs/base/common/linkedText.ts). */
const VSCODE_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)/i;
// eslint-disable-next-line no-control-regex -- what must not be shown
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const EVIL_CLUSTER = 'evil [Fix](command:mailgwHa.recover) $(check)';

function assertPlain(m: ShownMessage): void {
  for (const t of [m.message, m.detail ?? '', ...m.items]) {
    assert.ok(!VSCODE_LINK.test(t), `a link in ${JSON.stringify(t)}`);
    assert.ok(!t.includes('$('), `an icon in ${JSON.stringify(t)}`);
    assert.ok(!CONTROL.test(t), `a control character in ${JSON.stringify(t)}`);
  }
}

describe('lab: hostile input in VS Code', function () {
  this.timeout(90_000);
  let api: MailgwHaTestApi;
  let fake: FakeSshServer;
  let shown: ShownMessage[] = [];
  let original: unknown;

  before(async () => {
    api = await activateExtension();
    fake = await startFakeSshServer(labAddress(31), `${COMMAND_LINK} \u001b]0;pwned\u0007\u001b[2J\u202Egnp.exe $(check)`);
    original = vscode.workspace.getConfiguration('mailgwHa').get('clusters');
  });
  after(async () => {
    api.setMessageHook(undefined);
    await fake.close();
  });
  beforeEach(async () => {
    await hostLab().reset();
    shown = [];
    // Every message is recorded as shown; every modal is answered by pressing Cancel.
    api.setMessageHook((m) => {
      shown.push(m);
      return m.modal ? null : undefined;
    });
  });
  afterEach(async () => {
    const cfg = vscode.workspace.getConfiguration('mailgwHa');
    if (JSON.stringify(cfg.get('clusters')) !== JSON.stringify(original)) {
      await cfg.update('clusters', original, vscode.ConfigurationTarget.Workspace);
      await waitFor('settings restored', () => (api.services.settings.clusters.length === 1 ? true : undefined));
    }
  });

  async function addEvilCluster(): Promise<void> {
    const cfg = vscode.workspace.getConfiguration('mailgwHa');
    const units = [
      { name: 'fw-x', role: 'primary', host: fake.host, port: fake.port },
      // An address where nothing listens (an HA pair needs two different units).
      { name: 'fw-y', role: 'secondary', host: labAddress(32), port: fake.port },
    ];
    await cfg.update('clusters', [...(original as unknown[]), { name: EVIL_CLUSTER, server: 'box1', service: 'mailgw', units }], vscode.ConfigurationTarget.Workspace);
    await waitFor('the spoofed cluster configured', () => (api.services.cluster(EVIL_CLUSTER) ? true : undefined));
  }

  it('Test Connection to a spoofed unit shows its disconnect text as plain text: no link, no icon, no control character', async () => {
    await addEvilCluster();
    const result = await vscode.commands.executeCommand<{ ok: boolean; error?: string }>('mailgwHa.testConnection', `${EVIL_CLUSTER}/fw-x`);
    assert.strictEqual(result?.ok, false);
    assert.ok(result?.error?.includes(COMMAND_LINK), 'the raw error holds the server text (the input is real)');
    const errors = await waitFor('the error notification', () => (shown.some((m) => m.severity === 'error') ? shown.filter((m) => m.severity === 'error') : undefined));
    errors.forEach(assertPlain);
    assert.ok(errors.some((m) => m.message.includes('Update trusted host key')), 'the words are kept');
  });

  it('the tree shows the spoofed unit\'s failure and the hostile cluster name as plain text', async () => {
    await addEvilCluster();
    await api.clusterTree.refresh();
    const roots = await api.clusterTree.describeChildren();
    const evil = roots.find((r) => r.node.kind === 'cluster' && r.node.cluster.name === EVIL_CLUSTER)!;
    assert.ok(evil, 'the cluster is shown');
    assert.ok(!VSCODE_LINK.test(evil.label) && !evil.label.includes('$('), evil.label);
    const units = await api.clusterTree.describeChildren(evil.node);
    const failure = (await api.clusterTree.describeChildren(units[0].node))[0];
    assert.strictEqual(failure.contextValue, 'failure');
    for (const t of [failure.label, failure.tooltip]) {
      assert.ok(!CONTROL.test(t) && !t.includes('$('), JSON.stringify(t));
      assert.ok(!VSCODE_LINK.test(t), t);
    }
  });

  it('Recover with {yes: true} in its arguments (a command link) still asks; Cancel moves nothing', async () => {
    const lab = hostLab();
    lab.strand({ mails: 3 });
    const cluster = api.services.cluster('lab')!;
    const report = await vscode.commands.executeCommand<{ outcome: string }>('mailgwHa.recover', { kind: 'cluster', cluster }, { yes: true });
    const modal = shown.find((m) => m.modal);
    assert.ok(modal, `a dialog was shown (messages: ${JSON.stringify(shown.map((m) => m.message))})`);
    assertPlain(modal);
    assert.notStrictEqual(report?.outcome, 'done');
    assert.strictEqual((await listFolder(api.services.pool.get(cluster.secondary), cluster, 'spool')).completeCount, 3, 'all stranded mail still on the secondary');
  });

  it('Remove Mails with {yes, confirmUnconfirmed} in its arguments still asks; Cancel removes nothing', async () => {
    const lab = hostLab();
    // Both also on the primary: proved duplicates, the only mails Remove Mails offers to remove.
    lab.strand({ mails: 2, duplicates: 2 });
    const cluster = api.services.cluster('lab')!;
    const listing = await listFolder(api.services.pool.get(cluster.secondary), cluster, 'spool');
    const nodes = listing.mails.map((mail) => ({ kind: 'mail', cluster, unit: cluster.secondary, folder: 'spool', mail }));
    const r = await vscode.commands.executeCommand<{ removed: string[] } | undefined>('mailgwHa.removeMails', nodes[0], nodes, { yes: true, confirmUnconfirmed: true });
    assert.ok(shown.some((m) => m.modal), 'a dialog was shown');
    assert.ok(!r || r.removed.length === 0, JSON.stringify(r));
    assert.strictEqual((await listFolder(api.services.pool.get(cluster.secondary), cluster, 'spool')).completeCount, 2, 'nothing removed');
  });

  it('Copy to Primary and Send SIGUSR2 with {yes: true} still ask; Cancel copies and signals nothing', async () => {
    const lab = hostLab();
    lab.strand({ mails: 1 });
    const cluster = api.services.cluster('lab')!;
    const listing = await listFolder(api.services.pool.get(cluster.secondary), cluster, 'spool');
    const nodes = listing.mails.map((mail) => ({ kind: 'mail', cluster, unit: cluster.secondary, folder: 'spool', mail }));
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.copyToPrimary', nodes[0], nodes, { yes: true }), undefined);
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.signalGateway', 'lab/fw-a', { yes: true }), undefined);
    assert.strictEqual(shown.filter((m) => m.modal).length, 2, 'two dialogs');
    assert.strictEqual((await listFolder(api.services.pool.get(cluster.primary), cluster, 'input')).mails.length, 0, "nothing in the primary's input/");
  });

  it('a forged mail node whose unit points at another host cannot choose where to connect', async () => {
    const cluster = api.services.cluster('lab')!;
    const before = fake.connections;
    const forgedUnit = { ...cluster.secondary, host: fake.host, port: fake.port };
    const node = { kind: 'mail', cluster: { ...cluster, secondary: forgedUnit, units: [cluster.primary, forgedUnit] }, unit: forgedUnit, folder: 'spool', mail: { id: '00001-00002-00003', complete: true, body: { size: 1 }, env: { size: 1 } } };
    await vscode.commands.executeCommand('mailgwHa.removeMails', node, [node]);
    await vscode.commands.executeCommand('mailgwHa.copyMessageId', node);
    await vscode.commands.executeCommand('mailgwHa.revealInLog', node);
    // Reveal in Log (on the configured fw-b's log) filtered the panel: leave it as the next suites expect.
    await vscode.commands.executeCommand('mailgwHa.logSetFilter', '');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    assert.strictEqual(fake.connections, before, 'no connection to the forged host');
    assert.ok(api.services.pool.peek(cluster.secondary.key)?.address.host !== fake.host);
  });

  it('a mailgw-log: URI naming /etc/shadow shows nothing of it', async () => {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: 'mailgw-log', path: '/lab/fw-a/etc/shadow' }));
    assert.match(doc.getText(), /cannot be shown/);
    assert.ok(!doc.getText().includes('root:'));
    const climb = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: 'mailgw-log', path: '/lab/fw-a/var/phion/logs/../../../etc/shadow' }));
    assert.ok(!climb.getText().includes('root:'));
  });

  it('a mailgw-ha: URI to a spool name that is a symlink to /etc/shadow is refused, not followed', async () => {
    const lab = hostLab();
    const id = '12345-54321-11111';
    await lab.exec('secondary', ['ln', '-s', '/etc/shadow', `${lab.spoolDir}/spool/${id}.body`]);
    const uri = vscode.Uri.from({ scheme: 'mailgw-ha', path: `/lab/fw-b/spool/${id}.body` });
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(uri)), /symbolic link/);
  });

  it('hostile mail headers reach the tree as plain text and the tooltip as untrusted, escaped markdown', async () => {
    const lab = hostLab();
    const { id } = lab.putMail('secondary', 'spool');
    // Rewrite the headers of that mail as an attacker would send them.
    const fs = await import('fs');
    const path = await import('path');
    const body = path.join(lab.hostPath('secondary', 'spool'), `${id}.body`);
    fs.writeFileSync(body, `From: "[Update](command:mailgwHa.removeMails?[{\\"yes\\":true}])" <eve@evil.example>\r\nSubject: =?UTF-8?B?${Buffer.from('invoice \u202Egnp.exe $(check) \u001b[2J https://evil.example').toString('base64')}?=\r\nMessage-ID: <x@evil.example>\r\n\r\nbody\r\n`);
    await api.clusterTree.refresh();
    const cluster = api.services.cluster('lab')!;
    const folder = api.clusterTree.folderNode(cluster, cluster.secondary, 'spool');
    const item = await waitFor('the mail with its headers read', async () => {
      const rows = await api.clusterTree.describeChildren(folder);
      const row = rows.find((r) => r.label === id);
      return row && row.description !== '…' ? row : undefined;
    });
    assert.ok(!VSCODE_LINK.test(item.description) && !item.description.includes('$(') && !CONTROL.test(item.description), JSON.stringify(item.description));
    const tip = api.clusterTree.getTreeItem(item.node).tooltip as vscode.MarkdownString;
    assert.strictEqual(tip.isTrusted, false);
    assert.strictEqual(tip.supportThemeIcons, false);
    assert.strictEqual(tip.supportHtml, false);
    assert.ok(!/(?<!\\)\]\(/.test(tip.value), 'no unescaped link');
    assert.ok(!/(?<!\\)https:/.test(tip.value), 'no bare URL to autolink');
    assert.ok(!CONTROL.test(tip.value), JSON.stringify(tip.value));
  });

  it('F14: a backtracking filter regex against a hostile Subject does not freeze VS Code; the view says it was stopped', async function () {
    this.timeout(120_000);
    const lab = hostLab();
    const fs = await import('fs');
    const path = await import('path');
    const put = (subject: string) => {
      const { id } = lab.putMail('secondary', 'spool');
      fs.writeFileSync(path.join(lab.hostPath('secondary', 'spool'), `${id}.body`), `From: <eve@evil.example>\r\nSubject: ${subject}\r\nMessage-ID: <${id}@evil.example>\r\n\r\nbody\r\n`);
      return id;
    };
    const plain = put('aaaa');
    // On the extension host's thread /^(a+)+$/ takes some 2^40 steps on this Subject: hours.
    const evil = put(`${'a'.repeat(40)}!`);
    await api.clusterTree.refresh();
    let beats = 0;
    const beat = setInterval(() => beats++, 50);
    const t0 = Date.now();
    try {
      assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.filter', { subject: '/^(a+)+$/' }), true);
    } finally {
      clearInterval(beat);
    }
    const ms = Date.now() - t0;
    assert.ok(ms < 60_000, `the filter took ${ms} ms`);
    assert.ok(beats >= Math.floor(ms / 50 / 4), `the extension host kept running its event loop (${beats} beats in ${ms} ms)`);
    try {
      assert.match(api.clusterTree.viewState.message ?? '', /Subject \/\^\(a\+\)\+\$\/ was stopped: it took longer than 1 s on one mail's header/);
      assert.match(api.clusterTree.viewState.description ?? '', /\(stopped\)$/);
      const cluster = api.services.cluster('lab')!;
      const listed = (await api.clusterTree.describeChildren(api.clusterTree.folderNode(cluster, cluster.secondary, 'spool'))).map((r) => r.label);
      assert.ok(!listed.includes(evil), 'the mail it was stopped on is not listed');
      assert.ok(listed.every((l) => l === plain), `only a mail it checked and matched is listed: ${JSON.stringify(listed)}`);
    } finally {
      await vscode.commands.executeCommand('mailgwHa.clearFilter');
    }
  });

  it('the debug commands and this API exist because the extension runs in test mode (a .vsix install has neither)', async () => {
    const commands = new Set(await vscode.commands.getCommands(true));
    assert.ok(commands.has('mailgwHa.logDebugState') && commands.has('mailgwHa.logSetFilter'));
    assert.strictEqual(api.services.context.extensionMode, vscode.ExtensionMode.Test);
  });
});
