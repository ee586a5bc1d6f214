// The lab's command line: `npm run lab -- <verb> ...` (tsx test/lab/cli.ts). See docs/lab.md.
import { spawnSync } from 'child_process';
import { DEFAULT_FLEET_DIR, DEFAULT_PAIRS, Fleet } from './fleet';
import { DEFAULT_STATE_DIR, Lab, LabOptions } from './lab';
import { PROFILE_NAMES } from './profiles';

const USAGE = `usage: npm run lab -- <verb> [options]      (state folder: --state-dir DIR, $MAILGW_LAB_DIR, default .lab)
  up [--profile NAME] [--server S] [--service V] [--delivery-delay-ms N] [--scan-delay-ms N] [--port P] [--addresses A,B] [--sync-delay-ms N]
     [--tz ZONE] [--no-log-file-setting]
                               --profile: ${PROFILE_NAMES.join(' | ')} (default: default; see docs/lab.md "Box profiles")
                               --sync-delay-ms: the active unit mirrors spooled mail to its partner (HA sync)
                               --tz (box-log): the units' time zone, default Europe/Vienna
                               --no-log-file-setting: settings.json leaves the cluster's logFile out
  down
  status [--json]
  strand [--mails N] [--vscan M] [--duplicates D] [--orphans O] [--big-mb S] [--json]
  deliveries [--json]
  exec UNIT -- CMD...          UNIT: primary | secondary | fw-a | fw-b
  takeover | takeback
  partition | heal             cut / restore the HA sync path (failed syncs queue in sync.tlog)
  rotate UNIT [--gzip]          set the current log aside (compressed with --gzip) and start a new one
  reset
  fleet-up [--pairs N] [--concurrency C]   N HA pairs (default 20) on 127.<net>.0.100…, one settings file
  fleet-down
  fleet-status [--json]         (fleet verbs: --state-dir is the fleet's folder, default <lab dir>/fleet)`;

class UsageError extends Error {}

interface Parsed {
  verb: string;
  positional: string[];
  flags: Map<string, string | true>;
  rest: string[];
}

const BOOLEAN_FLAGS = new Set(['json', 'gzip', 'no-log-file-setting']);

function parse(argv: string[]): Parsed {
  const [verb, ...args] = argv;
  if (!verb) throw new UsageError('no verb');
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  let rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      rest = args.slice(i + 1);
      break;
    }
    if (verb === 'exec' && positional.length === 1) {
      rest = args.slice(i); // `exec UNIT CMD...` without "--"
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (BOOLEAN_FLAGS.has(name)) flags.set(name, true);
      else if (eq > 0) flags.set(name, a.slice(eq + 1));
      else {
        const v = args[++i];
        if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs a value`);
        flags.set(name, v);
      }
    } else positional.push(a);
  }
  return { verb, positional, flags, rest };
}

function allow(p: Parsed, names: string[], positional = 0): void {
  for (const f of p.flags.keys()) if (f !== 'state-dir' && !names.includes(f)) throw new UsageError(`${p.verb}: unknown option --${f}`);
  if (p.positional.length !== positional) throw new UsageError(`${p.verb}: expected ${positional} argument(s), got ${p.positional.length}`);
}

function str(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

function int(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number >= 0 (got "${v}")`);
  return Number(v);
}

function num(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`--${name} must be a number >= 0 (got "${v}")`);
  return Number(v);
}

function unitArg(p: Parsed): string {
  const u = p.positional[0];
  if (!u) throw new UsageError(`${p.verb}: which unit? (primary, secondary, fw-a or fw-b)`);
  if (!['primary', 'secondary', 'fw-a', 'fw-b'].includes(u)) throw new UsageError(`${p.verb}: unknown unit "${u}" (primary, secondary, fw-a or fw-b)`);
  return u;
}

