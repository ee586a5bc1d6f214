// One recovery per cluster, wherever it is started (extension, CLI, another workstation): a lock on
// the primary unit, beside spool/vscan/input in the gateway's folder (never inside them: the gateway
// and recovery list those). Taking it is one atomic `mkdir`; the owner (user@host, pid, tool, time)
// is written into it and its mtime is the holder's heartbeat. A lock whose holder is gone (its
// process no longer runs on this host, or no heartbeat for a while) is shown as stale — never broken
// silently: only an explicit takeover by the admin replaces it, and only the owner that was shown.
// Two leftovers are provably nobody's and are taken back at once: one of this very process, and
// one of this workstation whose process is gone and which names the run of this machine's
// unfinished journal (the owner lists the run ids it works on): the next run here finishes it.
import * as os from 'os';
import type { ClusterConfig } from '../config';
import { gatewayDirs } from '../config';
import type { UnitConnection } from '../ssh/connection';
import { LaterInput } from '../ssh/laterInput';
import { processAlive } from './journal';
import { linkRefused, RecoveryError } from './remote';

export const LOCK_NAME = '.mailgw-ha-recovery.lock';
/** The holder touches the lock this often. */
export const HEARTBEAT_MS = 15_000;
/** A lock without a heartbeat for this long is stale. */
export const STALE_AFTER_S = 120;

export interface LockOwner {
  readonly user: string;
  readonly host: string;
  readonly pid: number;
  readonly tool: string;
  readonly at: string;
  /** The run ids the holder works on (the unfinished one it resumes, the one it starts). */
  readonly runs?: readonly string[];
}

export interface LockInfo {
  /** The owner as written (undefined if the lock holds no readable owner). */
  readonly owner?: LockOwner;
  /** The owner text exactly as found: a takeover names it, so it replaces only this lock. */
  readonly raw: string;
  /** Seconds since the last heartbeat (by the unit's clock). */
  readonly heartbeatAgeS?: number;
  /** Why it is stale, if it is. */
  readonly stale?: string;
  /**
   * Left by an earlier run of this very process that ended without releasing it (its connection to
   * the primary dropped): provably no run holds it, so the next run here reclaims it.
   */
  readonly leftHere?: boolean;
  /**
   * Left by this workstation's interrupted run of that id (its process is gone), which this
   * machine's unfinished journal holds: provably no run holds it, so the run that finishes it takes it back.
   */
  readonly leftByRun?: string;
}

/** The owner lines of the locks this process holds right now. */
const heldHere = new Set<string>();

export class ClusterLockedError extends RecoveryError {
  constructor(
    readonly cluster: string,
    readonly lock: LockInfo,
  ) {
    super(describeLocked(cluster, lock));
  }
}

export function describeOwner(o: LockOwner | undefined): string {
  return o ? `${o.user}@${o.host} (${o.tool}, process ${o.pid}, since ${o.at})` : 'an unknown owner (the lock holds no readable owner)';
}

function describeLocked(cluster: string, l: LockInfo): string {
  const beat = l.heartbeatAgeS !== undefined ? `, last heartbeat ${l.heartbeatAgeS} s ago` : '';
  const head = `another recovery of cluster "${cluster}" holds the lock on the primary: ${describeOwner(l.owner)}${beat}`;
  return l.stale
    ? `${head}. It looks stale: ${l.stale}. If you are sure that run is gone, take the lock over (CLI: --take-over-lock; VS Code: "Take Over Lock"); the journal of that run is finished by the next run from its own workstation.`
    : `${head}. Wait for it to finish.`;
}

export function lockDir(cluster: ClusterConfig): string {
  return `${gatewayDirs(cluster).base}/${LOCK_NAME}`;
}

/** A run id as the journal writes it. */
const RUN_ID = /^\d{8}-\d{6}-[0-9a-f]{6}$/;

export function newOwner(tool: string, runs: readonly string[] = []): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  const o: LockOwner = { user, host: os.hostname(), pid: process.pid, tool, at: new Date().toISOString(), ...(runs.length ? { runs: [...runs] } : {}) };
  return JSON.stringify(o);
}

