// Queue shape (like Postfix `qshape`): how many mails of a folder sit in each doubling age bucket, per
// sender or recipient domain; and the stuck-mail check for the active unit's spool/ and vscan/.
// Plain TypeScript: no `vscode`, the CLI and the extension share it.
import type { ClusterConfig } from '../config';
import type { Cell, Table } from '../export/table';
import { ENVELOPE_BYTES, Envelope, parseEnvelope } from '../message/envelope';
import { readStart } from '../message/read';
import type { UnitConnection } from '../ssh/connection';
import type { FolderListing, SpoolFolder } from './list';
import { LoadOptions, MailFileCache } from './summaries';

/**
 * The mails of `listing` older than `minutes` (age = now − the mail's mtime, the oldest of its two
 * files), and the age of the oldest in seconds; undefined when there are none, when the check is off
 * (`minutes` not a positive number), or for `input/` (mail waits there for the gateway's signal,
 * which the recovery sends; only spool/ and vscan/ are the gateway's own queue).
 * The caller decides that the listing is the ACTIVE unit's: on a standby, mail is stranded, not stuck.
 */
export function stuckMail(listing: FolderListing, nowMs: number, minutes: number): { count: number; oldestAgeS: number } | undefined {
  if (!(minutes > 0) || !Number.isFinite(minutes) || listing.missing) return undefined;
  if (listing.folder !== 'spool' && listing.folder !== 'vscan') return undefined;
  const limitMs = minutes * 60_000;
  let count = 0;
  let oldestMs = Infinity;
  for (const mail of listing.mails) {
    if (!Number.isFinite(mail.mtimeMs)) continue;
    if (nowMs - mail.mtimeMs > limitMs) {
      count++;
      if (mail.mtimeMs < oldestMs) oldestMs = mail.mtimeMs;
    }
  }
  if (count === 0) return undefined;
  return { count, oldestAgeS: Math.max(0, Math.floor((nowMs - oldestMs) / 1000)) };
}

/**
 * Stuck mail in each of a unit's folders (spool/ and vscan/; input/ never is). None on a standby:
 * there old mail is stranded (the tree and the recovery deal with it), not stuck.
 */
export function stuckFolders(active: boolean, listings: readonly FolderListing[], nowMs: number, minutes: number): { folder: SpoolFolder; count: number; oldestAgeS: number }[] {
  if (!active) return [];
  return listings.flatMap((l) => {
    const s = stuckMail(l, nowMs, minutes);
    return s ? [{ folder: l.folder, ...s }] : [];
  });
}

// ---- queue shape ------------------------------------------------------------------------------

/** qshape's doubling age buckets: upper bounds in minutes; the last bucket has none ("1280+"). */
export const BUCKET_MINUTES: readonly number[] = [5, 10, 20, 40, 80, 160, 320, 640, 1280];
/** Bucket labels as qshape prints them: "5" holds ages under 5 minutes, ..., "1280+" 1280 and more. */
export const BUCKET_LABELS: readonly string[] = [...BUCKET_MINUTES.map(String), `${BUCKET_MINUTES[BUCKET_MINUTES.length - 1]}+`];

export type ShapeBy = 'sender' | 'recipient';

/** The row of the domains beyond the limit, summed. */
export const OTHER_ROW = '(other)';
/** The row of mails whose envelope was not read (no .env, unreadable, beyond maxEnvelopes). */
export const NO_ENVELOPE_ROW = '(no envelope)';
/** The row of mails whose envelope names no recipient (by recipient). */
export const NO_RECIPIENT_ROW = '(no recipient)';
/** The total row's name (domains are lower case, so no domain is called this). */
export const TOTAL_ROW = 'TOTAL';
/** Domain rows shown by default before the rest is summed in OTHER_ROW. */
export const DEFAULT_TOP = 20;

