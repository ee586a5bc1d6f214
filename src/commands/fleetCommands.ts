// The Fleet view's commands: refresh, sort, export the status (CSV or JSON lines), and show a cluster
// in the Clusters view.
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import { formatTable } from '../core/export/table';
import { askExportFile, saveExport } from '../exportFile';
import { fleetTable } from '../core/fleet/status';
import type { Services } from '../services';
import type { ClusterTreeProvider } from '../views/clusterTree';
import type { FleetViewProvider } from '../views/fleetView';
import { pickCluster } from './pickUnit';

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
      if (!(await saveExport(target.uri, formatTable(fleetTable(status.clusters), target.format)))) return;
      services.logger.info(`Fleet status of ${status.clusters.length} cluster(s) exported to ${target.uri.fsPath}`);
      void safeWindow.showInformationMessage(`Fleet status of ${status.clusters.length} cluster(s) exported to ${target.uri.fsPath}.`);
    }),
    vscode.commands.registerCommand('mailgwHa.revealCluster', async (arg?: unknown) => {
      const cluster = await pickCluster(services, arg, 'Show which cluster?');
      if (cluster) await tree.revealCluster(cluster.name);
    }),
  ];
}
