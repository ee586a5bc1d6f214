// The packaged extension (a .vsix install: VS Code's production mode, no test hooks) in a real
// workbench: a spoofed unit answers Test Connection with a pre-auth disconnect that holds the
// security review's command link; the notification's DOM shows its words and holds no link.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { labAddress } from '../lab/lab';
import { COMMAND_LINK } from '../hostile/corpus';
import { FakeSshServer, startFakeSshServer } from '../hostile/fakeSshServer';
import { runCommand, openClustersView, openWorkbench, Workbench } from './workbench';


describe('UI: a spoofed unit\'s disconnect text in a notification (packaged extension, code-server + Chromium)', () => {
  let wb: Workbench | undefined;
  let fake: FakeSshServer;
  before(async function () {
    this.timeout(180_000);
    fake = await startFakeSshServer(labAddress(33), `${COMMAND_LINK} \u001b[2J $(check) done`);
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-ha-ui-hostile-'));
    fs.mkdirSync(path.join(workspace, '.vscode'));
    const units = [
      { name: 'fw-x', role: 'primary', host: fake.host, port: fake.port },
      { name: 'fw-y', role: 'secondary', host: labAddress(34), port: fake.port },
    ];
    fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'mailgwHa.clusters': [{ name: 'spoofed', server: 'box1', service: 'mailgw', units }] }));
    // A key bound to a test-only command: the packaged extension must not have it.
    wb = await openWorkbench({ workspace, userSettings: { 'git.enabled': false }, keybindings: [{ key: 'ctrl+alt+shift+f9', command: 'mailgwHa.logDebugState' }] });
  });
  after(async () => {
    await wb?.close();
    await fake?.close();
  });

  it('shows the words as plain text: no <a> in the message, no icon, the link syntax broken', async () => {
    const page = wb!.page;
    await openClustersView(page); // activates the extension: Test Connection is offered once a cluster is configured
    await page.locator('.part.sidebar .monaco-list-row').filter({ hasText: 'spoofed' }).first().waitFor({ timeout: 60_000 });
    await runCommand(page, 'Mail Gateway HA: Test Connection');
    await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'fw-x' }).first().click();
    const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'Update trusted host key' }).first();
    await toast.waitFor({ timeout: 60_000 });
    const message = toast.locator('.notification-list-item-message');
    const text = (await message.innerText()).trim();
    assert.strictEqual(await message.locator('a').count(), 0, `a link in the notification: ${await message.innerHTML()}`);
    assert.ok(text.includes('[Update trusted host key] (command:'), text);
    assert.strictEqual(await message.locator('.codicon').count(), 0, 'no icon drawn from $(check)');
    assert.ok(fake.connections >= 1, 'the spoofed unit was asked');
    await wb!.screenshot('hostile-notification');
  });

  it('registers no test-only command in the product: mailgwHa.logDebugState is "not found"', async () => {
    const page = wb!.page;
    await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => undefined);
    await page.keyboard.press('Control+Alt+Shift+F9');
    await page.locator('.notifications-toasts .notification-toast').filter({ hasText: "command 'mailgwHa.logDebugState' not found" }).first().waitFor({ timeout: 30_000 });
  });
});
