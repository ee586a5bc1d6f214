// The doctor's judgement of what it found on the units (probe.ts and the looks beside it), as a list
// of checks, each with what was found and, where something is wrong, the fix. Pure functions of the
// facts, so the CLI, the extension and the recovery (which refuses on the failures that would make
// it unsafe, in these same words) say the same thing.
import type { ClusterConfig, UnitConfig } from '../config';
import type { GatewayProcess, SignalMethod } from '../gateway';
import { haDisagreement } from '../haRole';
import type { LogChoice } from '../log/discover';
import { parseBoxLine } from '../log/lineGrammar';
import { DROPBEAR_CHANNELS, type ConnectionInfo } from '../ssh/connection';
import type { Tool, UnitProbe } from './probe';

export type Severity = 'ok' | 'info' | 'warn' | 'fail';

export interface DoctorCheck {
  /** The unit's key, or undefined for a check of the pair. */
  readonly unit?: string;
  readonly id: 'connection' | 'ssh' | 'folders' | 'tools' | 'kill' | 'log' | 'clock' | 'gateway' | 'active' | 'space';
  readonly title: string;
  readonly severity: Severity;
  readonly found: string;
  readonly fix?: string;
  /** A failure here makes a recovery unsafe: it refuses with these words. */
  readonly blocksRecovery?: boolean;
  /** Lines to show as they were found (log lines that do not parse), neutralised by whoever shows them. */
  readonly examples?: readonly string[];
}

/** What the doctor saw of one unit. */
export interface UnitLook {
  readonly unit: UnitConfig;
  readonly error?: string;
  readonly info?: ConnectionInfo;
  readonly gateway?: GatewayProcess;
  readonly log?: LogChoice;
  readonly probe?: UnitProbe;
}

/** Tools without which a recovery cannot run safely, and where (both units, or the primary). */
const REQUIRED: readonly [Tool, string][] = [
  ['sh', 'every remote step'],
  ['stat', 'log marks and listings'],
  ['xargs', 'removing and hashing named files'],
  ['rm', 'removing exactly the confirmed mails'],
  ['mv', 'held marks'],
  ['mkdir', 'the staging folder and the lock'],
  ['cat', 'remote scripts'],
  ['head', 'reading headers and logs'],
  ['tail', 'reading the log after the mark'],
  ['grep', 'searching the delivery logs'],
  ['sed', 'framing what the unit sends back'],
  ['cut', 'bounding lines'],
  ['tr', 'held marks'],
  ['wc', 'envelope sizes'],
  ['mktemp', 'the delivery log search'],
  ['sha256sum', 'verifying copies and taking back only our own'],
];
const PRIMARY_ONLY: readonly [Tool, string][] = [['ln', 'placing copies without ever overwriting']];
/** Tools with a fallback: what is done without them. */
const FALLBACK: Partial<Record<Tool, string>> = {
  tar: 'copies go file by file over SFTP (slower)',
  awk: 'headers are read over SFTP (slower)',
  gzip: 'gzip-compressed rotated logs cannot be searched: mails of their time are held',
  pgrep: 'the gateway process is found by a walk over /proc',
  df: 'free space in input/ is not checked before a recovery',
};

function check(c: DoctorCheck): DoctorCheck {
  return c;
}