// Every script refuses a symbolic link at the lock folder, its owner file or the takeover folder
// (mkdir, test and head follow links): the acquire and read scripts answer "link <path>". The owner
// text is printed with printf '%s' (dash's echo turns backslashes into escapes).
const LINKS = `[ -L "$1" ] && { echo "link $1"; exit 0; }
[ -L "$1/owner" ] && { echo "link $1/owner"; exit 0; }`;
const REPORT_HELD = `echo held
echo "now $(date +%s)"
[ -d "$1" ] && echo "dir $(stat -c %Y -- "$1")"
[ -f "$1/owner" ] && echo "beat $(stat -c %Y -- "$1/owner")" && printf 'owner %s\\n' "$(head -c 4096 -- "$1/owner")"
exit 0`;

// $1 lock folder, $2 owner line. mkdir is the atomic step; the owner is renamed into place so a
// reader never sees half of it. Otherwise prints what it found (the unit's clock, the owner's mtime).
const ACQUIRE_SCRIPT = `[ -L "$1" ] && { echo "link $1"; exit 0; }
if mkdir -m 700 -- "$1" 2>/dev/null; then
  printf '%s\\n' "$2" > "$1/owner.tmp" && mv -f -- "$1/owner.tmp" "$1/owner" && { echo acquired; exit 0; }
  rm -f -- "$1/owner.tmp"; rmdir -- "$1"; exit 4
fi
${LINKS}
${REPORT_HELD}`;

// $1 lock folder, $2 owner line: touch it only while it is still ours.
const HEARTBEAT_SCRIPT = `if [ ! -L "$1" ] && [ ! -L "$1/owner" ] && [ "$(head -c 4096 -- "$1/owner" 2>/dev/null)" = "$2" ]; then touch -c -- "$1/owner" && echo ok || echo lost; else echo lost; fi`;

// $1 lock folder, $2 owner line: remove it only if it is still ours.
// With "$3" = wait: first waits for the line "release" on its input (anything else: nothing done).
const RELEASE_SCRIPT = `if [ "$3" = wait ]; then IFS= read -r go && [ "$go" = release ] || { echo withheld; exit 0; }; fi
{ [ -L "$1" ] || [ -L "$1/owner" ]; } && { echo notours; exit 0; }
[ "$(head -c 4096 -- "$1/owner" 2>/dev/null)" = "$2" ] || { echo notours; exit 0; }
rm -f -- "$1/owner" && rmdir -- "$1" && echo released`;

// $1 lock folder, $2 the stale owner line that was shown, $3 the new owner line. A second lock
// ("$1.takeover") keeps two admins taking over at once apart; the old lock is removed only if it
// still holds exactly the owner that was shown.
const TAKEOVER_SCRIPT = `{ [ -L "$1" ] || [ -L "$1/owner" ] || [ -L "$1.takeover" ]; } && { echo link; exit 0; }
mkdir -- "$1.takeover" 2>/dev/null || { echo busy; exit 0; }
cur=$(head -c 4096 -- "$1/owner" 2>/dev/null)
if [ -d "$1" ] && [ "$cur" = "$2" ]; then rm -f -- "$1/owner" "$1/owner.tmp"; rmdir -- "$1" 2>/dev/null; fi
if mkdir -m 700 -- "$1" 2>/dev/null; then
  printf '%s\\n' "$3" > "$1/owner.tmp" && mv -f -- "$1/owner.tmp" "$1/owner" && echo acquired || echo failed
else echo changed; fi
rmdir -- "$1.takeover"`;

// $1 lock folder: what is there, for status displays (nothing when free).
const READ_SCRIPT = `${LINKS}
[ -d "$1" ] || exit 0
${REPORT_HELD}`;

const WHAT = 'the recovery lock';

