// What a mail is, for every proof that lets a recovery remove one: one SMTP transaction, kept by the
// gateway as `<id>.env` (its envelope: MAIL FROM and the RCPT TOs) and `<id>.body` (its content), under
// the id the gateway gave it (the HA sync keeps that id on the partner). The sender chooses the
// Message-ID and every header, never the gateway's id, nor which transaction an envelope belongs to,
// nor the SHA-256 of the bytes it sent: "the same mail" is the same id with the same content and
// envelope. A Message-ID only finds candidates.
import { isSafeAbsolutePath, isSafeMailId } from '../names';
import type { UnitConnection } from '../ssh/connection';
import { normalizeAddress } from './logLines';
import { RecoveryError } from './remote';

/** Bytes of a `.env` read for its envelope (a recipient list of thousands fits). */
export const IDENTITY_ENV_BYTES = 256 * 1024;
/** Recipients an envelope may list and still be compared in full. */
export const IDENTITY_MAX_RECIPIENTS = 10_000;
/** Mails per reading command (bounds one answer to about BATCH x IDENTITY_ENV_BYTES). */
const BATCH = 100;

export interface MailEnvelope {
  /** MAIL FROM as written ('' for the null sender). */
  readonly sender: string;
  /** RCPT TO addresses, normalized (domain in lower case), distinct, sorted. */
  readonly recipients: readonly string[];
}

export interface MailIdentity {
  readonly id: string;
  readonly bodySha: string;
  readonly envSha: string;
  /** The envelope, when the `.env` holds one this tool reads in full (else why not). */
  readonly envelope?: MailEnvelope;
  readonly envelopeProblem?: string;
}

const MAIL_FROM = /^MAIL FROM:[ \t]*<([^<>\r\n]*)>/i;
const RCPT_TO = /^RCPT TO:[ \t]*<([^<>\r\n]*)>/i;

/** The envelope of a `.env`'s text, or why it cannot be compared in full. */
export function envelopeOf(text: string, truncated: boolean): { envelope?: MailEnvelope; problem?: string } {
  if (truncated) return { problem: `its .env is longer than ${IDENTITY_ENV_BYTES / 1024} KB` };
  let sender: string | undefined;
  const rcpts = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = MAIL_FROM.exec(line);
    if (m) {
      if (sender !== undefined && sender !== m[1]) return { problem: 'its .env names two different senders' };
      sender = m[1];
      continue;
    }
    const r = RCPT_TO.exec(line);
    if (r && r[1] !== '') rcpts.add(normalizeAddress(r[1]));
  }
  if (sender === undefined) return { problem: 'its .env has no MAIL FROM line this tool reads' };
  if (rcpts.size === 0) return { problem: 'its .env has no RCPT TO line this tool reads' };
  if (rcpts.size > IDENTITY_MAX_RECIPIENTS) return { problem: `its .env lists more than ${IDENTITY_MAX_RECIPIENTS} recipients` };
  return { envelope: { sender, recipients: [...rcpts].sort() } };
}

/** Whether two copies are one transaction, and if not, which part differs (for the admin). */
export function compareMails(a: MailIdentity, b: MailIdentity): { same: true } | { same: false; differs: string } {
  if (a.bodySha !== b.bodySha) return { same: false, differs: 'another content (.body SHA-256)' };
  if (a.envSha === b.envSha) return { same: true };
  // The gateway may rewrite an envelope file it keeps (its own bookkeeping); the transaction is
  // still the same when sender and recipient set are.
  if (!a.envelope || !b.envelope) return { same: false, differs: `another .env, and ${a.envelope ? 'that copy' : 'this one'}'s envelope cannot be read in full (${(a.envelope ? b : a).envelopeProblem ?? 'unreadable'})` };
  if (a.envelope.sender !== b.envelope.sender) return { same: false, differs: 'another envelope sender (MAIL FROM)' };
  if (a.envelope.recipients.join('\n') !== b.envelope.recipients.join('\n')) return { same: false, differs: 'other envelope recipients (RCPT TO)' };
  return { same: true };
}

