// The "Queue Shape — <cluster>/<unit>" webview panel: the unit's folder(s) by age bucket and sender or
// recipient domain (core/spool/queueShape.ts), a bar chart, the stuck-mail warning on the active unit,
// Refresh and Export (CSV or JSON lines through a save dialog). One panel per unit; showing it again
// reveals it. The page script is src/webview/queueShapePage.ts; the messages are typed in
// src/protocol/queueShapeMessages.ts.
import * as vscode from 'vscode';
import { webviewPage } from './webviewPage';
import * as safeWindow from '../safeWindow';
import { askExportFile, saveExport } from '../exportFile';
import type { ClusterConfig, UnitConfig } from '../core/config';
import { formatTable } from '../core/export/table';
import { SPOOL_FOLDERS, SpoolFolder } from '../core/spool/list';
import { loadUnitOverview } from '../core/spool/overview';
import { EnvelopeCache, shapeOfFolders, shapeTable, stuckFolders } from '../core/spool/queueShape';
import { asText, capLength } from '../core/text/chars';
import type { FromShapeWebview, ShapeByChoice, ShapeFolderChoice, ShapeView, ToShapeWebview } from '../protocol/queueShapeMessages';
import type { Services } from '../services';
import { stuckAfterMinutes } from '../settings';

export const QUEUE_SHAPE_VIEW_TYPE = 'mailgwHa.queueShape';

export class QueueShapePanel implements vscode.Disposable {
  private static readonly panels = new Map<string, QueueShapePanel>();

  /** Opens (or reveals) the panel of a unit; `folder` chooses what it shows. */
  static show(context: vscode.ExtensionContext, services: Services, cluster: ClusterConfig, unit: UnitConfig, folder?: ShapeFolderChoice): QueueShapePanel {
    const existing = QueueShapePanel.panels.get(unit.key);
    if (existing) {
      existing.panel.reveal();
      if (folder && folder !== existing.folder) existing.refresh(folder, existing.by);
      return existing;
    }
    const p = new QueueShapePanel(context, services, cluster, unit, folder ?? 'all');
    QueueShapePanel.panels.set(unit.key, p);
    return p;
  }

  /** The open panels (for tests and disposal). */
  static get all(): readonly QueueShapePanel[] {
    return [...QueueShapePanel.panels.values()];
  }

  static disposeAll(): void {
    for (const p of [...QueueShapePanel.panels.values()]) p.dispose();
  }

