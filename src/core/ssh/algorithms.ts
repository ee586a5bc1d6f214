// Which SSH algorithms a connection offers, in the ssh_config style: a unit's `algorithms` in the
// settings and ~/.ssh/config's own keywords (HostKeyAlgorithms, KexAlgorithms, Ciphers, MACs), each
// a list that replaces ssh2's default, or that `+` appends to, `-` removes from or `^` puts first.
// Older box firmware ships older OpenSSH (ssh-rsa host keys, diffie-hellman-group14-sha1, aes-ctr,
// hmac-sha1): ssh2 refuses some of those by default, and a failed negotiation says what each side
// offered and which setting would allow it. The host key is still verified whatever is offered.

export type AlgorithmKeyword = 'HostKeyAlgorithms' | 'KexAlgorithms' | 'Ciphers' | 'MACs';
export const ALGORITHM_KEYWORDS: readonly AlgorithmKeyword[] = ['HostKeyAlgorithms', 'KexAlgorithms', 'Ciphers', 'MACs'];

/** ssh2's own names (lib/protocol/constants.js SUPPORTED_*; a unit test keeps them equal). */
export const SUPPORTED: Readonly<Record<AlgorithmKeyword, readonly string[]>> = {
  HostKeyAlgorithms: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-dss'],
  KexAlgorithms: ['curve25519-sha256@libssh.org', 'curve25519-sha256', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521', 'diffie-hellman-group-exchange-sha256', 'diffie-hellman-group14-sha256', 'diffie-hellman-group15-sha512', 'diffie-hellman-group16-sha512', 'diffie-hellman-group17-sha512', 'diffie-hellman-group18-sha512', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group14-sha1', 'diffie-hellman-group1-sha1'],
  Ciphers: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes192-ctr', 'chacha20-poly1305@openssh.com', 'aes256-ctr', 'aes256-cbc', 'aes192-cbc', 'aes128-cbc', '3des-cbc', 'aes128-gcm', 'aes256-gcm'],
  MACs: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha1-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha1', 'hmac-md5', 'hmac-sha2-256-96', 'hmac-sha2-512-96', 'hmac-ripemd160', 'hmac-sha1-96', 'hmac-md5-96'],
};

/** ssh2's ConnectConfig.algorithms key for each keyword. */
const SSH2_KEY: Record<AlgorithmKeyword, 'serverHostKey' | 'kex' | 'cipher' | 'hmac'> = { HostKeyAlgorithms: 'serverHostKey', KexAlgorithms: 'kex', Ciphers: 'cipher', MACs: 'hmac' };

export interface AlgorithmSpec {
  readonly mode: 'set' | 'append' | 'prepend' | 'remove';
  readonly names: readonly string[];
  /** As written, for messages. */
  readonly text: string;
}
export type AlgorithmOverrides = Partial<Record<AlgorithmKeyword, AlgorithmSpec>>;

/** One keyword's value in the ssh_config style, checked against what ssh2 can do. */
export function parseAlgorithmSpec(keyword: AlgorithmKeyword, text: unknown): { spec?: AlgorithmSpec; error?: string } {
  if (typeof text !== 'string' || text.trim() === '') return { error: `${keyword} must be a comma-separated list of algorithm names, optionally starting with + (add), - (remove) or ^ (prefer)` };
  const t = text.trim();
  const mode = t[0] === '+' ? 'append' : t[0] === '-' ? 'remove' : t[0] === '^' ? 'prepend' : 'set';
  const names = (mode === 'set' ? t : t.slice(1)).split(',').map((n) => n.trim()).filter(Boolean);
  if (names.length === 0) return { error: `${keyword} names no algorithm` };
  const unknown = names.filter((n) => !SUPPORTED[keyword].includes(n));
  if (unknown.length) return { error: `${keyword}: ${unknown.map((n) => JSON.stringify(n.slice(0, 60))).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not an algorithm this extension's SSH library (ssh2) supports; supported: ${SUPPORTED[keyword].join(', ')}` };
  return { spec: { mode, names, text: t } };
}