/** The bucket of an age: 0 for under 5 minutes (and for a future mtime: clock skew), the last for 1280 minutes and more. */
export function bucketIndex(ageMs: number): number {
  for (let i = 0; i < BUCKET_MINUTES.length; i++) if (!(ageMs >= BUCKET_MINUTES[i] * 60_000)) return i;
  return BUCKET_MINUTES.length;
}

export interface ShapeRow {
  /** A domain, or TOTAL_ROW, OTHER_ROW, NO_ENVELOPE_ROW, NO_RECIPIENT_ROW, NULL_SENDER, NO_DOMAIN. */
  readonly domain: string;
  /** Mails counted in this row. */
  readonly total: number;
  /** Mails per bucket, BUCKET_LABELS order. */
  readonly counts: readonly number[];
}

export interface ShapeMail {
  /** The mail's mtime (the listing's: the oldest of its files). */
  readonly mtimeMs: number;
  /** Its envelope's domains, undefined when not read. */
  readonly envelope?: EnvelopeDomains;
}

export interface QueueShape {
  readonly by: ShapeBy;
  readonly buckets: readonly string[];
  /** Every mail once. By recipient, the domain rows can add up to more: a mail counts once per recipient domain. */
  readonly total: ShapeRow;
  /** Domains by mail count (most first, then by name), at most `top`, then OTHER_ROW when more. */
  readonly rows: readonly ShapeRow[];
  readonly mails: number;
  /** Distinct domain rows before the limit. */
  readonly domains: number;
}

/**
 * Counts mails per age bucket and per sender or recipient domain, like Postfix's qshape. Age is
 * now − the mail's mtime (see docs/queue-shape.md for why not the envelope's Received time).
 */
