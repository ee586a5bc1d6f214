// Host key verification modelled on OpenSSH's StrictHostKeyChecking: known_hosts files (plain,
// hashed, [host]:port, wildcards, negation, @revoked) plus the extension's own trust store, which
// uses the same file format so an admin can read it.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makePrivateDir, openPrivateFile, writePrivateFile } from '../privateFiles';
import { readSettingFile, SettingFileError } from '../files';

export interface HostKey {
  /** e.g. ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa */
  readonly type: string;
  /** The public key blob in SSH wire format. */
  readonly blob: Buffer;
}

export type HostKeyStatus = 'trusted' | 'unknown' | 'changed' | 'revoked';

export interface HostKeyCheck {
  readonly status: HostKeyStatus;
  readonly key: HostKey;
  readonly fingerprint: string;
  /** For 'trusted', 'changed', 'revoked': the file and line that decided. */
  readonly source?: string;
  /** For 'unknown': key types this host is known with under other types, if any. */
  readonly otherKnownTypes?: readonly string[];
}

interface Entry {
  readonly marker?: '@revoked' | '@cert-authority';
  readonly patterns: string; // comma list, or |1|salt|hash
  readonly type: string;
  readonly blob: Buffer;
  readonly source: string;
  /** From the user's own files (~/.ssh/known_hosts, the extension's trust store): a pin no other file overrides. */
  readonly pinned: boolean;
}

export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) throw new Error('host key blob too short');
  const len = blob.readUInt32BE(0);
  if (len > 64 || blob.length < 4 + len) throw new Error('malformed host key blob');
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH's `SHA256:...` fingerprint (base64 without padding). */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The name a host is stored under: `host`, or `[host]:port` when the port is not 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function parseKnownHosts(text: string, file: string, pinned = false): Entry[] {
  const entries: Entry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: Entry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as Entry['marker'];
    else if (fields[0].startsWith('@')) return;
    if (fields.length < 3) return;
    const [patterns, type, b64] = fields;
    const blob = Buffer.from(b64, 'base64');
    if (blob.length === 0) return;
    try {
      if (keyTypeOfBlob(blob) !== type) return;
    } catch {
      return;
    }
    entries.push({ marker, patterns, type, blob, source: `${file}:${i + 1}`, pinned });
  });
  return entries;
}

function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i');
}

function hashedMatches(patterns: string, name: string): boolean {
  const parts = patterns.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2], 'base64');
  const want = Buffer.from(parts[3], 'base64');
  const got = crypto.createHmac('sha1', salt).update(name).digest();
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

/** Whether an entry's host patterns name this host, with OpenSSH's negation semantics. */
function entryMatches(patterns: string, names: readonly string[]): boolean {
  if (patterns.startsWith('|')) return names.some((n) => hashedMatches(patterns, n));
  let matched = false;
  for (const p of patterns.split(',')) {
    const negated = p.startsWith('!');
    const re = globToRegExp(negated ? p.slice(1) : p);
    if (names.some((n) => re.test(n))) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** The user's own known_hosts (always read; its pins win over every other file). */
export function userKnownHostsFile(): string {
  return path.join(os.homedir(), '.ssh', 'known_hosts');
}

export class KnownHosts {
  private constructor(private readonly entries: readonly Entry[]) {}

  /**
   * Reads the files that exist; a missing file is no entry, an unreadable one (or one that is not a
   * regular file of at most 1 MiB) is an error. `pinned` files are the user's own (~/.ssh/known_hosts,
   * the extension's trust store): a key they record for a host wins over every other file.
   */
  static load(files: readonly string[], pinned: readonly string[] = []): KnownHosts {
    const entries: Entry[] = [];
    for (const [file, isPinned] of [...pinned.map((f) => [f, true] as const), ...files.map((f) => [f, false] as const)]) {
      let text: string;
      try {
        text = readSettingFile(file, 'known_hosts file (~/.ssh/known_hosts, mailgwHa.knownHostsFile or --known-hosts)').toString('utf8');
      } catch (err) {
        if (err instanceof SettingFileError && err.code === 'ENOENT') continue;
        throw new Error((err as Error).message);
      }
      entries.push(...parseKnownHosts(text, file, isPinned));
    }
    return new KnownHosts(entries);
  }

  /**
   * Checks a key presented by `host:port`. `aliases` are further names the host is known by
   * (e.g. the ~/.ssh/config alias or the address it resolves to), as OpenSSH's CheckHostIP does.
   */
  check(host: string, port: number, key: HostKey, aliases: readonly string[] = []): HostKeyCheck {
    const names = [host, ...aliases].map((h) => knownHostsName(h, port));
    const fingerprint = fingerprintOf(key.blob);
    const forHost = this.entries.filter((e) => e.marker !== '@cert-authority' && entryMatches(e.patterns, names));
    const revoked = this.entries.find((e) => e.marker === '@revoked' && e.blob.equals(key.blob));
    if (revoked) return { status: 'revoked', key, fingerprint, source: revoked.source };
    // The user's own pin decides first: another file (a workspace's, a --known-hosts file) listing
    // the presented key cannot make a key the user pinned differently pass.
    const pins = forHost.filter((e) => e.pinned && !e.marker);
    const pinnedExact = pins.find((e) => e.blob.equals(key.blob));
    if (pinnedExact) return { status: 'trusted', key, fingerprint, source: pinnedExact.source };
    const pinnedOther = pins.find((e) => e.type === key.type);
    if (pinnedOther) return { status: 'changed', key, fingerprint, source: pinnedOther.source };
    const exact = forHost.find((e) => !e.marker && e.blob.equals(key.blob));
    if (exact) return { status: 'trusted', key, fingerprint, source: exact.source };
    const sameType = forHost.find((e) => !e.marker && e.type === key.type);
    if (sameType) return { status: 'changed', key, fingerprint, source: sameType.source };
    const otherKnownTypes = [...new Set(forHost.filter((e) => !e.marker).map((e) => e.type))];
    return { status: 'unknown', key, fingerprint, otherKnownTypes };
  }

  /** Key types known for a host, most useful first, so the client can ask the server for them. */
  knownTypes(host: string, port: number, aliases: readonly string[] = []): string[] {
    const names = [host, ...aliases].map((h) => knownHostsName(h, port));
    return [...new Set(this.entries.filter((e) => !e.marker && entryMatches(e.patterns, names)).map((e) => e.type))];
  }
}

/** Appends a trusted key to the extension's own store (never the user's known_hosts). */
export function addToTrustStore(storeFile: string, host: string, port: number, key: HostKey): void {
  // The store's folder is the extension's own (its storage folder): private like the store.
  makePrivateDir(path.dirname(storeFile), { own: true });
  const line = `${knownHostsName(host, port)} ${key.type} ${key.blob.toString('base64')}\n`;
  const fd = openPrivateFile(storeFile, 'a');
  try {
    fs.writeSync(fd, line);
  } finally {
    fs.closeSync(fd);
  }
}

/** Removes every entry for a host from the extension's own store; returns how many were removed. */
export function removeFromTrustStore(storeFile: string, host: string, port: number): number {
  let text: string;
  try {
    text = fs.readFileSync(storeFile, 'utf8');
  } catch {
    return 0;
  }
  const name = knownHostsName(host, port);
  const lines = text.split('\n');
  const kept = lines.filter((l) => !l.trim() || l.startsWith('#') || !entryMatches(l.trim().split(/\s+/)[0], [name]));
  const removed = lines.length - kept.length;
  if (removed > 0) {
    writePrivateFile(storeFile, kept.join('\n'));
  }
  return removed;
}