/** The unit's overrides over the ssh config's (settings win, as OpenSSH's -o options win over its config). */
export function mergeOverrides(fromConfig: AlgorithmOverrides, fromSettings: AlgorithmOverrides | undefined): AlgorithmOverrides {
  return { ...fromConfig, ...(fromSettings ?? {}) };
}

type Ssh2List = string[] | { append?: string[]; prepend?: string[]; remove?: string[] };

/** ssh2's `algorithms` for these overrides; `preferHostKeys`: the known host key's algorithms first. */
export function ssh2Algorithms(overrides: AlgorithmOverrides, preferHostKeys: readonly string[]): Record<string, Ssh2List> | undefined {
  const out: Record<string, Ssh2List> = {};
  for (const k of ALGORITHM_KEYWORDS) {
    const s = overrides[k];
    if (!s) continue;
    out[SSH2_KEY[k]] = s.mode === 'set' ? [...s.names] : { [s.mode]: [...s.names] };
  }
  if (preferHostKeys.length) {
    const hk = out.serverHostKey;
    if (Array.isArray(hk)) out.serverHostKey = [...preferHostKeys.filter((a) => hk.includes(a)), ...hk.filter((a) => !preferHostKeys.includes(a))];
    else out.serverHostKey = { ...(hk ?? {}), prepend: [...preferHostKeys, ...((hk?.prepend ?? []).filter((a) => !preferHostKeys.includes(a)))] };
  }
  return Object.keys(out).length ? out : undefined;
}

/** What the two sides offered, from ssh2's handshake debug lines. */
export interface Offers {
  local: Partial<Record<string, string>>;
  remote: Partial<Record<string, string>>;
}

const DEBUG_LINE = /^Handshake: \((local|remote)\) (KEX method|Host key format|C->S cipher|S->C cipher|C->S MAC|S->C MAC): (.*)$/;
const KEYWORD_OF: Record<string, AlgorithmKeyword> = { 'KEX method': 'KexAlgorithms', 'Host key format': 'HostKeyAlgorithms', 'C->S cipher': 'Ciphers', 'S->C cipher': 'Ciphers', 'C->S MAC': 'MACs', 'S->C MAC': 'MACs' };

export function newOffers(): Offers {
  return { local: {}, remote: {} };
}

/** Takes one ssh2 debug line (the offers of the handshake). */
export function noteOffer(offers: Offers, line: string): void {
  const m = DEBUG_LINE.exec(line);
  if (m) offers[m[1] as 'local' | 'remote'][m[2]] = m[3].slice(0, 2000);
}

/**
 * Why the negotiation failed, for the admin: what each side offered for the category ssh2 named,
 * and the setting that would allow a common algorithm (if ssh2 supports one the unit offers).
 */
export function describeNegotiationFailure(message: string, offers: Offers, unitName: string): string | undefined {
  const m = /no matching (key exchange algorithm|host key format|C->S cipher|S->C cipher|C->S MAC|S->C MAC)/.exec(message);
  if (!m) return undefined;
  const category = m[1] === 'key exchange algorithm' ? 'KEX method' : m[1];
  const keyword = KEYWORD_OF[category];
  const strip = (s: string | undefined) => (s ?? '').split(',').filter((a) => a && !/^(ext-info-[cs]|kex-strict-[cs]-v00@openssh\.com)$/.test(a));
  const ours = strip(offers.local[category]);
  const theirs = strip(offers.remote[category]);
  const possible = theirs.filter((a) => SUPPORTED[keyword].includes(a));
  const allow = possible.length ? ` To allow it, set "algorithms": { "${keyword}": "+${possible[0]}" } on unit ${unitName} in mailgwHa.clusters (or ${keyword} +${possible[0]} for its Host in ~/.ssh/config).` : ` None of the unit's is one this extension's SSH library supports (${SUPPORTED[keyword].join(', ')}); the unit's sshd must offer another.`;
  return `no common ${m[1]}: this extension offered ${ours.join(', ') || '(none)'}; the unit offered ${theirs.join(', ') || '(none)'}.${allow}`;
}
