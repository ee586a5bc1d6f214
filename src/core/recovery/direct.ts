// Direct transfer: the secondary runs `tar -c | ssh primary` itself, so mail bytes go unit to unit
// over the pair's own network instead of twice over the admin's link. Nothing of the admin's is lent
// to the unit: the secondary logs in with a key pair made for this transfer, which the primary
// accepts only for unpacking into this run's staging folder, only for a few minutes and only from
// the secondary's address where known (transferKey.ts); and it accepts only the primary's host key
// that this machine verified (a temporary known_hosts with strict checking; no other known_hosts,
// no ssh config, no agent). What arrives is verified exactly as after a relay (size and SHA-256 on
// both units, transfer.ts).
import type { ClientChannel } from 'ssh2';
import type { ClusterConfig } from '../config';
import type { Cancellation } from '../host';
import { isSafeAbsolutePath } from '../names';
import type { NegotiatedAlgorithms, UnitConnection } from '../ssh/connection';
import { SshError } from '../ssh/errors';
import { RecoveryError, TAR_CREATE_NAMED } from './remote';
import { authorizeKey, fromAddress, KEY_TTL_S, makeTransferKey, revokeKey, TransferKey } from './transferKey';

export interface DirectTarget {
  /** Where the secondary reaches the primary's sshd (the unit's haHost/haPort, or the admin's address). */
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** The primary's host key as this machine verified it: "<type> <base64>". */
  readonly hostKey: string;
  /** The secondary's address as the primary sees it (the key's `from=`), if known. */
  readonly from?: string;
  /**
   * What this machine's connection to the primary negotiated, added to what the secondary's ssh
   * offers (an older box's sshd offers only algorithms OpenSSH's client no longer offers itself).
   */
  readonly algorithms?: { readonly kex?: string; readonly hostKey?: string; readonly cipher?: string; readonly mac?: string };
}

/** Told before a transfer key is authorized and once it is removed again (the journal). */
export type KeyJournal = (phase: 'adding' | 'removed', keyId: string) => void;

/**
 * `"transfer": "auto"`: the first stream tries an empty archive first; if that (or authorizing the
 * key) fails, this batch and every later one relay, and `onRelay` is told why once.
 */
export interface AutoFallback {
  reached: boolean;
  relayed?: string;
  readonly onRelay: (why: string) => void;
}

/** A direct target for one run: its keys are named after the run and journaled. */
export interface DirectRoute extends DirectTarget {
  readonly runId: string;
  readonly journal?: KeyJournal;
  readonly auto?: AutoFallback;
}

/** The secondary could not get an empty archive through to the primary: nothing of the batch was sent. */
export class DirectUnreachable extends RecoveryError {}

export interface DirectOptions {
  readonly cancellation?: Cancellation;
  readonly onFlowing?: () => void;
  /** Send an empty archive first (DirectUnreachable if it cannot get through). */
  readonly probe?: boolean;
}

const HOST = /^[A-Za-z0-9_.:[\]%-]{1,253}$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;
const KEY = /^[a-z0-9@.-]{1,64} [A-Za-z0-9+/=]{1,8192}$/;
const ALGORITHM = /^[a-z0-9][a-z0-9@.-]{0,63}$/;

/** "[host]:port" as OpenSSH names a non-22 port in known_hosts. */
function knownName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

