// The spool explorer in a real VS Code host against the lab: the tree after `strand` (units,
// active, leftovers, counts, mails), read-only previews, the filter, paging and revealMail.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MailgwHaTestApi } from '../../src/extension';
import type { ClusterTreeNode } from '../../src/views/clusterTreeNodes';
import { makeMail, writeMail } from '../lab/mail';
import type { StrandManifest } from '../lab/lab';
import { activateExtension, waitFor, shownMarkdown } from './helpers';
import { hostLab } from './labHelpers';

type Row = Awaited<ReturnType<MailgwHaTestApi['clusterTree']['describeChildren']>>[number];

async function rows(api: MailgwHaTestApi, node?: ClusterTreeNode): Promise<Row[]> {
  return api.clusterTree.describeChildren(node);
}
async function unitRows(api: MailgwHaTestApi): Promise<Row[]> {
  const [cluster] = (await rows(api)).filter((r) => r.node.kind === 'cluster');
  return (await rows(api, cluster.node)).filter((r) => r.node.kind === 'unit');
}
async function folderRow(api: MailgwHaTestApi, unit: string, folder: string): Promise<Row> {
  const u = (await unitRows(api)).find((r) => r.label === unit)!;
  const f = (await rows(api, u.node)).find((r) => r.label === folder);
  assert.ok(f, `${unit}/${folder} in the tree`);
  return f;
}

