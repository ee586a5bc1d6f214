// Show Queue Shape (a unit or folder of the Clusters view, a cluster of the Fleet view, or a unit
// picked from the palette) and Export Folder Listing (a folder as CSV or JSON lines, one row per mail:
// the columns of `mailgw-ha ls --csv/--jsonl`).
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import { formatTable } from '../core/export/table';
import { listingRow, listingTable } from '../core/spool/listingExport';
import { listFolder, SPOOL_FOLDERS, SpoolFolder } from '../core/spool/list';
import { SummaryCache } from '../core/spool/summaries';
import { asText } from '../core/text/chars';
import type { Services } from '../services';
import { QueueShapePanel } from '../views/queueShapePanel';
import { askExportFile, saveExport } from '../exportFile';
import { pickUnit, UnitRef } from './pickUnit';

/** The folder a Clusters-view node stands for (a folder node, or a mail or "more" row in one). */
function folderOf(arg: unknown): SpoolFolder | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const f = (arg as { folder?: unknown }).folder;
  return typeof f === 'string' && (SPOOL_FOLDERS as readonly string[]).includes(f) ? (f as SpoolFolder) : undefined;
}

/** The active unit's name a Fleet view node knows (`{ kind: 'fleetCluster', status: { active } }`). */
function activeUnitOf(arg: unknown): string | undefined {
  if (!arg || typeof arg !== 'object' || (arg as { kind?: unknown }).kind !== 'fleetCluster') return undefined;
  const active = (arg as { status?: { active?: unknown } }).status?.active;
  return typeof active === 'string' ? active : undefined;
}

async function pickFolder(ref: UnitRef, title: string): Promise<SpoolFolder | undefined> {
  const picked = await vscode.window.showQuickPick(
    SPOOL_FOLDERS.map((f) => ({ label: `${f}/`, folder: f })),
    { title, placeHolder: `Folder of ${ref.unit.key}` },
  );
  return picked?.folder;
}

/** Writes a folder's listing (one row per mail, headers read over SFTP) to `uri`; returns the row count. */
export async function exportFolderListing(services: Services, ref: UnitRef, folder: SpoolFolder, uri: vscode.Uri, format: 'csv' | 'jsonl', token?: vscode.CancellationToken, progress?: vscode.Progress<{ message?: string; increment?: number }>): Promise<number | undefined> {
  const conn = services.pool.get(ref.unit);
  await conn.connect();
  const listing = await listFolder(conn, ref.cluster, folder, { method: 'auto' });
  const cache = new SummaryCache(listing.mails.length + 1);
  let reported = 0;
  const { failed } = await cache.load(conn, ref.cluster, ref.unit.key, listing.mails, {
    concurrency: 32,
    cancellation: token,
    onProgress: (done, total) => {
      const pct = Math.floor((done / total) * 100);
      if (pct > reported) {
        progress?.report({ message: `${done} of ${total} mails`, increment: pct - reported });
        reported = pct;
      }
    },
  });
  if (token?.isCancellationRequested) return undefined;
  for (const f of failed) services.logger.warn(`export of ${ref.unit.key} ${folder}/: ${f.id}: ${f.error}`);
  const now = Date.now();
  const rows = listing.mails.map((m) => listingRow(ref.cluster.name, ref.unit.name, m, cache.get(ref.unit.key, m), now));
  if (!(await saveExport(uri, formatTable(listingTable(rows), format)))) return undefined;
  return rows.length;
}

export function registerQueueShapeCommands(context: vscode.ExtensionContext, services: Services): void {
  context.subscriptions.push(
    { dispose: () => QueueShapePanel.disposeAll() },
    vscode.commands.registerCommand('mailgwHa.showQueueShape', async (arg?: unknown) => {
      // A Fleet view cluster: its active unit when the fleet knows it, else the cluster's units are offered.
      const active = activeUnitOf(arg);
      const ref = await pickUnit(services, arg, 'Queue shape of which unit?', {
        unitOfCluster: active ? async (cluster) => cluster.units.find((u) => u.name === active) ?? cluster.units[0] : undefined,
        placeHolder: 'Unit (the active unit is the one that delivers)',
      });
      if (!ref) return undefined;
      return QueueShapePanel.show(context, services, ref.cluster, ref.unit, folderOf(arg));
    }),
    vscode.commands.registerCommand('mailgwHa.exportFolderListing', async (arg?: unknown) => {
      const ref = await pickUnit(services, arg, 'Export a folder listing of which unit?');
      if (!ref) return undefined;
      const folder = folderOf(arg) ?? (await pickFolder(ref, 'Export which folder?'));
      if (!folder) return undefined;
      const target = await askExportFile(`mailgw-${ref.cluster.name}-${ref.unit.name}-${folder}-${new Date().toISOString().slice(0, 10)}.csv`, `Export ${folder}/ of ${ref.unit.key}`);
      if (!target) return undefined;
      try {
        const count = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Mail Gateway HA: exporting ${folder}/ of ${ref.unit.key}`, cancellable: true },
          (progress, token) => exportFolderListing(services, ref, folder, target.uri, target.format, token, progress),
        );
        if (count === undefined) return undefined;
        services.logger.info(`${folder}/ of ${ref.unit.key}: ${count} mail(s) exported to ${target.uri.fsPath}`);
        void safeWindow.showInformationMessage(`${folder}/ of ${ref.unit.key}: ${count} mail(s) exported to ${target.uri.fsPath}.`);
        return target.uri;
      } catch (err) {
        void safeWindow.showErrorMessage(`Mail Gateway HA: cannot export ${folder}/ of ${ref.unit.key}: ${asText(err)}`);
        return undefined;
      }
    }),
  );
}