// $1 source folder, $2 host, $3 port, $4 user, $5 staging folder on the primary, $6 known_hosts
// line, $7 local address to connect from (or empty), $8-$11 a key exchange, host key algorithm,
// cipher and MAC to add to what ssh offers (each may be empty), $12 "probe": first an empty archive
// (exit 200 if that cannot get through: nothing was sent); stdin: the transfer's private key (up to its
// END line), then the file names. Prints "S" once the stream starts. Exit: 0 sent and unpacked, 4 no
// ssh client or no key, 255 ssh could not connect or log in (or was cut), 5 tar on the secondary
// failed, other: the primary's tar failed. The key is written only into a private temporary
// folder, removed when the script ends however it ends (short of a kill -9 of the shell: then the
// primary has forgotten the key within minutes anyway).
const DIRECT_SCRIPT = `cd -- "$1" || exit 3
command -v ssh >/dev/null 2>&1 || { echo "no ssh client on this unit" >&2; exit 4; }
umask 077
d=$(mktemp -d) || exit 3
trap 'rm -rf -- "$d"' EXIT HUP INT TERM
k=0
while IFS= read -r l; do printf '%s\\n' "$l" >> "$d/key"; case $l in "-----END OPENSSH PRIVATE KEY-----") k=1; break ;; esac; done
[ "$k" = 1 ] || { echo "no transfer key on the input" >&2; exit 4; }
[ "$(head -n 1 "$d/key")" = "-----BEGIN OPENSSH PRIVATE KEY-----" ] || { echo "the transfer key arrived damaged ($(wc -c < "$d/key") bytes, first line $(head -n 1 "$d/key" | wc -c) bytes)" >&2; exit 4; }
printf '%s\\n' "$6" > "$d/known_hosts"
unset SSH_AUTH_SOCK
to_primary() {
  ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \\
  -o UserKnownHostsFile="$d/known_hosts" -o GlobalKnownHostsFile=/dev/null -o CheckHostIP=no \\
  -o IdentityFile="$d/key" -o IdentitiesOnly=yes -o IdentityAgent=none -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \\
  -o HostbasedAuthentication=no -o ForwardAgent=no -o ClearAllForwardings=yes -o ControlPath=none -o ConnectTimeout=15 \\
  -o ServerAliveInterval=15 -o ServerAliveCountMax=3 \${A8:+-o "KexAlgorithms=+$A8"} \${A9:+-o "HostKeyAlgorithms=+$A9"} \\
  \${A10:+-o "Ciphers=+$A10"} \${A11:+-o "MACs=+$A11"} \${A7:+-b "$A7"} -p "$A3" -l "$A4" -- "$A2" tar -xf - -C "$A5"
}
A2=$2; A3=$3; A4=$4; A5=$5; A7=$7; A8=$8; A9=$9; A10=\${10}; A11=\${11}
# probe: an empty archive first; if that cannot get through, nothing was sent (exit 200).
if [ "\${12}" = probe ]; then head -c 10240 /dev/zero | to_primary || exit 200; fi
echo S
{ ( ${TAR_CREATE_NAMED} ); echo $? > "$d/tar.rc"; } | to_primary
rc=$?
[ "$rc" = 0 ] || exit "$rc"
t=$(cat "$d/tar.rc" 2>/dev/null)
[ "$t" = 0 ] || { echo "tar on the secondary failed (exit \${t:-killed})" >&2; exit 5; }
exit 0`;

// $1 the primary's address. Prints the local address this unit sends from to reach it ("src" of
// the route), or nothing.
const SOURCE_SCRIPT = `command -v ip >/dev/null 2>&1 || exit 0
ip -o route get "$1" 2>/dev/null | sed -n 's/.* src \\([0-9A-Fa-f.:]*\\).*/\\1/p' | head -n 1`;

/** Why a direct send failed, for the user (exit code of DIRECT_SCRIPT, stderr). */
function describeFailure(source: UnitConnection, target: DirectTarget, code: number | null, stderr: string): string {
  const err = stderr.trim().split('\n').slice(-3).join('; ').slice(0, 300);
  const where = `${target.username}@${knownName(target.host, target.port)}`;
  if (code === 4) return `${source.address.label}: cannot send directly: ${err}`;
  if (code === 5) return `${source.address.label}: ${err}`;
  // 200: the empty archive before the stream did not get through; 255: ssh could not connect or log in.
  if (code === 200 || code === 255) return `${source.address.label}: cannot reach the primary at ${where} from the secondary (${err}). Set the primary's "haHost"/"haPort" to where the secondary reaches it, or "transfer": "relay".`;
  return `${source.address.label}: sending to the primary at ${where} failed (exit ${code ?? 'none: the stream was cut'}): ${err}`;
}

