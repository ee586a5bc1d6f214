// Read-only editor documents for gateway logs: `mailgw-log:/<cluster>/<unit>/<absolute file>`.
// A document opens at the tail (the lines the shared follower read back), keeps appending while it
// is open, and can load earlier text on demand ("Load earlier lines" CodeLens / editor title
// button). Inserted-mail ids are links that reveal the mail in the Clusters tree; inserted lines and
// errors are marked in the overview ruler. Colours come from the TextMate grammar
// media/mailgw-log.tmLanguage.json, so they follow the user's theme.
import * as vscode from 'vscode';
import { isGatewayLogPath } from '../core/log/paths';
import * as safeWindow from '../safeWindow';
import type { ClusterConfig, UnitConfig } from '../core/config';
import { readBefore } from '../core/log/follow';
import type { HubLine } from '../core/log/hub';
import { ShownLines, subscribeUnshown } from '../core/log/shownLines';
import { logLineText } from '../core/text/terminal';
import { LogKind, parseLine } from '../core/log/parse';
import type { Services } from '../services';
import type { LogWatch, Watch } from './logWatch';
import { FollowAgainBudget } from '../core/log/followAgain';

export const LOG_SCHEME = 'mailgw-log';
export const LOG_LANGUAGE = 'mailgw-log';
/** Most lines a document holds; older ones are dropped from the top (and can be loaded again). */
const MAX_LINES = 50_000;
const LOAD_MORE_BYTES = 512 << 10;
const CHANGE_THROTTLE_MS = 250;

interface DocState {
  readonly uri: vscode.Uri;
  readonly file: string;
  /** The watch followed now: replaced when a settings change ends it (see afterSettingsChange). */
  watch: Watch;
  /** What the document holds of the log, so a fresh source does not append it again. */
  readonly shown: ShownLines<HubLine>;
  /** Why it no longer follows (shown as the last line; Open mailgw Log follows anew). */
  stopped: string | undefined;
  /** Subscribed to `watch` and holding it (released exactly once). */
  attached: boolean;
  /** Its automatic follow-agains after its source ended (bounded per minute). */
  restarts: FollowAgainBudget;
  texts: string[];
  kinds: LogKind[];
  /** Position of the first line held, for "load more". */
  first: { ino: string; offset: number } | undefined;
  reachedTop: boolean;
  unsubscribe: () => void;
  timer: NodeJS.Timeout | undefined;
  ready: Promise<void>;
}

export function logUri(cluster: ClusterConfig, unit: UnitConfig, file = cluster.logFile): vscode.Uri {
  return vscode.Uri.from({ scheme: LOG_SCHEME, path: `/${cluster.name}/${unit.name}${file}` });
}

function parseUri(uri: vscode.Uri): { cluster: string; unit: string; file: string } | undefined {
  const parts = uri.path.split('/');
  if (parts.length < 4 || parts[0] !== '') return undefined;
  return { cluster: parts[1], unit: parts[2], file: '/' + parts.slice(3).join('/') };
}

