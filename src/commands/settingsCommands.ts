// Commands that create or open the cluster settings.
import * as vscode from 'vscode';
import { SECTION } from '../settings';
import type { Services } from '../services';
import { addCluster } from './addCluster';

export function registerSettingsCommands(services: Services): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('mailgwHa.openSettings', () =>
      vscode.commands.executeCommand('workbench.action.openWorkspaceSettings', { query: `@ext:mailgw-ha.mailgw-ha ${SECTION}` }),
    ),
    vscode.commands.registerCommand('mailgwHa.addCluster', () => addCluster(services)),
    // The README shipped in the package (its "Configure a cluster" section), rendered.
    vscode.commands.registerCommand('mailgwHa.openReadme', () => {
      const ext = vscode.extensions.getExtension('mailgw-ha.mailgw-ha');
      return ext ? vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.joinPath(ext.extensionUri, 'README.md')) : undefined;
    }),
  ];
}
