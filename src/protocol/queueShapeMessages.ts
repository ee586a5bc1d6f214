// The message protocol between the Queue Shape panel (extension side, src/views/queueShapePanel.ts)
// and its webview script (src/webview/queueShapePage.ts). Types only, imported by both sides.
import type { ShapeRow } from '../core/spool/queueShape';

export type ShapeFolderChoice = 'spool' | 'vscan' | 'input' | 'all';
export type ShapeByChoice = 'sender' | 'recipient';

export interface ShapeStuck {
  readonly folder: string;
  readonly count: number;
  readonly oldestAgeS: number;
}

/** What the panel shows: one look at a unit's folder(s). All text in it came from a unit: data only. */
export interface ShapeView {
  readonly cluster: string;
  readonly unit: string;
  readonly role: string;
  readonly active: boolean;
  readonly folder: ShapeFolderChoice;
  readonly by: ShapeByChoice;
  /** When it was looked at (ISO). */
  readonly at: string;
  readonly buckets: readonly string[];
  readonly total: ShapeRow;
  readonly rows: readonly ShapeRow[];
  readonly mails: number;
  readonly domains: number;
  readonly unread: number;
  /** Folders that do not exist on the unit. */
  readonly missing: readonly string[];
  readonly stuckAfterMinutes: number;
  /** Mail older than stuckAfterMinutes in spool/ or vscan/ of the active unit. */
  readonly stuck: readonly ShapeStuck[];
}

/** Extension → webview. */
export type ToShapeWebview =
  | { readonly type: 'loading'; readonly folder: ShapeFolderChoice; readonly by: ShapeByChoice; readonly done?: number; readonly total?: number }
  | { readonly type: 'shape'; readonly shape: ShapeView }
  | { readonly type: 'error'; readonly text: string };

/** Webview → extension. */
export type FromShapeWebview =
  | { readonly type: 'ready' }
  | { readonly type: 'refresh'; readonly folder: ShapeFolderChoice; readonly by: ShapeByChoice }
  | { readonly type: 'export'; readonly format: 'csv' | 'jsonl' };
