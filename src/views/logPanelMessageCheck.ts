// What the log panel's webview sends is checked here, on the extension side, before the panel acts
// on it: the page renders log lines a unit wrote, so it is treated like any other untrusted sender.
// A message that is not one of FromWebview, exactly as typed, is dropped; a reveal names a mail
// by the one mail id rule (core/names.ts). No `vscode` import: the unit tests check it directly.
import { isSafeMailId } from '../core/names';
import type { FromWebview } from '../protocol/logPanelMessages';

/** Longest source key taken (`<unit key>:<file>`; keys and paths are far shorter). */
const MAX_SRC = 2_000;
/** Most ids a state message may list (the panel shows at most its rows). */
const MAX_IDS = 100_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSrc = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_SRC;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.length <= MAX_IDS && v.every((x) => typeof x === 'string');

/** The message as the panel may act on it, or undefined (dropped). */
export function checkFromWebview(m: unknown): FromWebview | undefined {
  if (!isObject(m) || typeof m.type !== 'string') return undefined;
  switch (m.type) {
    case 'ready':
    case 'watch':
      return { type: m.type };
    case 'reveal':
      return isSrc(m.src) && typeof m.id === 'string' && isSafeMailId(m.id) ? { type: 'reveal', src: m.src, id: m.id } : undefined;
    case 'openEditor':
    case 'stop':
    case 'resume':
      return isSrc(m.src) ? { type: m.type, src: m.src } : undefined;
    case 'state': {
      const counts = ['rows', 'highlighted', 'errors', 'unparsed', 'newWhilePaused', 'received', 'at'] as const;
      if (!counts.every((k) => isCount(m[k])) || !isStrings(m.insertedIds) || typeof m.paused !== 'boolean') return undefined;
      if (m.lastText !== undefined && typeof m.lastText !== 'string') return undefined;
      let recovery: { expected: number; confirmed: string[] } | undefined;
      if (m.recovery !== undefined) {
        const r = m.recovery;
        if (!isObject(r) || !isCount(r.expected) || !isStrings(r.confirmed)) return undefined;
        recovery = { expected: r.expected, confirmed: r.confirmed };
      }
      return {
        type: 'state',
        rows: m.rows as number,
        insertedIds: m.insertedIds,
        highlighted: m.highlighted as number,
        errors: m.errors as number,
        unparsed: m.unparsed as number,
        paused: m.paused,
        newWhilePaused: m.newWhilePaused as number,
        received: m.received as number,
        at: m.at as number,
        ...(m.lastText !== undefined ? { lastText: m.lastText as string } : {}),
        ...(recovery ? { recovery } : {}),
      };
    }
    default:
      return undefined;
  }
}
