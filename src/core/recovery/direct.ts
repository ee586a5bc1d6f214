// Direct transfer: the secondary runs `tar -c | ssh primary tar -x` itself, so mail bytes go unit to
// unit over the pair's own network instead of twice over the admin's link. Trust is not invented on
// the unit: its `ssh` logs in with the admin's own credential, lent for this one channel (agent
// forwarding; for a key file, an agent in this process that holds only that key), never with a key
// stored on the unit, and it accepts only the primary's host key that this machine verified (a
// temporary known_hosts with strict checking; no other known_hosts, no ssh config). What arrives is
// verified exactly as after a relay (size and SHA-256 on both units, transfer.ts).
import type { ClientChannel } from 'ssh2';
import type { ClusterConfig } from '../config';
import type { Cancellation } from '../host';
import { isSafeAbsolutePath } from '../names';
import type { UnitConnection } from '../ssh/connection';
import { SshError } from '../ssh/errors';
import { RecoveryError, TAR_CREATE_NAMED } from './remote';

export interface DirectTarget {
  /** Where the secondary reaches the primary's sshd (the unit's haHost/haPort, or the admin's address). */
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** The primary's host key as this machine verified it: "<type> <base64>". */
  readonly hostKey: string;
}

export interface DirectOptions {
  readonly cancellation?: Cancellation;
  readonly onFlowing?: () => void;
}

const HOST = /^[A-Za-z0-9_.:[\]%-]{1,253}$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;
const KEY = /^[a-z0-9@.-]{1,64} [A-Za-z0-9+/=]{1,8192}$/;

/** "[host]:port" as OpenSSH names a non-22 port in known_hosts. */
function knownName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

// $1 source folder, $2 host, $3 port, $4 user, $5 staging folder on the primary, $6 known_hosts
// line; stdin: file names. Prints "S" once the stream starts. Exit: 0 sent and unpacked, 4 no lent
// credential, 255 ssh could not connect or log in (or was cut), 5 tar on the secondary failed,
// other: the primary's tar failed. The remote command is fixed text plus $5, a checked plain path.
const DIRECT_SCRIPT = `cd -- "$1" || exit 3
[ -n "$SSH_AUTH_SOCK" ] || { echo "no credential was lent to this session (agent forwarding refused by the unit's sshd?)" >&2; exit 4; }
command -v ssh >/dev/null 2>&1 || { echo "no ssh client on this unit" >&2; exit 4; }
d=$(mktemp -d) || exit 3
trap 'rm -rf -- "$d"' EXIT HUP INT TERM
printf '%s\\n' "$6" > "$d/known_hosts"
echo S
{ ( ${TAR_CREATE_NAMED} ); echo $? > "$d/tar.rc"; } | ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \\
  -o UserKnownHostsFile="$d/known_hosts" -o GlobalKnownHostsFile=/dev/null -o CheckHostIP=no \\
  -o IdentityFile=none -o IdentitiesOnly=no -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \\
  -o HostbasedAuthentication=no -o ForwardAgent=no -o ControlPath=none -o ConnectTimeout=15 \\
  -o ServerAliveInterval=15 -o ServerAliveCountMax=3 -p "$3" -l "$4" -- "$2" tar -xf - -C "$5"
rc=$?
[ "$rc" = 0 ] || exit "$rc"
t=$(cat "$d/tar.rc" 2>/dev/null)
[ "$t" = 0 ] || { echo "tar on the secondary failed (exit \${t:-killed})" >&2; exit 5; }
exit 0`;

/** Why a direct send failed, for the user (exit code of DIRECT_SCRIPT, stderr). */
function describeFailure(source: UnitConnection, target: DirectTarget, code: number | null, stderr: string): string {
  const err = stderr.trim().split('\n').slice(-3).join('; ').slice(0, 300);
  const where = `${target.username}@${knownName(target.host, target.port)}`;
  if (code === 4) return `${source.address.label}: cannot send directly: ${err}`;
  if (code === 5) return `${source.address.label}: ${err}`;
  if (code === 255) return `${source.address.label}: cannot reach the primary at ${where} from the secondary (${err}). Set the primary's "haHost"/"haPort" to where the secondary reaches it, or "transfer": "relay".`;
  return `${source.address.label}: sending to the primary at ${where} failed (exit ${code ?? 'none: the stream was cut'}): ${err}`;
}

