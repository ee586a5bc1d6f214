// The Clusters view: cluster → unit, plus settings errors shown where the admin looks.
import * as vscode from 'vscode';
import { ClusterConfig, ConfigError, formatConfigError, Settings, UnitConfig } from '../core/config';
import type { ConnectionState } from '../core/ssh/connection';
import type { Services } from '../services';

export type ClusterTreeNode =
  | { kind: 'error'; error: ConfigError }
  | { kind: 'cluster'; cluster: ClusterConfig }
  | { kind: 'unit'; cluster: ClusterConfig; unit: UnitConfig };

export class ClusterTreeProvider implements vscode.TreeDataProvider<ClusterTreeNode> {
  private readonly changed = new vscode.EventEmitter<ClusterTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private settings: Settings = { clusters: [], errors: [] };

  constructor(private readonly services: Services) {
    services.pool.on('state', () => this.changed.fire(undefined));
  }

  update(settings: Settings): void {
    this.settings = settings;
    this.changed.fire(undefined);
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: ClusterTreeNode): ClusterTreeNode[] {
    if (!node) {
      return [
        ...this.settings.errors.map((error): ClusterTreeNode => ({ kind: 'error', error })),
        ...this.settings.clusters.map((cluster): ClusterTreeNode => ({ kind: 'cluster', cluster })),
      ];
    }
    if (node.kind === 'cluster') return node.cluster.units.map((unit): ClusterTreeNode => ({ kind: 'unit', cluster: node.cluster, unit }));
    return [];
  }

  getTreeItem(node: ClusterTreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'error': {
        const item = new vscode.TreeItem(node.error.message, vscode.TreeItemCollapsibleState.None);
        item.description = [node.error.cluster, node.error.unit, node.error.field].filter(Boolean).join(' › ');
        item.tooltip = formatConfigError(node.error);
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
        item.contextValue = 'configError';
        item.command = { command: 'mailgwHa.openSettings', title: 'Open Settings' };
        return item;
      }
      case 'cluster': {
        const item = new vscode.TreeItem(node.cluster.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `cluster:${node.cluster.name}`;
        item.description = node.cluster.gateway;
        item.iconPath = new vscode.ThemeIcon('server-environment');
        item.contextValue = 'cluster';
        return item;
      }
      case 'unit': {
        const item = new vscode.TreeItem(node.unit.name, vscode.TreeItemCollapsibleState.None);
        item.id = `unit:${node.unit.key}`;
        const conn = this.services.pool.peek(node.unit.key);
        const state: ConnectionState = conn?.state ?? 'idle';
        item.description = `${node.unit.role} · ${node.unit.host}${node.unit.port ? `:${node.unit.port}` : ''}${STATE_TEXT[state]}`;
        item.iconPath = STATE_ICON[state];
        item.tooltip = conn?.lastError ? conn.lastError.message : conn?.info ? `${conn.info.authMethod} · ${conn.info.hostKeyType} ${conn.info.fingerprint}` : undefined;
        item.contextValue = `unit.${node.unit.role}`;
        return item;
      }
    }
  }
}

const STATE_TEXT: Record<ConnectionState, string> = {
  idle: '',
  connecting: ' · connecting…',
  connected: '',
  reconnecting: ' · reconnecting…',
  failed: ' · connection failed',
  closed: '',
};

const STATE_ICON: Record<ConnectionState, vscode.ThemeIcon> = {
  idle: new vscode.ThemeIcon('vm'),
  connecting: new vscode.ThemeIcon('sync~spin'),
  connected: new vscode.ThemeIcon('vm-active'),
  reconnecting: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('list.warningForeground')),
  failed: new vscode.ThemeIcon('vm-outline', new vscode.ThemeColor('list.errorForeground')),
  closed: new vscode.ThemeIcon('vm'),
};
