// The mail gateway process on a unit: found by its exact (15-character) process name, signalled
// by PID. A box whose kill takes names can use the literal command from the documentation instead.
import type { ClusterConfig } from './config';
import { gatewayProcessName } from './names';
import type { UnitConnection } from './ssh/connection';
import { HaFacts, parseHaFacts } from './haRole';

export interface GatewayProcess {
  /** PIDs of processes whose name is exactly the gateway's (normally one). */
  readonly pids: readonly number[];
  /** The name searched for (cut to 15 characters as Linux keeps it). */
  readonly processName: string;
  /** What the box's own control says, where the unit has it (haRole.ts). */
  readonly ha?: HaFacts;
}

// Fixed script text; the name arrives as "$1". pgrep where present, else a walk over /proc. Leaves
// the PIDs in $pids; pgrep's failure ends the script with its exit code.
const PIDS_OF_NAME = `if command -v pgrep >/dev/null 2>&1; then pids=$(pgrep -x -- "$1"); rc=$?; [ $rc -le 1 ] || exit $rc
else pids=; for d in /proc/[0-9]*; do if [ "$(cat "$d/comm" 2>/dev/null)" = "$1" ]; then pids="$pids \${d#/proc/}"; fi; done; fi`;

/**
 * Prints the PIDs, one a line; then, where the box has them, what its control says: each line of
 * `phionctrl server show` as "P <line>" (8 KB at most) and the first line of
 * /opt/phion/run/server.ctrl as "C <line>" (never through a link).
 */
const FIND_SCRIPT = `${PIDS_OF_NAME}
for p in $pids; do echo "$p"; done
pc=$(command -v phionctrl 2>/dev/null) || pc=/opt/phion/bin/phionctrl
if [ -x "$pc" ]; then echo "P+"; "$pc" server show 2>/dev/null </dev/null | head -c 8192 | sed 's/^/P /'; fi
c=/opt/phion/run/server.ctrl
if [ -f "$c" ] && [ ! -L "$c" ] && [ ! -L /opt/phion/run ]; then head -n 1 -- "$c" | cut -c 1-512 | sed 's/^/C /'; fi
exit 0`;

// The same search, then SIGUSR2 to the one process found (none or several: nothing is signalled).
// Prints "pids <pid>..." and, once signalled, "signalled <pid>". With "$2" = wait: first waits for
// the line "signal" on its input (anything else: exit 6, nothing done).
const SIGNAL_SCRIPT = `if [ "$2" = wait ]; then IFS= read -r go && [ "$go" = signal ] || exit 6; fi
${PIDS_OF_NAME}
set -- $pids
echo "pids\${*:+ $*}"
[ $# -eq 1 ] || exit 0
kill -USR2 "$1" || exit 4
echo "signalled $1"`;

export async function findGateway(connection: UnitConnection, cluster: ClusterConfig): Promise<GatewayProcess> {
  const processName = gatewayProcessName(cluster.server, cluster.service);
  const r = await connection.execScript(FIND_SCRIPT, [processName], { timeoutMs: 15_000, readOnly: true });
  if (r.code !== 0) throw new Error(`${connection.address.label}: cannot look for the gateway process ${processName} (exit ${r.code}): ${r.stderr.trim()}`);
  const lines = r.stdout.toString('utf8').split('\n');
  const pids = lines
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
  const ha = parseHaFacts(lines, cluster.server);
  return ha ? { pids, processName, ha } : { pids, processName };
}

export type SignalMethod = 'pid' | 'kill-by-name';

/** The signal script ran to its end and sent nothing (no single gateway process, or kill refused). */
export class NotSignalled extends Error {}

export interface SignalResult {
  readonly pid?: number;
  readonly processName: string;
  /** The exact command run on the unit, for the journal and the user. */
  readonly command: string;
}

/**
 * Why signalling by PID must not go ahead with what was found (no gateway: not the active unit;
 * several: which one is not ours to guess), or undefined. The UI asks it before its confirmation,
 * and signalGateway again right before the signal.
 */
export function pidSignalRefusal(found: GatewayProcess, label: string): string | undefined {
  if (found.pids.length === 0) return `${label}: the gateway process ${found.processName} is not running on this unit, so nothing was signalled. Is this the active unit?`;
  if (found.pids.length > 1) return `${label}: ${found.pids.length} processes are named ${found.processName} (PIDs ${found.pids.join(', ')}); refusing to guess which one to signal.`;
  return undefined;
}

/**
 * Sends SIGUSR2 to the gateway so it inserts what is in input/. 'pid' (default): find the process
 * by its exact name, refuse if none or several run, signal that PID. 'kill-by-name': the
 * documented `/bin/kill -s SIGUSR2 <server>_<service>`, for boxes whose kill accepts names.
 */
export async function signalGateway(connection: UnitConnection, cluster: ClusterConfig, method: SignalMethod = 'pid', opts: { when?: Promise<void> } = {}): Promise<SignalResult> {
  const label = connection.address.label;
  if (method === 'kill-by-name') {
    await opts.when;
    const argv = ['/bin/kill', '-s', 'SIGUSR2', cluster.gateway];
    const r = await connection.exec(argv, { timeoutMs: 15_000 });
    if (r.code !== 0) throw new Error(`${label}: "${argv.join(' ')}" failed (exit ${r.code}): ${r.stderr.trim()}. If this box's kill does not accept names, set mailgwHa.signalMethod to "pid".`);
    return { processName: cluster.gateway, command: argv.join(' ') };
  }
  // Found and signalled by one script: one round trip, and no other process can take the name
  // between a look and a signal sent on a later round trip.
  const processName = gatewayProcessName(cluster.server, cluster.service);
  // `when`: the command is started now and waits for the word to go; if it never comes (the promise
  // rejects, this process or the connection dies), its input ends and nothing is signalled.
  const r = await connection.execScript(SIGNAL_SCRIPT, opts.when ? [processName, 'wait'] : [processName], { timeoutMs: 15_000, stdin: opts.when?.then(() => 'signal\n') });
  const lines = r.stdout.toString('utf8').split('\n');
  const pidsLine = /^pids((?: \d+)*)$/.exec(lines[0] ?? '');
  if (!pidsLine) throw new Error(`${label}: cannot look for the gateway process ${processName} (exit ${r.code}): ${r.stderr.trim()}`);
  const found: GatewayProcess = { processName, pids: pidsLine[1].split(' ').filter(Boolean).map(Number) };
  const refused = pidSignalRefusal(found, label);
  if (refused) throw new NotSignalled(refused);
  const pid = found.pids[0];
  const command = `kill -USR2 ${pid}`;
  if (r.code === 4) throw new NotSignalled(`${label}: "${command}" failed (exit 4): ${r.stderr.trim()}`);
  if (r.code !== 0 || lines[1] !== `signalled ${pid}`) throw new Error(`${label}: "${command}" failed (exit ${r.code}): ${r.stderr.trim()}`);
  return { pid, processName, command };
}
