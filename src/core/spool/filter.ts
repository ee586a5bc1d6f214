// Narrowing a spool listing the way exiqgrep does for Exim: by sender (-f), recipient (-r),
// subject, and minimum age (-o). Text criteria match case-insensitively as substrings, or as a
// regular expression when written /like this/i. The headers are hostile input: a regular
// expression is run on them only in a worker thread, bounded and stopped after a deadline
// (MailFilterRun; src/core/regexWorker.ts), never on the caller's thread.
import type { MessageSummary } from '../message/headers';
import { RegexRunOptions, testInWorker } from '../regexWorker';
import type { MailEntry } from './list';

export interface MailFilter {
  readonly from?: string;
  readonly to?: string;
  readonly subject?: string;
  /** Only mails at least this old (seconds). */
  readonly minAgeSeconds?: number;
}

export function isFilterActive(f: MailFilter | undefined): f is MailFilter {
  return !!f && (!!f.from || !!f.to || !!f.subject || (f.minAgeSeconds ?? 0) > 0);
}

/** Whether the filter needs message headers (anything but age). */
export function filterNeedsHeaders(f: MailFilter | undefined): boolean {
  return !!f && (!!f.from || !!f.to || !!f.subject);
}

/** "90", "90s", "15m", "2h", "1d" → seconds; undefined if it is not a duration. */
export function parseAge(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2].toLowerCase();
  return Math.round(n * (unit === 'd' ? 86400 : unit === 'h' ? 3600 : unit === 'm' ? 60 : 1));
}

/** A text criterion: /re/flags is a regular expression (always case-insensitive), anything else a substring. */
function parseCriterion(pattern: string): { regex: RegExp } | { needle: string } {
  const re = /^\/(.+)\/([imsu]*)$/.exec(pattern);
  if (!re) return { needle: pattern.toLowerCase() };
  try {
    return { regex: new RegExp(re[1], re[2].includes('i') ? re[2] : `${re[2]}i`) };
  } catch (err) {
    throw new Error(`"${pattern}" is not a valid regular expression: ${(err as Error).message}`);
  }
}

/**
 * A text criterion as a predicate on this thread: /re/flags is a regular expression, anything else a
 * substring. For trusted text only (tests, the admin's own input): header values go through MailFilterRun.
 */
export function textMatcher(pattern: string): (value: string | undefined) => boolean {
  const c = parseCriterion(pattern);
  if ('regex' in c) return (v) => v !== undefined && c.regex.test(v);
  return (v) => v !== undefined && v.toLowerCase().includes(c.needle);
}

/** Checks that a filter's patterns compile; throws an error naming the bad one. */
export function validateFilter(f: MailFilter): void {
  for (const p of [f.from, f.to, f.subject]) if (p) textMatcher(p);
}

/**
 * Builds the predicate of a filter on this thread. `summary` undefined means the headers are not
 * known (a mail with no .body, or one that could not be read): such a mail never matches a header
 * criterion. A reference for trusted values only: the views filter hostile headers with MailFilterRun.
 */
export function mailMatcher(f: MailFilter, now = Date.now()): (mail: MailEntry, summary: MessageSummary | undefined) => boolean {
  const from = f.from ? textMatcher(f.from) : undefined;
  const to = f.to ? textMatcher(f.to) : undefined;
  const subject = f.subject ? textMatcher(f.subject) : undefined;
  const minAgeMs = (f.minAgeSeconds ?? 0) * 1000;
  return (mail, s) => {
    if (minAgeMs > 0 && now - mail.mtimeMs < minAgeMs) return false;
    if (from && !from(s?.from)) return false;
    if (to && !(to(s?.to) || to(s?.cc))) return false;
    if (subject && !subject(s?.subject)) return false;
    return true;
  };
}

type Field = 'from' | 'to' | 'subject';
const FIELD_NAMES: Record<Field, string> = { from: 'From', to: 'To/Cc', subject: 'Subject' };

/** The header values a criterion looks at (To also looks at Cc). */
function valuesOf(field: Field, s: MessageSummary | undefined): string[] {
  if (!s) return [];
  const v = field === 'to' ? [s.to, s.cc] : [s[field]];
  return v.filter((x): x is string => x !== undefined);
}

/**
 * A filter applied to hostile header values: its regular expressions run in a worker thread
 * (each value within a budget, each look within a deadline), never on the caller's thread.
 * `prepare` checks the values of some mails; `matches` answers from what was checked — a value a
 * stopped pattern did not check does not match (the mail is not listed), and `stopped` says why.
 * Substrings and the age are decided at once.
 */
