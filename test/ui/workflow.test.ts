// The main workflow, end to end in a real workbench (code-server + Chromium) against the lab:
// stranded mail in the tree → Recover Stranded Mail (modal plan) → the Gateway Log panel shows the
// inserted ids → the tree shows the secondary emptied. Asserts the DOM at each step and saves
// screenshots (.test-output/screenshots/workflow-*.png; `npm run screenshots` copies them to docs/).
import * as assert from 'assert';
import type { Page } from 'playwright-core';
import { Lab, StrandManifest } from '../lab/lab';
import { waitFor } from '../lab/wait';
import { openClustersView, openWorkbench, uiLabOptions, Workbench } from './workbench';

async function command(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 30_000 });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title.replace(/^.*: /, '') }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
}

async function clearToasts(page: Page): Promise<void> {
  await command(page, 'Notifications: Clear All Notifications');
  await page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
}

describe('UI: the main workflow — stranded mail → recovery → inserted ids (code-server + Chromium)', () => {
  let wb: Workbench | undefined;
  let lab: Lab;
  let manifest: StrandManifest;
  before(async function () {
    this.timeout(180_000);
    lab = new Lab(uiLabOptions('workflow'));
    await lab.up();
    manifest = lab.strand({ mails: 10, vscan: 2, duplicates: 2, orphans: 1 });
    lab.pauseDelivery('primary'); // the duplicates stay visible on the primary while the plan is made
    wb = await openWorkbench({ workspace: lab.workspacePath, userSettings: { 'git.openRepositoryInParentFolders': 'never', 'git.enabled': false } });
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
    await command(page, 'Mail Gateway HA: Watch Log in Panel');
    await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'fw-a' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.quick-input-widget input').fill('fw-a');
    await page.keyboard.press('Enter');
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await frame.locator('.row').filter({ hasText: 'SERVICE gateway started' }).first().waitFor({ timeout: 60_000 });

    // Step 3: the recovery shows its plan in a modal first: 10 + 2 stranded, 2 already on the primary.
    lab.resumeDelivery('primary');
    await command(page, 'Mail Gateway HA: Recover Stranded Mail…');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60_000 });
    assert.match((await dialog.textContent()) ?? '', /Recover 10 mail\(s\) from lab\/fw-b to lab\/fw-a\?/);
    await wb!.screenshot('workflow-2-plan');
    await dialog.locator('.monaco-button').filter({ hasText: 'Recover 10 Mails' }).click();

    // Step 4: done; the summary names what happened; the panel marks each inserted id.
    const moved = [...manifest.secondarySpool.filter((id) => !manifest.duplicates.includes(id)), ...manifest.secondaryVscan];
    assert.strictEqual(moved.length, 10);
    await page.locator('.notifications-toasts').filter({ hasText: /lab: done: 10 inserted, 10 removed from fw-b, 2 duplicate\(s\) and 1 incomplete skipped/ }).first().waitFor({ timeout: 120_000 });
    await frame.locator('button.id.inserted').nth(9).waitFor({ timeout: 30_000 });
    const insertedIds = await frame.locator('button.id.inserted').allTextContents();
    assert.strictEqual(new Set(insertedIds).size, 10);
    // Left on fw-b: only the incomplete pair; the 2 duplicates (their Message-IDs on the primary) were removed.
    await rows.filter({ hasText: /spool\s*0 mails \+ 1 incomplete/ }).first().waitFor({ timeout: 30_000 });
    await wb!.screenshot('workflow-3-recovered');

    // Exactly once, as the simulators delivered it.
    const all = Object.values(manifest.messageIds);
    await waitFor('all delivered', () => (all.every((m) => lab.deliveries().byMessageId[m] >= 1) ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    const d = lab.deliveries();
    assert.deepStrictEqual(all.filter((m) => d.byMessageId[m] !== 1), []);
  });
});
