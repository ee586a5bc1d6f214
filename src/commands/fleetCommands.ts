// The Fleet view's commands: refresh, sort, export the status (CSV or JSON lines), and show a cluster
// in the Clusters view.
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import { ExportFormat, formatTable } from '../core/export/table';
import { fleetTable } from '../core/fleet/status';
import type { Services } from '../services';
import type { ClusterTreeProvider } from '../views/clusterTree';
import type { FleetViewProvider } from '../views/fleetView';
import { pickCluster } from './pickUnit';

/** CSV or JSON lines by the name the user chose in the save dialog. */
export async function askExportFile(defaultName: string, title: string): Promise<{ uri: vscode.Uri; format: ExportFormat } | undefined> {
  const base = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await vscode.window.showSaveDialog({
    title,
    defaultUri: base ? vscode.Uri.joinPath(base, defaultName) : undefined,
    filters: { CSV: ['csv'], 'JSON lines': ['jsonl'] },
  });
  if (!uri) return undefined;
  return { uri, format: uri.path.toLowerCase().endsWith('.jsonl') ? 'jsonl' : 'csv' };
}

export function registerFleetCommands(services: Services, fleet: FleetViewProvider, tree: ClusterTreeProvider): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('mailgwHa.fleetRefresh', () => fleet.refresh()),
    vscode.commands.registerCommand('mailgwHa.fleetSortByUrgency', () => fleet.setSort('urgency')),
    vscode.commands.registerCommand('mailgwHa.fleetSortByName', () => fleet.setSort('name')),
    vscode.commands.registerCommand('mailgwHa.exportFleetStatus', async () => {
      const status = fleet.current ?? (await fleet.refresh());
      if (!status) return void safeWindow.showWarningMessage('Mail Gateway HA: no cluster is configured, so there is no fleet status to export.');
      const target = await askExportFile(`mailgw-fleet-${new Date().toISOString().slice(0, 10)}.csv`, 'Export Fleet Status');
      if (!target) return;
      await vscode.workspace.fs.writeFile(target.uri, Buffer.from(formatTable(fleetTable(status.clusters), target.format), 'utf8'));
      services.logger.info(`Fleet status of ${status.clusters.length} cluster(s) exported to ${target.uri.fsPath}`);
      void safeWindow.showInformationMessage(`Fleet status of ${status.clusters.length} cluster(s) exported to ${target.uri.fsPath}.`);
    }),
    vscode.commands.registerCommand('mailgwHa.revealCluster', async (arg?: unknown) => {
      const cluster = await pickCluster(services, arg, 'Show which cluster?');
      if (cluster) await tree.revealCluster(cluster.name);
    }),
  ];
}
