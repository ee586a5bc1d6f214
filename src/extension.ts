// The composition root: builds the services and every view once, and hands each command group the
// objects it works with. Behaviour lives in core/, views/ and commands/.
import * as vscode from 'vscode';
import * as safeWindow from './safeWindow';
import { ClusterTreeProvider } from './views/clusterTree';
import { registerSettingsCommands } from './commands/settingsCommands';
import { registerConnectionCommands } from './commands/connectionCommands';
import { registerSpoolCommands } from './commands/spoolCommands';
import { registerLogCommands } from './commands/logCommands';
import { recoveryActions, registerRecoveryCommands } from './commands/recoveryCommands';
import { registerCheckUnits } from './commands/checkUnits';
import { registerMailFileSystem } from './views/mailFileSystem';
import { FleetViewProvider } from './views/fleetView';
import { registerFleetCommands } from './commands/fleetCommands';
import { registerAuditCommands } from './commands/auditCommands';
import { registerQueueShapeCommands } from './commands/queueShapeCommands';
import { LogDocuments } from './views/logDocument';
import { LogPanel } from './views/logPanel';
import { LogStatusBar } from './views/logStatusBar';
import { LogWatch } from './views/logWatch';
import { formatConfigError } from './core/config';
import { Services } from './services';
import type { MailgwHaTestApi } from './testApi';

export type { MailgwHaTestApi } from './testApi';

// Set by the bundle's first line (esbuild.js); undefined where the sources run without the bundle.
declare const __mailgwHaLoadStart: number | undefined;
// This module's body runs after every module it imports: here the bundle has finished loading.
const loadMs = typeof __mailgwHaLoadStart === 'number' ? performance.now() - __mailgwHaLoadStart : undefined;

/** Exports nothing in the product; the test-mode API (src/testApi.ts) only under a test runner. */
export function activate(context: vscode.ExtensionContext): MailgwHaTestApi | undefined {
  const activateStarted = performance.now();
  const services = new Services(context);
  const output = services.output;
  const clusterTree = new ClusterTreeProvider(services);
  const treeView = clusterTree.createView();
  const fleet = new FleetViewProvider(services);
  fleet.createView();
  const logWatch = new LogWatch(services);
  const documents = new LogDocuments(services, logWatch);
  const log = { logWatch, documents, panel: new LogPanel(context, services, logWatch, clusterTree, documents), statusBar: new LogStatusBar(services, logWatch) };

  let lastErrors = '';
  const applySettings = () => {
    const settings = services.settings;
    clusterTree.update(settings);
    void vscode.commands.executeCommand('setContext', 'mailgwHa.clusterCount', settings.clusters.length);
    void vscode.commands.executeCommand('setContext', 'mailgwHa.configError', settings.errors.length > 0);
    const errors = settings.errors.map(formatConfigError).join('\n');
    if (errors && errors !== lastErrors) {
      for (const e of settings.errors) services.logger.error(`Settings error: ${formatConfigError(e)}`);
      void safeWindow.showErrorMessage(`Mail Gateway HA: ${settings.errors.length} problem(s) in the cluster settings. ${formatConfigError(settings.errors[0])}`, 'Open Settings').then((choice) => {
        if (choice) void vscode.commands.executeCommand('mailgwHa.openSettings');
      });
    }
    lastErrors = errors;
  };
  applySettings();
  // Activated for a workspace that may configure clusters (workspaceContains / onStartupFinished):
  // with clusters, look at the units in the background so stranded mail is signalled (badge) before
  // the view is opened; without, nothing more is done.
  if (vscode.workspace.isTrusted && services.settings.clusters.length > 0) setTimeout(() => void clusterTree.lookInBackground(), 0);

  context.subscriptions.push(
    services,
    clusterTree,
    registerMailFileSystem(services),
    ...registerSpoolCommands(services, clusterTree, treeView),
    services.onDidChangeSettings(applySettings),
    ...registerSettingsCommands(services),
    ...registerConnectionCommands(services),
    log.logWatch,
    log.documents,
    log.panel,
    log.statusBar,
    ...registerLogCommands(context, services, log, clusterTree),
    ...registerRecoveryCommands(services, clusterTree),
    ...registerCheckUnits(services),
    fleet,
    ...registerFleetCommands(services, fleet, clusterTree),
    ...registerAuditCommands(services),
    vscode.commands.registerCommand('mailgwHa.showOutput', () => output.show(true)),
  );
  registerQueueShapeCommands(context, services);
  output.info(`activated (VS Code ${vscode.version})`);
  if (context.extensionMode !== vscode.ExtensionMode.Test) return undefined;
  const activateMs = performance.now() - activateStarted;
  return { clusterTree, fleet, services, actions: recoveryActions(services, clusterTree), setMessageHook: safeWindow.setMessageTestHook, timing: { loadMs, activateMs } };
}

export function deactivate(): void {
  // Subscriptions dispose everything.
}
