// The last recovery of a cluster started from this machine, as its journals tell it: the running or
// unfinished journal if there is one, else the newest archived one. Journals live in one per-user
// place shared by the extension and the CLI (journalPath.ts), so either sees the other's runs.
import * as fs from 'fs';
import * as path from 'path';
import type { ClusterConfig } from '../config';
import { defaultJournalFile } from '../recovery/journalPath';
import { processAlive, replay } from '../recovery/journal';

export type LastRecoveryOutcome = 'done' | 'failed' | 'cancelled' | 'running' | 'unfinished';

export interface LastRecovery {
  /** When the run started (ISO). */
  readonly at: string;
  readonly outcome: LastRecoveryOutcome;
  /** Mails it planned to move (undefined when the journal was too large to read whole). */
  readonly mails?: number;
  /** Mails held for a decision by the admin. */
  readonly held?: number;
  readonly message?: string;
  readonly journal: string;
}

// A journal is replayed whole only below this; larger ones give their start and end records alone.
// The fleet reads one per cluster on each refresh, on the extension host's thread.
const MAX_REPLAY_BYTES = 1024 * 1024;
// What a journal said, by path, size and mtime: an unchanged journal is not read again.
const readBefore = new Map<string, { stamp: string; result: LastRecovery | undefined }>();
const MAX_REMEMBERED = 1_000;
const EDGE_BYTES = 64 * 1024;

function readEdge(file: string, size: number, fromEnd: boolean): string {
  const fd = fs.openSync(file, 'r');
  try {
    const n = Math.min(EDGE_BYTES, size);
    const buf = Buffer.alloc(n);
    fs.readSync(fd, buf, 0, n, fromEnd ? size - n : 0);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(line) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // a torn or cut line
  }
}

/** What one journal file says about its run; undefined when it holds no run. */
export function readRecoveryJournal(file: string, running: boolean): LastRecovery | undefined {
  let size: number;
  let stamp: string;
  try {
    const st = fs.statSync(file);
    size = st.size;
    stamp = `${st.size}:${st.mtimeMs}:${running}`;
  } catch {
    return undefined;
  }
  const known = readBefore.get(file);
  if (known?.stamp === stamp) return known.result;
  const result = readJournalEdges(file, size, running);
  if (readBefore.size >= MAX_REMEMBERED) readBefore.clear();
  readBefore.set(file, { stamp, result });
  return result;
}

function readJournalEdges(file: string, size: number, running: boolean): LastRecovery | undefined {
  if (size <= MAX_REPLAY_BYTES) {
    const st = replay(fs.readFileSync(file, 'utf8'));
    if (!st.run) return undefined;
    const held = [...st.mails.values()].filter((m) => m.state === 'held').length;
    const outcome: LastRecoveryOutcome = st.ended?.outcome ?? (running ? 'running' : 'unfinished');
    return { at: st.run.at, outcome, mails: st.mails.size, held, message: st.ended?.message, journal: file };
  }
  const run = readEdge(file, size, false).split('\n').map(parseLine).find((r) => r?.t === 'run');
  if (!run || typeof run.at !== 'string') return undefined;
  const end = readEdge(file, size, true).split('\n').map(parseLine).reverse().find((r) => r?.t === 'end');
  const ended = end && ['done', 'failed', 'cancelled'].includes(end.outcome as string) ? (end.outcome as LastRecoveryOutcome) : undefined;
  return { at: run.at, outcome: ended ?? (running ? 'running' : 'unfinished'), message: typeof end?.message === 'string' ? end.message : undefined, journal: file };
}

function lockHolderAlive(journal: string): boolean {
  try {
    const pid = Number(fs.readFileSync(`${journal}.lock`, 'utf8').trim());
    return pid > 0 && processAlive(pid);
  } catch {
    return false;
  }
}

/** The cluster's last recovery from this machine, or undefined when it never ran one here. */
export function lastRecoveryOf(cluster: ClusterConfig, env: NodeJS.ProcessEnv = process.env): LastRecovery | undefined {
  const current = defaultJournalFile(cluster, env);
  const open = readRecoveryJournal(current, lockHolderAlive(current));
  if (open) return open;
  const dir = path.dirname(current);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  // Archived as journal-<yyyymmdd-hhmmss>[-<n>].done.jsonl: by time, then by n (the n-th in that second).
  const order = (n: string) => {
    const m = /^journal-(\d{8}-\d{6})(?:-(\d+))?\.done\.jsonl$/.exec(n);
    return m ? `${m[1]}-${(m[2] ?? '1').padStart(4, '0')}` : n;
  };
  const archived = names.filter((n) => /^journal-\d{8}-\d{6}.*\.done\.jsonl$/.test(n)).sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  for (let i = archived.length - 1; i >= 0; i--) {
    const r = readRecoveryJournal(path.join(dir, archived[i]), false);
    if (r) return r;
  }
  return undefined;
}
