// The services every view and command shares: effective settings, the connection pool and the log.
import * as path from 'path';
import * as vscode from 'vscode';
import type { ClusterConfig, Settings, UnitConfig } from './core/config';
import type { Logger } from './core/host';
import type { RecoveryEvent, RecoveryReport } from './core/recovery/runContract';
import { ConnectionOptions } from './core/ssh/connection';
import { ConnectionPool } from './core/ssh/pool';
import { AuditLog } from './core/audit/log';
import { addOwnFolder } from './core/privateFiles';
import { auditLogTarget, onDidChangeSettings, readSettings } from './settings';
import { outputLogger, secretStorageStore, vscodePrompts } from './vscodeHost';
import { userKnownHostsFile } from './core/ssh/hostKeys';

export class Services implements vscode.Disposable {
  readonly output: vscode.LogOutputChannel;
  readonly logger: Logger;
  readonly pool: ConnectionPool;
  /** The extension's own host key trust store (known_hosts format). */
  readonly trustStoreFile: string;
  private settingsValue: Settings;
  private readonly settingsChanged = new vscode.EventEmitter<Settings>();
  /** Fires after the pool has been updated for new settings. */
  readonly onDidChangeSettings = this.settingsChanged.event;
  private readonly disposables: vscode.Disposable[] = [];
  readonly recoveryEvents = new vscode.EventEmitter<RecoveryEvent>();
  /** The report of each finished recovery run (the tree keeps its proven duplicates). */
  readonly recoveryReports = new vscode.EventEmitter<RecoveryReport>();

  constructor(readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('Mail Gateway HA', { log: true });
    this.logger = outputLogger(this.output);
    // The extension's storage folder (the trust store, journals of earlier versions) is its own: private.
    addOwnFolder(context.globalStorageUri.fsPath);
    this.trustStoreFile = path.join(context.globalStorageUri.fsPath, 'known_hosts');
    this.settingsValue = readSettings();
    this.pool = new ConnectionPool(this.connectionOptions());
    this.pool.update(this.settingsValue.clusters.flatMap((c) => c.units));
    this.disposables.push(
      onDidChangeSettings(() => {
        const before = this.settingsValue.knownHostsFile;
        this.settingsValue = readSettings();
        const units = this.settingsValue.clusters.flatMap((c) => c.units);
        if (before !== this.settingsValue.knownHostsFile) this.pool.update(units, this.connectionOptions());
        else this.pool.update(units);
        this.settingsChanged.fire(this.settingsValue);
      }),
    );
  }

  get settings(): Settings {
    return this.settingsValue;
  }

  cluster(name: string): ClusterConfig | undefined {
    return this.settingsValue.clusters.find((c) => c.name === name);
  }

  unit(key: string): { cluster: ClusterConfig; unit: UnitConfig } | undefined {
    for (const cluster of this.settingsValue.clusters) for (const unit of cluster.units) if (unit.key === key) return { cluster, unit };
    return undefined;
  }

  /** The audit trail as the settings name it now; a failed append goes to the log as a warning. */
  audit(): AuditLog {
    return new AuditLog(auditLogTarget(), 'extension', (m) => this.logger.warn(m));
  }

  /** Extra known_hosts files: mailgwHa.knownHostsFile (a user setting). */
  knownHostsFiles(): string[] {
    return this.settingsValue.knownHostsFile ? [this.settingsValue.knownHostsFile] : [];
  }

  private connectionOptions(): ConnectionOptions {
    return {
      prompts: vscodePrompts(),
      secrets: secretStorageStore(this.context.secrets),
      logger: this.logger,
      knownHostsFiles: this.knownHostsFiles(),
      userKnownHostsFiles: [userKnownHostsFile()],
      trustStoreFile: this.trustStoreFile,
      agentSocket: process.env.SSH_AUTH_SOCK || undefined,
    };
  }

  dispose(): void {
    this.pool.dispose();
    for (const d of this.disposables) d.dispose();
    this.settingsChanged.dispose();
    this.recoveryEvents.dispose();
    this.recoveryReports.dispose();
    this.output.dispose();
  }
}
