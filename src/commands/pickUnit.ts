// Resolves the unit or cluster a command acts on: the tree node it was invoked on, a key, or a QuickPick.
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import { messageText } from '../core/text/message';
import type { ClusterConfig, UnitConfig } from '../core/config';
import type { Services } from '../services';

export interface UnitRef {
  readonly cluster: ClusterConfig;
  readonly unit: UnitConfig;
}

export interface PickUnitOptions {
  /** Which unit a cluster alone means (e.g. its active unit); without it, a cluster alone asks among its units. */
  readonly unitOfCluster?: (cluster: ClusterConfig) => Promise<UnitConfig>;
  /** The name of a cluster's active unit, marked and listed first in the pick. */
  readonly activeUnit?: (cluster: string) => string | undefined;
  readonly placeHolder?: string;
  /** A second line for each unit in the pick. */
  readonly detail?: (cluster: ClusterConfig) => string;
}

/**
 * The unit a command acts on, always as configured now (never as an argument describes it): a
 * unit key ("lab/fw-a"), a tree node or `{cluster, unit}` (objects or names), a cluster alone (see
 * `unitOfCluster`), or nothing (asks). A unit that is not configured is undefined, not a question.
 */
export async function pickUnit(services: Services, arg: unknown, title: string, options: PickUnitOptions = {}): Promise<UnitRef | undefined> {
  if (typeof arg === 'string') return services.unit(arg);
  let within: ClusterConfig | undefined;
  if (arg && typeof arg === 'object' && 'cluster' in arg) {
    const o = arg as { cluster?: { name?: unknown } | string; unit?: { name?: unknown; key?: unknown } | string };
    const cluster = services.cluster(String(typeof o.cluster === 'object' ? o.cluster?.name : o.cluster));
    if (!cluster) return undefined;
    const u = o.unit;
    if (u !== undefined) {
      // A node's unit is found by its key; a name given as text by key or name.
      const wanted = typeof u === 'object' ? (typeof u?.key === 'string' ? { key: u.key } : { name: u?.name }) : { key: u, name: u };
      const unit = cluster.units.find((x) => x.key === wanted.key || x.name === wanted.name);
      return unit && { cluster, unit };
    }
    if (options.unitOfCluster) return { cluster, unit: await options.unitOfCluster(cluster) };
    within = cluster;
  }
  const clusters = within ? [within] : services.settings.clusters;
  if (clusters.length === 0) {
    void safeWindow.showInformationMessage('Mail Gateway HA: no cluster is configured. Add one first.', 'Add Cluster').then((c) => c && vscode.commands.executeCommand('mailgwHa.addCluster'));
    return undefined;
  }
  const items = clusters.flatMap((cluster) => {
    const active = options.activeUnit?.(cluster.name);
    return cluster.units
      .map((unit) => ({
        label: messageText(unit.name, { max: 100 }),
        description: messageText(`${cluster.name} · ${unit.role}${active === unit.name ? ' · active' : ''} · ${unit.host}`, { max: 300 }),
        detail: options.detail && messageText(options.detail(cluster), { max: 300 }),
        ref: { cluster, unit },
        active: active === unit.name,
      }))
      .sort((a, b) => Number(b.active) - Number(a.active));
  });
  return (await vscode.window.showQuickPick(items, { title, placeHolder: options.placeHolder ?? 'Unit' }))?.ref;
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