/** A "link <path>" answer (always the first line) of the acquire or read script: refused, naming the unit and path. */
function refuseLink(conn: UnitConnection, out: string): void {
  const first = out.split('\n', 1)[0];
  if (first.startsWith('link ')) throw linkRefused(conn.address.label, first.slice(5), WHAT);
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const o = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof o.user === 'string' && typeof o.host === 'string' && typeof o.pid === 'number' && typeof o.tool === 'string' && typeof o.at === 'string') {
      // Run ids count only as a list of well-formed ids (a damaged list names no run).
      const runs = Array.isArray(o.runs) && o.runs.every((r) => typeof r === 'string' && RUN_ID.test(r)) ? o.runs : undefined;
      return { user: o.user, host: o.host, pid: o.pid, tool: o.tool, at: o.at, ...(runs ? { runs } : {}) };
    }
  } catch {
    // not ours or damaged: shown as unknown
  }
  return undefined;
}

/**
 * Reads what `held` printed into a LockInfo and decides whether it is stale. `unfinishedRun`: the
 * run id of this machine's unfinished journal (the one the caller is about to finish), if any.
 */
export function judgeLock(text: string, thisHost = os.hostname(), isAlive: (pid: number) => boolean = processAlive, ownPid = process.pid, heldByThisProcess: (raw: string) => boolean = (raw) => heldHere.has(raw), unfinishedRun?: string): LockInfo {
  const field = (k: string): string | undefined => new RegExp(`^${k} (.*)$`, 'm').exec(text)?.[1];
  const now = Number(field('now'));
  const beat = field('beat');
  const dir = field('dir');
  const raw = field('owner') ?? '';
  const owner = parseOwner(raw);
  const heartbeatAgeS = beat !== undefined && Number.isFinite(now) ? Math.max(0, now - Number(beat)) : undefined;
  let stale: string | undefined;
  if (owner && owner.host === thisHost && owner.pid === ownPid && !heldByThisProcess(raw)) {
    return { owner, raw, heartbeatAgeS, stale: `it was left by an earlier run of this process (${owner.pid}), which ended without releasing it`, leftHere: true };
  }
  if (owner && unfinishedRun && owner.host === thisHost && owner.runs?.includes(unfinishedRun) && owner.pid !== ownPid && !isAlive(owner.pid)) {
    return { owner, raw, heartbeatAgeS, stale: `it was left by this workstation's interrupted run ${unfinishedRun} (process ${owner.pid} no longer runs)`, leftByRun: unfinishedRun };
  }
  if (owner && owner.host === thisHost && !isAlive(owner.pid)) stale = `its process ${owner.pid} no longer runs on ${thisHost}`;
  else if (heartbeatAgeS !== undefined && heartbeatAgeS > STALE_AFTER_S) stale = `no heartbeat for ${heartbeatAgeS} s (the holder touches it every ${HEARTBEAT_MS / 1000} s)`;
  else if (!owner && heartbeatAgeS === undefined && dir && Number.isFinite(now) && now - Number(dir) > 60) stale = `it holds no owner and is ${now - Number(dir)} s old`;
  return { owner, raw, heartbeatAgeS, stale };
}

export interface HeldLock {
  /** Stops the heartbeat and removes the lock (if it is still ours). */
  release(): Promise<void>;
  /**
   * Starts the release's command now, to wait until release() sends it the word: the round trips
   * of starting it overlap the run's last steps instead of following them.
   */
  prepareRelease(): void;
  /** Set when the heartbeat found the lock no longer ours (taken over by an admin). */
  readonly lost: boolean;
  /** Set when the lock was taken back from this workstation's interrupted run (LockInfo.leftByRun): why, in words. */
  readonly takenBack?: string;
}

/**
 * Takes the cluster's lock on the primary, or throws ClusterLockedError naming the holder. With
 * `takeOver`, a lock found stale is replaced (only that one: if it changed meanwhile, it throws).
 * `runs`: the run ids the caller works on (written into the owner); `unfinishedRun`: the run of
 * this machine's unfinished journal it is about to finish, whose leftover lock it takes back.
 */
