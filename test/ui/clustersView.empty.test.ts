// The packaged extension in a real workbench, seen through the browser: the activity-bar icon opens
// the Clusters view, which shows the welcome content when no cluster is configured.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openClustersView, openWorkbench, Workbench } from './workbench';

describe('UI: Clusters view in an empty workspace (code-server + Chromium)', () => {
  let wb: Workbench;
  before(async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-ha-ui-empty-'));
    wb = await openWorkbench({ workspace });
  });
  after(async () => wb?.close());

  it('opens from its activity-bar icon and shows the welcome content with an Add Cluster button', async () => {
    await openClustersView(wb.page);
    const welcome = wb.page.locator('.welcome-view-content').filter({ hasText: 'No mail gateway cluster is configured' });
    await welcome.waitFor({ timeout: 30_000 });
    const button = welcome.locator('a.monaco-button, .monaco-button').filter({ hasText: 'Add Cluster' });
    assert.strictEqual(await button.count(), 1, 'one Add Cluster button');
    const shot = await wb.screenshot('clusters-empty-welcome');
    assert.ok(fs.statSync(shot).size > 10_000, `screenshot written: ${shot}`);
  });
});