export class MailFilterRun {
  private readonly criteria: { field: Field; pattern: string; regex?: RegExp; needle?: string; known: Map<string, boolean>; stopped?: string }[] = [];
  private readonly minAgeMs: number;
  private running: Promise<void> = Promise.resolve();

  constructor(
    readonly filter: MailFilter,
    private readonly options: RegexRunOptions = {},
  ) {
    for (const field of ['from', 'to', 'subject'] as const) {
      const pattern = filter[field];
      if (!pattern) continue;
      const c = parseCriterion(pattern);
      this.criteria.push({ field, pattern, ...c, known: new Map() });
    }
    this.minAgeMs = (filter.minAgeSeconds ?? 0) * 1000;
  }

  /** Why a regular expression of the filter was stopped, in words (undefined: none was). */
  get stopped(): string | undefined {
    const s = this.criteria.filter((c) => c.stopped).map((c) => c.stopped);
    return s.length ? s.join(' ') : undefined;
  }

  /** Checks, in the worker, every value of these mails' headers not checked yet. One look at a time. */
  prepare(summaries: readonly (MessageSummary | undefined)[]): Promise<void> {
    const look = this.running.then(() => this.look(summaries));
    this.running = look.catch(() => undefined);
    return look;
  }

  private async look(summaries: readonly (MessageSummary | undefined)[]): Promise<void> {
    await Promise.all(
      this.criteria.map(async (c) => {
        if (!c.regex || c.stopped) return;
        const todo = [...new Set(summaries.flatMap((s) => valuesOf(c.field, s)).filter((v) => !c.known.has(v)))];
        if (!todo.length) return;
        const r = await testInWorker(c.regex.source, c.regex.flags, todo, this.options);
        todo.forEach((v, i) => {
          const m = r.results[i];
          if (m !== undefined) c.known.set(v, m);
        });
        if (r.stopped) {
          const why =
            r.stopped.reason === 'value'
              ? `it took longer than ${((this.options.valueBudgetMs ?? 1_000) / 1000).toLocaleString('en-US')} s on one mail's header (it backtracks too much)`
              : r.stopped.reason === 'deadline'
                ? `it took longer than ${((this.options.deadlineMs ?? 10_000) / 1000).toLocaleString('en-US')} s for the headers of this listing`
                : 'its worker thread did not start';
          c.stopped = `${FIELD_NAMES[c.field]} ${c.pattern} was stopped: ${why}; mails it did not check are not listed. Change the filter.`;
        }
      }),
    );
  }

  /** Whether every header value of this mail that a regular expression needs has been decided (checked, or its pattern stopped). */
  isReady(s: MessageSummary | undefined): boolean {
    return this.criteria.every((c) => !c.regex || !!c.stopped || valuesOf(c.field, s).every((v) => c.known.has(v)));
  }

  /** Whether the mail passes, from what was checked; headers unknown never match a header criterion. */
  matches(mail: MailEntry, s: MessageSummary | undefined, now = Date.now()): boolean {
    if (this.minAgeMs > 0 && now - mail.mtimeMs < this.minAgeMs) return false;
    for (const c of this.criteria) {
      const values = valuesOf(c.field, s);
      const hit = c.regex ? values.some((v) => c.known.get(v) === true) : values.some((v) => v.toLowerCase().includes(c.needle!));
      if (!hit) return false;
    }
    return true;
  }

  /** Forgets what was checked (the results are only as good as the filter they belong to). */
  dispose(): void {
    for (const c of this.criteria) c.known.clear();
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.floor(seconds))}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    return m ? `${h}h${m}m` : `${h}h`;
  }
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  return h ? `${d}d${h}h` : `${d}d`;
}

/** Short text for the view's description: "from:alice · older than 10m". */
export function describeFilter(f: MailFilter): string {
  const parts: string[] = [];
  if (f.from) parts.push(`from:${f.from}`);
  if (f.to) parts.push(`to:${f.to}`);
  if (f.subject) parts.push(`subject:${f.subject}`);
  if ((f.minAgeSeconds ?? 0) > 0) parts.push(`older than ${formatDuration(f.minAgeSeconds!)}`);
  return parts.join(' · ');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

/** Age of a file from its mtime, e.g. "5m", "2h13m". */
export function formatAge(mtimeMs: number, now = Date.now()): string {
  return formatDuration((now - mtimeMs) / 1000);
}
