// Commands that create or open the cluster settings.
import * as vscode from 'vscode';
import { SECTION } from '../settings';
import { isValidServicePart } from '../core/names';

export function registerSettingsCommands(): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('mailgwHa.openSettings', () =>
      vscode.commands.executeCommand('workbench.action.openWorkspaceSettings', { query: `@ext:mailgw-ha.mailgw-ha ${SECTION}` }),
    ),
    vscode.commands.registerCommand('mailgwHa.addCluster', addCluster),
    // The README shipped in the package (its "Configure a cluster" section), rendered.
    vscode.commands.registerCommand('mailgwHa.openReadme', () => {
      const ext = vscode.extensions.getExtension('mailgw-ha.mailgw-ha');
      return ext ? vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.joinPath(ext.extensionUri, 'README.md')) : undefined;
    }),
  ];
}

async function ask(prompt: string, placeHolder: string, validate: (v: string) => string | undefined, value?: string): Promise<string | undefined> {
  const answer = await vscode.window.showInputBox({ title: 'Add Mail Gateway Cluster', prompt, placeHolder, value, ignoreFocusOut: true, validateInput: validate });
  return answer?.trim();
}

const required = (what: string) => (v: string) => (v.trim() ? undefined : `${what} is required`);
const servicePart = (what: string) => (v: string) =>
  isValidServicePart(v.trim()) ? undefined : `${what}: letters, digits and "-" only, exactly as on the box (case sensitive)`;
const port = (v: string) => (v.trim() === '' || (/^\d+$/.test(v.trim()) && +v >= 1 && +v <= 65535) ? undefined : 'a port from 1 to 65535');
const absPath = (v: string) => (v.trim() === '' || v.trim().startsWith('/') || v.trim().startsWith('~/') ? undefined : 'an absolute path (or empty for ssh-agent / password)');

async function addCluster(): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Mail Gateway HA: trust this workspace before adding clusters to it.');
    return;
  }
  if (!vscode.workspace.workspaceFolders?.length) {
    void vscode.window.showErrorMessage('Mail Gateway HA: open a folder first; clusters are kept in its workspace settings.');
    return;
  }
  const name = await ask('Cluster name shown in the tree', 'hq-mail', required('A name'));
  if (!name) return;
  const server = await ask('Server name as on the box (case sensitive)', 'box1', servicePart('Server'));
  if (!server) return;
  const service = await ask('Mail gateway service name (case sensitive)', 'mailgw', servicePart('Service'));
  if (!service) return;
  const units = [];
  for (const role of ['primary', 'secondary'] as const) {
    const unitName = await ask(`Name of the ${role} unit`, role === 'primary' ? 'fw-a' : 'fw-b', required('A unit name'));
    if (!unitName) return;
    const host = await ask(`SSH host of ${unitName} (address, DNS name or ~/.ssh/config alias)`, '192.0.2.10', required('A host'));
    if (!host) return;
    const portText = await ask(`SSH port of ${unitName} (empty for 22 or the alias's port)`, '22', port);
    if (portText === undefined) return;
    const username = await ask(`SSH user on ${unitName} (empty for root or the alias's user)`, 'root', () => undefined);
    if (username === undefined) return;
    const identityFile = await ask(`Private key file for ${unitName} (empty to use ssh-agent or a password)`, '~/.ssh/id_ed25519', absPath);
    if (identityFile === undefined) return;
    units.push({
      name: unitName,
      role,
      host,
      ...(portText ? { port: Number(portText) } : {}),
      ...(username ? { username } : {}),
      ...(identityFile ? { identityFile } : {}),
    });
  }
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const existing = cfg.inspect<unknown[]>('clusters')?.workspaceValue ?? [];
  await cfg.update('clusters', [...existing, { name, server, service, units }], vscode.ConfigurationTarget.Workspace);
  void vscode.window.showInformationMessage(`Mail Gateway HA: cluster "${name}" added to the workspace settings.`);
}
