// Log watch commands: Open mailgw Log, Watch Log in Panel, Pick Log File…, Reveal in Log, and the
// document helpers (load earlier lines, reveal an id from a link). The views they drive are built
// in src/extension.ts and handed in.
import * as path from 'path';
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import { messageText } from '../core/text/message';
import type { ClusterConfig, UnitConfig } from '../core/config';
import { listLogFiles, LogFileEntry } from '../core/log/follow';
import { formatBytes } from '../core/spool/filter';
import type { HubLine } from '../core/log/hub';
import type { Services } from '../services';
import { pickUnit, UnitRef } from './pickUnit';
import { LOG_SCHEME, LogDocuments, logUri } from '../views/logDocument';
import { LogPanel, revealMailInTree } from '../views/logPanel';
import type { LogStatusBar } from '../views/logStatusBar';
import type { LogWatch } from '../views/logWatch';
import type { ClusterTreeProvider } from '../views/clusterTree';

export interface LogDebugState {
  readonly panel: LogPanel['state'];
  readonly panelFlush?: LogPanel['lastFlush'];
  readonly panelWatches: LogPanel['watchStates'];
  readonly statusBar: string;
  readonly sources: { key: string; lines: number; inserted: string[]; last?: string; tail: string[] }[];
  readonly document?: ReturnType<LogDocuments['state']>;
}

/** The log views, built once in src/extension.ts. */
export interface LogViews {
  readonly logWatch: LogWatch;
  readonly documents: LogDocuments;
  readonly panel: LogPanel;
  readonly statusBar: LogStatusBar;
}

