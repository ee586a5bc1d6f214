// The "Gateway Log" webview view in the bottom panel: live lines of the watched units, inserted
// ids highlighted and counted, errors marked, filter, pause, clear, click an id to reveal the mail,
// and during a recovery which expected ids the log has confirmed. Lines reach the webview in batches
// (every BATCH_MS) so thousands of lines per second do not flood the message channel; the webview
// caps its DOM rows (see src/webview/logPanelPage.ts).
import * as vscode from 'vscode';
import { webviewPage } from './webviewPage';
import * as safeWindow from '../safeWindow';
import type { ClusterConfig, UnitConfig } from '../core/config';
import { backfillShortText, FollowNotice } from '../core/log/follow';
import type { HubLine } from '../core/log/hub';
import { ShownLines, subscribeUnshown } from '../core/log/shownLines';
import type { RecoveryEvent } from '../core/recovery/runContract';
import type { Services } from '../services';
import { BATCH_MS, FromWebview, MAX_BUFFERED_LINES, PanelLine, PanelRecovery, PanelSource, ToWebview } from '../protocol/logPanelMessages';
import type { ClusterTreeProvider } from './clusterTree';
import type { LogDocuments } from './logDocument';
import type { LogWatch, Watch } from './logWatch';
import { isSafeMailId } from '../core/names';
import { checkFromWebview } from './logPanelMessageCheck';
import { FollowAgainBudget } from '../core/log/followAgain';
import { logSourceKey, parseLogSourceKey } from '../core/keys';

export const LOG_PANEL_VIEW = 'mailgwHa.logPanel';

type WebviewState = Extract<FromWebview, { type: 'state' }>;

interface PanelWatch {
  watch: Watch;
  unsubscribe: () => void;
  /** Why it stopped following for good (shown with a Resume button). */
  stopped: string | undefined;
  /** What the panel has shown of this log: a fresh source does not show it again. */
  shown: ShownLines<HubLine>;
  /** Its automatic resubscriptions (bounded per minute). */
  restarts: FollowAgainBudget;
}

