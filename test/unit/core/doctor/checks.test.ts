// The doctor's judgement of a unit's facts: each failure a recovery would meet, with its fix, and
// which of them make a recovery refuse; the box's HA role read tolerantly; the gateway log chosen by
// content.
import * as assert from 'assert';
import type { ClusterConfig, UnitConfig } from '../../../../src/core/config';
import { pairChecks, recoveryRefusal, spaceCheck, UnitLook, unitChecks } from '../../../../src/core/doctor/checks';
import { parseProbe, TOOLS } from '../../../../src/core/doctor/probe';
import { haDisagreement, parseHaFacts } from '../../../../src/core/haRole';
import { chooseLog, parseDiscovery } from '../../../../src/core/log/discover';

const unit = (name: string, role: 'primary' | 'secondary'): UnitConfig => ({ name, role, key: `lab/${name}`, host: '127.0.0.1' }) as unknown as UnitConfig;
const primary = unit('fw-a', 'primary');
const secondary = unit('fw-b', 'secondary');
const cluster = { name: 'lab', server: 'box1', service: 'mailgw', gateway: 'box1_mailgw', spoolRoot: '/var/phion/spool/mgw', logFile: '/var/phion/logs/srv_box1_mailgw.log', logFileSet: false, primary, secondary, units: [primary, secondary] } as unknown as ClusterConfig;

function probeText(over: { tools?: readonly string[]; dirs?: string[]; kill?: string; log?: string[]; logf?: string; df?: string } = {}): string {
  return [
    `now ${Math.floor(Date.UTC(2026, 11, 7, 12, 0, 0) / 1000)}`,
    ...(over.tools ?? TOOLS).map((t) => `tool ${t} /usr/bin/${t} 0`),
    ...(over.dirs ?? ['dir spool 1 1 0', 'dir vscan 1 1 0', 'dir input 1 1 0']),
    over.df ?? 'df /dev/sda1 1000000 100000 900000 10% /',
    over.kill ?? "kill 1 /bin/kill\t/bin/kill: failed to parse argument: 'init'",
    over.logf ?? 'logf 1 0',
    ...(over.log ?? ['2026 12 07 12:00:00 +00:00 Info     SPOOLER new mail inserted (id=1)']).map((l) => `L ${l}`),
    'Z end',
  ].join('\n');
}
const look = (u: UnitConfig, text = probeText(), pids: number[] = u.role === 'primary' ? [7] : []): UnitLook => ({ unit: u, probe: parseProbe(text, cluster.logFile, Date.UTC(2026, 11, 7, 12, 0, 0)), gateway: { pids, processName: 'box1_mailgw' } });
const byId = (cs: ReturnType<typeof unitChecks>, id: string) => cs.find((c) => c.id === id)!;

