// Workspace trust honoured: in an untrusted workspace the clusters it configures are not used.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openClustersView, openWorkbench, Workbench } from './workbench';

describe('UI: Clusters view in an untrusted workspace (code-server + Chromium)', () => {
  let wb: Workbench;
  before(async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-ha-ui-untrusted-'));
    fs.mkdirSync(path.join(workspace, '.vscode'));
    // A foreign workspace pointing the extension at some host: it must not be used.
    fs.writeFileSync(
      path.join(workspace, '.vscode', 'settings.json'),
      JSON.stringify({ 'mailgwHa.clusters': [{ name: 'foreign', server: 'box1', service: 'mailgw', units: [{ name: 'a', role: 'primary', host: '127.0.0.9' }, { name: 'b', role: 'secondary', host: '127.0.0.10' }] }] }),
    );
    wb = await openWorkbench({ workspace, workspaceTrust: true });
  });
  after(async () => wb?.close());

  it('shows the untrusted notice instead of the workspace clusters, and no Add Cluster action', async () => {
    await openClustersView(wb.page);
    await wb.page.locator('.welcome-view-content').filter({ hasText: 'This workspace is not trusted' }).waitFor({ timeout: 30_000 });
    assert.strictEqual(await wb.page.locator('.part.sidebar .monaco-list-row').filter({ hasText: 'foreign' }).count(), 0, 'the foreign cluster is not shown');
    assert.strictEqual(await wb.page.locator('.part.sidebar .title-actions a[aria-label^="Add Cluster"]').count(), 0, 'no Add Cluster action');
    await wb.screenshot('clusters-untrusted');
  });
});