export class LogPanel implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private readonly watches = new Map<string, PanelWatch>();
  private batch: PanelLine[] = [];
  private timer: NodeJS.Timeout | undefined;
  private recovery: PanelRecovery | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private lastState: WebviewState | undefined;
  /** For tests: when the last batch went to the webview, and its last line. */
  lastFlush: { at: number; text: string } | undefined;
  private readonly stateChanged = new vscode.EventEmitter<WebviewState>();
  /** For tests: what the webview reports it shows. */
  readonly onDidReportState = this.stateChanged.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly services: Services,
    private readonly logWatch: LogWatch,
    private readonly tree: ClusterTreeProvider,
    private readonly documents: LogDocuments,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewViewProvider(LOG_PANEL_VIEW, this, { webviewOptions: { retainContextWhenHidden: true } }),
      services.recoveryEvents.event((e) => this.onRecovery(e)),
      services.onDidChangeSettings(() => this.afterSettingsChange()),
    );
  }

  /**
   * A settings change closes the connections of units that changed or are gone, which ends their
   * sources: follow the changed ones again at once, and say "stopped" for the ones that are gone.
   */
  private afterSettingsChange(): void {
    for (const [key, entry] of [...this.watches]) {
      if (entry.stopped) continue;
      const standing = this.logWatch.standing(entry.watch);
      if (standing.kind === 'gone') this.onStopped(entry, key, entry.watch.source.info.file, 'the settings changed');
      else if (standing.kind === 'changed') {
        this.post({ type: 'notice', src: key, text: 'the unit\'s settings changed; following again', severity: 'info' });
        this.subscribe(key, standing.cluster, standing.unit, entry.watch.source.info.file);
      }
    }
  }

  get state(): WebviewState | undefined {
    return this.lastState;
  }

  /** Starts showing a unit's log in the panel (and reveals the panel); no file: the gateway log found on the unit. */
  async watch(cluster: ClusterConfig, unit: UnitConfig, file?: string): Promise<void> {
    const choice = file === undefined ? await this.logWatch.gatewayLog(cluster, unit) : undefined;
    const shown = file ?? choice!.file;
    const key = logSourceKey(unit.key, shown);
    const existing = this.watches.get(key);
    // A watch whose source ended (its connection was closed) or that was stopped is not following:
    // take a fresh source instead of showing the old lines forever.
    if (!existing || existing.watch.source.ended || existing.stopped) {
      this.subscribe(key, cluster, unit, shown);
      if (choice && !choice.fromSettings) this.post({ type: 'notice', src: key, text: `gateway log ${shown}: ${choice.why}`, severity: 'info' });
    }
    await vscode.commands.executeCommand(`${LOG_PANEL_VIEW}.focus`);
  }

  /** (Re)subscribes `key` to a live source; lines the panel already has are not sent again. */
  private subscribe(key: string, cluster: ClusterConfig, unit: UnitConfig, file: string): void {
    const old = this.watches.get(key);
    if (old) {
      old.unsubscribe();
      old.watch.release();
    }
    const watch = this.logWatch.watch(cluster, unit, file);
    const entry: PanelWatch = { watch, unsubscribe: () => undefined, stopped: undefined, shown: old?.shown ?? new ShownLines(), restarts: old?.restarts ?? new FollowAgainBudget() };
    entry.unsubscribe = subscribeUnshown(watch.source, entry.shown, {
      lines: (lines) => this.queue(key, lines),
      notice: (n) => this.onNotice(entry, key, file, n),
    });
    this.watches.set(key, entry);
    this.postSources();
  }

  private onNotice(entry: PanelWatch, key: string, file: string, n: FollowNotice): void {
    if (this.watches.get(key) !== entry) return;
    if (n.type === 'stopped') {
      this.onStopped(entry, key, file, n.error ?? 'done');
      return;
    }
    const text =
      n.type === 'rotated' ? `log rotated${n.archive ? ` (old file ${n.archive})` : '; the old file was not found'}` :
      n.type === 'truncated' ? 'log truncated; reading again from the start' :
      n.type === 'reconnecting' ? `connection lost; retrying in ${Math.round(n.delayMs / 100) / 10} s (${n.error})` :
      n.type === 'resumed' ? 'reconnected; nothing was missed' :
      n.type === 'backfillShort' ? backfillShortText(n) :
      `${file} does not exist (yet); waiting for it`;
    const severity = n.type === 'reconnecting' ? 'error' : n.type === 'resumed' ? 'info' : 'warning';
    this.post({ type: 'notice', src: key, text, severity });
  }

  /**
   * The source ended (a settings change closed its connection, or a fatal error): follow again from
   * where the panel was when the unit is still configured, within its FollowAgainBudget.
   */
  private onStopped(entry: PanelWatch, key: string, file: string, error: string): void {
    const ref = this.services.unit(entry.watch.unit.key);
    if (ref && entry.restarts.take()) {
      this.services.logger.info(`log panel: ${key} ended (${error}); following again`);
      this.post({ type: 'notice', src: key, text: `source ended (${error}); following again`, severity: 'info' });
      this.subscribe(key, ref.cluster, ref.unit, file);
      return;
    }
    entry.stopped = ref ? error : `${error}; ${entry.watch.unit.key} is no longer configured`;
    this.post({ type: 'notice', src: key, text: `stopped: ${entry.stopped}`, severity: 'error' });
    this.postSources();
  }

  /** Resume after "stopped": a fresh source from where the panel was. */
  resume(key: string): void {
    const w = this.watches.get(key);
    if (!w) return;
    const ref = this.services.unit(w.watch.unit.key);
    if (!ref) {
      this.post({ type: 'notice', src: key, text: `cannot resume: ${w.watch.unit.key} is no longer configured`, severity: 'error' });
      return;
    }
    w.restarts.reset();
    this.subscribe(key, ref.cluster, ref.unit, w.watch.source.info.file);
  }

  stop(key: string): void {
    const w = this.watches.get(key);
    if (!w) return;
    w.unsubscribe();
    w.watch.release();
    this.watches.delete(key);
    this.postSources();
  }

  /** For tests: the panel's watches and whether each follows. */
  get watchStates(): { key: string; following: boolean; stopped?: string }[] {
    return [...this.watches].map(([key, w]) => ({ key, following: !w.stopped && !w.watch.source.ended, stopped: w.stopped }));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const media = vscode.Uri.joinPath(this.context.extensionUri, 'media');
    const scripts = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
    view.webview.options = { enableScripts: true, localResourceRoots: [media, scripts] };
    view.webview.html = this.html(view.webview);
    view.onDidDispose(() => {
      if (this.view === view) {
        this.view = undefined;
        this.ready = false;
      }
    });
    view.webview.onDidReceiveMessage((raw: unknown) => {
      // The page shows what units wrote: its messages are checked like any untrusted input.
      const m = checkFromWebview(raw);
      if (m) this.onMessage(m);
      else this.services.logger.warn('log panel: dropped a message from the webview that is not one of its messages');
    });
  }

  private html(webview: vscode.Webview): string {
    return webviewPage(webview, this.context.extensionUri, { title: 'Gateway Log', css: 'logPanel.css', script: 'logPanel.js', body: `<header class="toolbar" role="toolbar" aria-label="Log controls">
  <label class="filter"><span class="sr-only">Filter</span><input id="filter" type="search" placeholder="Filter (text)" aria-label="Filter lines" spellcheck="false"></label>
  <label class="check"><input id="regex" type="checkbox"> Regex</label>
  <label class="check"><input id="insertedOnly" type="checkbox"> Inserted only</label>
  <button id="pause" type="button" aria-pressed="false" title="Pause (lines keep being collected)">Pause</button>
  <button id="clear" type="button" title="Clear the panel">Clear</button>
  <button id="watch" type="button" title="Watch another unit's log">Watch…</button>
  <span class="counter" id="counter" role="status" aria-live="polite">0 inserted</span>
</header>
<div id="sources" class="sources" aria-label="Watched logs"></div>
<div id="recovery" class="recovery" hidden role="region" aria-label="Recovery confirmation"></div>
<div id="notices" class="notices" role="log" aria-live="polite"></div>
<div id="empty" class="empty">No log is watched. Use <strong>Watch…</strong> or the command “Watch Log in Panel”.</div>
<main id="rows" class="rows" role="log" aria-label="Gateway log lines" tabindex="0"></main>` });
  }

  private onMessage(m: FromWebview): void {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.postSources();
        this.post({ type: 'recovery', recovery: this.recovery });
        // A fresh webview: replay what the sources hold (which includes anything queued), bounded.
        this.batch = [];
        for (const [key, w] of this.watches) {
          const recent = w.watch.source.recent;
          this.queue(key, recent.slice(Math.max(0, recent.length - MAX_BUFFERED_LINES)));
        }
        return;
      case 'reveal':
        void this.reveal(m.src, m.id);
        return;
      case 'watch':
        void vscode.commands.executeCommand('mailgwHa.watchLog');
        return;
      case 'openEditor': {
        const w = this.watches.get(m.src)?.watch;
        const ref = w && this.services.unit(w.unit.key);
        if (ref) void this.documents.open(ref.cluster, ref.unit, w.source.info.file).catch((err: Error) => void safeWindow.showErrorMessage(`Mail Gateway HA: cannot open the log of ${ref.unit.key}: ${err.message}`));
        return;
      }
      case 'resume':
        this.services.logger.info(`log panel: resumed ${m.src}`);
        this.resume(m.src);
        return;
      case 'stop':
        this.services.logger.info(`log panel: stopped watching ${m.src}`);
        this.stop(m.src);
        return;
      case 'state':
        this.lastState = m;
        this.stateChanged.fire(m);
        return;
    }
  }

  private async reveal(src: string, id: string): Promise<void> {
    const w = this.watches.get(src)?.watch;
    const cluster = w?.cluster.name ?? parseLogSourceKey(src)?.cluster ?? '';
    const found = await revealMailInTree(this.tree, cluster, id, w ? w.source.recent : []);
    this.post({ type: 'revealResult', id, found });
  }

  private onRecovery(e: RecoveryEvent): void {
    this.recovery = { cluster: e.cluster, phase: e.phase, expected: e.expectedIds ?? this.recovery?.expected ?? [], confirmed: e.confirmedIds ?? this.recovery?.confirmed ?? [] };
    this.post({ type: 'recovery', recovery: this.recovery });
  }

  private queue(src: string, lines: readonly HubLine[]): void {
    if (!lines.length) return;
    for (const l of lines) {
      this.batch.push({ src, seq: l.seq, text: l.text, kind: l.record.kind, ids: l.record.ids, history: l.history, ...(l.record.boxFormat ? {} : { unparsed: true }) });
    }
    // Bounded while the view is hidden or not ready: the oldest lines go first.
    if (this.batch.length > MAX_BUFFERED_LINES) this.batch.splice(0, this.batch.length - MAX_BUFFERED_LINES);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    if (!this.view || !this.ready) return; // kept (bounded) until the view is ready
    if (!this.batch.length) return;
    const lines = this.batch;
    this.batch = [];
    this.lastFlush = { at: Date.now(), text: lines[lines.length - 1].text };
    this.post({ type: 'lines', lines });
  }

  private postSources(): void {
    const sources: PanelSource[] = [...this.watches].map(([key, { watch, stopped }]) => ({ key, cluster: watch.cluster.name, unit: watch.unit.name, file: watch.source.info.file, stopped }));
    this.post({ type: 'sources', sources });
  }

  private post(m: ToWebview): void {
    if (this.view && this.ready) void this.view.webview.postMessage(m);
  }

  /** Sets the panel's filter (Reveal in Log). */
  setFilter(text: string, regex = false): void {
    this.post({ type: 'filter', text, regex });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const key of [...this.watches.keys()]) this.stop(key);
    for (const d of this.disposables) d.dispose();
    this.stateChanged.dispose();
  }
}