// $1 folder, $2 .env cap; stdin: ids. Per id whose two files are regular files (never links):
// "I <id> <body sha> <env sha> <env size>", then the first $2 bytes of the .env, each line prefixed
// by "|", then "Z <id>". Others: "X <id>".
const IDENTITY_SCRIPT = `cd -- "$1" || exit 3
while IFS= read -r id; do
  if [ -L "$id.body" ] || [ -L "$id.env" ] || [ ! -f "$id.body" ] || [ ! -f "$id.env" ]; then echo "X $id"; continue; fi
  b=$(sha256sum -- "$id.body" 2>/dev/null) || { echo "X $id"; continue; }
  e=$(sha256sum -- "$id.env" 2>/dev/null) || { echo "X $id"; continue; }
  n=$(wc -c < "$id.env" 2>/dev/null) || { echo "X $id"; continue; }
  printf 'I %s %s %s %s\\n' "$id" "\${b%% *}" "\${e%% *}" "$n"
  { head -c "$2" -- "$id.env"; echo; } | sed 's/^/|/'
  printf 'Z %s\\n' "$id"
done
echo "E end"
exit 0`;

export function parseIdentityOutput(text: string): { mails: Map<string, MailIdentity>; complete: boolean } {
  const out = new Map<string, MailIdentity>();
  let complete = false;
  let cur: { id: string; bodySha: string; envSha: string; size: number; lines: string[] } | undefined;
  for (const line of text.split('\n')) {
    if (cur && line.startsWith('|')) {
      cur.lines.push(line.slice(1));
      continue;
    }
    const i = /^I (\S+) ([0-9a-f]{64}) ([0-9a-f]{64}) (\d+)$/.exec(line);
    if (i) {
      cur = { id: i[1], bodySha: i[2], envSha: i[3], size: Number(i[4]), lines: [] };
      continue;
    }
    if (line === 'E end') complete = true;
    const z = /^Z (\S+)$/.exec(line);
    if (z && cur && z[1] === cur.id) {
      // The script added one line break after the bytes it read: the last "|" line is its remainder.
      const envText = cur.lines.join('\n');
      const { envelope, problem } = envelopeOf(envText, cur.size > IDENTITY_ENV_BYTES);
      out.set(cur.id, { id: cur.id, bodySha: cur.bodySha, envSha: cur.envSha, envelope, envelopeProblem: problem });
      cur = undefined;
    }
  }
  return { mails: out, complete };
}

/** The identity of each complete mail `<dir>/<id>`; mails that are gone or not plain files are absent. */
export async function readIdentities(conn: UnitConnection, dir: string, ids: readonly string[]): Promise<Map<string, MailIdentity>> {
  if (ids.length === 0) return new Map();
  if (!isSafeAbsolutePath(dir)) throw new RecoveryError(`refusing unsafe folder ${JSON.stringify(dir)}`);
  for (const id of ids) if (!isSafeMailId(id)) throw new RecoveryError(`refusing unsafe mail id ${JSON.stringify(id)}`);
  const out = new Map<string, MailIdentity>();
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = ids.slice(i, i + BATCH);
    const r = await conn.execScript(IDENTITY_SCRIPT, [dir, String(IDENTITY_ENV_BYTES)], { stdin: batch.map((x) => `${x}\n`).join(''), timeoutMs: 300_000, maxStdoutBytes: batch.length * (IDENTITY_ENV_BYTES + 4096) + 64 });
    if (r.code !== 0) throw new RecoveryError(`${conn.address.label}: reading the content hashes and envelopes of mails in ${dir} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(0, 3).join('; ')}`);
    const parsed = parseIdentityOutput(r.stdout.toString('utf8'));
    if (!parsed.complete) throw new RecoveryError(`${conn.address.label}: the content hashes and envelopes of mails in ${dir} came back incomplete; nothing was changed`);
    for (const [id, m] of parsed.mails) out.set(id, m);
  }
  return out;
}
