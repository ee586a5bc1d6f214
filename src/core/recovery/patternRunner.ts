// Runs the user's deliveryLogPattern away from the event loop. A JavaScript regex can backtrack for
// exponential time on one line; here it runs in a worker thread that is ended when a line takes
// longer than a budget, so the extension host and the CLI never stall. A timeout is reported.
// The pattern must match a line's text part whole: it is anchored here, whatever the user wrote.
import { Worker } from 'worker_threads';
import type { DeliveryGroups } from './logLines';

/** Lines longer than this are not matched at all (a delivery line is far shorter; a cut one proves nothing). */
export const MAX_LINE_CHARS = 8192;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('worker_threads');
const re = new RegExp('^(?:' + workerData.source + ')$', workerData.flags);
const pick = (g, k) => (g && typeof g[k] === 'string' ? g[k] : undefined);
parentPort.on('message', (lines) => {
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i] === null ? null : re.exec(lines[i]);
    parentPort.postMessage([i, m ? { id: pick(m.groups, 'id'), to: pick(m.groups, 'to'), messageId: pick(m.groups, 'messageId') } : null]);
  }
  parentPort.postMessage(['done']);
});`;

export interface PatternResult {
  /** Per line: null = no match (of the whole line); else the match's named groups. */
  readonly matches: (DeliveryGroups | null)[];
  /** Set when the pattern ran out of time: the index of the line it was stuck on. */
  readonly timedOutAt?: number;
}

/**
 * Matches each line against `pattern` in a worker thread. A line that takes longer than
 * `lineBudgetMs` ends the worker; the lines after it are not matched (null) and `timedOutAt` says
 * where it stopped.
 */
export function matchLines(pattern: RegExp, lines: readonly string[], lineBudgetMs = 1000, startBudgetMs = 30_000): Promise<PatternResult> {
  const matches: (DeliveryGroups | null)[] = lines.map(() => null);
  if (lines.length === 0) return Promise.resolve({ matches });
  const flags = pattern.flags.replace(/[gy]/g, '');
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { source: pattern.source, flags } });
    let next = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (r: PatternResult | Error) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      void worker.terminate();
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const arm = (ms: number) => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => settle({ matches, timedOutAt: next }), ms);
    };
    arm(startBudgetMs); // starting a thread can take a while on a loaded machine
    worker.on('online', () => arm(lineBudgetMs));
    worker.on('message', (msg: [number, DeliveryGroups | null] | ['done']) => {
      if (msg[0] === 'done') return settle({ matches });
      matches[msg[0]] = msg[1];
      next = msg[0] + 1;
      arm(lineBudgetMs);
    });
    worker.on('error', (e) => settle(e));
    worker.on('exit', () => settle(new Error('the pattern worker ended unexpectedly')));
    worker.postMessage(lines.map((l) => (l.length > MAX_LINE_CHARS ? null : l)));
  });
}