/**
 * Asks the Clusters tree to reveal a mail. If it is not there, says why when the log tells:
 * delivered, or renamed by the gateway.
 */
export async function revealMailInTree(tree: ClusterTreeProvider, cluster: string, id: string, recent: readonly HubLine[]): Promise<boolean> {
  if (typeof id !== 'string' || !isSafeMailId(id)) return false; // only a mail id names a mail
  const ask = () => tree.revealMail(cluster, id).catch(() => false);
  const refresh = () => Promise.resolve(tree.refreshWithProgress()).catch(() => undefined);
  // If the log says the mail has been delivered since, the tree's listing may be older: refresh first.
  const last = [...recent].reverse().find((l) => l.record.ids.includes(id) && (l.record.kind === 'delivered' || l.record.kind === 'inserted' || l.record.kind === 'renamed'));
  if (last?.record.kind === 'delivered') await refresh();
  let found = await ask();
  if (!found) {
    // The tree may show an older listing than the log: look at the units again once.
    await refresh();
    found = await ask();
  }
  if (!found) {
    const delivered = [...recent].reverse().find((l) => l.record.kind === 'delivered' && l.record.ids.includes(id));
    const renamed = [...recent].reverse().find((l) => l.record.kind === 'renamed' && l.record.ids[0] === id);
    const why = delivered
      ? `it has been delivered${delivered.record.timestamp ? ` (${delivered.record.timestamp.replace('T', ' ')})` : ''}${delivered.record.to ? ` to ${delivered.record.to}` : ''}`
      : renamed
        ? `the gateway gave it the new id ${renamed.record.ids[1]}`
        : 'it has probably been delivered already (or left the spool)';
    void safeWindow.showInformationMessage(`Mail ${id} is not in the Clusters tree: ${why}.`);
  }
  return found;
}
