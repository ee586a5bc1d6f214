// Every view tells the current truth (issue 15) in a real VS Code host against the lab: the log
// panel follows again after a settings change closes its source (or says "stopped" with Resume),
// a unit whose settings changed or that cannot be reached shows no stale listing, the HA sync node
// is recomputed after every look, counters count what the log shows, the manual commands report
// what they did, and a recovery's copies do not raise a false "not mirrored" alarm.
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { LogDebugState } from '../../src/commands/logCommands';
import { outcomeText } from '../../src/core/recovery/outcome';
import { listFolder } from '../../src/core/spool/list';
import type { MailgwHaTestApi } from '../../src/extension';
import type { ClusterTreeNode } from '../../src/views/clusterTreeNodes';
import { activateExtension, shownMarkdown, waitFor } from './helpers';
import { hostLab } from './labHelpers';

const debugState = (unit = 'fw-a') => vscode.commands.executeCommand<LogDebugState>('mailgwHa.logDebugState', { cluster: 'lab', unit });
const LOG = '/var/phion/logs/srv_box1_mailgw.log';

type Row = Awaited<ReturnType<MailgwHaTestApi['clusterTree']['describeChildren']>>[number];
async function rows(api: MailgwHaTestApi, node?: ClusterTreeNode): Promise<Row[]> {
  return api.clusterTree.describeChildren(node);
}
async function clusterRows(api: MailgwHaTestApi): Promise<Row[]> {
  const [cluster] = (await rows(api)).filter((r) => r.node.kind === 'cluster');
  return rows(api, cluster.node);
}
async function unitRow(api: MailgwHaTestApi, name: string): Promise<Row> {
  const r = (await clusterRows(api)).find((x) => x.node.kind === 'unit' && x.label === name);
  assert.ok(r, `unit ${name} in the tree`);
  return r;
}

/** Changes the lab cluster's settings for the duration of `body`, then puts them back. */
async function withClusters(api: MailgwHaTestApi, change: (c: { name: string; units: Record<string, unknown>[] }[]) => void, applied: () => boolean, body: () => Promise<void>): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('mailgwHa');
  const original = cfg.get<Record<string, unknown>[]>('clusters')!;
  const changed = JSON.parse(JSON.stringify(original)) as { name: string; units: Record<string, unknown>[] }[];
  change(changed);
  await cfg.update('clusters', changed, vscode.ConfigurationTarget.Workspace);
  try {
    await waitFor('the changed settings applied', () => (applied() ? true : undefined));
    await body();
  } finally {
    await cfg.update('clusters', original, vscode.ConfigurationTarget.Workspace);
    await waitFor('the settings restored', () => (JSON.stringify(api.services.settings.clusters.map((c) => c.units.map((u) => [u.key, u.host, u.port ?? null]))) === JSON.stringify(original.map((c) => (c.units as { name: string; host: string; port?: number }[]).map((u) => [`${String(c.name)}/${u.name}`, u.host, u.port ?? null]))) ? true : undefined));
  }
}