  private readonly panel: vscode.WebviewPanel;
  private readonly envelopes = new EnvelopeCache(100_000);
  private ready = false;
  private folder: ShapeFolderChoice;
  private by: ShapeByChoice = 'recipient';
  /** The look being made; a newer one cancels it. */
  private look: { isCancellationRequested: boolean } | undefined;
  /** What the panel shows now (what Export writes). */
  current: ShapeView | undefined;
  private readonly changed = new vscode.EventEmitter<ShapeView>();
  /** Fires after each look shown (for tests). */
  readonly onDidShow = this.changed.event;
  private disposed = false;

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly services: Services,
    private readonly cluster: ClusterConfig,
    private readonly unit: UnitConfig,
    folder: ShapeFolderChoice,
  ) {
    this.folder = folder;
    const media = vscode.Uri.joinPath(context.extensionUri, 'media');
    const scripts = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview');
    this.panel = vscode.window.createWebviewPanel(QUEUE_SHAPE_VIEW_TYPE, `Queue Shape — ${cluster.name}/${unit.name}`, vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [media, scripts], retainContextWhenHidden: true });
    this.panel.webview.html = this.html(this.panel.webview);
    this.panel.onDidDispose(() => this.dispose());
    this.panel.webview.onDidReceiveMessage((m: FromShapeWebview) => this.onMessage(m));
  }

  get unitKey(): string {
    return this.unit.key;
  }

  private html(webview: vscode.Webview): string {
    const folders = [['all', 'All folders'], ...SPOOL_FOLDERS.map((f) => [f, `${f}/`])].map(([v, l]) => `<option value="${v}">${l}</option>`).join('');
    return webviewPage(webview, this.context.extensionUri, { title: 'Queue Shape', css: 'queueShape.css', script: 'queueShape.js', bodyAttributes: 'data-state="loading"', body: `<h1 id="title">Queue Shape</h1>
<div class="toolbar" role="toolbar" aria-label="Queue shape controls">
  <label>Folder <select id="folder" aria-label="Folder">${folders}</select></label>
  <span class="group" role="group" aria-label="Count by">
    <button id="byRecipient" type="button" aria-pressed="true" title="Count by recipient domain (a mail counts once per recipient domain)">Recipient domains</button>
    <button id="bySender" type="button" aria-pressed="false" title="Count by sender domain">Sender domains</button>
  </span>
  <button id="refresh" type="button" title="Look at the unit again">Refresh</button>
  <button id="exportCsv" type="button" title="Save this table as CSV">Export CSV…</button>
  <button id="exportJsonl" type="button" title="Save this table as JSON lines">Export JSON lines…</button>
  <span id="status" class="status" role="status" aria-live="polite">looking at the unit…</span>
</div>
<div id="stuck" class="stuck" role="alert" hidden></div>
<div id="error" class="error" role="alert" hidden></div>
<div id="chart" class="chart" aria-label="Mails per age bucket"></div>
<table id="shape" class="shape"></table>` });
  }

  private onMessage(m: FromShapeWebview): void {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        if (this.current && !this.look) this.post({ type: 'shape', shape: this.current });
        else if (!this.look) this.refresh(this.folder, this.by);
        else this.post({ type: 'loading', folder: this.folder, by: this.by });
        return;
      case 'refresh':
        if ((m.folder === 'all' || (SPOOL_FOLDERS as readonly string[]).includes(m.folder)) && (m.by === 'sender' || m.by === 'recipient')) this.refresh(m.folder, m.by);
        return;
      case 'export':
        if (m.format === 'csv' || m.format === 'jsonl') void this.exportShape(m.format);
        return;
    }
  }

  private post(m: ToShapeWebview): void {
    if (this.ready && !this.disposed) void this.panel.webview.postMessage(m);
  }

  /** Looks at the unit again and shows the shape of `folder` by `by`; resolves when shown (or failed). */
  refresh(folder: ShapeFolderChoice = this.folder, by: ShapeByChoice = this.by): Promise<ShapeView | undefined> {
    if (this.look) this.look.isCancellationRequested = true;
    const look = { isCancellationRequested: false };
    this.look = look;
    this.folder = folder;
    this.by = by;
    this.post({ type: 'loading', folder, by });
    return this.load(look, folder, by).then(
      (view) => {
        if (look !== this.look || this.disposed) return undefined;
        this.look = undefined;
        this.current = view;
        this.post({ type: 'shape', shape: view });
        this.changed.fire(view);
        return view;
      },
      (err: unknown) => {
        if (look !== this.look || this.disposed) return undefined;
        this.look = undefined;
        const text = capLength(`${this.unit.key}: ${asText(err)}`, 2_000);
        this.services.logger.warn(`queue shape: ${text}`);
        this.post({ type: 'error', text });
        return undefined;
      },
    );
  }

  private async load(look: { isCancellationRequested: boolean }, folder: ShapeFolderChoice, by: ShapeByChoice): Promise<ShapeView> {
    // The unit as configured now (a settings change may have moved or removed it).
    const ref = this.services.unit(this.unit.key);
    if (!ref) throw new Error('the unit is no longer configured');
    const conn = this.services.pool.get(ref.unit);
    await conn.connect();
    const overview = await loadUnitOverview(conn, ref.cluster);
    const folders: SpoolFolder[] = folder === 'all' ? [...SPOOL_FOLDERS] : [folder];
    const listings = folders.map((f) => overview.folders[f]);
    const nowMs = Date.now();
    let lastPost = 0;
    const shape = await shapeOfFolders(conn, ref.cluster, ref.unit.key, listings, this.envelopes, {
      by,
      nowMs,
      cancellation: look,
      onProgress: (done, total) => {
        if (Date.now() - lastPost < 200 && done < total) return;
        lastPost = Date.now();
        if (look === this.look) this.post({ type: 'loading', folder, by, done, total });
      },
    });
    const minutes = stuckAfterMinutes();
    const stuck = stuckFolders(overview.active, listings, nowMs, minutes);
    return {
      cluster: this.cluster.name,
      unit: this.unit.name,
      role: this.unit.role,
      active: overview.active,
      folder,
      by,
      at: new Date(nowMs).toISOString(),
      buckets: shape.buckets,
      total: shape.total,
      rows: shape.rows,
      mails: shape.mails,
      domains: shape.domains,
      unread: shape.unread,
      missing: listings.filter((l) => l.missing).map((l) => l.folder),
      stuckAfterMinutes: minutes,
      stuck,
    };
  }

  /** Saves what the panel shows as CSV or JSON lines. */
  async exportShape(format: 'csv' | 'jsonl', target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const view = this.current;
    if (!view) {
      void safeWindow.showWarningMessage('Mail Gateway HA: the queue shape is still being read; export it when it is shown.');
      return undefined;
    }
    const folder = view.folder === 'all' ? SPOOL_FOLDERS.join('+') : view.folder;
    const name = `queue-shape-${view.cluster}-${view.unit}-${view.folder}-${view.by}-${view.at.slice(0, 19).replace(/[:T]/g, '')}.${format}`;
    const uri = target ?? (await askExportFile(name, `Export Queue Shape of ${view.cluster}/${view.unit}`, format))?.uri;
    if (!uri) return undefined;
    const text = formatTable(shapeTable(view, { cluster: view.cluster, unit: view.unit, folder }), format);
    if (!(await saveExport(uri, text))) return undefined;
    this.services.logger.info(`queue shape of ${view.cluster}/${view.unit} ${folder} exported to ${uri.fsPath}`);
    void safeWindow.showInformationMessage(`Queue shape of ${view.cluster}/${view.unit} exported to ${uri.fsPath}.`);
    return uri;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.look) this.look.isCancellationRequested = true;
    if (QueueShapePanel.panels.get(this.unit.key) === this) QueueShapePanel.panels.delete(this.unit.key);
    this.changed.dispose();
    this.panel.dispose();
  }
}
