// The Clusters view: cluster → unit (role, active/standby, connection state, leftover warning) →
// spool / vscan / input (count, size, oldest) → mails (id, From — Subject, tooltip), in pages.
// Data comes from core (loadUnitOverview, SummaryCache); this file only decides what to show.
//
// Loading rules: a unit is looked at when its node is first shown, on Refresh, on auto-refresh
// (only units whose connection is up: no refresh storm while disconnected), and once when a lost
// connection comes back. Message headers are read only for the mails of the pages shown (or for a
// whole folder while a header filter is active), and cached by id + mtime + size.
import * as vscode from 'vscode';
import { affectsSetting, autoRefreshSeconds, stuckAfterMinutes } from '../settings';
import type { ClusterConfig, Settings, UnitConfig } from '../core/config';
import type { MessageSummary } from '../core/message/headers';
import { describeFilter, filterNeedsHeaders, isFilterActive, MailFilter, MailFilterRun } from '../core/spool/filter';
import { FolderListing, MailEntry, SPOOL_FOLDERS, SpoolFolder } from '../core/spool/list';
import { leftoverCount, loadUnitOverview, UnitOverview } from '../core/spool/overview';
import { describeLeftovers, LeftoverSplit } from '../core/recovery/outcome';
import { LeftoverMarks } from '../core/recovery/leftoverMarks';
import { SummaryCache } from '../core/spool/summaries';
import { stuckMail } from '../core/spool/queueShape';
import type { ConnectionState } from '../core/ssh/connection';
import type { Services } from '../services';
import type { UnitLook } from '../core/sync/health';
import { SyncHealthMonitor, syncHealthItem } from './syncHealth';
import { ClusterTreeNode, FolderNode, MailNode, PAGE_SIZE, UnitNode } from './clusterTreeNodes';
import { clusterItem, errorItem, FolderFilterFacts, folderItem, mailItem, moreItem, plain, UNIT_DECORATION_SCHEME, unitItem, unitUri } from './clusterTreeItems';

export const VIEW_ID = 'mailgwHa.clusters';

interface UnitView {
  overview?: UnitOverview;
  error?: string;
  loading?: Promise<void>;
  /** A look asked for (Refresh) while one was running: it starts when that one ends. */
  again?: Promise<void>;
  /** The connection state seen last, to notice a reconnect. */
  lastState?: ConnectionState;
}