export function checkTarget(t: DirectTarget, stageDir: string): void {
  if (!HOST.test(t.host) || t.host.startsWith('-')) throw new RecoveryError(`refusing HA address ${JSON.stringify(t.host)}`);
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw new RecoveryError(`refusing HA port ${t.port}`);
  if (!USER.test(t.username)) throw new RecoveryError(`refusing user name ${JSON.stringify(t.username)}`);
  if (!KEY.test(t.hostKey)) throw new RecoveryError('refusing a malformed host key');
  if (!isSafeAbsolutePath(stageDir)) throw new RecoveryError(`refusing unsafe folder ${JSON.stringify(stageDir)}`);
  for (const a of Object.values(t.algorithms ?? {})) if (a !== undefined && !ALGORITHM.test(a)) throw new RecoveryError(`refusing algorithm name ${JSON.stringify(a)}`);
}

/**
 * Sends the named files of `srcDir` on the secondary into `stageDir` on the primary, unit to unit,
 * logging in with `key` (authorized by the run's KeyLease). Rejects with a RecoveryError saying what
 * failed (a cut stream included); the caller removes the staging folder as after a failed relay.
 */
export function sendDirect(source: UnitConnection, target: DirectTarget, key: TransferKey, srcDir: string, stageDir: string, names: readonly string[], opts: DirectOptions = {}): Promise<void> {
  checkTarget(target, stageDir);
  if (!isSafeAbsolutePath(srcDir)) return Promise.reject(new RecoveryError(`refusing unsafe folder ${JSON.stringify(srcDir)}`));
  const al = target.algorithms ?? {};
  const args = [srcDir, target.host, String(target.port), target.username, stageDir, `${knownName(target.host, target.port)} ${target.hostKey}`, target.from ?? '', al.kex ?? '', al.hostKey ?? '', al.cipher ?? '', al.mac ?? '', opts.probe ? 'probe' : ''];
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let ch: ClientChannel | undefined;
    let cancelPoll: NodeJS.Timeout | undefined;
    const settle = (e?: Error) => {
      if (settled) return;
      settled = true;
      if (cancelPoll) clearInterval(cancelPoll);
      if (e) {
        ch?.close();
        reject(e);
      } else resolve();
    };
    if (opts.cancellation) {
      cancelPoll = setInterval(() => {
        if (opts.cancellation?.isCancellationRequested) settle(new RecoveryError('cancelled'));
      }, 100);
    }
    source
      .stream(['sh', '-c', DIRECT_SCRIPT, 'sh', ...args], (e: SshError) => settle(e))
      .then((c) => {
        ch = c;
        if (settled) return c.close();
        let code: number | null = null;
        let stderr = '';
        let flowing = false;
        c.on('data', () => {
          if (!flowing) {
            flowing = true;
            opts.onFlowing?.();
          }
        });
        c.stderr.on('data', (b: Buffer) => {
          if (stderr.length < 8192) stderr += b.toString('utf8');
        });
        c.on('exit', (x: number | null) => (code = x));
        c.on('close', () => (code === 0 ? settle() : settle(new (code === 200 ? DirectUnreachable : RecoveryError)(describeFailure(source, target, code, stderr)))));
        // The key first (the script stops reading it at its END line), then the names.
        c.end(`${key.privateKey.trim()}\n${names.map((n) => `${n}\n`).join('')}`);
      })
      .catch((e: Error) => settle(e));
  });
}

/**
 * The transfer keys of one run: authorized on the primary when a stream first needs one, a fresh one
 * once the last is older than half its lifetime (the primary refuses logins past its expiry), all
 * removed by release(). Every addition and removal is journaled.
 */
export class KeyLease {
  private current: { key: Promise<TransferKey>; at: number } | undefined;
  private readonly authorized = new Set<string>();

  constructor(
    private readonly primary: UnitConnection,
    private readonly route: DirectRoute,
    private readonly stageDir: string,
  ) {}

  get(): Promise<TransferKey> {
    const fresh = this.current && Date.now() - this.current.at < (KEY_TTL_S * 1000) / 2;
    if (this.current && fresh) return this.current.key;
    const key = makeTransferKey(this.route.runId);
    this.route.journal?.('adding', key.id);
    this.authorized.add(key.id);
    const p = authorizeKey(this.primary, key, this.stageDir, this.route.from).then(() => key);
    this.current = { key: p, at: Date.now() };
    p.catch(() => {
      if (this.current?.key === p) this.current = undefined;
    });
    return p;
  }

