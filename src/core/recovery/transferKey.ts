// The credential of a direct transfer: a key pair made in this process for one transfer, good for
// nothing but unpacking a tar stream into that run's staging folder on the primary. Its public half
// is authorized on the primary for the transfer only, with OpenSSH's `restrict` (no shell, no pty,
// no forwarding of any kind), a forced command (`tar -xf - -C <stage>`, whatever the client asks),
// `from=` the secondary's address where it is known, and `expiry-time=` a few minutes on (the
// primary's clock): the primary refuses it afterwards even if nothing removed it. Adding and
// removing are journaled; each addition also sweeps expired keys of earlier runs. The private half
// goes to the secondary only on the transfer command's input, into a private temporary folder that
// the command removes when it ends (direct.ts). Nothing of the admin's (agent, key file, password)
// is ever lent to a unit. docs/security.md "Direct transfer" says what a compromised secondary can
// do with it.
import { randomBytes } from 'crypto';
import { isSafeAbsolutePath } from '../names';
import type { UnitConnection } from '../ssh/connection';
import { ssh2 } from '../ssh/loadSsh2';
import { RecoveryError } from './remote';

/** Comment of every authorized line this tool writes: `mailgw-ha-transfer:<id>:<expires epoch>`. */
export const KEY_TAG = 'mailgw-ha-transfer';
/** How long the primary accepts the key: the logins of one transfer start within this. */
export const KEY_TTL_S = 300;

/** The primary did not take the key (nothing was sent with it). */
export class KeyNotAuthorized extends RecoveryError {}

export interface TransferKey {
  /** `<run id>-<random>`: names the authorized line. */
  readonly id: string;
  /** OpenSSH private key text (never logged, never journaled). */
  readonly privateKey: string;
  /** "ssh-ed25519 <base64>" */
  readonly publicKey: string;
}

const ID = /^[0-9A-Za-z-]{1,64}$/;
/** An address for `from=`: IPv4 or IPv6 literal (no patterns, no host names). */
const ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]{2,39})$/;

export function makeTransferKey(runId: string): TransferKey {
  const id = `${runId}-${randomBytes(4).toString('hex')}`;
  if (!ID.test(id)) throw new RecoveryError(`refusing transfer key id ${JSON.stringify(id)}`);
  const pair = ssh2().utils.generateKeyPairSync('ed25519', { comment: `${KEY_TAG}:${id}` });
  const publicKey = pair.public.trim().split(/\s+/).slice(0, 2).join(' ');
  return { id, privateKey: pair.private, publicKey };
}

/** The `from=` value, or undefined when `address` is not a plain IP address. */
export function fromAddress(address: string | undefined): string | undefined {
  return address !== undefined && ADDRESS.test(address) ? address : undefined;
}

// Reads the file on stdin; prints every line but this tool's lines of key $id and those whose
// expiry (their tag's last field, the primary's epoch) has passed. $now: the primary's epoch.
const SWEEP = `sweep() {
  while IFS= read -r l || [ -n "$l" ]; do
    case $l in
      *" ${KEY_TAG}:$id:"*) continue ;;
      *" ${KEY_TAG}:"*) e=\${l##*:}; case $e in ''|*[!0-9]*) ;; *) [ "$e" -le "$now" ] && continue ;; esac ;;
    esac
    printf '%s\\n' "$l"
  done
}
swept() {
  f=$1; [ -f "$f" ] || return 0
  [ -L "$f" ] && { echo "$f is a symbolic link; not touched" >&2; return 3; }
  grep -q -F " ${KEY_TAG}:" "$f" 2>/dev/null || return 0
  t="$f.mailgw-ha.$$"
  sweep < "$f" > "$t" || { rm -f -- "$t"; return 3; }
  if [ ! -s "$t" ] && [ "\${f##*/}" = authorized_keys2 ]; then rm -f -- "$t" "$f"; else mv -f -- "$t" "$f"; fi
}`;

// One writer of root's keys files at a time (other runs, other clusters on the same box): a lock
// folder beside them holding the writer's PID, waited for up to 30 s, removed on exit. A lock whose
// writer is gone (killed with its session: no trap ran) or older than a minute (a writer holds it
// for well under a second) is taken over, so a crash never blocks later transfers.
const LOCK = `lk="$HOME/.ssh/.mailgw-ha-keys.lock"; n=0
stale() {
  p=$(cat -- "$lk/pid" 2>/dev/null)
  if [ -n "$p" ]; then kill -0 "$p" 2>/dev/null && return 1; return 0; fi
  m=$(stat -c %Y -- "$lk" 2>/dev/null) || return 1
  [ $(( $(date +%s) - m )) -gt 60 ]
}
until mkdir -- "$lk" 2>/dev/null; do
  if stale; then rm -f -- "$lk/pid"; rmdir -- "$lk" 2>/dev/null; continue; fi
  n=$((n + 1)); [ "$n" -le 30 ] || { echo "root's keys files are busy (another run holds $lk)" >&2; exit 7; }; sleep 1
done
echo $$ > "$lk/pid"
trap 'rm -f -- "$lk/pid"; rmdir -- "$lk" 2>/dev/null' EXIT HUP INT TERM`;

