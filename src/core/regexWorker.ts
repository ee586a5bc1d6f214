// Tests an admin's regular expression against untrusted texts (mail headers) away from the event
// loop, as deliveryLogPattern is run (recovery/patternRunner.ts): a JavaScript regex can backtrack
// for exponential time on one text, so it runs in a worker thread that is ended when one text takes
// longer than a budget or the whole run passes its deadline. Each text is cut to MAX_TEXT_CHARS, so
// the work and the messages are bounded. The extension host and the CLI never stall on it.
import { Worker } from 'worker_threads';

/** Texts longer than this are cut before matching (a header value is far shorter). */
export const MAX_TEXT_CHARS = 8192;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('worker_threads');
const re = new RegExp(workerData.source, workerData.flags);
parentPort.on('message', (texts) => {
  for (let i = 0; i < texts.length; i++) parentPort.postMessage([i, re.test(texts[i])]);
  parentPort.postMessage(['done']);
});`;

export interface RegexRunOptions {
  /** Longest time one text may take (default 1 s, as for deliveryLogPattern's lines). */
  readonly valueBudgetMs?: number;
  /** Longest time the whole run may take (default 10 s). */
  readonly deadlineMs?: number;
  /** How long the thread may take to start (a loaded machine). */
  readonly startBudgetMs?: number;
}

export interface RegexRunResult {
  /** Per text: whether it matched; undefined for the texts not checked because the run was stopped. */
  readonly results: (boolean | undefined)[];
  /** Set when the run was stopped: at which text, and whether one text took too long or the whole run. */
  readonly stopped?: { readonly at: number; readonly reason: 'value' | 'deadline' | 'start' };
}

/** Tests each text against the pattern (its source and flags; g and y are dropped) in a worker thread. */
export function testInWorker(source: string, flags: string, texts: readonly string[], options: RegexRunOptions = {}): Promise<RegexRunResult> {
  const valueBudgetMs = options.valueBudgetMs ?? 1_000;
  const deadlineMs = options.deadlineMs ?? 10_000;
  const startBudgetMs = options.startBudgetMs ?? 30_000;
  const results: (boolean | undefined)[] = texts.map(() => undefined);
  if (texts.length === 0) return Promise.resolve({ results });
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { source, flags: flags.replace(/[gy]/g, '') } });
    let next = 0;
    let settled = false;
    let valueTimer: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const settle = (r: RegexRunResult | Error) => {
      if (settled) return;
      settled = true;
      if (valueTimer) clearTimeout(valueTimer);
      if (deadline) clearTimeout(deadline);
      void worker.terminate();
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const stop = (reason: 'value' | 'deadline' | 'start') => settle({ results, stopped: { at: next, reason } });
    const arm = (ms: number, reason: 'value' | 'start') => {
      if (valueTimer) clearTimeout(valueTimer);
      valueTimer = setTimeout(() => stop(reason), ms);
    };
    arm(startBudgetMs, 'start');
    worker.on('online', () => {
      arm(valueBudgetMs, 'value');
      deadline = setTimeout(() => stop('deadline'), deadlineMs);
    });
    worker.on('message', (msg: [number, boolean] | ['done']) => {
      if (msg[0] === 'done') return settle({ results });
      results[msg[0]] = msg[1];
      next = msg[0] + 1;
      arm(valueBudgetMs, 'value');
    });
    worker.on('error', (e) => settle(e));
    worker.on('exit', () => settle(new Error('the regular expression worker ended unexpectedly')));
    worker.postMessage(texts.map((t) => (t.length > MAX_TEXT_CHARS ? t.slice(0, MAX_TEXT_CHARS) : t)));
  });
}
