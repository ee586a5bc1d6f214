// The message protocol between the log panel (extension side, src/views/logPanel.ts) and its
// webview script (src/webview/logPanelPage.ts). Types only: both sides import them, so a change to a
// message breaks the build on both sides instead of failing silently at run time.
import type { LogKind } from '../core/log/parse';

export interface PanelSource {
  /** `<unit key>:<file>` */
  readonly key: string;
  readonly cluster: string;
  readonly unit: string;
  readonly file: string;
  /** Why it stopped following for good; the webview offers Resume. */
  readonly stopped?: string;
}

export interface PanelLine {
  /** Source key. */
  readonly src: string;
  readonly seq: number;
  readonly text: string;
  readonly kind: LogKind;
  readonly ids: readonly string[];
  readonly history: boolean;
  /** Not in the box's log format (stamp, offset, type): shown as it is, marked and counted, never read as proof. */
  readonly unparsed?: boolean;
}

export interface PanelRecovery {
  readonly cluster: string;
  readonly phase: string;
  readonly expected: readonly string[];
  readonly confirmed: readonly string[];
}

/** Extension → webview. */
export type ToWebview =
  | { readonly type: 'sources'; readonly sources: readonly PanelSource[] }
  | { readonly type: 'lines'; readonly lines: readonly PanelLine[] }
  | { readonly type: 'notice'; readonly src: string; readonly text: string; readonly severity: 'info' | 'warning' | 'error' }
  | { readonly type: 'recovery'; readonly recovery: PanelRecovery | undefined }
  | { readonly type: 'revealResult'; readonly id: string; readonly found: boolean }
  | { readonly type: 'clear' }
  | { readonly type: 'filter'; readonly text: string; readonly regex: boolean };

/** Webview → extension. */
export type FromWebview =
  | { readonly type: 'ready' }
  | { readonly type: 'reveal'; readonly src: string; readonly id: string }
  | { readonly type: 'watch' }
  | { readonly type: 'openEditor'; readonly src: string }
  | { readonly type: 'stop'; readonly src: string }
  | { readonly type: 'resume'; readonly src: string }
  /** For tests and the status bar: what the webview shows right now. */
  | { readonly type: 'state'; readonly rows: number; readonly insertedIds: readonly string[]; readonly highlighted: number; readonly errors: number; /** Lines received that are not in the box's format. */ readonly unparsed: number; readonly paused: boolean; /** Lines that arrived while paused (shown as "N new while paused"). */ readonly newWhilePaused: number; readonly lastText?: string; readonly received: number; /** Date.now() in the webview when sent. */ readonly at: number; readonly recovery?: { readonly expected: number; readonly confirmed: readonly string[] } };

/** Most rows kept in the DOM; older rows are dropped (the editor keeps the full text). */
export const MAX_DOM_ROWS = 2_000;
/** Most lines kept in the webview for re-filtering. */
export const MAX_BUFFERED_LINES = 10_000;
/** How often the extension sends a batch of lines (ms). */
export const BATCH_MS = 100;