describe('lab: the views tell the current truth', function () {
  this.timeout(120_000);
  let api: MailgwHaTestApi;
  const lab = hostLab();
  /** Appends a line to fw-a's log, as its gateway would. */
  const mark = (text: string) => fs.appendFileSync(lab.hostLogFile('primary'), `2026 11 30 12:00:00 +00:00 Info     TEST ${text}\n`);
  /** The text of fw-a's open log document. */
  const text = () => vscode.workspace.textDocuments.find((d) => d.uri.toString(true) === `mailgw-log:/lab/fw-a${LOG}`)?.getText() ?? '';
  const shows = (t: string) => waitFor(`the log document to show "${t}"; it ends with: ${text().slice(-300)}`, async () => (text().includes(t) ? true : undefined));
  const count = (t: string) => text().split('\n').filter((l) => l.endsWith(t)).length;

  before(async () => {
    api = await activateExtension();
    await lab.reset();
    await lab.waitForLog('primary', 'SERVICE gateway started');
  });

  it('the panel and the status bar count the inserted ids the log shows, lines read back on watching included', async () => {
    // Insertions logged on fw-b before anyone watches it: they arrive as read-back lines.
    const ids = ['11111-22222-00001', '11111-22222-00002'];
    fs.appendFileSync(lab.hostLogFile('secondary'), ids.map((id) => `2026 11 30 10:00:00 +00:00 Info     SPOOLER new mail inserted (id=${id})\n`).join(''));
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.watchLog', 'lab/fw-b'), true);
    const state = await waitFor('the panel to highlight and count both read-back insertions', async () => {
      const s = (await debugState('fw-b')).panel;
      return s && ids.every((id) => s.insertedIds.includes(id)) ? s : undefined;
    });
    assert.ok(state.highlighted >= 2, `highlighted ${state.highlighted}`);
    const status = await waitFor('the status bar to count them too', async () => {
      const text = (await debugState('fw-b')).statusBar;
      const n = Number(/(\d+) inserted/.exec(text)?.[1] ?? -1);
      return n >= state.insertedIds.length ? text : undefined;
    });
    assert.match(status, /\d+ inserted/);
  });

  it('the log panel follows again after a settings change closes its connection', async () => {
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.watchLog', 'lab/fw-a'), true);
    // The editor shares the panel's source: it must not keep the panel on the closed connection.
    await vscode.commands.executeCommand('mailgwHa.openLog', 'lab/fw-a');
    const key = `lab/fw-a:${LOG}`;
    await waitFor('the panel to follow fw-a', async () => (await debugState()).panelWatches.find((w) => w.key === key && w.following));
    assert.strictEqual(api.services.settings.clusters[0].units[0].port, 22, 'the lab settings name the port');
    // Same sshd, spelled differently (port left to its default): a new address for the pool, so the old connection is closed.
    await withClusters(
      api,
      (c) => delete c[0].units[0].port,
      () => api.services.settings.clusters[0].units[0].port === undefined,
      async () => {
        const mail = lab.putMail('primary', 'input');
        await lab.exec('primary', ['pkill', '-USR2', '-x', lab.processName]);
        await waitFor(
          'the panel to show the insertion logged after the settings change',
          async () => ((await debugState()).panel?.insertedIds.includes(mail.id) ? true : undefined),
          20_000,
        );
        const w = (await debugState()).panelWatches.find((x) => x.key === key);
        assert.deepStrictEqual(w, { key, following: true, stopped: undefined });
      },
    );
  });

  it('the log panel shows what is logged after the log was truncated in place (copytruncate), also once it follows again after a settings change', async () => {
    // The new lines sit at offsets the panel has already passed, in the same inode: what a reset
    // log whose inode number the file system reused looks like too.
    await lab.waitForQuiet();
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.watchLog', 'lab/fw-a'), true);
    const key = `lab/fw-a:${LOG}`;
    const file = lab.hostLogFile('primary');
    const shown = (text: string) => waitFor(`the panel to show "${text}"`, async () => ((await debugState()).panel?.lastText?.endsWith(text) ? true : undefined));
    for (let i = 0; i < 40; i++) mark(`filler ${i} ${'x'.repeat(100)}`);
    await shown('filler 39 ' + 'x'.repeat(100));
    const ino = fs.statSync(file).ino;
    fs.truncateSync(file, 0);
    mark('after the truncation');
    assert.strictEqual(fs.statSync(file).ino, ino, 'truncated in place');
    await shown('after the truncation');
    for (let i = 0; i < 40; i++) mark(`second filler ${i} ${'x'.repeat(100)}`);
    await shown('second filler 39 ' + 'x'.repeat(100));
    fs.truncateSync(file, 0);
    await withClusters(
      api,
      (c) => delete c[0].units[0].port,
      () => api.services.settings.clusters[0].units[0].port === undefined,
      async () => {
        await waitFor('the panel to follow fw-a on the new connection', async () => (await debugState()).panelWatches.find((w) => w.key === key && w.following));
        const mail = lab.putMail('primary', 'input');
        await lab.exec('primary', ['pkill', '-USR2', '-x', lab.processName]);
        await waitFor('the panel to show the insertion logged after the truncation', async () => ((await debugState()).panel?.insertedIds.includes(mail.id) ? true : undefined), 20_000);
      },
    );
  });

  it('an open log document follows again after a settings change, and says where it stopped when its unit is no longer configured', async () => {
    await lab.waitForQuiet();
    await vscode.commands.executeCommand('mailgwHa.openLog', 'lab/fw-a');
    mark('document: before the change');
    await shows('document: before the change');
    await withClusters(
      api,
      (c) => delete c[0].units[0].port,
      () => api.services.settings.clusters[0].units[0].port === undefined,
      async () => {
        mark('document: after the change');
        await shows('document: after the change');
      },
    );
    assert.strictEqual(count('document: before the change'), 1, 'the lines it held are not appended again');
    await withClusters(
      api,
      (c) => ((c[0].units[0] as { name: string }).name = 'fw-x'),
      () => api.services.settings.clusters[0].units[0].name === 'fw-x',
      async () => void (await shows('[mailgw-ha] stopped following: lab/fw-a is no longer configured. Run "Open mailgw Log" to follow it again.')),
    );
    await vscode.commands.executeCommand('mailgwHa.openLog', 'lab/fw-a');
    mark('document: after opening it again');
    await shows('document: after opening it again');
    assert.strictEqual(count('document: before the change'), 1, 'opened again, it keeps what it held once');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('an open log document follows again when a connection setting closes every connection (mailgwHa.knownHostsFile)', async () => {
    await lab.waitForQuiet();
    await vscode.commands.executeCommand('mailgwHa.openLog', 'lab/fw-a');
    mark('known_hosts: before');
    await shows('known_hosts: before');
    // The same keys under another path: every connection is closed and made again (the pool's
    // options changed), so the document's source ends without its unit's settings changing.
    const cfg = vscode.workspace.getConfiguration('mailgwHa');
    const original = cfg.inspect<string>('knownHostsFile')?.globalValue;
    assert.ok(original, 'the lab sets mailgwHa.knownHostsFile in the user settings');
    const copy = `${lab.stateDir}/known_hosts.copy`;
    fs.copyFileSync(original, copy);
    await cfg.update('knownHostsFile', copy, vscode.ConfigurationTarget.Global);
    try {
      await waitFor('the new known_hosts file applied', () => (api.services.settings.knownHostsFile === copy ? true : undefined));
      mark('known_hosts: after');
      await shows('known_hosts: after');
      assert.doesNotMatch(text().slice(text().indexOf('known_hosts: before')), /stopped following/, 'it followed again by itself');
      assert.strictEqual(text().split('\n').filter((l) => l.endsWith('known_hosts: before')).length, 1);
    } finally {
      await cfg.update('knownHostsFile', original, vscode.ConfigurationTarget.Global);
      await waitFor('known_hosts restored', () => (api.services.settings.knownHostsFile === original ? true : undefined));
    }
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('a watched unit that is no longer configured shows "stopped" (Resume cannot follow it)', async () => {
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.watchLog', 'lab/fw-a'), true);
    const key = `lab/fw-a:${LOG}`;
    await withClusters(
      api,
      (c) => ((c[0].units[0] as { name: string }).name = 'fw-x'),
      () => api.services.settings.clusters[0].units[0].name === 'fw-x',
      async () => {
        const w = await waitFor('the panel to say it stopped', async () => (await debugState()).panelWatches.find((x) => x.key === key && x.stopped));
        assert.strictEqual(w.following, false);
        assert.match(w.stopped ?? '', /lab\/fw-a is no longer configured/);
      },
    );
    // Configured again: "Watch Log in Panel" follows it anew instead of keeping the stopped watch.
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.watchLog', 'lab/fw-a'), true);
    await waitFor('the panel to follow fw-a again', async () => (await debugState()).panelWatches.find((x) => x.key === key && x.following));
  });

  it('a unit whose address changed to one that cannot be reached shows no stale listing, before and after Refresh', async () => {
    lab.strand({ mails: 2 });
    await api.clusterTree.refresh();
    assert.match((await unitRow(api, 'fw-b')).description, /standby/);
    await withClusters(
      api,
      (c) => (c[0].units[1].port = 1), // nothing listens there
      () => api.services.settings.clusters[0].units[1].port === 1,
      async () => {
        // At once, without a refresh: nothing of the old listing.
        assert.strictEqual(api.clusterTree.overview('lab/fw-b'), undefined);
        assert.doesNotMatch((await unitRow(api, 'fw-b')).description, /standby|active/);
        await vscode.commands.executeCommand('mailgwHa.refresh');
        const b = await unitRow(api, 'fw-b');
        assert.doesNotMatch(b.description, /standby|active|PID/);
        assert.deepStrictEqual((await rows(api, b.node)).map((r) => r.contextValue), ['failure']);
        assert.strictEqual(api.clusterTree.viewState.badge, undefined, 'no leftover badge from the old listing');
        const sync = (await clusterRows(api)).find((r) => r.node.kind === 'sync')!;
        assert.strictEqual(sync.description, 'unknown');
      },
    );
    await api.clusterTree.refresh();
    assert.match((await unitRow(api, 'fw-b')).description, /standby/);
    // A look refused at once (its unit's old address, after the change) must not stay "running": the
    // filter waits for the tree to be idle, and once waited on a settled look for ever, spinning the host.
    let idle = false;
    await Promise.race([api.clusterTree.whenIdle().then(() => (idle = true)), new Promise((r) => setTimeout(r, 10_000))]);
    assert.ok(idle, 'the tree is idle within 10 s of the settings change');
  });

  it('the HA sync node is recomputed after every look, not only on a full Refresh', async () => {
    await lab.reset();
    await api.clusterTree.refresh();
    assert.match((await clusterRows(api)).find((r) => r.node.kind === 'sync')!.description, /^in step fw-a → fw-b$/);
    lab.strand({ mails: 6 });
    await api.clusterTree.refreshUnit('lab/fw-b');
    const row = await waitFor('the sync node to count the 6 mails only on fw-b', async () => {
      const r = (await clusterRows(api)).find((x) => x.node.kind === 'sync')!;
      return / · 6 only on fw-b$/.test(r.description) ? r : undefined;
    });
    assert.match(shownMarkdown(row.tooltip), /only on fw-b: 6/);
  });

  it('"Copy to Primary Input…" reports the mail it copied (not "0 inserted … incomplete skipped")', async () => {
    await lab.reset();
    lab.strand({ mails: 2, orphans: 1 });
    const cluster = api.services.cluster('lab')!;
    const listing = await listFolder(api.services.pool.get(cluster.secondary), cluster, 'spool');
    const node = { kind: 'mail', cluster, unit: cluster.secondary, folder: 'spool', mail: listing.mails.find((m) => m.complete)! };
    const report = await api.actions.copyToPrimary(node, [node], { yes: true });
    assert.strictEqual(report?.outcome, 'done', JSON.stringify(report?.errors));
    assert.strictEqual(report.verified, 1);
    const text = outcomeText(report, 'copy', { primary: 'fw-a', secondary: 'fw-b' });
    assert.match(text, /copied 1 mail\(s\) into fw-a's input\//);
    assert.doesNotMatch(text, /incomplete|0 inserted/);
    const input = await listFolder(api.services.pool.get(cluster.primary), cluster, 'input');
    assert.deepStrictEqual(input.mails.map((m) => m.id), [node.mail.id]);
  });

  it('"Send SIGUSR2" on the standby reports its error on every try', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await api.actions.signalGateway('lab/fw-b');
      assert.match(r?.error ?? '', /lab\/fw-b: the gateway process box1_mailgw is not running on this unit, so nothing was signalled/);
    }
  });

  it('mail that just arrived on the active unit with an old mtime (a recovery keeps mtimes) is not reported as not mirrored, nor again after a settings edit', async () => {
    await lab.reset();
    lab.pauseDelivery('primary');
    await api.clusterTree.refresh();
    const warningsBefore = api.clusterTree.syncHealth.warnings;
    const old = new Date(Date.now() - 20 * 60_000);
    lab.putMail('primary', 'spool', { mtime: old });
    lab.putMail('primary', 'spool', { mtime: old });
    await api.clusterTree.refresh();
    const h = api.clusterTree.syncHealth.get('lab');
    assert.strictEqual(h?.state, 'ok', JSON.stringify(h));
    assert.deepStrictEqual(h.lagging, [], 'first seen just now: within the sync interval');
    const cfg = vscode.workspace.getConfiguration('mailgwHa');
    await cfg.update('syncIntervalSeconds', 1, vscode.ConfigurationTarget.Workspace);
    await cfg.update('syncLagWarningSeconds', 1, vscode.ConfigurationTarget.Workspace);
    try {
      // Lagging for real now (not mirrored for over a second): warned once, not after every edit.
      const lagging = await waitFor('the two mails to lag (counted from when they were first seen)', async () => {
        await api.clusterTree.refresh();
        const x = api.clusterTree.syncHealth.get('lab');
        return x?.state === 'lagging' ? x : undefined;
      });
      assert.strictEqual(lagging.lagging.length, 2);
      assert.ok(lagging.oldestLagMs! < 60_000, `age from first seen, not mtime: ${lagging.oldestLagMs} ms`);
      assert.strictEqual(api.clusterTree.syncHealth.warnings, warningsBefore + 1);
      await cfg.update('syncTransactionLog', '/nonexistent/sync.tlog', vscode.ConfigurationTarget.Workspace);
      await api.clusterTree.refresh();
      assert.strictEqual(api.clusterTree.syncHealth.get('lab')?.state, 'lagging');
      assert.strictEqual(api.clusterTree.syncHealth.warnings, warningsBefore + 1, 'no second warning for the same mails');
    } finally {
      await cfg.update('syncIntervalSeconds', undefined, vscode.ConfigurationTarget.Workspace);
      await cfg.update('syncLagWarningSeconds', undefined, vscode.ConfigurationTarget.Workspace);
      await cfg.update('syncTransactionLog', undefined, vscode.ConfigurationTarget.Workspace);
      lab.resumeDelivery('primary');
    }
  });
});