// Which of root's authorized keys files sshd reads ($1 address the login comes from): from
// `sshd -T` where it answers (root), else OpenSSH's default. The box manages authorized_keys itself
// (Box > Administrative Settings > Authorized Root Keys), so authorized_keys2 is taken wherever
// sshd reads it. Prints the path, or nothing.
const KEYS_FILE = `keys_file() {
  s="$HOME/.ssh"; u=$(id -un 2>/dev/null || echo root)
  list=$( (sshd=$(command -v sshd || echo /usr/sbin/sshd); "$sshd" -T -C "user=$u,host=mailgw-ha,addr=\${1:-127.0.0.1}") 2>/dev/null | sed -n 's/^authorizedkeysfile //p' | head -n 1)
  [ -n "$list" ] || list='.ssh/authorized_keys .ssh/authorized_keys2'
  for w in $list; do case $w in .ssh/authorized_keys2|%h/.ssh/authorized_keys2|"$HOME/.ssh/authorized_keys2") echo "$s/authorized_keys2"; return 0 ;; esac; done
  for w in $list; do case $w in .ssh/authorized_keys|%h/.ssh/authorized_keys|"$HOME/.ssh/authorized_keys") echo "$s/authorized_keys"; return 0 ;; esac; done
  echo "sshd reads root's keys from $list, not from ~/.ssh/authorized_keys2 or ~/.ssh/authorized_keys" >&2
  return 5
}`;

// $1 key id, $2 seconds the key is accepted, $3 staging folder, $4 from= address or empty; stdin:
// the public key. Prints "file <path>" once the line is in place. Exit 3: cannot write; 5: sshd
// does not read a file this tool may write; 6: the unit's date cannot give the expiry time; 7: busy.
const AUTHORIZE_SCRIPT = `set -u
id=$1; ttl=$2; stage=$3; from=$4
umask 077
IFS= read -r pub || exit 3
case $pub in "ssh-ed25519 "*) ;; *) echo "not a transfer key" >&2; exit 3 ;; esac
[ -d "$stage" ] && [ ! -L "$stage" ] || { echo "the staging folder $stage is not there" >&2; exit 3; }
[ -n "\${HOME:-}" ] && [ -d "$HOME" ] || { echo "no home folder" >&2; exit 3; }
[ -L "$HOME/.ssh" ] && { echo "$HOME/.ssh is a symbolic link; not touched" >&2; exit 3; }
mkdir -p -- "$HOME/.ssh" || exit 3
${LOCK}
${SWEEP}
${KEYS_FILE}
f=$(keys_file "$from") || exit 5
now=$(date +%s) || exit 6
e=$((now + ttl))
ts=$(date -u -d "@$e" +%Y%m%d%H%M%S 2>/dev/null) || { echo "date cannot convert an epoch (date -d @N)" >&2; exit 6; }
o="restrict,expiry-time=\\"\${ts}Z\\",command=\\"tar -xf - -C $stage\\""
[ -n "$from" ] && o="$o,from=\\"$from\\""
[ -L "$f" ] && { echo "$f is a symbolic link; not touched" >&2; exit 3; }
t="$f.mailgw-ha.$$"
{ if [ -f "$f" ]; then sweep < "$f"; fi; printf '%s %s %s:%s:%s\\n' "$o" "$pub" "${KEY_TAG}" "$id" "$e"; } > "$t" || { rm -f -- "$t"; exit 3; }
mv -f -- "$t" "$f" || { rm -f -- "$t"; exit 3; }
echo "file $f"`;

// $1 key id (or "-": only expired ones). Removes the key's line and expired ones from both files.
const REVOKE_SCRIPT = `set -u
id=$1; now=$(date +%s) || exit 6
[ -d "$HOME/.ssh" ] || exit 0
${LOCK}
${SWEEP}
rc=0
for f in "$HOME/.ssh/authorized_keys2" "$HOME/.ssh/authorized_keys"; do swept "$f" || rc=$?; done
if grep -q -F " ${KEY_TAG}:$id:" "$HOME/.ssh/authorized_keys2" "$HOME/.ssh/authorized_keys" 2>/dev/null; then echo "the key is still authorized" >&2; exit 3; fi
exit $rc`;

/** Authorizes `key` on the primary for unpacking into `stage`; resolves with the file written. */
export async function authorizeKey(primary: UnitConnection, key: TransferKey, stage: string, from: string | undefined): Promise<string> {
  if (!isSafeAbsolutePath(stage)) throw new RecoveryError(`refusing unsafe folder ${JSON.stringify(stage)}`);
  if (!ID.test(key.id)) throw new RecoveryError('refusing a malformed transfer key id');
  if (from !== undefined && !ADDRESS.test(from)) throw new RecoveryError(`refusing from= address ${JSON.stringify(from)}`);
  const r = await primary.execScript(AUTHORIZE_SCRIPT, [key.id, String(KEY_TTL_S), stage, from ?? ''], { stdin: `${key.publicKey}\n`, timeoutMs: 30_000 });
  const file = /^file (\/\S+)$/m.exec(r.stdout.toString('utf8'))?.[1];
  if (r.code === 0 && file) return file;
  const err = r.stderr.trim().split('\n').slice(-2).join('; ').slice(0, 300);
  throw new KeyNotAuthorized(`${primary.address.label}: cannot authorize this transfer's key (exit ${r.code}${err ? `: ${err}` : ''})`);
}

/** Removes `id`'s authorized line (and any expired one of an earlier run) from the primary. */
export async function revokeKey(primary: UnitConnection, id: string): Promise<void> {
  if (id !== '-' && !ID.test(id)) throw new RecoveryError('refusing a malformed transfer key id');
  const r = await primary.execScript(REVOKE_SCRIPT, [id], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new RecoveryError(`${primary.address.label}: cannot remove the transfer key ${id} from root's authorized keys (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}. It expires by itself within ${KEY_TTL_S / 60} minutes of being added; remove the line ending "${KEY_TAG}:${id}:…" by hand to be sure.`);
}