export async function acquireClusterLock(conn: UnitConnection, cluster: ClusterConfig, tool: string, opts: { takeOver?: boolean; onLost?: () => void; runs?: readonly string[]; unfinishedRun?: string } = {}): Promise<HeldLock> {
  const dir = lockDir(cluster);
  const me = newOwner(tool, opts.runs);
  let takenBack: string | undefined;
  const run = async (script: string, args: string[], stdin?: Promise<string>) => {
    const r = await conn.execScript(script, args, { timeoutMs: 30_000, stdin });
    if (r.code !== 0) throw new RecoveryError(`${conn.address.label}: cannot take the recovery lock ${dir} (exit ${r.code}): ${r.stderr.trim().split('\n').slice(0, 2).join('; ')}`);
    return r.stdout.toString('utf8');
  };
  const out = await run(ACQUIRE_SCRIPT, [dir, me]);
  refuseLink(conn, out);
  if (!/^acquired$/m.test(out)) {
    const info = judgeLock(out, undefined, undefined, undefined, undefined, opts.unfinishedRun);
    // Another's stale lock only on the admin's request; this process's own leftover, and this
    // workstation's interrupted run's (which the caller finishes), at once.
    if (!info.stale || !(opts.takeOver || info.leftHere || info.leftByRun)) throw new ClusterLockedError(cluster.name, info);
    if (info.leftByRun) takenBack = `left by this workstation's interrupted run ${info.leftByRun} (process ${info.owner?.pid} no longer runs)`;
    const t = (await run(TAKEOVER_SCRIPT, [dir, info.raw, me])).trim();
    if (t === 'link') throw linkRefused(conn.address.label, dir, WHAT);
    if (t !== 'acquired') throw new RecoveryError(`cluster "${cluster.name}": could not take over the stale recovery lock (${t === 'busy' ? 'someone else is taking it over right now' : 'it changed meanwhile'}); look again before retrying`);
  }
  heldHere.add(me);
  let lost = false;
  let released = false;
  const timer = setInterval(() => {
    void run(HEARTBEAT_SCRIPT, [dir, me]).then(
      (r) => {
        if (!released && r.trim() === 'lost' && !lost) {
          lost = true;
          opts.onLost?.();
        }
      },
      () => undefined, // a dropped connection: the next beat tries again; staleness needs minutes
    );
  }, HEARTBEAT_MS);
  timer.unref?.();
  let prepared: { word: LaterInput<string>; done: Promise<string> } | undefined;
  return {
    get lost() {
      return lost;
    },
    takenBack,
    prepareRelease() {
      if (prepared || released) return;
      const word = new LaterInput<string>();
      const done = run(RELEASE_SCRIPT, [dir, me, 'wait'], word.promise);
      done.catch(() => undefined); // awaited by release()
      prepared = { word, done };
    },
    async release() {
      released = true;
      clearInterval(timer);
      heldHere.delete(me);
      if (prepared) {
        prepared.word.give('release\n');
        // A prepared command lost with its connection: released the ordinary way.
        if (await prepared.done.then(() => true, () => false)) return;
      }
      await run(RELEASE_SCRIPT, [dir, me]);
    },
  };
}

/** The lock as it is now (for status displays): undefined when free. */
export async function readClusterLock(conn: UnitConnection, cluster: ClusterConfig): Promise<LockInfo | undefined> {
  const r = await conn.execScript(READ_SCRIPT, [lockDir(cluster)], { timeoutMs: 30_000 });
  const text = r.stdout.toString('utf8');
  refuseLink(conn, text);
  return /^held$/m.test(text) ? judgeLock(text) : undefined;
}

/**
 * Runs `fn` while holding the cluster's lock (anything that removes mail from a unit besides a
 * recovery run: Remove Mails), so it never interleaves with a recovery on another workstation.
 * Throws ClusterLockedError if another holds it.
 */
export async function withClusterLock<T>(conn: UnitConnection, cluster: ClusterConfig, tool: string, fn: () => Promise<T>, opts: { takeOver?: boolean } = {}): Promise<T> {
  const lock = await acquireClusterLock(conn, cluster, tool, opts);
  try {
    return await fn();
  } finally {
    await lock.release().catch(() => undefined);
  }
}