/** The checks of one unit. */
export function unitChecks(cluster: ClusterConfig, look: UnitLook, signalMethod: SignalMethod): DoctorCheck[] {
  const { unit } = look;
  const u = unit.key;
  const isPrimary = unit.key === cluster.primary.key;
  if (look.error) {
    return [check({ unit: u, id: 'connection', title: 'SSH connection', severity: 'fail', found: look.error, fix: `Check host, port, username and identityFile of ${unit.name} in mailgwHa.clusters, its host key (known_hosts or the trust store) and the credentials.`, blocksRecovery: true })];
  }
  const out: DoctorCheck[] = [];
  const n = look.info?.negotiated;
  const i = look.info;
  // Dropbear drops some of many concurrent commands (mkj/dropbear#321): the connection limits itself.
  const server = i?.serverSoftware ? `; server ${i.serverSoftware}${/^dropbear/i.test(i.serverSoftware) ? `; Dropbear: at most ${DROPBEAR_CHANNELS} commands at once on this connection` : ''}` : '';
  out.push(check({ unit: u, id: 'ssh', title: 'SSH algorithms', severity: 'ok', found: `${n ? `kex ${n.kex}, host key ${n.serverHostKey}, cipher ${n.cs.cipher}, MAC ${n.cs.mac || 'implicit (AEAD cipher)'}` : 'connected (the algorithms were not reported)'}${i ? ` (${i.authMethod}, handshake ${i.handshakeMs} ms${server})` : ''}` }));
  const p = look.probe;
  if (!p) return out;

  // Folders.
  const need: ('spool' | 'vscan' | 'input')[] = isPrimary ? ['spool', 'vscan', 'input'] : ['spool', 'vscan'];
  const bad = need.flatMap((f) => {
    const d = p.folders[f];
    if (d.link) return [`${f}/ is a symlink`];
    if (!d.exists) return [`${f}/ is missing`];
    if ((f === 'input' || !isPrimary) && !d.writable) return [`${f}/ is not writable`];
    return [];
  });
  out.push(check({ unit: u, id: 'folders', title: 'Gateway folders', severity: bad.length ? 'fail' : 'ok', found: bad.length ? `${bad.join(', ')} (in ${cluster.spoolRoot}/${cluster.gateway})` : `${need.map((f) => `${f}/`).join(', ')} present${isPrimary ? ', input/ writable' : ', writable'}`, fix: bad.length ? `The gateway's folders are ${cluster.spoolRoot}/${cluster.gateway}/{spool,vscan,input}: check server and service (case sensitive) and spoolRoot of cluster "${cluster.name}" in mailgwHa.clusters, and the folders' owner and mode on ${unit.name}.` : undefined, blocksRecovery: bad.length > 0 }));

  // Tools.
  const missing = [...REQUIRED, ...(isPrimary ? PRIMARY_ONLY : [])].filter(([t]) => !p.tools.has(t));
  const fallbacks = Object.entries(FALLBACK).filter(([t]) => !p.tools.has(t as Tool)).map(([t, what]) => `no ${t}: ${what}`);
  const busybox = [...p.tools].filter(([, v]) => v.busybox).map(([t]) => t);
  out.push(check({
    unit: u,
    id: 'tools',
    title: 'Remote tools',
    severity: missing.length ? 'fail' : fallbacks.length ? 'warn' : 'ok',
    found: [
      missing.length ? `missing: ${missing.map(([t, why]) => `${t} (${why})`).join(', ')}` : `all ${REQUIRED.length + (isPrimary ? PRIMARY_ONLY.length : 0)} needed tools present`,
      ...fallbacks,
      busybox.length ? `BusyBox: ${busybox.join(' ')}` : '',
    ].filter(Boolean).join('; '),
    fix: missing.length ? `Install the missing tools on ${unit.name} (the extension runs only fixed POSIX scripts with them), or recover by hand.` : undefined,
    blocksRecovery: missing.length > 0,
  }));

  // kill by name.
  const k = p.killTakesNames;
  const byName = k?.ok === true;
  const killFails = isPrimary && signalMethod === 'kill-by-name' && !byName;
  out.push(check({
    unit: u,
    id: 'kill',
    title: 'kill takes process names',
    severity: killFails ? 'fail' : 'info',
    found: !k ? 'no /bin/kill' : byName ? `${k.path} takes a process name (kill -s 0 by name was accepted), as util-linux's does` : `${k.path} does not take a process name${k.said ? ` ("${k.said}")` : ''}; the gateway is signalled by its PID`,
    fix: killFails ? 'Set mailgwHa.signalMethod to "pid" (the default): this kill cannot signal by name.' : undefined,
    blocksRecovery: killFails,
  }));

  // The gateway log.
  const parsed = p.log.lines.filter((l) => parseBoxLine(l)).length;
  const unparsed = p.log.lines.filter((l) => l !== '' && !parseBoxLine(l));
  const logWhy = look.log ? ` (${look.log.why})` : '';
  let logSeverity: Severity = 'ok';
  let logFound: string;
  let logFix: string | undefined;
  if (p.log.link) {
    logSeverity = isPrimary ? 'fail' : 'warn';
    logFound = `${p.log.file} is a symlink; it is never followed${logWhy}`;
    logFix = `Name the real file as "logFile" of cluster "${cluster.name}".`;
  } else if (!p.log.present) {
    // The standby's own log is not read by a recovery (it only ever reads the active primary's).
    logSeverity = isPrimary ? 'fail' : 'info';
    logFound = `${p.log.file} does not exist${logWhy}`;
    logFix = isPrimary ? `Set "logFile" of cluster "${cluster.name}" to the mail gateway's log (Logs > <server> > <service> > mailgw on the box).` : undefined;
  } else if (p.log.lines.length > 0 && parsed === 0) {
    logSeverity = isPrimary ? 'fail' : 'warn';
    logFound = `${p.log.file}: none of its last ${p.log.lines.length} lines is in the box's log format${logWhy}`;
    logFix = `This does not look like the gateway's log; set "logFile" of cluster "${cluster.name}" to it.`;
  } else {
    if (unparsed.length) logSeverity = 'warn';
    logFound = `${p.log.file}${logWhy}: ${parsed} of its last ${p.log.lines.length} lines parse${unparsed.length ? `, ${unparsed.length} do not (they prove nothing; shown below)` : ''}`;
  }
  out.push(check({ unit: u, id: 'log', title: 'Gateway log', severity: logSeverity, found: logFound, fix: logFix, blocksRecovery: isPrimary && logSeverity === 'fail', examples: unparsed.slice(0, 5) }));

  // Clock.
  if (p.unitClockMs !== undefined) {
    const off = Math.round((p.unitClockMs - p.localClockMs) / 1000);
    out.push(check({ unit: u, id: 'clock', title: 'Clock', severity: Math.abs(off) > 120 ? 'warn' : 'ok', found: `${off >= 0 ? '+' : ''}${off} s against this machine (±1 s)`, fix: Math.abs(off) > 120 ? `Set ${unit.name}'s clock (NTP): mail ages and log times are compared across the units.` : undefined }));
  }

  // Gateway and the box's own idea of it.
  if (look.gateway) {
    const g = look.gateway;
    const dis = haDisagreement(unit, g.pids.length > 0, g.ha);
    const ha = g.ha ? [g.ha.phionctrl ? `phionctrl: ${g.ha.phionctrl.active === undefined ? 'says nothing of active' : `active=${g.ha.phionctrl.active ? 1 : 0}`}` : '', g.ha.serverCtrl ? `server.ctrl: ${g.ha.serverCtrl.role ?? 'no role field'}` : ''].filter(Boolean).join(', ') : 'no phionctrl or server.ctrl on this unit';
    out.push(check({
      unit: u,
      id: 'gateway',
      title: 'Gateway process and HA role',
      severity: dis ? 'fail' : 'ok',
      found: `${g.processName} ${g.pids.length ? `runs (PID ${g.pids.join(', ')})` : 'is not running'}; ${ha}${dis ? `. ${dis}` : ''}`,
      fix: dis ? 'Check the HA state on the box (Control > Server) and the units\' roles in mailgwHa.clusters.' : undefined,
      blocksRecovery: !!dis,
    }));
  }
  return out;
}

