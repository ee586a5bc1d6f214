// The packaged extension's Gateway Log panel in a real workbench, seen through the browser: "Watch
// Log in Panel" from the command palette, mail put into input/ and SIGUSR2 on the lab, the inserted
// ids highlighted and counted in the webview. Leaves .test-output/screenshots/log-panel-inserted.png.
import * as assert from 'assert';
import * as fs from 'fs';
import { Lab } from '../lab/lab';
import { openClustersView, runCommand, openWorkbench, uiLabOptions, Workbench } from './workbench';

describe('UI: Gateway Log panel with inserted mail (code-server + Chromium)', () => {
  let wb: Workbench | undefined;
  let lab: Lab;
  before(async function () {
    this.timeout(180_000);
    lab = new Lab(uiLabOptions('log'));
    await lab.up();
    wb = await openWorkbench({ workspace: lab.workspacePath });
  });
  after(async () => {
    await wb?.close();
    await lab?.down();
  });

  it('highlights and counts the inserted ids; screenshot', async () => {
    const page = wb!.page;
    // Opening the Clusters view activates the extension (as a user would see it first).
    await openClustersView(page);
    await page.locator('.part.sidebar .monaco-list-row').filter({ hasText: 'fw-a' }).first().waitFor({ timeout: 60_000 });
    await runCommand(page, 'Mail Gateway HA: Watch Log in Panel');
    const input = page.locator('.quick-input-widget input');
    // The unit pick: fw-a (primary).
    await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'fw-a' }).first().waitFor({ timeout: 30_000 });
    await input.fill('fw-a');
    await page.keyboard.press('Enter');

    const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await frame.locator('#rows').waitFor({ timeout: 60_000 });
    await frame.locator('.sources .source').filter({ hasText: 'lab/fw-a' }).waitFor({ timeout: 30_000 });
    // Let the follower reach the end of the log before the mail goes in.
    await frame.locator('.row').filter({ hasText: 'SERVICE gateway started' }).first().waitFor({ timeout: 30_000 });
    // Held in spool/ so the log stops at the insertions: the panel is compared with the log below.
    lab.pauseDelivery('primary');
    const mails = [lab.putMail('primary', 'input'), lab.putMail('primary', 'input'), lab.putMail('primary', 'input')];
    const r = await lab.exec('primary', ['pkill', '-USR2', '-x', lab.processName]);
    assert.strictEqual(r.code, 0, r.stderr);
    for (const m of mails) await frame.locator('button.id.inserted', { hasText: m.id }).waitFor({ timeout: 15_000 });
    assert.strictEqual((await frame.locator('#counter').textContent())?.trim(), '3 inserted');
    // Every line of the log exactly once, in order.
    assert.deepStrictEqual(await frame.locator('.row .text').allTextContents(), lab.logLines('primary'));
    // Ids are real buttons: reachable with the keyboard.
    assert.strictEqual(await frame.locator('button.id.inserted').first().evaluate((b) => (b as HTMLButtonElement).tabIndex), 0);
    // Paused: new lines are collected and counted on the Follow button, shown on Follow.
    await frame.locator('#pause').click();
    await frame.locator('#pause').filter({ hasText: /^Follow$/ }).waitFor({ timeout: 10_000 });
    const late = lab.putMail('primary', 'input');
    await lab.exec('primary', ['pkill', '-USR2', '-x', lab.processName]);
    await frame.locator('#pause').filter({ hasText: /^Follow \(\d+ new while paused\)$/ }).waitFor({ timeout: 15_000 });
    assert.strictEqual(await frame.locator('button.id.inserted', { hasText: late.id }).count(), 0, 'not shown while paused');
    await frame.locator('#pause').click();
    await frame.locator('button.id.inserted', { hasText: late.id }).waitFor({ timeout: 15_000 });
    assert.strictEqual((await frame.locator('#pause').textContent())?.trim(), 'Pause');
    // Unrelated toasts (git, ...) would cover the panel in the screenshot.
    await runCommand(page, 'Notifications: Clear All Notifications');
    await page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
    const shot = await wb!.screenshot('log-panel-inserted');
    assert.ok(fs.statSync(shot).size > 20_000, `screenshot written: ${shot}`);
  });
});
