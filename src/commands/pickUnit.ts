// Resolves the unit a command acts on: the tree node it was invoked on, or a QuickPick.
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import { messageText } from '../core/text/message';
import type { ClusterConfig, UnitConfig } from '../core/config';
import type { Services } from '../services';

export interface UnitRef {
  readonly cluster: ClusterConfig;
  readonly unit: UnitConfig;
}

/** Accepts a tree node ({cluster, unit}), a unit key string ("lab/fw-a"), or nothing (asks). */
export async function pickUnit(services: Services, arg: unknown, title: string): Promise<UnitRef | undefined> {
  if (typeof arg === 'string') return services.unit(arg);
  if (arg && typeof arg === 'object' && 'unit' in arg && 'cluster' in arg) {
    const key = (arg as { unit: UnitConfig }).unit.key;
    return services.unit(key);
  }
  const items = services.settings.clusters.flatMap((cluster) => cluster.units.map((unit) => ({ label: messageText(unit.name, { max: 100 }), description: messageText(`${cluster.name} · ${unit.role} · ${unit.host}`, { max: 300 }), ref: { cluster, unit } })));
  if (items.length === 0) {
    void safeWindow.showInformationMessage('Mail Gateway HA: no cluster is configured. Add one first.', 'Add Cluster').then((c) => c && vscode.commands.executeCommand('mailgwHa.addCluster'));
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title, placeHolder: 'Unit' }))?.ref;
}

/** Accepts a tree node with a cluster, a cluster name, or nothing (asks). */
export async function pickCluster(services: Services, arg: unknown, title: string): Promise<ClusterConfig | undefined> {
  if (typeof arg === 'string') return services.cluster(arg);
  if (arg && typeof arg === 'object' && 'cluster' in arg) return services.cluster((arg as { cluster: ClusterConfig }).cluster.name);
  const clusters = services.settings.clusters;
  if (clusters.length === 1) return clusters[0];
  const picked = await vscode.window.showQuickPick(clusters.map((c) => ({ label: messageText(c.name, { max: 100 }), description: c.gateway, c })), { title });
  return picked?.c;
}