describe('lab: spool explorer', () => {
  let api: MailgwHaTestApi;
  let manifest: StrandManifest;
  const lab = hostLab();

  before(async () => {
    api = await activateExtension();
    await lab.reset();
    manifest = lab.strand({ mails: 20, vscan: 3, orphans: 2, bigMb: 2 });
    await api.clusterTree.refresh();
  });
  after(async () => {
    await vscode.commands.executeCommand('mailgwHa.clearFilter');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('shows both units, which one is active, and the leftover warning on the secondary', async () => {
    const units = await unitRows(api);
    const byName = Object.fromEntries(units.map((u) => [u.label, u]));
    assert.strictEqual(byName['fw-a'].contextValue, 'unit.primary.active');
    assert.match(byName['fw-a'].description, /^primary · active \(PID \d+\) · /);
    assert.strictEqual(byName['fw-b'].contextValue, 'unit.secondary.leftovers');
    assert.match(byName['fw-b'].description, /^secondary · standby · /);
    assert.match(byName['fw-b'].tooltip, /26 mail\(s\) left on this standby secondary/);
    // 21 complete (20 + the big one) + 3 vscan + 2 orphans.
    assert.strictEqual(api.clusterTree.viewState.badge?.value, 26);
  });

  it('counts every directory right', async () => {
    assert.match((await folderRow(api, 'fw-b', 'spool')).description, /^21 mails \+ 2 incomplete · [\d.]+ MB · oldest \d+m$/);
    assert.match((await folderRow(api, 'fw-b', 'vscan')).description, /^3 mails · /);
    assert.strictEqual((await folderRow(api, 'fw-b', 'input')).description, '0 mails');
    assert.strictEqual((await folderRow(api, 'fw-a', 'spool')).description, '0 mails');
    assert.deepStrictEqual(
      (await rows(api, (await unitRows(api)).find((r) => r.label === 'fw-b')!.node)).map((r) => r.contextValue),
      ['folder.spool.secondary', 'folder.vscan.secondary', 'folder.input.secondary'],
    );
  });

  it('lists the mails by id with From — Subject once their headers are read, orphans flagged', async () => {
    const spool = await folderRow(api, 'fw-b', 'spool');
    const mails = await waitFor('headers of the page', async () => {
      const r = await rows(api, spool.node);
      return r.every((m) => m.description !== '…') ? r : undefined;
    });
    assert.deepStrictEqual(mails.filter((m) => m.contextValue === 'mail').map((m) => m.label).sort(), [...manifest.secondarySpool].sort());
    const orphans = mails.filter((m) => m.contextValue === 'mail.incomplete');
    assert.strictEqual(orphans.length, 2);
    for (const o of orphans) assert.match(o.description, /^incomplete \(check by hand\): no \.(env|body)/);
    const one = mails.find((m) => m.label === manifest.secondarySpool[0])!;
    assert.match(one.description, / — /);
    assert.ok(shownMarkdown(one.tooltip).includes(manifest.messageIds[one.label]), one.tooltip);
    assert.match(shownMarkdown(one.tooltip), /\| To \|.*@dest\.example/);
  });

  it('opens a mail\'s .body and .env read-only, byte for byte', async () => {
    const spool = await folderRow(api, 'fw-b', 'spool');
    const node = (await rows(api, spool.node)).find((m) => m.label === manifest.secondarySpool[1])!.node;
    const doc = await vscode.commands.executeCommand<vscode.TextDocument>('mailgwHa.openBody', node);
    assert.ok(doc, 'a document was opened');
    assert.strictEqual(doc.uri.scheme, 'mailgw-ha');
    const local = fs.readFileSync(path.join(lab.hostPath('secondary', 'spool'), `${manifest.secondarySpool[1]}.body`), 'utf8');
    assert.strictEqual(doc.getText().replace(/\r\n/g, '\n'), local.replace(/\r\n/g, '\n'));
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.toString(), doc.uri.toString());
    const env = await vscode.commands.executeCommand<vscode.TextDocument>('mailgwHa.openEnv', node);
    assert.match(env.getText(), /^X-Mgw-Envelope: 1\nId: /);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(doc.uri, Buffer.from('x'))), /NoPermissions|permission/i);
    assert.strictEqual(fs.readFileSync(path.join(lab.hostPath('secondary', 'spool'), `${manifest.secondarySpool[1]}.body`), 'utf8'), local, 'unchanged on the unit');
  });

  it('refuses a file over the size limit with a clear message, and opens its head only', async () => {
    const cfg = vscode.workspace.getConfiguration('mailgwHa');
    await cfg.update('maxOpenSizeMB', 1, vscode.ConfigurationTarget.Workspace);
    try {
      const uri = vscode.Uri.from({ scheme: 'mailgw-ha', path: `/lab/fw-b/spool/${manifest.big}.body` });
      await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(uri)), /over the 1\.0 MB limit \(setting mailgwHa\.maxOpenSizeMB\)/);
      const spool = await folderRow(api, 'fw-b', 'spool');
      const node = (await rows(api, spool.node)).find((m) => m.label === manifest.big)!.node;
      const doc = await vscode.commands.executeCommand<vscode.TextDocument>('mailgwHa.openBodyHead', node);
      assert.ok(doc.uri.query.startsWith('head='));
      assert.match(doc.getText(), /^Received: /);
      assert.match(doc.getText(), /only the first 262,144 of [\d,]+ bytes are shown/);
    } finally {
      await cfg.update('maxOpenSizeMB', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('the filter narrows the tree and is shown in the view description', async () => {
    const spool = await folderRow(api, 'fw-b', 'spool');
    const all = (await rows(api, spool.node)).filter((m) => m.contextValue === 'mail');
    const sender = 'alice';
    const expected = all.filter((m) => m.description.toLowerCase().includes(sender)).map((m) => m.label);
    assert.ok(expected.length > 0 && expected.length < all.length, `some but not all mails are from ${sender}`);
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.filter', { from: sender }), true);
    assert.strictEqual(api.clusterTree.viewState.description, 'filter: from:alice');
    // Also inside the view: its description is hidden while it is alone in its container.
    assert.match(api.clusterTree.viewState.message ?? '', /^Filtered: from:alice\. Only matching mails are listed/);
    const filtered = await rows(api, (await folderRow(api, 'fw-b', 'spool')).node);
    assert.deepStrictEqual(filtered.map((m) => m.label).sort(), expected.sort());
    assert.match((await folderRow(api, 'fw-b', 'spool')).description, new RegExp(`^${expected.length} match · `));
    assert.strictEqual((await rows(api, (await folderRow(api, 'fw-b', 'vscan')).node)).every((m) => /alice/i.test(m.description)), true);
    // Age: everything stranded is at least 2 minutes old, nothing is 2 days old.
    await vscode.commands.executeCommand('mailgwHa.filter', { minAgeSeconds: 2 * 86400 });
    assert.strictEqual((await rows(api, (await folderRow(api, 'fw-b', 'spool')).node)).length, 0);
    await vscode.commands.executeCommand('mailgwHa.clearFilter');
    assert.strictEqual(api.clusterTree.viewState.description, undefined);
    assert.strictEqual(api.clusterTree.viewState.message, undefined);
    assert.strictEqual((await rows(api, (await folderRow(api, 'fw-b', 'spool')).node)).length, 23);
  });

  it('reveals a mail by cluster and id (for the log panel), false for an unknown id', async () => {
    const id = manifest.secondaryVscan[2];
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.revealMail', { cluster: 'lab', id }), true);
    const sel = await waitFor('selection', () => (api.clusterTree.viewState.selection.length ? api.clusterTree.viewState.selection : undefined));
    assert.deepStrictEqual(sel.map((n) => (n.kind === 'mail' ? `${n.unit.name}/${n.folder}/${n.mail.id}` : n.kind)), [`fw-b/vscan/${id}`]);
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.revealMail', { cluster: 'lab', id: '00000-00000-00000' }), false);
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.revealMail', { cluster: 'nope', id }), false);
  });

  it('pages a large folder ("show more") and reveals a mail beyond the first page', async () => {
    const dir = lab.hostPath('secondary', 'input');
    const ids: string[] = [];
    for (let n = 0; n < 450; n++) {
      const mail = makeMail({ n, tag: 'page', size: 600, id: `70000-00000-${String(n).padStart(5, '0')}` });
      writeMail(dir, mail, 'both', new Date(Date.now() - (1000 - n) * 1000));
      ids.push(mail.id);
    }
    await api.clusterTree.refreshUnit('lab/fw-b');
    const input = await folderRow(api, 'fw-b', 'input');
    assert.match(input.description, /^450 mails · /);
    let page = await rows(api, input.node);
    assert.strictEqual(page.length, 201);
    assert.deepStrictEqual([page[200].contextValue, page[200].label, page[200].description], ['more', 'Show 200 more…', '200 of 450 shown']);
    await vscode.commands.executeCommand('mailgwHa.showMore', page[200].node);
    page = await rows(api, input.node);
    assert.strictEqual(page.length, 401);
    assert.deepStrictEqual(page.slice(0, 400).map((r) => r.label), ids.slice(0, 400), 'oldest first');
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.revealMail', { cluster: 'lab', id: ids[449] }), true);
    page = await rows(api, input.node);
    assert.strictEqual(page.length, 450, 'the last page is shown, no "more" left');
  });

  it('follows takeover and takeback: the active unit moves, leftovers are no longer flagged on an active secondary', async () => {
    await lab.takeover();
    try {
      await api.clusterTree.refresh();
      const units = Object.fromEntries((await unitRows(api)).map((u) => [u.label, u.contextValue]));
      assert.deepStrictEqual(units, { 'fw-a': 'unit.primary', 'fw-b': 'unit.secondary.active' });
      assert.strictEqual(api.clusterTree.viewState.badge, undefined);
    } finally {
      await lab.takeback();
    }
    await api.clusterTree.refresh();
    const units = Object.fromEntries((await unitRows(api)).map((u) => [u.label, u.contextValue]));
    assert.deepStrictEqual(units, { 'fw-a': 'unit.primary.active', 'fw-b': 'unit.secondary.leftovers' });
  });

  it('auto-refresh (mailgwHa.autoRefreshSeconds) picks up new mail without a Refresh', async () => {
    const cfg = vscode.workspace.getConfiguration('mailgwHa');
    // (The takeover above let fw-b's gateway work on its folders for a while: count from what is there now.)
    await api.clusterTree.refresh();
    const before = Number(/^(\d+) mail/.exec((await folderRow(api, 'fw-b', 'vscan')).description)?.[1]);
    assert.ok(before >= 0);
    await cfg.update('autoRefreshSeconds', 5, vscode.ConfigurationTarget.Workspace);
    try {
      lab.putMail('secondary', 'vscan');
      const want = `${before + 1} mail${before + 1 === 1 ? '' : 's'}`;
      await waitFor(`vscan "${want}" without Refresh`, async () => ((await folderRow(api, 'fw-b', 'vscan')).description.startsWith(want) ? true : undefined), 20_000);
    } finally {
      await cfg.update('autoRefreshSeconds', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('shows an unreachable unit as an error node instead of stale mail, is not retried by auto-refresh, and recovers on refresh', async () => {
    const cfg = vscode.workspace.getConfiguration('mailgwHa');
    const clusters = cfg.get<Record<string, unknown>[]>('clusters')!;
    const broken = JSON.parse(JSON.stringify(clusters)) as { units: { port?: number }[] }[];
    broken[0].units[1].port = 1; // nothing listens there
    await cfg.update('clusters', broken, vscode.ConfigurationTarget.Workspace);
    try {
      await waitFor('settings applied', () => (api.services.settings.clusters[0]?.units[1].port === 1 ? true : undefined));
      await api.clusterTree.refresh();
      const b = (await unitRows(api)).find((r) => r.label === 'fw-b')!;
      const children = await rows(api, b.node);
      assert.deepStrictEqual(children.map((c) => c.contextValue), ['failure']);
      assert.match(children[0].label, /lab\/fw-b/);
      // No refresh storm: with auto-refresh every 5 s, the unreachable unit is not retried (two ticks),
      // while the reachable one is looked at again.
      const attempts: string[] = [];
      const onState = (key: string, state: string) => state === 'connecting' && attempts.push(key);
      api.services.pool.on('state', onState);
      const looks = [api.clusterTree.overview('lab/fw-a')!.loadedAt];
      await cfg.update('autoRefreshSeconds', 5, vscode.ConfigurationTarget.Workspace);
      try {
        // Two auto-refresh ticks, seen as two new looks at the reachable unit.
        await waitFor(
          'two auto-refresh ticks (new looks at fw-a)',
          () => {
            const at = api.clusterTree.overview('lab/fw-a')?.loadedAt;
            if (at !== undefined && at > looks[looks.length - 1]) looks.push(at);
            return looks.length >= 3 ? true : undefined;
          },
          40_000,
          () => `looks at fw-a: ${looks.length - 1} new; attempts on fw-b: ${JSON.stringify(attempts)}`,
        );
      } finally {
        await cfg.update('autoRefreshSeconds', undefined, vscode.ConfigurationTarget.Workspace);
        api.services.pool.off('state', onState);
      }
      assert.deepStrictEqual(attempts, [], 'no connection attempt to the unreachable unit');
      assert.ok(looks.length >= 3, 'the reachable unit was refreshed twice');
    } finally {
      await cfg.update('clusters', clusters, vscode.ConfigurationTarget.Workspace);
    }
    await waitFor('settings restored', () => (api.services.settings.clusters[0]?.units[1].port !== 1 ? true : undefined));
    await api.clusterTree.refresh();
    const b = (await unitRows(api)).find((r) => r.label === 'fw-b')!;
    assert.strictEqual((await rows(api, b.node)).length, 3);
  });
});
