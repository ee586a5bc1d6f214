// The main workflow, end to end in a real workbench (code-server + Chromium) against the lab:
// stranded mail in the tree → Recover Stranded Mail (modal plan) → the Gateway Log panel shows the
// inserted ids → the tree shows the secondary emptied. Asserts the DOM at each step and saves
// screenshots (.test-output/screenshots/workflow-*.png; `npm run screenshots` copies them to docs/).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { Lab, StrandManifest } from '../lab/lab';
import { waitFor } from '../lab/wait';
import { runCommand, contrastRatio, openClustersView, openWorkbench, uiLabOptions, Workbench } from './workbench';


async function clearToasts(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
  await page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
}

describe('UI: the main workflow — stranded mail → recovery → inserted ids (code-server + Chromium)', () => {
  let wb: Workbench | undefined;
  let lab: Lab;
  let manifest: StrandManifest;
  const auditFile = () => path.join(lab.stateDir, 'audit.jsonl');
  before(async function () {
    this.timeout(180_000);
    lab = new Lab(uiLabOptions('workflow'));
    await lab.up();
    manifest = lab.strand({ mails: 10, vscan: 2, duplicates: 2, orphans: 1 });
    lab.pauseDelivery('primary'); // the duplicates stay visible on the primary while the plan is made
    fs.rmSync(auditFile(), { force: true });
    wb = await openWorkbench({ workspace: lab.workspacePath, userSettings: { 'git.openRepositoryInParentFolders': 'never', 'git.enabled': false, 'mailgwHa.auditLogFile': auditFile() } });
  });
  after(async () => {
    await wb?.close();
    await lab?.down();
  });

  it('shows the stranded mail, recovers it exactly once, and shows the insertions in the log panel', async function () {
    this.timeout(240_000);
    const page = wb!.page;
    const rows = page.locator('.part.sidebar .monaco-list-row');
    await openClustersView(page);
    // Step 1: the tree shows the stranded mail on the standby unit.
    await rows.filter({ hasText: 'fw-a' }).filter({ hasText: /active/ }).first().waitFor({ timeout: 60_000 });
    await rows.filter({ hasText: 'fw-b' }).filter({ hasText: 'standby' }).first().waitFor({ timeout: 30_000 });
    await rows.filter({ hasText: /spool\s*10 mails \+ 1 incomplete/ }).first().waitFor({ timeout: 30_000 });
    await rows.filter({ hasText: /vscan\s*2 mails/ }).first().waitFor({ timeout: 30_000 });
    await clearToasts(page);
    await wb!.screenshot('workflow-1-stranded');

    // Step 2: the log panel follows the primary's log.
    await runCommand(page, 'Mail Gateway HA: Watch Log in Panel');
    await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'fw-a' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.quick-input-widget input').fill('fw-a');
    await page.keyboard.press('Enter');
    // The log panel's webview (the report's markdown preview is another one, later).
    const frame = page.frameLocator('iframe.webview.ready[src*="extensionId=mailgw-ha.mailgw-ha"]').frameLocator('#active-frame');
    await frame.locator('.row').filter({ hasText: 'SERVICE gateway started' }).first().waitFor({ timeout: 60_000 });

    // Step 3: the recovery shows its plan in a modal first: 10 + 2 stranded, 2 already on the primary.
    lab.resumeDelivery('primary');
    await runCommand(page, 'Mail Gateway HA: Recover Stranded Mail…');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60_000 });
    assert.match((await dialog.textContent()) ?? '', /Recover 10 mail\(s\) from lab\/fw-b to lab\/fw-a\?/);
    await wb!.screenshot('workflow-2-plan');
    await dialog.locator('.monaco-button').filter({ hasText: 'Recover 10 Mails' }).click();

    // Step 4: done; the summary names what happened; the panel marks each inserted id.
    const moved = [...manifest.secondarySpool.filter((id) => !manifest.duplicates.includes(id)), ...manifest.secondaryVscan];
    assert.strictEqual(moved.length, 10);
    const summary = page.locator('.notifications-toasts .notification-toast').filter({ hasText: /lab: done: 10 inserted, 10 removed from fw-b, 2 proved duplicate\(s\) removed from fw-b, 1 incomplete skipped \(check by hand\)\. Left on fw-b: 1 incomplete \(check by hand\); next: open the incomplete pairs and decide by hand/ }).first();
    await summary.waitFor({ timeout: 120_000 });
    await frame.locator('button.id.inserted').nth(9).waitFor({ timeout: 30_000 });
    const insertedIds = await frame.locator('button.id.inserted').allTextContents();
    assert.strictEqual(new Set(insertedIds).size, 10);
    // Left on fw-b: only the incomplete pair; the 2 duplicates (their Message-IDs on the primary) were removed.
    await rows.filter({ hasText: /spool\s*0 mails \+ 1 incomplete/ }).first().waitFor({ timeout: 30_000 });
    // The tree splits what is left: the unit says it, the mail is marked, the next step is named.
    await rows.filter({ hasText: 'fw-b' }).filter({ hasText: /1 incomplete \(check by hand\)/ }).first().waitFor({ timeout: 30_000 });
    await rows.filter({ hasText: /^spool/ }).filter({ hasText: '0 mails + 1 incomplete' }).first().click();
    await rows.filter({ hasText: 'incomplete (check by hand): no .' }).first().waitFor({ timeout: 30_000 });
    await wb!.screenshot('workflow-3-recovered');

    // The readable report, from the summary; "Show Log" is still offered after it.
    await summary.locator('.monaco-button').filter({ hasText: 'Open Report' }).click();
    const preview = page.frameLocator('iframe.webview.ready[src*="extensionId=vscode.markdown"]').frameLocator('#active-frame');
    await preview.locator('h1').filter({ hasText: 'Recovery report: lab' }).waitFor({ timeout: 60_000 });
    assert.strictEqual(await preview.locator('td').filter({ hasText: /^inserted$/ }).count(), 10);
    assert.strictEqual(await preview.locator('td').filter({ hasText: /^duplicate: removed from fw-b$/ }).count(), 2);
    assert.strictEqual(await preview.locator('td').filter({ hasText: /^skipped: incomplete — check by hand$/ }).count(), 1);
    await page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'lab: done: 10 inserted' }).locator('.monaco-button').filter({ hasText: 'Show Log' }).first().waitFor({ timeout: 30_000 });
    await wb!.screenshot('workflow-4-report');

    // The ✓ chips of the log panel's recovery box pass WCAG AA (4.5:1) in the workbench's theme: their
    // text takes the theme's foreground (no fixed colour), so every theme's own contrast holds.
    const chip = frame.locator('.chip.confirmed').first();
    await chip.waitFor({ timeout: 30_000 });
    const [fg, bg] = await chip.evaluate((el) => {
      let e: Element | null = el;
      let bgc = 'rgba(0, 0, 0, 0)';
      while (e && /rgba\(0, 0, 0, 0\)|transparent/.test(bgc)) {
        bgc = getComputedStyle(e).backgroundColor;
        e = e.parentElement;
      }
      return [getComputedStyle(el).color, bgc];
    });
    const ratio = contrastRatio(fg, bg);
    assert.ok(ratio >= 4.5, `contrast ${ratio.toFixed(2)}:1 (${fg} on ${bg})`);

    // Exactly once per transaction (envelope and content), as the simulators delivered it.
    const all = Object.values(manifest.transactions);
    await waitFor('all delivered', () => (all.every((t) => lab.deliveries().byTransaction[t] >= 1) ? true : undefined), 30_000);
    await lab.waitForQuiet(); // after this no second delivery can come late
    const d = lab.deliveries();
    assert.deepStrictEqual(all.filter((t) => d.byTransaction[t] !== 1), []);
  });

  it('every step of that recovery is in the audit trail, which opens read-only in the editor; screenshot', async function () {
    this.timeout(120_000);
    const page = wb!.page;
    type Rec = { action: string; tool: string; user: string; host: string; unit: string; outcome: string; mails: { id: string; messageId?: string }[] };
    const records = fs.readFileSync(auditFile(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rec);
    const moved = [...manifest.secondarySpool.filter((id) => !manifest.duplicates.includes(id)), ...manifest.secondaryVscan].sort();
    const idsOf = (action: string) => records.filter((r) => r.action === action).flatMap((r) => r.mails.map((m) => m.id)).sort();
    assert.deepStrictEqual(records.map((r) => r.tool).filter((t) => t !== 'extension'), [], 'written by the extension');
    assert.ok(records.every((r) => r.user && r.host), 'who: local user and host');
    assert.deepStrictEqual(records[0].action, 'run-start');
    for (const action of ['place', 'signal', 'confirm', 'remove']) assert.deepStrictEqual(idsOf(action), moved, `${action} names exactly the recovered mails`);
    assert.deepStrictEqual(idsOf('remove-duplicates'), [...manifest.duplicates].sort());
    for (const r of records) for (const m of r.mails) if (manifest.messageIds[m.id]) assert.strictEqual(m.messageId, manifest.messageIds[m.id], `${r.action} names ${m.id} with its Message-ID`);
    assert.deepStrictEqual(records.filter((r) => r.action === 'run-end').map((r) => r.outcome), ['done']);

    await runCommand(page, 'Mail Gateway HA: Open Audit Trail');
    await page.locator('.tabs-container .tab').filter({ hasText: 'audit.jsonl' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.editor-instance .view-lines').filter({ hasText: '"action":"run-start"' }).first().waitFor({ timeout: 30_000 });
    // For the picture: the whole records in view.
    await clearToasts(page);
    await runCommand(page, 'View: Toggle Word Wrap');
    await page.waitForFunction((n) => document.querySelectorAll('.editor-instance .view-lines .view-line').length > n, records.length, { timeout: 30_000 });
    await wb!.screenshot('audit-trail');
  });

  it('Add Cluster is one multi-step input: step counter, Back, defaults from the first unit, review, Test Connection before saving', async function () {
    this.timeout(240_000);
    const page = wb!.page;
    await clearToasts(page);
    await runCommand(page, 'Mail Gateway HA: Add Cluster…');
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('input.input');
    const answer = async (step: number, value: string) => {
      await widget.locator('.quick-input-title').filter({ hasText: `(${step}/14)` }).first().waitFor({ timeout: 30_000 });
      await input.fill(value);
      await page.keyboard.press('Enter');
    };
    await answer(1, 'lab2');
    await answer(2, 'box1');
    // Back returns to the previous step with its answer kept.
    await widget.locator('.quick-input-title').filter({ hasText: '(3/14)' }).first().waitFor({ timeout: 30_000 });
    await widget.locator('.quick-input-back, .codicon-quick-input-back').first().click();
    await widget.locator('.quick-input-title').filter({ hasText: '(2/14)' }).first().waitFor({ timeout: 30_000 });
    assert.strictEqual(await input.inputValue(), 'box1');
    await page.keyboard.press('Enter');
    await answer(3, 'mailgw');
    await answer(4, 'fw-a');
    await answer(5, lab.addresses[0]);
    await answer(6, String(lab.port));
    await answer(7, 'root');
    // Step 8 offers a file picker for the key (the folder button).
    await widget.locator('.quick-input-title').filter({ hasText: '(8/14)' }).first().waitFor({ timeout: 30_000 });
    assert.ok((await widget.locator('.codicon-folder-opened').count()) > 0, 'a key file picker button');
    await answer(8, lab.keyPath);
    await answer(9, 'fw-b');
    await answer(10, lab.addresses[1]);
    // The second unit starts from the first's port, user and key.
    await widget.locator('.quick-input-title').filter({ hasText: '(11/14)' }).first().waitFor({ timeout: 30_000 });
    assert.strictEqual(await input.inputValue(), String(lab.port));
    await page.keyboard.press('Enter');
    await widget.locator('.quick-input-title').filter({ hasText: '(12/14)' }).first().waitFor({ timeout: 30_000 });
    assert.strictEqual(await input.inputValue(), 'root');
    await page.keyboard.press('Enter');
    await widget.locator('.quick-input-title').filter({ hasText: '(13/14)' }).first().waitFor({ timeout: 30_000 });
    assert.strictEqual(await input.inputValue(), lab.keyPath);
    await page.keyboard.press('Enter');
    // The review: what will be written, and Test Connection first.
    await widget.locator('.quick-input-title').filter({ hasText: '(14/14)' }).first().waitFor({ timeout: 30_000 });
    const list = widget.locator('.quick-input-list');
    await list.locator('.monaco-list-row').filter({ hasText: 'Test Connection and Save' }).first().waitFor({ timeout: 30_000 });
    assert.match((await list.textContent()) ?? '', /lab2.*gateway box1_mailgw.*fw-a \(primary\).*fw-b \(secondary\)/s);
    await wb!.screenshot('add-cluster-review');
    await page.keyboard.press('Enter');
    await page.locator('.notifications-toasts').filter({ hasText: 'cluster "lab2" tested and added to the workspace settings' }).first().waitFor({ timeout: 90_000 });
    const settings = JSON.parse(fs.readFileSync(path.join(lab.workspacePath, '.vscode', 'settings.json'), 'utf8')) as { 'mailgwHa.clusters': { name: string; units: { identityFile?: string }[] }[] };
    const added = settings['mailgwHa.clusters'].find((c) => c.name === 'lab2');
    assert.ok(added, 'written to the workspace settings');
    assert.deepStrictEqual(added.units.map((u) => u.identityFile), [lab.keyPath, lab.keyPath]);
  });
});