  /** Removes every key this lease authorized; rejects with the first failure (the rest are still tried). */
  async release(): Promise<void> {
    this.current = undefined;
    let first: unknown;
    for (const id of [...this.authorized]) {
      try {
        await revokeKey(this.primary, id);
        this.authorized.delete(id);
        this.route.journal?.('removed', id);
      } catch (e) {
        first ??= e;
      }
    }
    if (first) throw first;
  }
}

/** The local address the secondary reaches `host` from (its route's "src"), if it can say. */
export async function sourceAddress(secondary: UnitConnection, host: string): Promise<string | undefined> {
  if (!HOST.test(host) || host.startsWith('-')) return undefined;
  const r = await secondary.execScript(SOURCE_SCRIPT, [host], { timeoutMs: 15_000 }).catch(() => undefined);
  return fromAddress(r?.stdout.toString('utf8').trim());
}

/** ssh2's negotiated names as OpenSSH's options take them (AEAD ciphers carry no MAC). */
function negotiatedForOpenSsh(n: NegotiatedAlgorithms | undefined): DirectTarget['algorithms'] {
  if (!n) return undefined;
  const ok = (a: string | undefined) => (a && ALGORITHM.test(a) ? a : undefined);
  return { kex: ok(n.kex), hostKey: ok(n.serverHostKey), cipher: ok(n.cs.cipher), mac: ok(n.cs.mac) };
}

export interface TransferChoice {
  /** The setting: relay, direct, or auto (direct when the secondary can reach the primary). */
  readonly mode: 'auto' | 'direct' | 'relay';
  /** The path this run takes (auto: direct unless the probe at copy time fails). */
  readonly path: 'direct' | 'relay';
  readonly why: string;
  /** For the direct path. */
  readonly target?: DirectTarget;
}

/**
 * Which path the mails take, from the settings and what the two open connections allow: direct
 * needs the host key this machine verified for the primary, and OpenSSH's sshd there (the transfer
 * key's restrictions are OpenSSH's authorized_keys options). `from`: the secondary's address toward
 * the primary (sourceAddress), or its configured "haHost".
 */
export function chooseTransfer(cluster: ClusterConfig, secondary: UnitConnection, primary: UnitConnection, from?: string): TransferChoice {
  const mode = cluster.transfer;
  if (mode === 'relay') return { mode, path: 'relay', why: 'relay: the cluster\'s "transfer" setting is "relay"; mail passes through this machine' };
  const p = primary.info;
  const refuse = (why: string): TransferChoice => {
    if (mode === 'direct') throw new RecoveryError(`cluster "${cluster.name}": "transfer" is "direct" but ${why}. Set "transfer" to "auto" or "relay", or fix that.`);
    return { mode, path: 'relay', why: `relay: ${why}` };
  };
  if (!secondary.info) return refuse(`the secondary ${cluster.secondary.key} is not connected`);
  if (!p?.hostKeyBlob) return refuse(`the primary ${cluster.primary.key}'s host key is not known to this connection`);
  if (!/^OpenSSH/i.test(p.serverSoftware ?? '')) return refuse(`the primary ${cluster.primary.key}'s SSH server is ${p.serverSoftware ? JSON.stringify(p.serverSoftware.slice(0, 40)) : 'not known'}, not OpenSSH (the transfer key's limits are OpenSSH's)`);
  const bindFrom = fromAddress(cluster.secondary.haHost) ?? from;
  const target: DirectTarget = {
    host: cluster.primary.haHost ?? p.target.hostName,
    port: cluster.primary.haPort ?? p.target.port,
    username: p.target.username,
    hostKey: `${p.hostKeyType} ${p.hostKeyBlob.toString('base64')}`,
    from: bindFrom,
    algorithms: negotiatedForOpenSsh(p.negotiated),
  };
  const where = `${target.username}@${knownName(target.host, target.port)}`;
  return {
    mode,
    path: 'direct',
    why: `direct: the secondary sends straight to the primary at ${where}${cluster.primary.haHost ? ' (its "haHost")' : ''}, accepting only the host key ${p.fingerprint} verified here, with a key made for this transfer that the primary accepts only to unpack into this run's staging folder${target.from ? `, only from ${target.from}` : ''}, for ${KEY_TTL_S / 60} minutes at most; nothing of yours is lent${mode === 'auto' ? '; relay if it cannot' : ''}`,
    target,
  };
}
