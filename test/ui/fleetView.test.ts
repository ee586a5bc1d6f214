// The packaged extension against the lab's fleet of 20 HA pairs, seen through the browser: the Fleet
// view lists every pair, the ones that need the admin first (a pair with a dead unit, one with stuck
// mail, the ones with stranded mail), then the healthy ones; a taken-over pair names its secondary as
// active. Leaves a screenshot in .test-output/screenshots/fleet-view.png.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Fleet } from '../lab/fleet';
import { HOST_LAB_DIR } from '../host/hostLab';
import { openClustersView, openWorkbench, Workbench } from './workbench';

const PAIRS = 20;

describe('UI: Fleet view with 20 HA pairs (code-server + Chromium)', () => {
  let wb: Workbench | undefined;
  let fleet: Fleet;
  before(async function () {
    this.timeout(600_000);
    fleet = new Fleet({ stateDir: `${HOST_LAB_DIR}-ui-fleet`, pairs: PAIRS, firstAddress: 160 });
    await fleet.up({ concurrency: 4 });
    fleet.labs[2].strand({ mails: 7 });
    fleet.labs[11].strand({ mails: 3, vscan: 1 });
    await fleet.labs[5].takeover();
    await fleet.labs[8].stopUnit('secondary');
    fleet.labs[14].pauseDelivery('primary');
    fleet.labs[14].putMail('primary', 'spool', { mtime: new Date(Date.now() - 3 * 3600_000) });
    const workspace = path.join(fleet.stateDir, 'workspace');
    fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
    const { 'mailgwHa.knownHostsFile': knownHostsFile, ...workspaceSettings } = fleet.settings();
    fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify(workspaceSettings, null, 2));
    wb = await openWorkbench({ workspace, userSettings: { 'git.openRepositoryInParentFolders': 'never', 'mailgwHa.knownHostsFile': knownHostsFile, 'mailgwHa.unitTimeoutSeconds': 15 } });
  });
  after(async () => {
    await wb?.close();
    await fleet?.down();
  });

  it('lists every pair, most urgent first, with active unit, stranded and stuck mail and the dead unit; screenshot', async () => {
    const page = wb!.page;
    await openClustersView(page);
    // Two views in the container: give the Fleet view the side bar by collapsing Clusters.
    const clustersHeader = page.locator('.part.sidebar .pane-header').filter({ hasText: /^Clusters/i }).first();
    await clustersHeader.waitFor({ timeout: 60_000 });
    if ((await clustersHeader.getAttribute('aria-expanded')) === 'true') await clustersHeader.click();
    const fleetPane = page.locator('.part.sidebar .pane').filter({ has: page.locator('.pane-header', { hasText: /^Fleet/i }) }).first();
    const fleetHeader = fleetPane.locator('.pane-header').first();
    await fleetHeader.waitFor({ timeout: 30_000 });
    if ((await fleetHeader.getAttribute('aria-expanded')) !== 'true') await fleetHeader.click();
    // The view's message once every unit has answered (or timed out).
    const message = fleetPane.locator('.message, .view-message, .tree-explorer-viewlet-tree-view-message').filter({ hasText: /clusters ·/ }).first();
    await message.waitFor({ timeout: 120_000 });
    const text = (await message.textContent()) ?? '';
    assert.match(text, new RegExp(`^${PAIRS} clusters · 4 need attention · looked at in [\\d.]+ s$`), text);

    const rows = fleetPane.locator('.monaco-list-row');
    // The rows re-render once the whole fleet has answered: none still "looking…", the first ranked.
    await page
      .waitForFunction(
        () => {
          const shown = Array.from(document.querySelectorAll('.part.sidebar .pane .monaco-list-row')).map((r) => r.textContent ?? '').filter((t) => /^pair-\d\d/.test(t));
          return shown.length >= 10 && !shown.some((t) => t.includes('looking…')) && shown[0].startsWith('pair-09');
        },
        undefined,
        { timeout: 30_000 },
      )
      .catch(async () => assert.fail(`fleet rows did not settle: ${(await rows.evaluateAll((els) => els.map((e) => e.textContent ?? ''))).slice(0, 6).join(' | ')}`));
    const labels = await rows.evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    // Most urgent first: the unreachable unit, then the stuck mail, then stranded mail, then the healthy ones by name.
    assert.match(labels[0], /^pair-09.*fw-b unreachable/, labels.slice(0, 5).join(' | '));
    assert.match(labels[1], /^pair-15.*1 stuck on fw-a \(oldest 3 h\)/, labels[1]);
    // The two pairs with stranded mail next (their order depends on how old the stranded mail is).
    const stranded = labels.slice(2, 4).sort();
    assert.match(stranded[0], /^pair-03.*fw-a active · 7 stranded/, stranded[0]);
    assert.match(stranded[1], /^pair-12.*fw-a active · 4 stranded/, stranded[1]);
    assert.match(labels[4], /^pair-01.*fw-a active · ok/, labels[4]);
    const takenOver = rows.filter({ hasText: /^pair-06/ });
    await takenOver.first().waitFor({ timeout: 10_000 }).catch(() => undefined);
    if (await takenOver.count()) assert.match((await takenOver.first().textContent()) ?? '', /fw-b active/);
    // A wider side bar, so the screenshot shows the descriptions.
    const bar = await page.locator('.part.sidebar').boundingBox();
    if (bar) {
      await page.mouse.move(bar.x + bar.width + 1, bar.y + 300);
      await page.mouse.down();
      await page.mouse.move(bar.x + 760, bar.y + 300, { steps: 5 });
      await page.mouse.up();
    }
    // Open the dead unit's pair: its units and the error.
    await rows.first().click();
    await page.keyboard.press('ArrowRight');
    await fleetPane.locator('.monaco-list-row').filter({ hasText: /fw-b \(secondary\)\s*unreachable: / }).first().waitFor({ timeout: 10_000 });
    const shot = await wb!.screenshot('fleet-view');
    assert.ok(fs.statSync(shot).size > 20_000, `screenshot written: ${shot}`);
  });
});
