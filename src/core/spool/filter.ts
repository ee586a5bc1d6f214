// Narrowing a spool listing the way exiqgrep does for Exim: by sender (-f), recipient (-r),
// subject, and minimum age (-o). Text criteria match case-insensitively as substrings, or as a
// regular expression when written /like this/i.
import type { MessageSummary } from '../message/headers';
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

/** A text criterion as a predicate: /re/flags is a regular expression, anything else a substring. */
export function textMatcher(pattern: string): (value: string | undefined) => boolean {
  const re = /^\/(.+)\/([imsu]*)$/.exec(pattern);
  if (re) {
    let r: RegExp;
    try {
      r = new RegExp(re[1], re[2].includes('i') ? re[2] : `${re[2]}i`);
    } catch (err) {
      throw new Error(`"${pattern}" is not a valid regular expression: ${(err as Error).message}`);
    }
    return (v) => v !== undefined && r.test(v);
  }
  const needle = pattern.toLowerCase();
  return (v) => v !== undefined && v.toLowerCase().includes(needle);
}

/** Checks that a filter's patterns compile; throws an error naming the bad one. */
export function validateFilter(f: MailFilter): void {
  for (const p of [f.from, f.to, f.subject]) if (p) textMatcher(p);
}

/**
 * Builds the predicate of a filter. `summary` undefined means the headers are not known (a mail
 * with no .body, or one that could not be read): such a mail never matches a header criterion.
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