export class LogDocuments implements vscode.TextDocumentContentProvider, vscode.DocumentLinkProvider, vscode.CodeLensProvider, vscode.Disposable {
  private readonly docs = new Map<string, DocState>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly lensChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensChanged.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly insertedDeco = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('diffEditor.insertedLineBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.addedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly errorDeco = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.errorForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Right,
  });

  constructor(
    private readonly services: Services,
    private readonly logWatch: LogWatch,
  ) {
    this.disposables.push(
      vscode.workspace.registerTextDocumentContentProvider(LOG_SCHEME, this),
      vscode.languages.registerDocumentLinkProvider({ scheme: LOG_SCHEME }, this),
      vscode.languages.registerCodeLensProvider({ scheme: LOG_SCHEME }, this),
      vscode.workspace.onDidCloseTextDocument((d) => d.uri.scheme === LOG_SCHEME && this.closeLater(d.uri)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.decorateAll()),
      services.onDidChangeSettings(() => this.afterSettingsChange()),
      this.insertedDeco,
      this.errorDeco,
    );
  }

  /** Opens (or shows) the log of a unit in an editor, at its end; no file: the gateway log found on the unit. */
  async open(cluster: ClusterConfig, unit: UnitConfig, file?: string): Promise<vscode.TextEditor> {
    const uri = logUri(cluster, unit, file ?? (await this.logWatch.gatewayLog(cluster, unit)).file);
    const open = this.docs.get(uri.toString());
    if (open?.stopped) {
      open.restarts.reset();
      this.follow(open, cluster, unit);
    }
    let doc = await vscode.workspace.openTextDocument(uri);
    if (doc.languageId !== LOG_LANGUAGE) doc = await vscode.languages.setTextDocumentLanguage(doc, LOG_LANGUAGE);
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const end = new vscode.Position(Math.max(0, doc.lineCount - 1), 0);
    editor.revealRange(new vscode.Range(end, end), vscode.TextEditorRevealType.Default);
    this.decorate(editor);
    return editor;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const state = this.docs.get(uri.toString()) ?? this.create(uri);
    if (!state) return `This log cannot be shown: ${uri.toString()} does not name a configured cluster and unit and a file of its gateway's log folder.\n`;
    await state.ready;
    return state.texts.join('\n') + (state.texts.length ? '\n' : '');
  }

  private create(uri: vscode.Uri): DocState | undefined {
    const p = parseUri(uri);
    const cluster = p && this.services.cluster(p.cluster);
    const unit = cluster?.units.find((u) => u.name === p!.unit);
    if (!p || !cluster || !unit || !isGatewayLogPath(cluster, p.file)) return undefined;
    const state: DocState = {
      uri,
      file: p.file,
      watch: this.logWatch.watch(cluster, unit, p.file),
      shown: new ShownLines(),
      stopped: undefined,
      attached: false,
      restarts: new FollowAgainBudget(),
      texts: [],
      kinds: [],
      first: undefined,
      reachedTop: false,
      unsubscribe: () => undefined,
      timer: undefined,
      ready: Promise.resolve(),
    };
    this.attach(state);
    this.docs.set(uri.toString(), state);
    return state;
  }

  /**
   * Follows again on a fresh watch (the unit as configured now); lines the document already holds
   * are not appended again. "Load earlier lines" is off from then on: the file may have been
   * replaced meanwhile, and text above the first line held could be another file's.
   */
  private follow(state: DocState, cluster: ClusterConfig, unit: UnitConfig): void {
    this.detach(state);
    if (!isGatewayLogPath(cluster, state.file)) {
      this.stop(state, `${state.file} is not in the gateway's log folder of ${unit.key} any more`);
      return;
    }
    state.watch = this.logWatch.watch(cluster, unit, state.file);
    state.stopped = undefined;
    state.first = undefined;
    state.reachedTop = false;
    this.attach(state);
  }

  private attach(state: DocState): void {
    const { watch } = state;
    const { unit } = watch;
    state.attached = true;
    state.ready = watch.source.start().then(
      () => undefined,
      (err: Error) => {
        if (state.watch === watch) this.stop(state, `cannot follow ${state.file} on ${unit.key}: ${err.message}`);
      },
    );
    state.unsubscribe = subscribeUnshown(watch.source, state.shown, {
      lines: (lines) => this.append(state, lines),
      notice: (n) => {
        if (state.watch !== watch || !state.attached) return;
        if (n.type === 'rotated') this.services.logger.info(`${unit.key}: ${state.file} rotated${n.archive ? ` (old file ${n.archive})` : ''}`);
        // The earlier lines held are no longer in the file: "load earlier" would read the new text.
        if (n.type === 'truncated') state.first = undefined;
        if (n.type === 'stopped') this.sourceEnded(state, n.error ?? 'the log source ended');
      },
    });
  }

  private detach(state: DocState): void {
    if (!state.attached) return;
    state.attached = false;
    state.unsubscribe();
    state.watch.release();
  }

  /**
   * Its source ended (a connection closed by a settings change or lost for good, a fatal error):
   * follow again while the unit is configured, within its FollowAgainBudget.
   */
  private sourceEnded(state: DocState, error: string): void {
    const ref = this.services.unit(state.watch.unit.key);
    if (!ref) return this.stop(state, `${state.watch.unit.key} is no longer configured`);
    if (!state.restarts.take()) return this.stop(state, error);
    this.services.logger.info(`${ref.unit.key}: ${state.file} ended (${error}); following again`);
    this.follow(state, ref.cluster, ref.unit);
  }

  /**
   * A settings change ends the sources of units that changed: follow those again, and say where a
   * document stops because its unit (or this file as its gateway's log) is no longer configured.
   */
  private afterSettingsChange(): void {
    for (const state of this.docs.values()) {
      if (state.stopped) continue;
      const standing = this.logWatch.standing(state.watch);
      if (standing.kind === 'gone') this.stop(state, `${state.watch.unit.key} is no longer configured`);
      else if (standing.kind === 'changed') {
        this.services.logger.info(`${standing.unit.key}: its settings changed; ${state.file} is followed again`);
        this.follow(state, standing.cluster, standing.unit);
      }
    }
  }

  private stop(state: DocState, why: string): void {
    this.detach(state);
    state.stopped = why;
    this.note(state, `stopped following: ${why}. Run "Open mailgw Log" to follow it again.`, 'error');
  }

  /** A line of the extension's own in the document, marked as such. */
  private note(state: DocState, text: string, kind: LogKind): void {
    this.append(state, [], [`[mailgw-ha] ${logLineText(text)}`], kind);
  }

  private append(state: DocState, lines: readonly HubLine[], own: readonly string[] = [], ownKind: LogKind = 'other'): void {
    if (!lines.length && !own.length) return;
    if (state.first === undefined && lines.length && !state.texts.length) {
      state.first = { ino: lines[0].ino, offset: lines[0].offset };
      if (lines[0].offset === 0) state.reachedTop = true;
    }
    for (const l of lines) {
      state.texts.push(l.text);
      state.kinds.push(l.record.kind);
    }
    for (const t of own) {
      state.texts.push(t);
      state.kinds.push(ownKind);
    }
    if (state.texts.length > MAX_LINES) {
      const drop = state.texts.length - MAX_LINES;
      state.texts.splice(0, drop);
      state.kinds.splice(0, drop);
      state.reachedTop = false;
      state.first = undefined; // the exact position of the new first line is not kept; load-more is then off
    }
    if (!state.timer) {
      state.timer = setTimeout(() => {
        state.timer = undefined;
        this.changed.fire(state.uri);
        setTimeout(() => this.decorateAll(), 50);
      }, CHANGE_THROTTLE_MS);
    }
  }

  /** Loads up to 512 KB of text above the first line held. Returns the number of lines added. */
  async loadMore(uri: vscode.Uri): Promise<number> {
    const state = this.docs.get(uri.toString());
    if (!state) return 0;
    if (state.reachedTop) {
      void safeWindow.showInformationMessage('The whole log file is already shown.');
      return 0;
    }
    const first = state.first;
    if (!first || first.ino !== state.watch.source.position.ino) {
      void safeWindow.showInformationMessage(`Earlier lines of ${state.watch.source.info.file} cannot be added to this document: the log was rotated or truncated, or followed again after a settings change. Use "Pick Log File…" to open a rotated file, or close and reopen the log.`);
      return 0;
    }
    const conn = this.services.pool.get(state.watch.unit);
    const r = await readBefore(conn, state.watch.source.info.file, first.offset, LOAD_MORE_BYTES);
    const lines = r.text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    state.texts.unshift(...lines);
    state.kinds.unshift(...lines.map((l) => parseLine(l).kind));
    state.first = { ino: first.ino, offset: r.startOffset };
    state.reachedTop = r.startOffset === 0;
    this.changed.fire(uri);
    this.lensChanged.fire();
    setTimeout(() => this.decorateAll(), 100);
    return lines.length;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const state = this.docs.get(document.uri.toString());
    if (!state || state.reachedTop) return [];
    const range = new vscode.Range(0, 0, 0, 0);
    return [new vscode.CodeLens(range, { title: '$(fold-up) Load earlier lines (512 KB)', command: 'mailgwHa.logLoadMore', arguments: [document.uri] })];
  }

  provideDocumentLinks(document: vscode.TextDocument): vscode.DocumentLink[] {
    const p = parseUri(document.uri);
    if (!p) return [];
    const links: vscode.DocumentLink[] = [];
    const state = this.docs.get(document.uri.toString());
    const n = document.lineCount;
    for (let i = 0; i < n; i++) {
      const kind = state?.kinds[i];
      if (kind !== undefined && kind !== 'inserted' && kind !== 'renamed') continue;
      const text = document.lineAt(i).text;
      if (!/inserted|renamed/.test(text)) continue;
      const rec = parseLine(text);
      if (rec.kind !== 'inserted' && rec.kind !== 'renamed') continue;
      const id = rec.ids[rec.ids.length - 1];
      const at = text.lastIndexOf(id);
      if (at < 0) continue;
      const link = new vscode.DocumentLink(new vscode.Range(i, at, i, at + id.length), vscode.Uri.parse(`command:mailgwHa.logRevealId?${encodeURIComponent(JSON.stringify([{ cluster: p.cluster, id }]))}`));
      link.tooltip = `Reveal mail ${id} in the Clusters view`;
      links.push(link);
    }
    return links;
  }

  private decorateAll(): void {
    for (const e of vscode.window.visibleTextEditors) if (e.document.uri.scheme === LOG_SCHEME) this.decorate(e);
  }

  private decorate(editor: vscode.TextEditor): void {
    const state = this.docs.get(editor.document.uri.toString());
    if (!state) return;
    const inserted: vscode.Range[] = [];
    const errors: vscode.Range[] = [];
    const n = Math.min(state.kinds.length, editor.document.lineCount);
    for (let i = 0; i < n; i++) {
      if (state.kinds[i] === 'inserted') inserted.push(new vscode.Range(i, 0, i, 0));
      else if (state.kinds[i] === 'error') errors.push(new vscode.Range(i, 0, i, 0));
    }
    editor.setDecorations(this.insertedDeco, inserted);
    editor.setDecorations(this.errorDeco, errors);
  }

  /** Lines of the open document of a unit's log (for Reveal in Log and tests). */
  state(uri: vscode.Uri): { lines: number; reachedTop: boolean; inserted: number } | undefined {
    const s = this.docs.get(uri.toString());
    return s && { lines: s.texts.length, reachedTop: s.reachedTop, inserted: s.kinds.filter((k) => k === 'inserted').length };
  }

  /**
   * Setting the language closes and reopens the document at once, and VS Code closes documents
   * some time after their tab: stop following only if it stays closed.
   */
  private closeLater(uri: vscode.Uri): void {
    setTimeout(() => {
      if (!vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) this.close(uri);
    }, 2_000);
  }

  private close(uri: vscode.Uri): void {
    const s = this.docs.get(uri.toString());
    if (!s) return;
    this.docs.delete(uri.toString());
    if (s.timer) clearTimeout(s.timer);
    this.detach(s);
  }

  dispose(): void {
    for (const uri of [...this.docs.keys()]) this.close(vscode.Uri.parse(uri));
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
    this.lensChanged.dispose();
  }
}
