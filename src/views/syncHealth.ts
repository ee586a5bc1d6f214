// Sync health per cluster for the tree: read on demand (tree expand, Refresh), warn once when the
// lag crosses the threshold. The comparison itself lives in core/sync/health.ts.
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import type { ClusterConfig } from '../core/config';
import { parseSyncSettings, readSyncHealth, SyncHealth, syncHealthOf, UnitLook } from '../core/sync/health';
import type { Services } from '../services';
import { markdownText, untrustedMarkdownOptions } from '../core/text/markdown';
import { messageText } from '../core/text/message';

export class SyncHealthMonitor implements vscode.Disposable {
  private readonly health = new Map<string, SyncHealth>();
  private readonly loading = new Map<string, Promise<SyncHealth>>();
  private readonly changed = new vscode.EventEmitter<string>();
  /** Fires with the cluster name whose health changed. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly services: Services) {}

  get(cluster: string): SyncHealth | undefined {
    return this.health.get(cluster);
  }

  /**
   * A cluster's sync health (one at a time per cluster): from `looks` the tree already made at both
   * units when it has them, else by looking at the units itself.
   */
  refresh(cluster: ClusterConfig, looks?: readonly UnitLook[]): Promise<SyncHealth> {
    const running = this.loading.get(cluster.name);
    if (running) return running;
    const settings = parseSyncSettings((k) => vscode.workspace.getConfiguration().get(k));
    const read = looks ? syncHealthOf(this.services.pool, cluster, looks, settings) : readSyncHealth(this.services.pool, cluster, settings);
    const p = read
      .then((h) => {
        const before = this.health.get(cluster.name);
        this.health.set(cluster.name, h);
        if (h.state === 'lagging' && before?.state !== 'lagging') {
          this.services.logger.warn(`${cluster.name}: HA sync ${h.warning}`);
          void safeWindow.showWarningMessage(`Mail Gateway HA: ${cluster.name}: ${h.warning}.`);
        }
        this.changed.fire(cluster.name);
        return h;
      })
      .finally(() => this.loading.delete(cluster.name));
    this.loading.set(cluster.name, p);
    return p;
  }

  private readonly signatures = new Map<string, string>();

  /**
   * After a settings change: forget the health of clusters that are gone or whose configuration
   * changed; keep the rest (a change of an unrelated setting must not trigger new connections).
   */
  retain(clusters: readonly ClusterConfig[]): void {
    const now = new Map(clusters.map((c) => [c.name, JSON.stringify(c)]));
    for (const name of [...this.health.keys()]) if (now.get(name) !== this.signatures.get(name)) this.health.delete(name);
    this.signatures.clear();
    for (const [k, v] of now) this.signatures.set(k, v);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function seconds(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

/** The "HA sync" node under a cluster. */
export function syncHealthItem(cluster: ClusterConfig, h: SyncHealth | undefined): vscode.TreeItem {
  const item = new vscode.TreeItem('HA sync', vscode.TreeItemCollapsibleState.None);
  item.id = `sync:${cluster.name}`;
  item.contextValue = 'syncHealth';
  if (!h) {
    item.description = 'checking…';
    item.iconPath = new vscode.ThemeIcon('sync~spin');
    return item;
  }
  const pending = h.pendingActions === 'unknown' ? 'pending actions unknown (set mailgwHa.syncTransactionLog)' : `${h.pendingActions} pending action(s)`;
  // Unit names and error texts (a server's words) are escaped; the tooltip runs no command and draws no icon.
  const md = markdownText;
  const lines = [`**HA sync of ${md(cluster.name)}**`, ''];
  switch (h.state) {
    case 'unreachable':
      item.description = 'unknown';
      item.iconPath = new vscode.ThemeIcon('question');
      lines.push(`Could not compare the units: ${md(h.error)}`);
      break;
    case 'no-active-unit':
    case 'both-active':
      item.description = h.state === 'no-active-unit' ? 'no active unit' : 'both units active!';
      item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
      lines.push(md(h.warning ?? ''));
      break;
    default: {
      const parts = [h.lagging.length ? `${h.lagging.length} lagging (oldest ${seconds(h.oldestLagMs!)})` : `in step ${messageText(h.active, { max: 100 })} → ${messageText(h.standby, { max: 100 })}`];
      if (h.standbyOnly.length) parts.push(`${h.standbyOnly.length} only on ${messageText(h.standby, { max: 100 })}`);
      if (typeof h.pendingActions === 'number' && h.pendingActions > 0) parts.push(`${h.pendingActions} pending`);
      item.description = parts.join(' · ');
      const warn = h.state === 'lagging' || h.standbyOnly.length > 0;
      item.iconPath = h.state === 'lagging' ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : warn ? new vscode.ThemeIcon('info') : new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
      if (h.warning) lines.push(`⚠ ${md(h.warning)}.`, '');
      lines.push(
        `- not mirrored to ${md(h.standby)} after the sync interval: ${h.lagging.length}${h.lagging.length ? ` (oldest ${seconds(h.oldestLagMs!)})` : ''}`,
        `- only on ${md(h.standby)}: ${h.standbyOnly.length}${h.standbyOnly.length ? ' — stranded by a takeover, or copies whose delivery was not synced yet (would be delivered twice)' : ''}`,
        `- ${pending}`,
      );
    }
  }
  item.tooltip = Object.assign(new vscode.MarkdownString(lines.join('\n')), untrustedMarkdownOptions);
  return item;
}