/** Checks of the pair: which unit is active, and clocks against each other. */
export function pairChecks(cluster: ClusterConfig, looks: readonly UnitLook[]): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  const known = looks.filter((l) => l.gateway);
  if (known.length === looks.length) {
    const active = known.filter((l) => l.gateway!.pids.length > 0).map((l) => l.unit);
    const [severity, found, fix] =
      active.length === 1 && active[0].key === cluster.primary.key ? (['ok', `${active[0].name} (the primary) is active`, undefined] as const)
      : active.length === 1 ? (['warn', `${active[0].name} (the secondary) is active: mail is not stranded there, it is its queue`, 'Recover only after the takeback, when the primary is active.'] as const)
      : active.length === 0 ? (['fail', 'the gateway runs on neither unit', 'Start the service on the primary (or finish the takeback) before recovering.'] as const)
      : (['fail', `the gateway runs on both units (${active.map((a) => a.name).join(', ')})`, 'Check the HA pair on the box: both units deliver mail.'] as const);
    out.push(check({ id: 'active', title: 'Active unit', severity, found, fix }));
  }
  const clocks = looks.flatMap((l) => (l.probe?.unitClockMs !== undefined ? [{ l, off: l.probe.unitClockMs - l.probe.localClockMs }] : []));
  if (clocks.length === 2) {
    const d = Math.round(Math.abs(clocks[0].off - clocks[1].off) / 1000);
    out.push(check({ id: 'clock', title: 'Clocks of the two units', severity: d > 30 * 60 ? 'fail' : d > 120 ? 'warn' : 'ok', found: `${d} s apart`, fix: d > 120 ? 'Set both units\' clocks (NTP). Past 30 min apart, a delivery could be looked for in the wrong log files.' : undefined, blocksRecovery: d > 30 * 60 }));
  }
  return out;
}

/** Free space in the primary's input/ for `bytes` of mail (the recovery's plan, or what the standby holds). */
export function spaceCheck(cluster: ClusterConfig, primary: UnitLook | undefined, bytes: number, what: string): DoctorCheck {
  const free = primary?.probe?.inputFreeKb;
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  if (free === undefined) return check({ unit: cluster.primary.key, id: 'space', title: 'Free space in input/', severity: 'warn', found: `not known (no df on ${cluster.primary.name}); ${what} is ${mb(bytes)}` });
  const needed = Math.ceil(bytes * 1.1) + 1024 * 1024; // the copies, their staging names, some room
  const ok = free * 1024 >= needed;
  return check({ unit: cluster.primary.key, id: 'space', title: 'Free space in input/', severity: ok ? 'ok' : 'fail', found: `${mb(free * 1024)} free in ${cluster.spoolRoot}/${cluster.gateway}/input; ${what} is ${mb(bytes)}`, fix: ok ? undefined : `Free space on ${cluster.primary.name} (or recover a folder at a time): a full input/ stops the copy.`, blocksRecovery: !ok });
}

/** The failures that make a recovery refuse, in the doctor's words (undefined: none). */
export function recoveryRefusal(checks: readonly DoctorCheck[]): string | undefined {
  const bad = checks.filter((c) => c.severity === 'fail' && c.blocksRecovery);
  if (!bad.length) return undefined;
  return bad.map((c) => `${c.unit ? `${c.unit}: ` : ''}${c.title}: ${c.found}${c.fix ? `. Fix: ${c.fix}` : ''}`).join(' | ');
}
