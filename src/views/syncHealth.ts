// Sync health per cluster for the tree: read on demand (tree expand, Refresh), warn once when the
// lag crosses the threshold. The comparison itself lives in core/sync/health.ts.
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import type { ClusterConfig } from '../core/config';
import { readSyncHealth, SyncHealth, syncHealthOf, UnitLook } from '../core/sync/health';
import { readSyncSettings } from '../settings';
import type { Services } from '../services';
import { markdownText, untrustedMarkdownOptions } from '../core/text/markdown';
import { messageText } from '../core/text/message';

export class SyncHealthMonitor implements vscode.Disposable {
  private readonly health = new Map<string, SyncHealth>();
  /** The comparison running per cluster, and the one waiting behind it (the newest request wins). */
  private readonly loading = new Map<string, Promise<SyncHealth>>();
  private readonly queued = new Map<string, { cluster: ClusterConfig; looks?: readonly UnitLook[] }>();
  private readonly next = new Map<string, Promise<SyncHealth>>();
  private readonly changed = new vscode.EventEmitter<string>();
  /** Fires with the cluster name whose health changed. */
  readonly onDidChange = this.changed.event;
  /**
   * When each mail on the active unit's spool/ was first seen, per cluster and active unit. A mail's
   * age for the lag is counted from when it arrived there, not from its mtime: a recovery (or any
   * copy that keeps mtimes) puts old mtimes on mail that has just arrived.
   */
  private readonly seen = new Map<string, Map<string, number>>();
  /** Lagging ids already warned about per cluster: a settings edit or a refresh does not warn again. */
  private readonly warned = new Map<string, Set<string>>();
  /** How many lag warnings were shown (for the suites). */
  warnings = 0;

  constructor(private readonly services: Services) {}

  get(cluster: string): SyncHealth | undefined {
    return this.health.get(cluster);
  }

  /**
   * Recomputes a cluster's sync health: from `looks` the tree already made at both units when it has
   * them, else by looking at the units itself. Every call computes anew (after the one running, if
   * any): a refresh never gets an older answer.
   */
  refresh(cluster: ClusterConfig, looks?: readonly UnitLook[]): Promise<SyncHealth> {
    const name = cluster.name;
    this.queued.set(name, { cluster, looks });
    let next = this.next.get(name);
    if (!next) {
      const running = this.loading.get(name) ?? Promise.resolve();
      next = running
        .catch(() => undefined)
        .then(() => {
          this.next.delete(name);
          const q = this.queued.get(name) ?? { cluster, looks };
          this.queued.delete(name);
          const p = this.compute(q.cluster, q.looks);
          this.loading.set(name, p);
          return p.finally(() => {
            if (this.loading.get(name) === p) this.loading.delete(name);
          });
        });
      this.next.set(name, next);
    }
    return next;
  }

  /** A unit of the cluster could not be looked at: the comparison is unknown, not the old one. */
  unreachable(cluster: ClusterConfig, error: string): void {
    this.health.set(cluster.name, { cluster: cluster.name, state: 'unreachable', lagging: [], standbyOnly: [], pendingActions: 'unknown', error });
    this.changed.fire(cluster.name);
  }

  private async compute(cluster: ClusterConfig, looks?: readonly UnitLook[]): Promise<SyncHealth> {
    const settings = readSyncSettings();
    const now = Date.now();
    const h = await (looks ? syncHealthOf(this.services.pool, cluster, this.byArrival(cluster, looks, now), settings, () => now) : readSyncHealth(this.services.pool, cluster, settings));
    this.health.set(cluster.name, h);
    const warned = this.warned.get(cluster.name) ?? new Set<string>();
    if (h.state === 'lagging') {
      const fresh = h.lagging.some((m) => !warned.has(m.id));
      this.warned.set(cluster.name, new Set(h.lagging.map((m) => m.id)));
      if (fresh) {
        this.warnings++;
        this.services.logger.warn(`${cluster.name}: HA sync ${h.warning}`);
        void safeWindow.showWarningMessage(`Mail Gateway HA: ${cluster.name}: ${h.warning}.`);
      }
    } else if (h.state === 'ok') this.warned.delete(cluster.name);
    this.changed.fire(cluster.name);
    return h;
  }

  /**
   * The looks with each active-unit mail's time taken as when it arrived there: its mtime at the
   * first look of this session (nothing better is known then), else when it was first seen.
   */
  private byArrival(cluster: ClusterConfig, looks: readonly UnitLook[], now: number): readonly UnitLook[] {
    const actives = looks.filter((l) => l.active);
    if (actives.length !== 1) return looks;
    const active = actives[0];
    const key = `${cluster.name}\n${active.unit.key}`;
    const before = this.seen.get(key);
    const seen = new Map<string, number>();
    const mails = active.spool.mails.map((m) => {
      const at = before ? (before.get(m.id) ?? Math.max(m.mtimeMs, now)) : m.mtimeMs;
      seen.set(m.id, at);
      return at === m.mtimeMs ? m : { ...m, mtimeMs: at };
    });
    this.seen.set(key, seen);
    return looks.map((l) => (l === active ? { ...l, spool: { ...l.spool, mails } } : l));
  }

  private readonly signatures = new Map<string, string>();

  /**
   * After a settings change: forget the health of clusters that are gone or whose configuration
   * changed; keep the rest (a change of an unrelated setting must not trigger new connections).
   * What was warned about and when mails were first seen stay: the mails did not change.
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