export function queueShape(mails: Iterable<ShapeMail>, nowMs: number, by: ShapeBy, top = DEFAULT_TOP): QueueShape {
  const n = BUCKET_LABELS.length;
  const total = new Array<number>(n).fill(0);
  const perDomain = new Map<string, number[]>();
  let count = 0;
  const add = (domain: string, b: number) => {
    let c = perDomain.get(domain);
    if (!c) perDomain.set(domain, (c = new Array<number>(n).fill(0)));
    c[b]++;
  };
  for (const mail of mails) {
    const b = bucketIndex(nowMs - mail.mtimeMs);
    count++;
    total[b]++;
    const env = mail.envelope;
    if (!env) add(NO_ENVELOPE_ROW, b);
    else if (by === 'sender') add(env.senderDomain, b);
    else if (env.recipientDomains.length === 0) add(NO_RECIPIENT_ROW, b);
    else for (const d of env.recipientDomains) add(d, b); // distinct already: once per domain
  }
  const sum = (c: readonly number[]) => c.reduce((a, x) => a + x, 0);
  const all = [...perDomain].map(([domain, counts]) => ({ domain, total: sum(counts), counts }));
  all.sort((a, b) => b.total - a.total || (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
  const limit = Math.max(0, Math.floor(top));
  const rows: ShapeRow[] = all.length > limit ? all.slice(0, limit) : all;
  if (all.length > limit) {
    const other = new Array<number>(n).fill(0);
    for (const r of all.slice(limit)) r.counts.forEach((x, i) => (other[i] += x));
    rows.push({ domain: OTHER_ROW, total: sum(other), counts: other });
  }
  return { by, buckets: BUCKET_LABELS, total: { domain: TOTAL_ROW, total: count, counts: total }, rows, mails: count, domains: all.length };
}

// ---- reading the envelopes ------------------------------------------------------------------

/** Envelopes read per look at most; the mails beyond (the newest) count in NO_ENVELOPE_ROW. */
export const MAX_ENVELOPES = 50_000;

/** What the queue shape needs of an envelope: its domains (validated, so each at most 255 characters). */
export type EnvelopeDomains = Pick<Envelope, 'senderDomain' | 'recipientDomains'>;

/**
 * The domains of spool mails' envelopes, cached like the header summaries (by unit, folder, id, .env
 * mtime and size). Only the domains are kept, not the addresses: a hostile .env with a hundred long
 * recipients costs no more than its distinct domains.
 */
export class EnvelopeCache extends MailFileCache<EnvelopeDomains> {
  constructor(max = 200_000) {
    // One read of at most ENVELOPE_BYTES + 1 (the +1 tells a longer file), never past the listed size.
    super(
      'env',
      async (connection, path, file) => {
        const e = parseEnvelope(await readStart(connection, path, Math.max(1, Math.min(file.size, ENVELOPE_BYTES + 1))));
        return { senderDomain: e.senderDomain, recipientDomains: e.recipientDomains };
      },
      max,
    );
  }
}

export interface ShapeOfFoldersOptions extends LoadOptions {
  readonly by: ShapeBy;
  readonly nowMs: number;
  readonly top?: number;
  readonly maxEnvelopes?: number;
}

export interface FolderShape extends QueueShape {
  readonly folders: readonly SpoolFolder[];
  /** Mails whose envelope could not be read (gone meanwhile, unreadable, over maxEnvelopes). */
  readonly unread: number;
}

/**
 * The shape of one or more folders of a unit: their envelopes are read (cached, `concurrency` at
 * once over one SFTP session, at most `maxEnvelopes`, oldest mails first), then counted.
 */
export async function shapeOfFolders(connection: UnitConnection, cluster: ClusterConfig, unitKey: string, listings: readonly FolderListing[], cache: EnvelopeCache, options: ShapeOfFoldersOptions): Promise<FolderShape> {
  const mails = listings.flatMap((l) => l.mails).sort((a, b) => a.mtimeMs - b.mtimeMs);
  const max = options.maxEnvelopes ?? MAX_ENVELOPES;
  await cache.load(connection, cluster, unitKey, mails.slice(0, max), { concurrency: options.concurrency ?? 32, cancellation: options.cancellation, onProgress: options.onProgress });
  let unread = 0;
  const shaped = mails.map((m, i) => {
    const envelope = i < max ? cache.get(unitKey, m) : undefined;
    if (!envelope) unread++;
    return { mtimeMs: m.mtimeMs, envelope };
  });
  return { ...queueShape(shaped, options.nowMs, options.by, options.top), folders: listings.map((l) => l.folder), unread };
}

// ---- export -----------------------------------------------------------------------------------

export interface ShapeContext {
  readonly cluster: string;
  readonly unit: string;
  /** "spool", "vscan", "input" or several joined with "+". */
  readonly folder: string;
}

/** The shape as a flat table (TOTAL first, then the domain rows) for src/core/export/table.ts. */
export function shapeTable(shape: QueueShape, ctx: ShapeContext): Table {
  const columns = ['cluster', 'unit', 'folder', 'by', 'domain', 'total', ...shape.buckets];
  const row = (r: ShapeRow): Record<string, Cell> => ({ cluster: ctx.cluster, unit: ctx.unit, folder: ctx.folder, by: shape.by, domain: r.domain, total: r.total, ...Object.fromEntries(shape.buckets.map((b, i) => [b, r.counts[i]])) });
  return { columns, rows: [row(shape.total), ...shape.rows.map(row)] };
}

// ---- the setting --------------------------------------------------------------------------------

export const DEFAULT_STUCK_MAIL_MINUTES = 60;

/** `mailgwHa.stuckMailMinutes` (or `--stuck-after`): a number ≥ 1; anything else is the default, with an error naming the setting. */
export function parseStuckMailMinutes(value: unknown, name = 'mailgwHa.stuckMailMinutes'): { minutes: number; error?: string } {
  if (value === undefined || value === null) return { minutes: DEFAULT_STUCK_MAIL_MINUTES };
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n === 'number' && Number.isFinite(n) && n >= 1) return { minutes: n };
  return { minutes: DEFAULT_STUCK_MAIL_MINUTES, error: `${name}: must be a number of minutes >= 1; got ${JSON.stringify(value)}. Using ${DEFAULT_STUCK_MAIL_MINUTES}.` };
}
