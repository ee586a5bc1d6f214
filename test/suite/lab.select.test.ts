// Multi-select and folder actions, duplicates and incomplete mails marked in the tree, and what is
// left after a recovery split into recoverable / duplicates / incomplete / held with the next step.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { RecoveryReport } from '../../src/core/recovery/runContract';
import { listFolder } from '../../src/core/spool/list';
import { makeMail, writeMail } from '../lab/mail';
import type { MailgwHaTestApi } from '../../src/extension';
import type { ClusterTreeNode } from '../../src/views/clusterTreeNodes';
import { activateExtension, waitFor } from './helpers';
import { hostLab } from './labHelpers';

type Row = Awaited<ReturnType<MailgwHaTestApi['clusterTree']['describeChildren']>>[number];
async function rows(api: MailgwHaTestApi, node?: ClusterTreeNode): Promise<Row[]> {
  return api.clusterTree.describeChildren(node);
}
async function folderRow(api: MailgwHaTestApi, unit: string, folder: string): Promise<Row> {
  const [cluster] = (await rows(api)).filter((r) => r.node.kind === 'cluster');
  const u = (await rows(api, cluster.node)).find((r) => r.node.kind === 'unit' && r.label === unit)!;
  const f = (await rows(api, u.node)).find((r) => r.label === folder);
  assert.ok(f, `${unit}/${folder} in the tree`);
  return f;
}