export class ClusterTreeProvider implements vscode.TreeDataProvider<ClusterTreeNode>, vscode.FileDecorationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ClusterTreeNode | ClusterTreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly decorationsChanged = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this.decorationsChanged.event;
  private settings: Settings = { clusters: [], errors: [] };
  private readonly units = new Map<string, UnitView>();
  /** Each unit's settings as last applied, to notice a change. */
  private signatures = new Map<string, string>();
  /** Duplicates and held mails on the standby secondaries, and how their leftovers split. */
  private readonly marks = new LeftoverMarks();
  /** Set while refresh() looks at every unit (it recomputes the sync health itself, once). */
  private refreshing = 0;
  /** Node objects by identity key: VS Code matches reveal()/change events by object identity. */
  private readonly nodes = new Map<string, ClusterTreeNode>();
  private readonly shown = new Map<string, number>();
  private filterValue: MailFilter | undefined;
  /** The filter's checks of header values (its regular expressions run in a worker, bounded). */
  private filterRun: MailFilterRun | undefined;
  readonly summaries = new SummaryCache();
  private view: vscode.TreeView<ClusterTreeNode> | undefined;
  private autoRefreshTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  readonly syncHealth: SyncHealthMonitor;

  constructor(private readonly services: Services) {
    this.syncHealth = new SyncHealthMonitor(services);
    this.disposables.push(
      this.syncHealth,
      this.syncHealth.onDidChange((name) => {
        const c = this.settings.clusters.find((x) => x.name === name);
        if (c) this.emit(this.syncNode(c));
      }),
    );
    const onState = (key: string, state: ConnectionState) => {
      const v = this.units.get(key);
      const was = v?.lastState;
      if (v) v.lastState = state;
      // A unit that cannot be reached (or refused us) shows why, never its last listing.
      if (v && state === 'failed' && v.overview) {
        v.overview = undefined;
        v.error = services.pool.peek(key)?.lastError?.message ?? 'connection failed';
        this.unitLookChanged(key);
      }
      // Back after a drop: look again once (the reconnect loop itself paces the attempts).
      if (v && state === 'connected' && (was === 'reconnecting' || v.error)) {
        const ref = services.unit(key);
        if (ref) void this.loadUnit(ref.cluster, ref.unit, false);
      }
      const node = this.nodes.get(`unit|${key}`);
      if (node) this.emit(node);
    };
    services.pool.on('state', onState);
    this.disposables.push({ dispose: () => services.pool.off('state', onState) });
    this.disposables.push(
      services.recoveryReports.event((r) => {
        const cluster = this.settings.clusters.find((c) => c.name === r.cluster);
        if (!cluster || !r.plan) return;
        this.marks.noteReport(cluster.secondary.key, r);
        void this.markDuplicates(cluster).catch(() => undefined);
      }),
    );
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsSetting(e, 'autoRefreshSeconds')) this.scheduleAutoRefresh();
      }),
    );
    this.scheduleAutoRefresh();
  }

  /** Creates the view (with its badge and filter description) and the unit decorations. */
  createView(): vscode.TreeView<ClusterTreeNode> {
    this.view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: true, canSelectMany: true });
    this.disposables.push(this.view, vscode.window.registerFileDecorationProvider(this));
    this.updateBadge();
    return this.view;
  }

  update(settings: Settings): void {
    this.settings = settings;
    // A unit that is gone, or whose settings changed (host, port, user, key, the cluster's names or
    // paths), has no listing any more: what was seen there says nothing about the new target.
    const signatures = new Map(settings.clusters.flatMap((c) => c.units.map((u) => [u.key, unitSignature(c, u)] as const)));
    for (const k of [...this.units.keys()]) if (signatures.get(k) !== this.signatures.get(k)) this.units.delete(k);
    this.signatures = signatures;
    // Nodes hold config objects: new settings, new nodes.
    this.nodes.clear();
    this.syncHealth.retain(settings.clusters);
    this.emit(undefined);
    this.updateBadge();
  }

  /** refresh() (or one unit's) with the view's progress bar: the Refresh command, and after a change. */
  refreshWithProgress(unitKey?: string): Thenable<void> {
    return vscode.window.withProgress({ location: { viewId: VIEW_ID } }, () => (unitKey ? this.refreshUnit(unitKey) : this.refresh()));
  }

  /** Looks at every unit again (the Refresh command; recovery calls it after a run). */
  async refresh(): Promise<void> {
    this.refreshing++;
    try {
      // A unit whose connection is down shows "looking…", not its last listing, while it is retried.
      for (const c of this.settings.clusters) {
        for (const u of c.units) {
          const v = this.units.get(u.key);
          const state = this.services.pool.peek(u.key)?.state;
          if (v?.overview && !v.loading && state !== 'connected') v.overview = undefined;
        }
      }
      await Promise.all(this.settings.clusters.flatMap((c) => c.units.map((u) => this.loadUnit(c, u, true, false, true))));
      await Promise.all(this.settings.clusters.map((c) => this.refreshSync(c)));
    } finally {
      this.refreshing--;
    }
  }

  /** The sync health from the looks just taken, or "unknown" when a unit could not be looked at. */
  private refreshSync(cluster: ClusterConfig): Promise<unknown> {
    const failed = cluster.units.map((u) => this.units.get(u.key)?.error).find((e) => e);
    if (failed) {
      this.syncHealth.unreachable(cluster, failed);
      return Promise.resolve();
    }
    return this.syncHealth.refresh(cluster, this.looks(cluster)).catch(() => undefined);
  }

  /** After a look at a unit (or its loss): its node, the badge, and the cluster's sync health. */
  private unitLookChanged(key: string): void {
    const n = this.nodes.get(`unit|${key}`);
    if (n) this.emit(n);
    this.updateBadge();
    const ref = this.services.unit(key);
    if (ref) void this.markDuplicates(ref.cluster).catch((err: Error) => this.services.logger.warn(`${ref.cluster.name}: cannot compare the standby's mails with the active unit's: ${err.message}`));
    if (!ref || this.refreshing) return;
    const others = ref.cluster.units.filter((u) => u.key !== key);
    // Once every unit of the cluster has been looked at (and none is being looked at).
    if (others.every((u) => this.units.get(u.key) && !this.units.get(u.key)?.loading) && this.units.get(key) && !this.units.get(key)!.loading) void this.refreshSync(ref.cluster);
  }

  /**
   * At start-up, without the view open: looks at every unit in the background so stranded mail
   * shows in the badge at once. Never prompts (no password, passphrase or host-key question): a
   * unit that would need one is left as not looked at, and asks when the user opens it.
   */
  lookInBackground(): Promise<void> {
    return Promise.all(this.settings.clusters.flatMap((c) => c.units.filter((u) => !this.units.get(u.key)).map((u) => this.loadUnit(c, u, false, true)))).then(() => undefined);
  }

  /** Looks at one unit again. */
  refreshUnit(unitKey: string): Promise<void> {
    const ref = this.services.unit(unitKey);
    return ref ? this.loadUnit(ref.cluster, ref.unit, true, false, true) : Promise.resolve();
  }

  /** Resolves when no unit is being looked at. */
  async whenIdle(): Promise<void> {
    // Only looks not waited for yet: a settled look is never awaited again (that would spin on
    // microtasks and starve the extension host's event loop).
    const waited = new Set<Promise<void>>();
    for (;;) {
      const pending = [...this.units.values()].map((v) => v.loading).filter((p): p is Promise<void> => !!p && !waited.has(p));
      if (pending.length === 0) return;
      for (const p of pending) waited.add(p);
      await Promise.all(pending);
    }
  }

  /** For suites: what the view shows in its badge and description, and the current selection. */
  get viewState(): { badge?: vscode.ViewBadge; description?: string; message?: string; selection: readonly ClusterTreeNode[] } {
    return { badge: this.view?.badge, description: this.view?.description, message: this.view?.message, selection: this.view?.selection ?? [] };
  }

  // ---- filter ---------------------------------------------------------------------------------

  get filter(): MailFilter | undefined {
    return this.filterValue;
  }

  /**
   * Sets (or clears, with undefined) the filter. A filter on headers first reads the headers of
   * every listed mail (cached), reporting progress; cancelling leaves the previous filter.
   */
  async setFilter(filter: MailFilter | undefined, progress?: { report(done: number, total: number): void; token?: vscode.CancellationToken }): Promise<boolean> {
    const next = isFilterActive(filter) ? filter : undefined;
    if (filterNeedsHeaders(next)) {
      await this.whenIdle();
      const work = this.loadedUnits().flatMap(({ cluster, unit, overview }) => SPOOL_FOLDERS.map((f) => ({ cluster, unit, mails: overview.folders[f].mails.filter((m) => !this.summaries.has(unit.key, m)) })));
      const total = work.reduce((n, w) => n + w.mails.length, 0);
      let done = 0;
      for (const w of work) {
        if (w.mails.length === 0) continue;
        const base = done;
        await this.summaries.load(this.services.pool.get(w.unit), w.cluster, w.unit.key, w.mails, {
          cancellation: progress?.token,
          onProgress: (d) => progress?.report(base + d, total),
        });
        done = base + w.mails.length;
        if (progress?.token?.isCancellationRequested) return false;
      }
    }
    // The header values of every listed mail checked against the filter's regular expressions,
    // off this thread (a hostile header cannot freeze VS Code; a stopped pattern is said in the view).
    const run = next ? new MailFilterRun(next) : undefined;
    if (run) await run.prepare(this.loadedUnits().flatMap(({ unit, overview }) => SPOOL_FOLDERS.flatMap((f) => overview.folders[f].mails.map((m) => this.summaries.get(unit.key, m)))));
    if (progress?.token?.isCancellationRequested) return false;
    this.filterRun?.dispose();
    this.filterRun = run;
    this.filterValue = next;
    for (const k of [...this.shown.keys()]) this.shown.delete(k);
    this.showFilter();
    void vscode.commands.executeCommand('setContext', 'mailgwHa.filterActive', !!next);
    this.emit(undefined);
    return true;
  }

  // ---- data -----------------------------------------------------------------------------------

  private unitView(key: string): UnitView {
    let v = this.units.get(key);
    if (!v) this.units.set(key, (v = {}));
    return v;
  }

  /** What the sync comparison needs from this tree's last look at each unit, if all of them were seen. */
  private looks(cluster: ClusterConfig): UnitLook[] | undefined {
    const looks = cluster.units.map((unit) => ({ unit, overview: this.units.get(unit.key)?.overview }));
    if (looks.some((l) => !l.overview)) return undefined;
    return looks.map(({ unit, overview }) => ({ unit, active: overview!.active, spool: overview!.folders.spool }));
  }

  /** The last look at a unit, if it succeeded. */
  overview(unitKey: string): UnitOverview | undefined {
    return this.units.get(unitKey)?.overview;
  }

  private loadedUnits(): { cluster: ClusterConfig; unit: UnitConfig; overview: UnitOverview }[] {
    return this.settings.clusters.flatMap((cluster) =>
      cluster.units.flatMap((unit) => {
        const overview = this.units.get(unit.key)?.overview;
        return overview ? [{ cluster, unit, overview }] : [];
      }),
    );
  }

  /**
   * Looks at a unit. A look already running is shared, except for `fresh` (Refresh): that one gets
   * a look that starts after it — the running one may have listed the spool before the change the
   * user refreshes for (e.g. the background look at activation).
   */
  private loadUnit(cluster: ClusterConfig, unit: UnitConfig, interactive: boolean, quiet = false, fresh = false): Promise<void> {
    const v = this.unitView(unit.key);
    if (v.loading && fresh) {
      const running = v.loading;
      v.again ??= running.then(() => {
        v.again = undefined;
        // The settings may have changed meanwhile: look at the unit as it is configured now.
        const ref = this.services.unit(unit.key);
        return ref ? this.loadUnit(ref.cluster, ref.unit, interactive, quiet) : undefined;
      });
      return v.again;
    }
    if (v.loading) return v.loading;
    const started = Date.now();
    let look: Promise<void> | undefined = undefined;
    look = (async () => {
      // Start after `v.loading` is set: a look that failed at once (a unit the settings no longer
      // name) must still clear it in `finally`, or the unit would look "busy" for ever.
      await undefined;
      try {
        const conn = this.services.pool.get(unit);
        await conn.connect(interactive);
        v.overview = await loadUnitOverview(conn, cluster);
        v.error = undefined;
        this.services.logger.debug(`${unit.key}: spool listed in ${Date.now() - started} ms (${SPOOL_FOLDERS.map((f) => `${f} ${v.overview!.folders[f].mails.length}`).join(', ')})`);
      } catch (err) {
        // No stale listing: what is shown must be what is there.
        v.overview = undefined;
        v.error = (err as Error).message;
        this.services.logger.warn(`${unit.key}: cannot list the spool: ${v.error}`);
        // A background look that failed leaves no mark: opening the unit looks (and asks) again.
        if (quiet) v.error = undefined;
      } finally {
        if (v.loading === look) v.loading = undefined;
        if (this.units.get(unit.key) === v) this.unitLookChanged(unit.key);
      }
    })();
    v.loading = look;
    return look;
  }

  private scheduleAutoRefresh(): void {
    if (this.autoRefreshTimer) clearInterval(this.autoRefreshTimer);
    this.autoRefreshTimer = undefined;
    const seconds = autoRefreshSeconds();
    if (!(seconds > 0)) return;
    this.autoRefreshTimer = setInterval(() => this.autoRefresh(), Math.max(5, seconds) * 1000);
  }

  /** Only units whose connection is up; a unit still being looked at is skipped, never queued. */
  private autoRefresh(): void {
    // The sync health follows each look (unitLookChanged), from the looks just taken.
    for (const cluster of this.settings.clusters) {
      for (const unit of cluster.units) {
        const v = this.units.get(unit.key);
        if (!v || v.loading) continue;
        if (this.services.pool.peek(unit.key)?.state !== 'connected') continue;
        void this.loadUnit(cluster, unit, false);
      }
    }
  }

  private readonly marking = new Map<string, Promise<void>>();
  private readonly markAgain = new Set<string>();

  /**
   * Marks the mails on a standby secondary that the active unit holds under the same gateway id and
   * sizes in spool/, vscan/ or input/ (from the listings alone). The delivery log is not searched and
   * nothing is compared by content here: the recovery plan and Remove Mails do that and say so.
   */
  private markDuplicates(cluster: ClusterConfig): Promise<void> {
    // One at a time per cluster; a look that arrives meanwhile gets a new comparison afterwards.
    const running = this.marking.get(cluster.name);
    if (running) {
      this.markAgain.add(cluster.name);
      return running;
    }
    const p = (async () => {
      const sec = cluster.secondary;
      const so = this.units.get(sec.key)?.overview;
      const active = cluster.units.find((u) => this.units.get(u.key)?.overview?.active);
      const ao = active && this.units.get(active.key)?.overview;
      if (!so || !ao || !active || active.key === sec.key || leftoverCount(sec, so) === 0) {
        if (this.marks.setDuplicates(sec.key, undefined)) this.afterDuplicates(cluster);
        return;
      }
      const theirs = SPOOL_FOLDERS.flatMap((f) => ao.folders[f].mails.filter((m) => m.complete));
      const mine = SPOOL_FOLDERS.flatMap((f) => so.folders[f].mails.filter((m) => m.complete));
      const found = this.marks.findDuplicates(sec.key, mine, theirs, active.name);
      if (this.marks.setDuplicates(sec.key, found)) this.afterDuplicates(cluster);
    })().finally(() => {
      this.marking.delete(cluster.name);
      if (this.markAgain.delete(cluster.name)) {
        const now = this.settings.clusters.find((c) => c.name === cluster.name);
        if (now) void this.markDuplicates(now).catch(() => undefined);
      }
    });
    this.marking.set(cluster.name, p);
    return p;
  }

  private afterDuplicates(cluster: ClusterConfig): void {
    const sec = cluster.secondary;
    const nodes = [this.nodes.get(`unit|${sec.key}`), ...SPOOL_FOLDERS.map((f) => this.nodes.get(`folder|${sec.key}|${f}`))].filter((n): n is ClusterTreeNode => !!n);
    if (nodes.length) this.emit(nodes);
    this.updateBadge();
  }

  /** What is left on a standby secondary, split by what can be done about it. */
  leftoverSplit(unit: UnitConfig): LeftoverSplit {
    return this.marks.split(unit, this.units.get(unit.key)?.overview);
  }

  leftovers(): { unit: UnitConfig; count: number }[] {
    return this.settings.clusters.flatMap((c) => c.units.map((unit) => ({ unit, count: leftoverCount(unit, this.units.get(unit.key)?.overview) }))).filter((x) => x.count > 0);
  }

  private updateBadge(): void {
    const left = this.leftovers();
    const total = left.reduce((n, x) => n + x.count, 0);
    if (this.view) {
      const parts = left.map((x) => {
        const d = describeLeftovers(this.leftoverSplit(x.unit));
        return `${x.unit.key}: ${x.count} — ${d.text}; next: ${d.next}`;
      });
      this.view.badge = total > 0 ? { value: total, tooltip: plain(`${total} mail(s) left on standby secondary unit(s). ${parts.join('. ')}`) } : undefined;
    }
    void vscode.commands.executeCommand('setContext', 'mailgwHa.leftoverCount', total);
    this.decorationsChanged.fire(this.settings.clusters.flatMap((c) => c.units.map((u) => unitUri(u.key))));
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== UNIT_DECORATION_SCHEME) return undefined;
    const key = decodeURIComponent(uri.path.slice(1));
    const ref = this.services.unit(key);
    const n = ref ? leftoverCount(ref.unit, this.units.get(key)?.overview) : 0;
    if (n === 0) return undefined;
    const d = describeLeftovers(this.leftoverSplit(ref!.unit));
    return new vscode.FileDecoration(n > 99 ? '99+' : String(n), `${n} mail(s) left on this standby unit: ${d.text}; next: ${d.next}`, new vscode.ThemeColor('list.warningForeground'));
  }

  // ---- change events ----------------------------------------------------------------------------
  // VS Code registers a node's children by id when they arrive; two fetches of the same children in
  // flight at once make it fail with "Element with id … is already registered". So a change event
  // waits while a fetch runs in the same unit's subtree (or at the root), and goes out when that
  // fetch is done. Units are independent: one waiting for a passphrase does not hold up the others.
  private readonly pending = new Map<string, number>();
  private deferred: { all: boolean; nodes: Set<ClusterTreeNode> } = { all: false, nodes: new Set() };
  private readonly fetchWaiters = new Map<ClusterTreeNode, (() => void)[]>();

  /** '*' for the root and clusters (their refresh re-fetches every expanded unit), else the unit key. */
  private static scope(node: ClusterTreeNode | undefined): string {
    return !node || node.kind === 'cluster' || node.kind === 'error' || node.kind === 'sync' ? '*' : node.unit.key;
  }

  private blocked(scope: string): boolean {
    if (this.pending.size === 0) return false;
    return scope === '*' || this.pending.has('*') || this.pending.has(scope);
  }

  private emit(what: ClusterTreeNode | ClusterTreeNode[] | undefined): void {
    const nodes = what === undefined ? undefined : Array.isArray(what) ? what : [what];
    if (!nodes) {
      if (this.blocked('*')) this.deferred.all = true;
      else this.changed.fire(undefined);
      return;
    }
    const now = nodes.filter((n) => !this.blocked(ClusterTreeProvider.scope(n)));
    for (const n of nodes) if (!now.includes(n)) this.deferred.nodes.add(n);
    if (now.length) this.changed.fire(now);
  }

  private flushDeferred(): void {
    if (this.deferred.all) {
      if (this.blocked('*')) return;
      this.deferred = { all: false, nodes: new Set() };
      this.changed.fire(undefined);
      return;
    }
    const ready = [...this.deferred.nodes].filter((n) => !this.blocked(ClusterTreeProvider.scope(n)));
    for (const n of ready) this.deferred.nodes.delete(n);
    if (ready.length) this.changed.fire(ready);
  }

  /** Resolves after VS Code next fetched the node's children, or after `ms` (it may be collapsed). */
  private nextFetch(node: ClusterTreeNode, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      const list = this.fetchWaiters.get(node) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.fetchWaiters.set(node, list);
    });
  }

  // ---- nodes ----------------------------------------------------------------------------------

  private node<T extends ClusterTreeNode>(key: string, make: () => T, update?: (n: T) => void): T {
    let n = this.nodes.get(key) as T | undefined;
    if (!n) this.nodes.set(key, (n = make()));
    else update?.(n);
    return n;
  }

  clusterNode(cluster: ClusterConfig): ClusterTreeNode {
    return this.node(`cluster|${cluster.name}`, () => ({ kind: 'cluster', cluster }));
  }
  syncNode(cluster: ClusterConfig): ClusterTreeNode {
    return this.node(`sync|${cluster.name}`, () => ({ kind: 'sync', cluster }));
  }
  unitNode(cluster: ClusterConfig, unit: UnitConfig): UnitNode {
    return this.node(`unit|${unit.key}`, () => ({ kind: 'unit', cluster, unit }));
  }
  folderNode(cluster: ClusterConfig, unit: UnitConfig, folder: SpoolFolder): FolderNode {
    return this.node(`folder|${unit.key}|${folder}`, () => ({ kind: 'folder', cluster, unit, folder }));
  }
  private mailNode(cluster: ClusterConfig, unit: UnitConfig, mail: MailEntry): MailNode {
    return this.node<MailNode>(
      `mail|${unit.key}|${mail.folder}|${mail.id}`,
      () => ({ kind: 'mail', cluster, unit, folder: mail.folder, mail }),
      (n) => ((n as { mail: MailEntry }).mail = mail),
    );
  }

  /** The view's description and message for the filter (and why a pattern of it was stopped). */
  private showFilter(): void {
    if (!this.view) return;
    const f = this.filterValue;
    const stopped = this.filterRun?.stopped;
    this.view.description = f ? plain(`filter: ${describeFilter(f)}${stopped ? ' (stopped)' : ''}`, 200) : undefined;
    // The description is not shown when the view is alone in its container: say it in the view too.
    this.view.message = f ? plain(`Filtered: ${describeFilter(f)}. ${stopped ? `${stopped} ` : ''}Only matching mails are listed (Clear Filter in the view's title shows all).`) : undefined;
  }

  /** Checks a folder's header values against the filter (in its worker); says so if a pattern was stopped. */
  private async prepareFilter(unitKey: string, listing: FolderListing): Promise<void> {
    const run = this.filterRun;
    if (!run) return;
    const before = run.stopped;
    await run.prepare(listing.mails.map((m) => this.summaries.get(unitKey, m))).catch((err: Error) => this.services.logger.warn(`filter: ${err.message}`));
    if (run === this.filterRun && run.stopped !== before) this.showFilter();
  }

  /** The mails of a folder that pass the filter (all of them when none is set), from what its run checked. */
  private visibleMails(unitKey: string, listing: FolderListing): readonly MailEntry[] {
    const run = this.filterValue && this.filterRun;
    if (!run) return listing.mails;
    const now = Date.now();
    return listing.mails.filter((m) => run.matches(m, this.summaries.get(unitKey, m), now));
  }

  getParent(node: ClusterTreeNode): ClusterTreeNode | undefined {
    switch (node.kind) {
      case 'cluster':
        return undefined;
      case 'unit':
      case 'sync':
        return this.clusterNode(node.cluster);
      case 'folder':
        return this.unitNode(node.cluster, node.unit);
      case 'mail':
      case 'more':
        return this.folderNode(node.cluster, node.unit, node.folder);
      case 'failure':
        return this.unitNode(node.cluster, node.unit);
      case 'error':
        return undefined;
    }
  }

  async getChildren(node?: ClusterTreeNode): Promise<ClusterTreeNode[]> {
    const scope = ClusterTreeProvider.scope(node);
    this.pending.set(scope, (this.pending.get(scope) ?? 0) + 1);
    try {
      return await this.fetchChildren(node);
    } finally {
      const left = (this.pending.get(scope) ?? 1) - 1;
      if (left > 0) this.pending.set(scope, left);
      else this.pending.delete(scope);
      if (node) {
        const waiters = this.fetchWaiters.get(node);
        this.fetchWaiters.delete(node);
        waiters?.forEach((w) => setTimeout(w, 0));
      }
      // After VS Code has taken these children (next tick), not while it registers them.
      if (this.deferred.all || this.deferred.nodes.size) setTimeout(() => this.flushDeferred(), 0);
    }
  }

  private async fetchChildren(node?: ClusterTreeNode): Promise<ClusterTreeNode[]> {
    if (!node) {
      return [
        ...this.settings.errors.map((error): ClusterTreeNode => ({ kind: 'error', error })),
        ...this.settings.clusters.map((c) => this.clusterNode(c)),
      ];
    }
    switch (node.kind) {
      case 'cluster':
        // The sync row's first look (Refresh and auto-refresh look again); drawing a row never connects.
        if (!this.syncHealth.get(node.cluster.name)) void this.syncHealth.refresh(node.cluster, this.looks(node.cluster)).catch(() => undefined);
        return [...node.cluster.units.map((u) => this.unitNode(node.cluster, u)), this.syncNode(node.cluster)];
      case 'unit': {
        const v = this.unitView(node.unit.key);
        if (!v.overview && !v.error) await this.loadUnit(node.cluster, node.unit, true);
        if (v.error) return [{ kind: 'failure', message: v.error, cluster: node.cluster, unit: node.unit }];
        return SPOOL_FOLDERS.map((f) => this.folderNode(node.cluster, node.unit, f));
      }
      case 'folder':
        return this.folderChildren(node);
      default:
        return [];
    }
  }

  private async folderChildren(node: FolderNode): Promise<ClusterTreeNode[]> {
    const listing = this.units.get(node.unit.key)?.overview?.folders[node.folder];
    if (!listing) return [];
    const conn = this.services.pool.get(node.unit);
    if (filterNeedsHeaders(this.filterValue)) {
      // Set after a refresh: the folder's headers are needed to decide what matches.
      await this.summaries.load(conn, node.cluster, node.unit.key, listing.mails).catch(() => undefined);
      await this.prepareFilter(node.unit.key, listing);
    }
    const mails = this.visibleMails(node.unit.key, listing);
    const key = `${node.unit.key}|${node.folder}`;
    const shown = Math.min(mails.length, this.shown.get(key) ?? PAGE_SIZE);
    const page = mails.slice(0, shown).map((m) => this.mailNode(node.cluster, node.unit, m));
    const children: ClusterTreeNode[] = [...page];
    if (shown < mails.length) children.push({ kind: 'more', cluster: node.cluster, unit: node.unit, folder: node.folder, shown, total: mails.length });
    // Headers of the mails on the page, read in the background; their items update as they arrive.
    const missing = page.filter((n) => !this.summaries.has(node.unit.key, n.mail));
    if (missing.length > 0) {
      void this.summaries
        .load(conn, node.cluster, node.unit.key, missing.map((n) => n.mail))
        .catch((err: Error) => this.services.logger.warn(`${node.unit.key}: cannot read message headers: ${err.message}`))
        .finally(() => this.emit(missing));
    }
    return children;
  }

  /** "Show more": one more page of a folder. */
  showMore(node: { unit: UnitConfig; folder: SpoolFolder; cluster: ClusterConfig }): void {
    const key = `${node.unit.key}|${node.folder}`;
    this.shown.set(key, (this.shown.get(key) ?? PAGE_SIZE) + PAGE_SIZE);
    this.emit(this.folderNode(node.cluster, node.unit, node.folder));
  }

  /** Shows a cluster's row in the tree, expanded and selected (the Fleet view's "Reveal"). */
  async revealCluster(clusterName: string): Promise<boolean> {
    const cluster = this.settings.clusters.find((c) => c.name === clusterName);
    if (!cluster || !this.view) return false;
    await this.view.reveal(this.clusterNode(cluster), { select: true, focus: true, expand: true });
    return true;
  }

  /**
   * Shows a mail of a cluster in the tree (its unit looked at if needed, its page shown) and
   * selects it. False if no unit of the cluster holds it, or the filter hides it.
   */
  async revealMail(clusterName: string, id: string): Promise<boolean> {
    const cluster = this.settings.clusters.find((c) => c.name === clusterName);
    if (!cluster) return false;
    await Promise.all(cluster.units.map((u) => (this.units.get(u.key)?.overview ? undefined : this.loadUnit(cluster, u, true))));
    for (const unit of cluster.units) {
      const overview = this.units.get(unit.key)?.overview;
      if (!overview) continue;
      for (const folder of SPOOL_FOLDERS) {
        const mail = overview.folders[folder].mails.find((m) => m.id === id);
        if (!mail) continue;
        if (filterNeedsHeaders(this.filterValue)) {
          await this.summaries.load(this.services.pool.get(unit), cluster, unit.key, overview.folders[folder].mails).catch(() => undefined);
          await this.prepareFilter(unit.key, overview.folders[folder]);
        }
        const index = this.visibleMails(unit.key, overview.folders[folder]).indexOf(mail);
        if (index < 0) return false;
        const key = `${unit.key}|${folder}`;
        const need = Math.ceil((index + 1) / PAGE_SIZE) * PAGE_SIZE;
        if ((this.shown.get(key) ?? PAGE_SIZE) < need) {
          this.shown.set(key, need);
          const folderNode = this.folderNode(cluster, unit, folder);
          // reveal() looks in the children VS Code has: let it take the longer page first.
          const fetched = this.nextFetch(folderNode, 1000);
          this.emit(folderNode);
          await fetched;
        }
        const node = this.mailNode(cluster, unit, mail);
        if (this.view) await this.view.reveal(node, { select: true, focus: true, expand: false });
        return true;
      }
    }
    return false;
  }

  /** For suites and commands: a node's children with the items VS Code would show. */
  async describeChildren(node?: ClusterTreeNode): Promise<{ node: ClusterTreeNode; label: string; description: string; contextValue?: string; tooltip: string }[]> {
    const children = await this.getChildren(node);
    return children.map((n) => {
      const item = this.getTreeItem(n);
      const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
      const tooltip = typeof item.tooltip === 'string' ? item.tooltip : (item.tooltip?.value ?? '');
      return { node: n, label, description: typeof item.description === 'string' ? item.description : '', contextValue: item.contextValue, tooltip };
    });
  }

  summaryOf(node: MailNode): MessageSummary | undefined {
    return this.summaries.get(node.unit.key, node.mail);
  }

  // ---- items ----------------------------------------------------------------------------------

  getTreeItem(node: ClusterTreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'sync':
        return syncHealthItem(node.cluster, this.syncHealth.get(node.cluster.name));
      case 'error':
      case 'failure':
        return errorItem(node);
      case 'cluster':
        return clusterItem(node.cluster);
      case 'unit': {
        const v = this.units.get(node.unit.key);
        return unitItem(node, { overview: v?.overview, looking: !!v?.loading, connection: this.services.pool.peek(node.unit.key), leftovers: () => this.leftoverSplit(node.unit) });
      }
      case 'folder': {
        const overview = this.units.get(node.unit.key)?.overview;
        const listing = overview?.folders[node.folder];
        // Old mail in the active unit's own queue: the gateway is not delivering it.
        const stuck = listing && overview.active ? stuckMail(listing, Date.now(), stuckAfterMinutes()) : undefined;
        return folderItem(node, listing, listing && this.filterValue ? this.folderFilterFacts(node, listing) : undefined, stuck && { ...stuck, minutes: stuckAfterMinutes() });
      }
      case 'mail': {
        const key = node.unit.key;
        return mailItem(node, { summary: this.summaries.get(key, node.mail), duplicate: this.marks.duplicateOf(key, node.mail.id), held: this.marks.heldWhy(key, node.mail.id) });
      }
      case 'more':
        return moreItem(node);
    }
  }

  private folderFilterFacts(node: FolderNode, listing: FolderListing): FolderFilterFacts {
    const run = this.filterRun;
    const known = !filterNeedsHeaders(this.filterValue) || listing.mails.every((m) => this.summaries.has(node.unit.key, m) && (!run || run.isReady(this.summaries.get(node.unit.key, m))));
    return { known, matching: known ? this.visibleMails(node.unit.key, listing).length : 0 };
  }

  dispose(): void {
    if (this.autoRefreshTimer) clearInterval(this.autoRefreshTimer);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
    this.decorationsChanged.dispose();
  }
}

/** What a unit's listing depends on: its own settings and its cluster's names and paths. */
function unitSignature(cluster: ClusterConfig, unit: UnitConfig): string {
  return JSON.stringify([unit, cluster.server, cluster.service, cluster.spoolRoot, cluster.logFile]);
}
