// The Fleet view: every configured HA pair in one list, most urgent first (or by name): which unit is
// active, stranded mail on the standby and how old, stuck mail on the active unit, sync lag,
// unreachable units and the last recovery from this machine. It looks at the units when it is shown
// and on Refresh, never asking for anything (a unit that needs a host key or passphrase confirmed says
// so: log in from the Clusters view); rows fill in as units answer.
import * as vscode from 'vscode';
import type { ClusterConfig } from '../core/config';
import { lastRecoveryOf } from '../core/fleet/lastRecovery';
import { FleetCluster, FleetSort, FleetStatus, lookAtFleet, rankClusters, shortAge, UnitLookResult } from '../core/fleet/status';
import { SPOOL_FOLDERS } from '../core/spool/list';
import { messageText } from '../core/text/message';
import type { Services } from '../services';
import { affectsSetting, autoRefreshSeconds, fleetSettings, readSyncSettings } from '../settings';

export const FLEET_VIEW_ID = 'mailgwHa.fleet';

export type FleetNode =
  | { kind: 'fleetCluster'; cluster: ClusterConfig; status?: FleetCluster; looking: boolean }
  | { kind: 'fleetDetail'; id: string; label: string; description?: string; icon: string; color?: string; tooltip?: string };

const plain = (v: unknown, max = 300) => messageText(v, { max });
const plainLines = (v: unknown, max = 4000) => messageText(v, { multiline: true, max });

/** Urgency to an icon: what can deliver twice or nothing (and unseen units) red, waiting mail yellow. */
function urgencyIcon(c: FleetCluster | undefined, looking: boolean): vscode.ThemeIcon {
  if (!c) return new vscode.ThemeIcon(looking ? 'loading~spin' : 'circle-outline');
  if (c.urgency >= 60) return new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
  if (c.urgency >= 30) return new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
  if (c.urgency > 0) return new vscode.ThemeIcon('info');
  return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
}

/** The row's one-line summary: active unit, then what needs doing. */
export function fleetDescription(c: FleetCluster): string {
  const parts: string[] = [];
  parts.push(c.active ? `${c.active} active` : c.activeUnits.length > 1 ? 'BOTH active' : c.unreachable.length ? 'active unit unknown' : 'NO active unit');
  if (c.stranded) parts.push(`${c.stranded} stranded${c.oldestStrandedAgeS !== null ? ` (oldest ${shortAge(c.oldestStrandedAgeS)})` : ''}`);
  if (c.stuck) parts.push(`${c.stuck.count} stuck on ${c.stuck.unit} (oldest ${shortAge(c.stuck.oldestAgeS)})`);
  if (c.sync?.state === 'lagging') parts.push(`sync lag ${c.sync.lagging.length} (${shortAge(Math.round((c.sync.oldestLagMs ?? 0) / 1000))})`);
  if (c.unreachable.length) parts.push(`${c.unreachable.join(', ')} unreachable`);
  if (c.lastRecovery) parts.push(`last recovery ${c.lastRecovery.outcome}`);
  if (parts.length === 1) parts.push('ok');
  return parts.join(' · ');
}

function unitDetail(cluster: ClusterConfig, look: UnitLookResult): FleetNode {
  const u = look.unit;
  const id = `fleet:${cluster.name}:unit:${u.name}`;
  if (!look.overview) {
    const needsLogin = look.errorCode === 'hostkey-unknown' || look.errorCode === 'auth-cancelled' || look.errorCode === 'auth';
    return {
      kind: 'fleetDetail',
      id,
      label: plain(`${u.name} (${u.role})`),
      description: look.timedOut ? 'no answer (timed out)' : needsLogin ? 'not logged in: use Test Connection in the Clusters view' : `unreachable: ${plain((look.error ?? '').replace(/^[^:]*: /, ''), 160)}`,
      icon: 'debug-disconnect',
      color: 'list.errorForeground',
      tooltip: plainLines(look.error ?? 'unreachable'),
    };
  }
  const o = look.overview;
  const counts = SPOOL_FOLDERS.map((f) => `${f} ${o.folders[f].missing ? 'missing' : o.folders[f].mails.length}`).join(', ');
  return { kind: 'fleetDetail', id, label: plain(`${u.name} (${u.role})`), description: `${o.active ? 'active' : 'standby'} · ${counts}`, icon: o.active ? 'vm-running' : 'vm-outline', tooltip: `${plain(u.host)} · ${look.elapsedMs} ms` };
}