export function checkTarget(t: DirectTarget, stageDir: string): void {
  if (!HOST.test(t.host) || t.host.startsWith('-')) throw new RecoveryError(`refusing HA address ${JSON.stringify(t.host)}`);
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw new RecoveryError(`refusing HA port ${t.port}`);
  if (!USER.test(t.username)) throw new RecoveryError(`refusing user name ${JSON.stringify(t.username)}`);
  if (!KEY.test(t.hostKey)) throw new RecoveryError('refusing a malformed host key');
  if (!isSafeAbsolutePath(stageDir)) throw new RecoveryError(`refusing unsafe folder ${JSON.stringify(stageDir)}`);
}

/**
 * Sends the named files of `srcDir` on the secondary into `stageDir` on the primary, unit to unit.
 * Rejects with a RecoveryError saying what failed (a cut stream included); the caller removes the
 * staging folder as after a failed relay.
 */
export function sendDirect(source: UnitConnection, target: DirectTarget, srcDir: string, stageDir: string, names: readonly string[], opts: DirectOptions = {}): Promise<void> {
  checkTarget(target, stageDir);
  if (!isSafeAbsolutePath(srcDir)) return Promise.reject(new RecoveryError(`refusing unsafe folder ${JSON.stringify(srcDir)}`));
  const args = [srcDir, target.host, String(target.port), target.username, stageDir, `${knownName(target.host, target.port)} ${target.hostKey}`];
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
      .stream(['sh', '-c', DIRECT_SCRIPT, 'sh', ...args], (e: SshError) => settle(e), { forwardAgent: true })
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
        c.on('close', () => (code === 0 ? settle() : settle(new RecoveryError(describeFailure(source, target, code, stderr)))));
        c.end(names.map((n) => `${n}\n`).join(''));
      })
      .catch((e: Error) => settle(e));
  });
}

/** Whether the secondary can send to the primary directly: an empty stream end to end. */
export async function probeDirect(source: UnitConnection, target: DirectTarget, srcDir: string, stageDir: string): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    await sendDirect(source, target, srcDir, stageDir, []);
    return { ok: true };
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
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
 * Which path the mails take, from the settings and what the two open connections allow: direct needs
 * a credential the secondary's connection can lend (agent or key file, not a password) and the host
 * key this machine verified for the primary.
 */
export function chooseTransfer(cluster: ClusterConfig, secondary: UnitConnection, primary: UnitConnection): TransferChoice {
  const mode = cluster.transfer;
  if (mode === 'relay') return { mode, path: 'relay', why: 'the cluster\'s "transfer" setting is "relay": mail passes through this machine' };
  const s = secondary.info;
  const p = primary.info;
  const lends = s?.lends;
  const refuse = (why: string): TransferChoice => {
    if (mode === 'direct') throw new RecoveryError(`cluster "${cluster.name}": "transfer" is "direct" but ${why}. Set "transfer" to "auto" or "relay", or fix that.`);
    return { mode, path: 'relay', why: `relay: ${why}` };
  };
  if (!lends) return refuse(`the connection to the secondary ${cluster.secondary.key} logged in by ${s?.authMethod ?? 'no method'}, which cannot be lent to the unit (only an ssh-agent or a key file can)`);
  if (!p?.hostKeyBlob) return refuse(`the primary ${cluster.primary.key}'s host key is not known to this connection`);
  const target: DirectTarget = {
    host: cluster.primary.haHost ?? p.target.hostName,
    port: cluster.primary.haPort ?? p.target.port,
    username: p.target.username,
    hostKey: `${p.hostKeyType} ${p.hostKeyBlob.toString('base64')}`,
  };
  const where = `${target.username}@${knownName(target.host, target.port)}`;
  return {
    mode,
    path: 'direct',
    why: `the secondary sends straight to the primary at ${where}${cluster.primary.haHost ? ' (its "haHost")' : ''}, logging in with ${lends} lent to that one session and accepting only the host key ${p.fingerprint} verified here${mode === 'auto' ? '; relay if it cannot' : ''}`,
    target,
  };
}