describe('core/doctor: checks', () => {
  it('a healthy primary: every check ok, kill said to take no names, nothing refuses', () => {
    const cs = unitChecks(cluster, look(primary), 'pid');
    assert.deepStrictEqual(cs.filter((c) => c.severity !== 'ok' && c.severity !== 'info'), []);
    assert.match(byId(cs, 'kill').found, /does not take a process name .*signalled by its PID/);
    assert.match(byId(cs, 'log').found, /1 of its last 1 lines parse/);
    assert.strictEqual(recoveryRefusal(cs), undefined);
  });

  it('input/ not writable, a tool missing, a log that is not the box\'s: each fails with its fix and refuses a recovery', () => {
    const cs = unitChecks(cluster, look(primary, probeText({ dirs: ['dir spool 1 1 0', 'dir vscan 1 1 0', 'dir input 1 0 0'], tools: TOOLS.filter((t) => t !== 'sha256sum' && t !== 'tar'), log: ['Dec  7 12:00:00 host mailgw[1]: inserted 1'] })), 'pid');
    assert.match(byId(cs, 'folders').found, /input\/ is not writable/);
    assert.match(byId(cs, 'tools').found, /missing: sha256sum \(verifying copies.*; no tar: copies go file by file over SFTP/);
    assert.strictEqual(byId(cs, 'log').severity, 'fail');
    assert.match(byId(cs, 'log').fix!, /set "logFile" of cluster "lab"/);
    const refusal = recoveryRefusal(cs)!;
    for (const w of ['Gateway folders', 'Remote tools', 'Gateway log']) assert.match(refusal, new RegExp(w));
  });

  it('lines that do not parse are a warning with the lines to show; a symlinked log fails on the primary', () => {
    const cs = unitChecks(cluster, look(primary, probeText({ log: ['2026 12 07 12:00:00 +00:00 Info     ok', 'garbage \u001b[2J line'] })), 'pid');
    assert.strictEqual(byId(cs, 'log').severity, 'warn');
    assert.deepStrictEqual(byId(cs, 'log').examples, ['garbage \u001b[2J line']);
    assert.strictEqual(byId(unitChecks(cluster, look(primary, probeText({ logf: 'logf 1 1' })), 'pid'), 'log').severity, 'fail');
  });

  it('kill-by-name set but the box\'s kill takes no names: refused; a kill that takes names passes', () => {
    assert.match(recoveryRefusal(unitChecks(cluster, look(primary), 'kill-by-name'))!, /Set mailgwHa.signalMethod to "pid"/);
    const ok = unitChecks(cluster, look(primary, probeText({ kill: 'kill 0 /bin/kill\t' })), 'kill-by-name');
    assert.match(byId(ok, 'kill').found, /takes a process name/);
    assert.strictEqual(recoveryRefusal(ok), undefined);
  });

  it('an unreachable unit is one failing check that refuses', () => {
    const cs = unitChecks(cluster, { unit: secondary, error: 'connect ECONNREFUSED' }, 'pid');
    assert.deepStrictEqual(cs.map((c) => [c.id, c.severity]), [['connection', 'fail']]);
    assert.match(recoveryRefusal(cs)!, /lab\/fw-b: SSH connection: connect ECONNREFUSED/);
  });

  it('the pair: which unit is active; clocks far apart refuse', () => {
    assert.strictEqual(pairChecks(cluster, [look(primary), look(secondary)])[0].severity, 'ok');
    assert.match(pairChecks(cluster, [look(primary, probeText(), [1]), look(secondary, probeText(), [2])])[0].found, /runs on both units/);
    const late = look(secondary, probeText().replace(/^now (\d+)/, (_m, s: string) => `now ${Number(s) + 3600}`));
    const clock = pairChecks(cluster, [look(primary), late]).find((c) => c.id === 'clock')!;
    assert.deepStrictEqual([clock.severity, clock.found], ['fail', '3600 s apart']);
  });

  it('free space against what would be copied', () => {
    assert.strictEqual(spaceCheck(cluster, look(primary), 100 * 1024 * 1024, 'x').severity, 'ok');
    const tight = spaceCheck(cluster, look(primary, probeText({ df: 'df /dev/sda1 1000 999 1024 99% /' })), 4 * 1024 * 1024, 'what this recovery would copy');
    assert.deepStrictEqual([tight.severity, tight.blocksRecovery], ['fail', true]);
    assert.match(tight.found, /1\.0 MB free .* what this recovery would copy is 4\.0 MB/);
  });
});

describe('core/haRole', () => {
  it('reads phionctrl\'s active flag for the server and server.ctrl\'s role field', () => {
    const ha = parseHaFacts(['7', 'P+', 'P box1\tactive=1 blocked=0', 'P   Boxes fw-a fw-b', 'C 1 box1 primary 0'], 'box1')!;
    assert.strictEqual(ha.phionctrl!.active, true);
    assert.strictEqual(ha.serverCtrl!.role, 'primary');
    assert.strictEqual(parseHaFacts(['P+', 'P S1\tactive=0', 'P S2\tactive=1'], 'box1')!.phionctrl!.active, undefined, 'several servers, none ours: not known');
    assert.strictEqual(parseHaFacts(['7'], 'box1'), undefined, 'neither on the unit');
  });

  it('a disagreement with the process or the settings\' role is said', () => {
    assert.match(haDisagreement(primary, false, parseHaFacts(['P+', 'P box1\tactive=1'], 'box1'))!, /says the server is active here \(active=1\), but the gateway process does not run/);
    assert.match(haDisagreement(primary, true, parseHaFacts(['C 1 box1 secondary'], 'box1'))!, /names this box the server's secondary, but the settings call fw-a the primary/);
    assert.strictEqual(haDisagreement(primary, true, parseHaFacts(['P+', 'P box1\tactive=1', 'C 1 box1 primary'], 'box1')), undefined);
  });
});

describe('core/log/discover', () => {
  const c = (file: string, spoolerLines: number, mtimeMs = 0) => ({ file, size: 10, mtimeMs, spoolerLines });
  it('takes the file that holds the SPOOLER lines, and says why', () => {
    const ch = chooseLog(cluster, [c('/var/phion/logs/srv_box1_mailgw.log', 0), c('/var/phion/logs/srv_box1_mailgw_mailgw.log', 40), c('/var/phion/logs/srv_box1_mailgw_smtp.log', 2)]);
    assert.strictEqual(ch.file, '/var/phion/logs/srv_box1_mailgw_mailgw.log');
    assert.match(ch.why, /the one of 3 file\(s\) \/var\/phion\/logs\/srv_box1_mailgw\*\.log that holds the gateway's SPOOLER lines \(40 in its last MiB\); 1 other file\(s\)/);
  });
  it('without SPOOLER lines: the _mailgw sub-log, else the bare one, else the default name, each said', () => {
    assert.strictEqual(chooseLog(cluster, [c('/var/phion/logs/srv_box1_mailgw.log', 0), c('/var/phion/logs/srv_box1_mailgw_mailgw.log', 0)]).file, '/var/phion/logs/srv_box1_mailgw_mailgw.log');
    assert.strictEqual(chooseLog(cluster, [c('/var/phion/logs/srv_box1_mailgw.log', 0)]).file, '/var/phion/logs/srv_box1_mailgw.log');
    assert.match(chooseLog(cluster, []).why, /no file .* exists yet; waiting for srv_box1_mailgw\.log/);
  });
  it('parses the unit\'s answer and refuses unsafe paths', () => {
    const r = parseDiscovery('F 10 1700000000 3\t/var/phion/logs/srv_box1_mailgw.log\nF 1 1 1\t/var/phion/logs/x; rm -rf\nZ end');
    assert.ok(r.complete);
    assert.deepStrictEqual(r.candidates.map((x) => x.file), ['/var/phion/logs/srv_box1_mailgw.log']);
  });
});
