// The SMTP envelope of a mail, from its `.env` file (the lab's format, docs/lab.md):
//
//   X-Mgw-Envelope: 1
//   Id: 00042-17301-00001
//   Received: 2026-11-28T17:46:22.000Z
//   MAIL FROM:<alice@lab.example>
//   RCPT TO:<dave@dest.example>
//
// The file comes from a unit, so it is untrusted: only its first ENVELOPE_BYTES are looked at, lines
// that are not one of these are ignored, at most MAX_RECIPIENTS recipients are kept, and whatever it
// holds (controls, bidi overrides, megabytes on one line, binary junk) ends up as data or nowhere.
// Domains are lower-cased ASCII (IDNs in their xn-- form, so no look-alike or reordered text reaches
// a screen as a domain); an address without a usable domain goes to the NO_DOMAIN bucket.
import { domainToASCII } from 'url';
import { hasControls } from '../text/chars';

/** Bytes of a `.env` that are read and parsed; the rest is ignored. */
export const ENVELOPE_BYTES = 16 * 1024;
/** Recipients kept per mail (all are counted in `recipientCount`). */
export const MAX_RECIPIENTS = 100;
/** Longer addresses are not looked into (RFC 5321 allows 256 octets for a path). */
const MAX_ADDRESS = 512;

/** The sender domain of a mail with the null sender `MAIL FROM:<>` (bounces) or without any MAIL FROM. */
export const NULL_SENDER = '<>';
/** Where an address without a usable domain is counted. */
export const NO_DOMAIN = '(no domain)';

export interface Envelope {
  /** The MAIL FROM address as written (capped), '' for the null sender or none. */
  readonly sender: string;
  /** Lower-cased sender domain, NULL_SENDER or NO_DOMAIN. */
  readonly senderDomain: string;
  /** RCPT TO addresses in file order, at most MAX_RECIPIENTS. */
  readonly recipients: readonly string[];
  /** Distinct recipient domains (NO_DOMAIN for addresses without one), in first-seen order, at most MAX_RECIPIENTS. */
  readonly recipientDomains: readonly string[];
  /** All RCPT TO lines seen in the bytes read. */
  readonly recipientCount: number;
  /** The `Received:` time (ms since the epoch) when it is an ISO 8601 UTC time. */
  readonly receivedMs?: number;
  /** The file was longer than ENVELOPE_BYTES (lines beyond were not read). */
  readonly truncated: boolean;
}

// SMTP verbs are case-insensitive; the path is in angle brackets, ESMTP parameters may follow.
const MAIL_FROM = /^MAIL FROM:[ \t]*<([^<>]*)>/i;
const RCPT_TO = /^RCPT TO:[ \t]*<([^<>]*)>/i;
const RECEIVED = /^Received:[ \t]*(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z)[ \t]*$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4_LITERAL = /^\[(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\]$/;
const IPV6_LITERAL = /^\[ipv6:[0-9a-f:.]{2,45}\]$/;

/**
 * The domain of an address, lower-cased; NO_DOMAIN if it has none or it is not a domain (empty,
 * bad labels, spaces, controls, over 253 characters); NULL_SENDER for ''. A source route
 * (`@a,@b:user@dom`) is skipped; the domain is what follows the last `@`.
 */
export function addressDomain(address: string): string {
  if (address === '') return NULL_SENDER;
  if (address.length > MAX_ADDRESS) return NO_DOMAIN;
  const at = address.lastIndexOf('@');
  if (at < 0) return NO_DOMAIN;
  let domain = address.slice(at + 1).toLowerCase();
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  if (domain.startsWith('[')) {
    const v4 = IPV4_LITERAL.exec(domain);
    if (v4) return v4.slice(1).every((n) => Number(n) <= 255) ? domain : NO_DOMAIN;
    return IPV6_LITERAL.test(domain) ? domain : NO_DOMAIN;
  }
  // An internationalised domain becomes its ASCII (xn--) form; anything that is not a domain fails
  // here or in the label check below (url.domainToASCII alone lets "-x" and "a..b" through, and
  // maps invisible characters away: a domain holding one is refused instead).
  if (hasControls(domain)) return NO_DOMAIN;
  const ascii = /^[\x21-\x7e]*$/.test(domain) ? domain : domainToASCII(domain);
  if (!ascii || ascii.length > 253) return NO_DOMAIN;
  return ascii.split('.').every((l) => LABEL.test(l)) ? ascii : NO_DOMAIN;
}

/** Parses the first ENVELOPE_BYTES of a `.env`; never throws. */
export function parseEnvelope(data: Buffer | string): Envelope {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const truncated = buf.length > ENVELOPE_BYTES;
  let text = buf.subarray(0, ENVELOPE_BYTES).toString('utf8');
  // A line cut by the limit is not a line: a half address would give a wrong domain.
  if (truncated) text = text.slice(0, text.lastIndexOf('\n') + 1);
  let sender: string | undefined;
  let receivedMs: number | undefined;
  const recipients: string[] = [];
  const domains = new Set<string>();
  let recipientCount = 0;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const c = line.charCodeAt(0);
    if (c === 0x52 || c === 0x72) {
      // R: RCPT TO or Received
      const r = RCPT_TO.exec(line);
      if (r) {
        recipientCount++;
        if (recipients.length < MAX_RECIPIENTS) recipients.push(cap(r[1]));
        // RCPT TO:<> is not a recipient anyone can have: no domain.
        if (domains.size < MAX_RECIPIENTS) domains.add(r[1] === '' ? NO_DOMAIN : addressDomain(r[1]));
        continue;
      }
      const d = receivedMs === undefined ? RECEIVED.exec(line) : null;
      if (d) {
        const ms = Date.parse(d[1]);
        if (Number.isFinite(ms)) receivedMs = ms;
      }
    } else if ((c === 0x4d || c === 0x6d) && sender === undefined) {
      // M: the first MAIL FROM counts
      const m = MAIL_FROM.exec(line);
      if (m) sender = m[1];
    }
  }
  return { sender: cap(sender ?? ''), senderDomain: addressDomain(sender ?? ''), recipients, recipientDomains: [...domains], recipientCount, receivedMs, truncated };
}

/** Addresses are kept for display; a monster one is cut (its domain was taken from the whole). */
function cap(address: string): string {
  return address.length > MAX_ADDRESS ? `${address.slice(0, MAX_ADDRESS)}…` : address;
}