export class FleetViewProvider implements vscode.TreeDataProvider<FleetNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<FleetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private view: vscode.TreeView<FleetNode> | undefined;
  private status: FleetStatus | undefined;
  /** Units answered so far in the look under way (shown before the whole fleet has answered). */
  private partial = new Map<string, UnitLookResult>();
  private looking: Promise<FleetStatus | undefined> | undefined;
  /** Counts settings changes: a look started before the last one is stale when it ends. */
  private generation = 0;
  private sortValue: FleetSort = 'urgency';
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly nodes = new Map<string, FleetNode>();

  constructor(private readonly services: Services) {
    void vscode.commands.executeCommand('setContext', 'mailgwHa.fleetSort', this.sortValue);
    this.disposables.push(
      services.onDidChangeSettings(() => {
        this.generation++;
        this.status = undefined;
        this.partial = new Map();
        // Rows of clusters that are gone are forgotten; the rest are made anew with their new settings.
        this.nodes.clear();
        this.changed.fire(undefined);
        if (!this.view?.visible) return;
        // A look under way is of the old settings: look again once it has ended.
        if (this.looking) void this.looking.then(() => this.refresh());
        else void this.refresh();
      }),
      services.recoveryReports.event(() => {
        if (this.view?.visible) void this.refresh();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsSetting(e, 'autoRefreshSeconds')) this.schedule();
      }),
    );
  }

  createView(): vscode.TreeView<FleetNode> {
    this.view = vscode.window.createTreeView(FLEET_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.view,
      this.view.onDidChangeVisibility((e) => {
        if (e.visible && !this.status && !this.looking) void this.refresh();
        this.schedule();
      }),
    );
    if (this.view.visible) void this.refresh();
    return this.view;
  }

  get current(): FleetStatus | undefined {
    return this.status;
  }

  get sort(): FleetSort {
    return this.sortValue;
  }

  setSort(sort: FleetSort): void {
    this.sortValue = sort;
    void vscode.commands.executeCommand('setContext', 'mailgwHa.fleetSort', sort);
    this.changed.fire(undefined);
  }

  /** Looks at every unit again; a look already under way is shared. */
  refresh(): Promise<FleetStatus | undefined> {
    if (this.looking) return this.looking;
    const clusters = this.services.settings.clusters;
    if (!clusters.length) return Promise.resolve(undefined);
    const generation = this.generation;
    const partial = (this.partial = new Map());
    this.changed.fire(undefined);
    const opts = fleetSettings();
    const run = vscode.window.withProgress({ location: { viewId: FLEET_VIEW_ID } }, () =>
      lookAtFleet(this.services.pool, clusters, {
        ...opts,
        sync: readSyncSettings(),
        interactive: false,
        lastRecovery: (c) => lastRecoveryOf(c),
        onUnit: (look) => {
          if (generation !== this.generation) return;
          partial.set(look.unit.key, look);
          this.changed.fire(undefined);
        },
      }),
    );
    this.looking = Promise.resolve(run)
      .then(
        (status) => {
          // Settings changed meanwhile: this look is of clusters that may be gone.
          if (generation !== this.generation) return undefined;
          this.status = status;
          this.updateBadge();
          return status;
        },
        (err: unknown) => {
          this.services.logger.error(`Fleet: ${(err as Error).message}`);
          return undefined;
        },
      )
      .finally(() => {
        this.looking = undefined;
        this.changed.fire(undefined);
      });
    return this.looking;
  }

  private updateBadge(): void {
    if (!this.view || !this.status) return;
    const need = this.status.clusters.filter((c) => c.urgency >= 30).length;
    this.view.badge = need ? { value: need, tooltip: `${need} cluster(s) need attention` } : undefined;
    const clusters = this.status.clusters.length;
    this.view.message = `${clusters} cluster${clusters === 1 ? '' : 's'} · ${need} need${need === 1 ? 's' : ''} attention · looked at in ${(this.status.elapsedMs / 1000).toFixed(1)} s`;
  }

  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const s = autoRefreshSeconds();
    if (s > 0 && this.view?.visible) this.timer = setInterval(() => void this.refresh(), Math.max(5, s) * 1000);
  }

  getChildren(node?: FleetNode): FleetNode[] {
    const clusters = this.services.settings.clusters;
    if (!node) {
      const byName = new Map(this.status?.clusters.map((c) => [c.name, c]));
      const ranked = this.status ? rankClusters(this.status.clusters, this.sortValue).map((s) => clusters.find((c) => c.name === s.name)).filter((c): c is ClusterConfig => !!c) : [...clusters];
      const missing = clusters.filter((c) => !ranked.includes(c));
      // One node object per cluster while it is configured (VS Code matches rows by identity).
      return [...ranked, ...missing].map((cluster) => {
        const fields = { cluster, status: byName.get(cluster.name), looking: !!this.looking };
        const n = this.nodes.get(cluster.name);
        if (n) return Object.assign(n, fields);
        const made: FleetNode = { kind: 'fleetCluster', ...fields };
        this.nodes.set(cluster.name, made);
        return made;
      });
    }
    if (node.kind !== 'fleetCluster') return [];
    const c = node.status;
    const details: FleetNode[] = [];
    const looks = c ? this.status?.units.filter((l) => l.cluster === node.cluster.name) : node.cluster.units.map((u) => this.partial.get(u.key)).filter((l): l is UnitLookResult => !!l);
    c?.attention.forEach((text, i) => details.push({ kind: 'fleetDetail', id: `fleet:${node.cluster.name}:attention:${i}`, label: plain(text), icon: 'warning', color: 'list.warningForeground', tooltip: plainLines(text) }));
    for (const look of looks ?? []) details.push(unitDetail(node.cluster, look));
    if (c?.sync && c.sync.state !== 'unreachable') {
      const s = c.sync;
      const text = s.state === 'lagging' || s.lagging.length ? `${s.lagging.length} not mirrored (oldest ${shortAge(Math.round((s.oldestLagMs ?? 0) / 1000))})` : s.state === 'ok' ? 'in step' : s.state;
      details.push({ kind: 'fleetDetail', id: `fleet:${node.cluster.name}:sync`, label: 'HA sync', description: `${text} · pending actions ${s.pendingActions}`, icon: 'sync' });
    }
    const last = c?.lastRecovery;
    details.push({
      kind: 'fleetDetail',
      id: `fleet:${node.cluster.name}:last`,
      label: 'Last recovery',
      // From a journal file: shown as data, like everything read from a file.
      description: last ? plain(`${last.outcome} · ${new Date(last.at).toLocaleString()}${last.mails !== undefined ? ` · ${last.mails} mail(s)` : ''}${last.held ? ` · ${last.held} held` : ''}`) : c ? 'none from this machine' : '…',
      icon: 'history',
      tooltip: last ? plainLines(`${last.message ?? ''}\nJournal: ${last.journal}`.trim()) : undefined,
    });
    return details;
  }

  getTreeItem(node: FleetNode): vscode.TreeItem {
    if (node.kind === 'fleetDetail') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.id = node.id;
      item.description = node.description;
      item.iconPath = new vscode.ThemeIcon(node.icon, node.color ? new vscode.ThemeColor(node.color) : undefined);
      item.tooltip = node.tooltip;
      item.contextValue = 'fleetDetail';
      return item;
    }
    const c = node.status;
    const item = new vscode.TreeItem(plain(node.cluster.name, 100), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `fleet:${node.cluster.name}`;
    item.iconPath = urgencyIcon(c, node.looking);
    const answered = node.cluster.units.filter((u) => this.partial.has(u.key)).length;
    item.description = c ? plain(fleetDescription(c), 400) : node.looking ? `looking… (${answered}/2 units)` : 'not looked at yet';
    item.tooltip = c ? plainLines([`${node.cluster.name} (${node.cluster.gateway})`, ...(c.attention.length ? c.attention : ['Nothing needs attention.']), `Looked at in ${c.elapsedMs} ms.`].join('\n')) : undefined;
    item.contextValue = c?.stranded ? 'fleetCluster.stranded' : 'fleetCluster';
    return item;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