describe('lab: selection, folder actions and what is left', function () {
  this.timeout(120_000);
  let api: MailgwHaTestApi;
  const lab = hostLab();

  before(async () => {
    api = await activateExtension();
  });
  beforeEach(() => lab.reset());

  it('marks duplicates (same gateway id and sizes on the active unit) and incomplete mails, and splits the badge with the next step', async () => {
    lab.pauseDelivery('primary'); // the duplicates stay on the primary
    const m = lab.strand({ mails: 5, duplicates: 2, orphans: 1 });
    await api.clusterTree.refresh();
    const cluster = api.services.cluster('lab')!;
    const split = await waitFor('the duplicates to be marked', () => {
      const s = api.clusterTree.leftoverSplit(cluster.secondary);
      return s.duplicates === 2 ? s : undefined;
    });
    assert.deepStrictEqual(split, { recoverable: 3, duplicates: 2, incomplete: 1 });
    const mails = await rows(api, (await folderRow(api, 'fw-b', 'spool')).node);
    assert.deepStrictEqual(mails.filter((r) => r.contextValue === 'mail.duplicate').map((r) => r.label).sort(), [...m.duplicates].sort());
    for (const d of mails.filter((r) => r.contextValue === 'mail.duplicate')) assert.match(d.description, /^duplicate \(on fw-a spool\/\d{5}-\d{5}-\d{5}\)/);
    assert.strictEqual(mails.filter((r) => r.contextValue === 'mail.incomplete').length, 1);
    const badge = api.clusterTree.viewState.badge;
    assert.strictEqual(badge?.value, 6);
    assert.match(badge.tooltip, /lab\/fw-b: 6 — 3 recoverable, 2 duplicates, 1 incomplete \(check by hand\); next: run the recovery/);
  });

  it('after a recovery the report and the badge say what became of each mail and the next step (not "run the recovery")', async () => {
    lab.pauseDelivery('primary');
    const m = lab.strand({ mails: 4, duplicates: 2, orphans: 1 });
    // A mail without a Message-ID is judged by its gateway id like any other: absent on the primary, it moves.
    const noMid = makeMail({ n: 1, tag: `nomid${Date.now().toString(36)}`, size: 3000 });
    noMid.body = Buffer.from(noMid.body.toString('latin1').replace(/^Message-ID: .*\r\n/m, ''), 'latin1');
    writeMail(lab.hostPath('secondary', 'spool'), noMid, 'both', new Date(Date.now() - 60_000));
    // Another mail under the same gateway id on the primary: nothing tells which is which, so held.
    const clash = makeMail({ n: 2, tag: `clash${Date.now().toString(36)}`, size: 3000 });
    writeMail(lab.hostPath('secondary', 'spool'), clash, 'both', new Date(Date.now() - 60_000));
    writeMail(lab.hostPath('primary', 'spool'), makeMail({ n: 3, tag: `clash2${Date.now().toString(36)}`, size: 3000, id: clash.id }), 'both', new Date());
    const cluster = api.services.cluster('lab')!;
    const report = await api.actions.recover({ kind: 'cluster', cluster }, { yes: true });
    assert.strictEqual(report?.outcome, 'done', JSON.stringify(report?.errors));
    // The proved duplicates are removed from the standby (no later takeover delivers them twice); the held mail stays.
    assert.deepStrictEqual(report.duplicatesRemoved?.map((d) => d.id).sort(), [...m.duplicates].sort());
    assert.strictEqual(report.heldForDecision, 1);
    assert.ok(report.plan!.move.includes(noMid.id), 'the mail without a Message-ID is moved');
    // The readable report beside the JSON one: every mail with its outcome, the proof for skipped ones.
    const readable = (report as RecoveryReport & { readableReportFile?: string }).readableReportFile;
    assert.ok(readable && fs.existsSync(readable), 'a markdown report');
    const text = fs.readFileSync(readable, 'utf8');
    for (const id of report.plan!.move) assert.match(text, new RegExp(`\\| ${id.replace(/-/g, '\\\\-')} \\| inserted \\|`));
    assert.strictEqual((text.match(/\| duplicate: removed from fw\\-b \| proved again right before\\: /g) ?? []).length, 2);
    assert.strictEqual((text.match(/\| skipped: incomplete — check by hand \|/g) ?? []).length, 1);
    assert.strictEqual((text.match(/\| held for a decision — Held Mails… \|/g) ?? []).length, 1);
    assert.match(text, /plan dialog waiting for you, not counted/);
    assert.match(text, /- Journal: /);
    // F11: the reports and their folder are private to the user.
    assert.strictEqual((fs.statSync(readable).mode & 0o777).toString(8), '600', 'the readable report is 0600');
    assert.strictEqual((fs.statSync(report.reportFile!).mode & 0o777).toString(8), '600', 'the JSON report is 0600');
    assert.strictEqual((fs.statSync(path.dirname(readable)).mode & 0o777).toString(8), '700', 'their folder is 0700');
    await api.clusterTree.refresh();
    const split = await waitFor('what is left to be split', () => {
      const s = api.clusterTree.leftoverSplit(cluster.secondary);
      return s.incomplete === 1 && s.held === 1 ? s : undefined;
    });
    assert.deepStrictEqual(split, { recoverable: 0, duplicates: 0, incomplete: 1, held: 1 });
    const mails = await rows(api, (await folderRow(api, 'fw-b', 'spool')).node);
    assert.deepStrictEqual(mails.filter((r) => r.contextValue === 'mail.held').map((r) => r.label), [clash.id]);
    assert.match(mails.find((r) => r.contextValue === 'mail.held')!.description, /^held for a decision · /);
    const badge = api.clusterTree.viewState.badge;
    assert.strictEqual(badge?.value, 2, 'what is left is still signalled');
    assert.match(badge.tooltip, /lab\/fw-b: 2 — 1 incomplete \(check by hand\), 1 held for a decision; next: decide on the held mails \(Held Mails…\)/);
    assert.doesNotMatch(badge.tooltip, /run the recovery/);
  });

  it('a folder action copies the folder\'s complete mails to the primary\'s input/', async () => {
    const m = lab.strand({ mails: 1, vscan: 2 });
    const cluster = api.services.cluster('lab')!;
    await api.clusterTree.refresh();
    const folder = (await folderRow(api, 'fw-b', 'vscan')).node;
    assert.strictEqual((await folderRow(api, 'fw-b', 'vscan')).contextValue, 'folder.vscan.secondary');
    const report = await api.actions.copyToPrimary(folder, [folder], { yes: true });
    assert.strictEqual(report?.outcome, 'done', JSON.stringify(report?.errors));
    assert.strictEqual(report.verified, 2);
    const input = await listFolder(api.services.pool.get(cluster.primary), cluster, 'input');
    assert.deepStrictEqual(input.mails.map((x) => x.id).sort(), [...m.secondaryVscan].sort());
  });

  it('Recover Stranded Mail… on a folder of the secondary recovers that folder only', async () => {
    const m = lab.strand({ mails: 2, vscan: 2 });
    const cluster = api.services.cluster('lab')!;
    await api.clusterTree.refresh();
    const folder = (await folderRow(api, 'fw-b', 'vscan')).node;
    const report = await api.actions.recover(folder, { yes: true });
    assert.strictEqual(report?.outcome, 'done', JSON.stringify(report?.errors));
    assert.deepStrictEqual([...report.plan!.move].sort(), [...m.secondaryVscan].sort());
    assert.strictEqual(report.inserted, 2);
    const left = await listFolder(api.services.pool.get(cluster.secondary), cluster, 'spool');
    assert.deepStrictEqual(left.mails.map((x) => x.id).sort(), [...m.secondarySpool].sort(), 'the spool/ folder was not touched');
  });

  it('a selection of several mails is copied in one run', async () => {
    lab.strand({ mails: 3 });
    const cluster = api.services.cluster('lab')!;
    await api.clusterTree.refresh();
    const picked = (await rows(api, (await folderRow(api, 'fw-b', 'spool')).node)).filter((r) => r.contextValue === 'mail').map((r) => r.node);
    assert.strictEqual(picked.length, 3);
    const report = await api.actions.copyToPrimary(picked[0], picked, { yes: true });
    assert.strictEqual(report?.verified, 3, JSON.stringify(report?.errors));
    const input = await listFolder(api.services.pool.get(cluster.primary), cluster, 'input');
    assert.strictEqual(input.mails.length, 3);
  });
});