export function registerLogCommands(context: vscode.ExtensionContext, services: Services, { logWatch, documents, panel, statusBar }: LogViews, tree: ClusterTreeProvider): vscode.Disposable[] {

  /** A tree node ({cluster, unit} or {cluster}: its active unit), a unit key, or nothing (asks, active unit first). */
  const target = (arg: unknown, title: string): Promise<UnitRef | undefined> =>
    pickUnit(services, arg, title, { unitOfCluster: activeOrPrimary, activeUnit: (c) => logWatch.activeUnitName(c) ?? undefined, placeHolder: 'Unit whose gateway log to show', detail: (c) => c.logFile });

  async function activeOrPrimary(cluster: ClusterConfig): Promise<UnitConfig> {
    const known = logWatch.activeUnitName(cluster.name);
    if (known) return cluster.units.find((u) => u.name === known) ?? cluster.primary;
    return (await logWatch.refreshActive(cluster.name)) ?? cluster.primary;
  }

  function recentOf(cluster: string): HubLine[] {
    return logWatch.hub.all().filter((s) => s.info.cluster === cluster).flatMap((s) => [...s.recent]);
  }

  return [
    vscode.commands.registerCommand('mailgwHa.openLog', async (arg?: unknown) => {
      const t = await target(arg, 'Open the gateway log of which unit?');
      if (!t) return undefined;
      const editor = await documents.open(t.cluster, t.unit);
      return editor.document.uri.toString();
    }),
    vscode.commands.registerCommand('mailgwHa.watchLog', async (arg?: unknown) => {
      const t = await target(arg, 'Watch the gateway log of which unit?');
      if (!t) return false;
      await panel.watch(t.cluster, t.unit);
      return true;
    }),
    vscode.commands.registerCommand('mailgwHa.pickLogFile', async (arg?: unknown) => {
      const t = await target(arg, 'Pick a log file on which unit?');
      if (!t) return undefined;
      const dir = path.posix.dirname(t.cluster.logFile);
      const gatewayLog = (await logWatch.gatewayLog(t.cluster, t.unit)).file;
      let files: LogFileEntry[];
      try {
        files = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: messageText(`Listing ${dir} on ${t.unit.key}…`) }, () => listLogFiles(services.pool.get(t.unit), dir));
      } catch (err) {
        void safeWindow.showErrorMessage((err as Error).message);
        return undefined;
      }
      if (files.length === 0) {
        void safeWindow.showInformationMessage(`${dir} on ${t.unit.key} holds no files.`);
        return undefined;
      }
      const picked = await vscode.window.showQuickPick(
        files.map((f) => ({
          label: `$(file) ${messageText(f.name, { max: 300 })}`,
          description: `${formatBytes(f.size)} · ${new Date(f.mtimeMs).toISOString().replace('T', ' ').slice(0, 19)} UTC${f.path === gatewayLog ? ' · current gateway log' : ''}`,
          file: f,
        })),
        { title: messageText(`Log files in ${dir} on ${t.unit.key}`), placeHolder: 'Open which file (read-only, follows new lines)?', matchOnDescription: true },
      );
      if (!picked) return undefined;
      const editor = await documents.open(t.cluster, t.unit, picked.file.path);
      return editor.document.uri.toString();
    }),
    vscode.commands.registerCommand('mailgwHa.revealInLog', async (node?: unknown) => {
      const n = node as { kind?: string; unit?: { key?: unknown }; mail?: { id?: unknown } } | undefined;
      const id = typeof n?.mail?.id === 'string' ? n.mail.id : undefined;
      // The node names the unit; its cluster, address and log file come from the settings.
      const ref = typeof n?.unit?.key === 'string' ? services.unit(n.unit.key) : undefined;
      if (!ref || !id) {
        void safeWindow.showInformationMessage('Reveal in Log works on a mail in the Clusters view.');
        return false;
      }
      // The mail sits on this unit; its insertion was logged by whichever unit was active then.
      const editor = await documents.open(ref.cluster, ref.unit);
      await panel.watch(ref.cluster, ref.unit);
      panel.setFilter(id);
      for (let attempt = 0; attempt < 4; attempt++) {
        const text = editor.document.getText();
        const at = text.lastIndexOf(id);
        if (at >= 0) {
          const start = editor.document.positionAt(at);
          const range = new vscode.Range(start, start.translate(0, id.length));
          editor.selection = new vscode.Selection(range.start, range.end);
          editor.revealRange(range, vscode.TextEditorRevealType.InCenter);
          return true;
        }
        const state = documents.state(editor.document.uri);
        if (!state || state.reachedTop) break;
        if ((await documents.loadMore(editor.document.uri)) === 0) break;
      }
      void safeWindow.showInformationMessage(`Mail ${id} does not appear in the loaded part of the log of ${ref.unit.key}. It may have been logged by the other unit or in a rotated file ("Pick Log File…").`);
      return false;
    }),
    vscode.commands.registerCommand('mailgwHa.logLoadMore', async (uri?: vscode.Uri) => {
      const u = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (!u || u.scheme !== LOG_SCHEME) return 0;
      return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Loading earlier log lines…' }, () => documents.loadMore(u));
    }),
    vscode.commands.registerCommand('mailgwHa.logRevealId', (arg?: { cluster?: unknown; id?: unknown }) => {
      // A document link's argument: only a configured cluster's name and an id as text.
      if (!arg || typeof arg.cluster !== 'string' || typeof arg.id !== 'string' || !services.cluster(arg.cluster)) return false;
      return revealMailInTree(tree, arg.cluster, arg.id, recentOf(arg.cluster));
    }),
    // For the test suites only: they exist when the extension runs in test mode, never in the product.
    ...(context.extensionMode !== vscode.ExtensionMode.Test
      ? []
      : [
    /** Sets the panel's filter: text, or a regex when `regex` is true. */
    vscode.commands.registerCommand('mailgwHa.logSetFilter', (text?: string, regex?: boolean) => {
      panel.setFilter(typeof text === 'string' ? text : '', regex === true);
      return true;
    }),
    /** What the log views show. */
    vscode.commands.registerCommand('mailgwHa.logDebugState', (arg?: { cluster: string; unit: string }): LogDebugState => {
      const c = arg && services.cluster(arg.cluster);
      const u = c?.units.find((x) => x.name === arg?.unit);
      return {
        panel: panel.state,
        panelFlush: panel.lastFlush,
        panelWatches: panel.watchStates,
        statusBar: statusBar.text,
        sources: logWatch.hub.all().map((s) => ({ key: s.info.key, lines: s.recent.length, inserted: [...s.insertedIds], last: s.recent[s.recent.length - 1]?.text, tail: s.recent.slice(-200).map((l) => l.text) })),
        document: c && u ? documents.state(logUri(c, u)) : undefined,
      };
    }),
        ]),
  ];
}