async function main(argv: string[]): Promise<number> {
  if (['-h', '--help', 'help'].includes(argv[0])) {
    console.log(USAGE);
    return 0;
  }
  const p = parse(argv);
  const stateDir = str(p, 'state-dir') ?? (p.verb.startsWith('fleet-') ? DEFAULT_FLEET_DIR : DEFAULT_STATE_DIR);
  const json = p.flags.get('json') === true;
  switch (p.verb) {
    case 'up': {
      allow(p, ['profile', 'server', 'service', 'delivery-delay-ms', 'scan-delay-ms', 'port', 'addresses', 'sync-delay-ms', 'tz', 'no-log-file-setting']);
      const opts: LabOptions = {
        stateDir,
        profile: str(p, 'profile'),
        server: str(p, 'server'),
        service: str(p, 'service'),
        deliveryDelayMs: int(p, 'delivery-delay-ms'),
        scanDelayMs: int(p, 'scan-delay-ms'),
        port: int(p, 'port'),
        syncDelayMs: int(p, 'sync-delay-ms'),
        timeZone: str(p, 'tz'),
        logFileSetting: p.flags.get('no-log-file-setting') === true ? false : undefined,
      };
      const addresses = str(p, 'addresses');
      if (addresses !== undefined) {
        const a = addresses.split(',');
        if (a.length !== 2) throw new UsageError('--addresses takes two addresses: A,B');
        opts.addresses = [a[0], a[1]];
      }
      let lab: Lab;
      try {
        lab = new Lab(opts);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      await lab.up();
      console.log(`lab up in ${lab.lastUpMs} ms (${lab.stateDir}), profile ${lab.profile.name}: ${lab.profile.summary}`);
      for (const u of lab.units) console.log(`  ${u.name}  ${u.role.padEnd(9)}  ssh root@${u.address} -p ${lab.port}`);
      console.log(`  gateway ${lab.gatewayName} (process name ${lab.processName}) active on fw-a`);
      console.log(`  log          ${lab.logFile}${lab.timeZone ? ` (local time, ${lab.timeZone})` : ''}${lab.logFileSetting ? '' : ' (not named in settings.json)'}`);
      console.log(`  settings     ${lab.settingsPath}`);
      console.log(`  workspace    ${lab.workspacePath}`);
      console.log(`  known_hosts  ${lab.knownHostsPath}`);
      console.log(`  key          ${lab.keyPath}`);
      console.log(`  ssh_config   ${lab.sshConfigPath}   (ssh -F ${lab.sshConfigPath} lab-primary)`);
      console.log(`  password     mgwadmin / ${lab.password}`);
      return 0;
    }
    case 'down':
      allow(p, []);
      await new Lab({ stateDir }).down();
      console.log(`lab down (${stateDir}): no process or mount left`);
      return 0;
    case 'status': {
      allow(p, ['json']);
      const lab = Lab.attach(stateDir);
      const s = lab.status();
      if (json) {
        console.log(JSON.stringify(s, null, 2));
        return 0;
      }
      console.log(`lab ${lab.stateDir}: profile ${lab.profile.name} (${lab.profile.summary}), gateway ${lab.gatewayName} (process name ${lab.processName}), port ${lab.port}`);
      for (const u of s) {
        const gw = u.gateway ? `pid ${u.gateway.unitPid} in the unit (host pid ${u.gateway.pid})` : 'not running';
        const dirs = (['spool', 'vscan', 'input'] as const).map((f) => `${f} ${u.counts[f]}${u.incomplete[f] ? ` (+${u.incomplete[f]} incomplete)` : ''}`).join(', ');
        console.log(`${u.name} ${u.role.padEnd(9)} ${u.address}  ${u.running ? `sshd pid ${u.sshdPid}` : 'DOWN'}  gateway ${gw}  active ${u.active ? 'yes' : 'no'}`);
        console.log(`     mails: ${dirs}`);
      }
      return 0;
    }
    case 'strand': {
      allow(p, ['mails', 'vscan', 'duplicates', 'orphans', 'big-mb', 'json']);
      const lab = Lab.attach(stateDir);
      let m;
      try {
        m = lab.strand({ mails: int(p, 'mails'), vscan: int(p, 'vscan'), duplicates: int(p, 'duplicates'), orphans: int(p, 'orphans'), bigMb: num(p, 'big-mb') });
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      if (json) console.log(JSON.stringify(m, null, 2));
      else {
        console.log(
          `stranded on fw-b: ${m.secondarySpool.length} in spool/${m.big ? ` (incl. big ${m.big})` : ''}, ${m.secondaryVscan.length} in vscan/, ${m.orphans.length} incomplete; ${m.duplicates.length} also on fw-a`,
        );
      }
      return 0;
    }
    case 'deliveries': {
      allow(p, ['json']);
      const d = Lab.attach(stateDir).deliveries();
      if (json) console.log(JSON.stringify(d, null, 2));
      else {
        console.log(`${d.total} deliveries of ${Object.keys(d.byTransaction).length} transactions (${Object.keys(d.byMessageId).length} Message-IDs); transactions delivered more than once: ${d.duplicatedTransactions.length ? d.duplicatedTransactions.join(' ') : 'none'}`);
      }
      // A Message-ID delivered twice is normal (one message to two domains); a transaction twice is not.
      return d.duplicatedTransactions.length > 0 ? 1 : 0;
    }
    case 'exec': {
      allow(p, [], 1);
      const unit = unitArg(p);
      if (p.rest.length === 0) throw new UsageError('exec: no command (exec UNIT -- CMD...)');
      const l = Lab.attach(stateDir);
      const args = l.execArgs(unit, p.rest);
      const r = spawnSync('nsenter', args, { stdio: 'inherit', env: { ...l.execEnv(unit), TERM: process.env.TERM ?? 'dumb' }, cwd: '/' });
      if (r.error) throw r.error;
      return r.status ?? 128 + 9;
    }
    case 'takeover':
    case 'takeback': {
      allow(p, []);
      const lab = Lab.attach(stateDir);
      await (p.verb === 'takeover' ? lab.takeover() : lab.takeback());
      console.log(`${p.verb}: gateway active on ${lab.activeUnit()?.name ?? '?'}`);
      return 0;
    }
    case 'partition':
    case 'heal': {
      allow(p, []);
      const lab = Lab.attach(stateDir);
      if (p.verb === 'partition') lab.partition();
      else lab.heal();
      console.log(p.verb === 'partition' ? 'partition: HA sync path cut; sync actions queue in the transaction log' : 'heal: HA sync path restored; queued actions are retried');
      return 0;
    }
    case 'rotate': {
      allow(p, ['gzip'], 1);
      const aside = await Lab.attach(stateDir).rotate(unitArg(p), { gzip: p.flags.get('gzip') === true });
      console.log(`rotated: old log kept as ${aside}`);
      return 0;
    }
    case 'reset': {
      allow(p, []);
      await Lab.attach(stateDir).reset();
      console.log('reset: folders, logs and sinks emptied; gateway active on fw-a');
      return 0;
    }
    case 'fleet-up': {
      allow(p, ['pairs', 'concurrency']);
      const concurrency = int(p, 'concurrency') ?? 4;
      if (concurrency < 1) throw new UsageError('--concurrency must be at least 1');
      let fleet: Fleet;
      try {
        fleet = new Fleet({ stateDir, pairs: int(p, 'pairs') ?? DEFAULT_PAIRS });
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const r = await fleet.up({ concurrency });
      const first = fleet.labs[0].addresses[0];
      const last = fleet.labs[fleet.labs.length - 1].addresses[1];
      console.log(`fleet of ${fleet.pairs} pairs up in ${r.ms} ms, ${concurrency} at a time (${fleet.stateDir})`);
      console.log(`  units        ${first} … ${last}, servers box01 … box${String(fleet.pairs).padStart(2, '0')}, service ${fleet.service}`);
      console.log(`  memory       ${r.memory.processes} processes, ${r.memory.pssMb.toFixed(0)} MB PSS (${r.memory.rssMb.toFixed(0)} MB RSS summed)`);
      console.log(`  settings     ${fleet.settingsPath}   (mailgw-ha status --settings ${fleet.settingsPath})`);
      console.log(`  known_hosts  ${fleet.knownHostsPath}`);
      console.log(`  key          ${fleet.keyPath}`);
      return 0;
    }
    case 'fleet-down':
      allow(p, []);
      await new Fleet({ stateDir }).down();
      console.log(`fleet down (${stateDir}): no process or mount left`);
      return 0;
    case 'fleet-status': {
      allow(p, ['json']);
      const fleet = Fleet.attach(stateDir);
      const rows = fleet.labs.map((l, i) => {
        const s = l.status();
        return { cluster: Fleet.clusterName(i), server: l.server, port: l.port, units: s.map((u) => ({ name: u.name, address: u.address, running: u.running, active: u.active, counts: u.counts })) };
      });
      if (json) {
        console.log(JSON.stringify({ stateDir: fleet.stateDir, settings: fleet.settingsPath, memory: fleet.memory(), pairs: rows }, null, 2));
        return 0;
      }
      for (const r of rows) {
        const units = r.units.map((u) => `${u.name} ${u.address} ${u.running ? (u.active ? 'ACTIVE' : 'standby') : 'DOWN'} spool ${u.counts.spool}/vscan ${u.counts.vscan}/input ${u.counts.input}`);
        console.log(`${r.cluster} ${r.server}: ${units.join('; ')}`);
      }
      const m = fleet.memory();
      console.log(`memory: ${m.processes} processes, ${m.pssMb.toFixed(0)} MB PSS`);
      return rows.every((r) => r.units.every((u) => u.running)) ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown verb "${p.verb}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`lab: ${e.message}`);
      console.error(USAGE);
      process.exit(2);
    }
    console.error(`lab: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
