// mailgw-ha doctor against the lab, on whichever box profile the lab runs (MAILGW_LAB_PROFILE; the
// profiles script runs this file on each): what it says of healthy units and what differs per profile
// (old SSH algorithms, Dropbear, BusyBox's name-taking kill and missing pgrep, the _mailgw sub-log),
// the failure a recovery would meet (input/ not writable: the recovery refuses in the doctor's words,
// nothing changed), the box's HA control disagreeing with the process (blocks a recovery), the gateway
// log found by content among srv_<server>_<service>*.log, and log lines not in the box's format shown
// neutralised.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { logLine } from '../lab/lab';
import { LEGACY_ALGORITHMS } from '../lab/profiles';
import { lab } from './hooks';
import { buildCli, labCluster, mailIds, runCli, runRecovery, tempJournal } from './recoveryHelpers';

interface Check { unit?: string; id: string; severity: string; found: string; fix?: string; examples?: string[] }

const doctorCli = (cli: string, extra: string[] = [], settings = lab().settingsPath) => runCli(cli, ['doctor', '--settings', settings, ...extra]);

const checksOf = (stdout: string): Check[] => (JSON.parse(stdout) as { clusters: { checks: Check[] }[] }).clusters[0].checks;
const find = (cs: Check[], unit: string | undefined, id: string) => cs.find((c) => c.unit === unit && c.id === id)!;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The lab's settings with the clusters' logFile left out, so the product must find the log itself. */
function settingsWithoutLogFile(): string {
  const raw = JSON.parse(fs.readFileSync(lab().settingsPath, 'utf8')) as Record<string, unknown>;
  for (const c of raw['mailgwHa.clusters'] as Record<string, unknown>[]) delete c.logFile;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-doctor-')), 'settings.json');
  fs.writeFileSync(file, JSON.stringify(raw, null, 2));
  return file;
}

describe('mailgw-ha doctor (lab)', function () {
  this.timeout(120_000);
  let cli = '';
  before(async function () {
    this.timeout(60_000);
    cli = await buildCli();
  });
  beforeEach(async () => {
    await lab().reset();
  });

  it('healthy units: every check ok or informational, with what differs on this profile (SSH algorithms and server, kill, tools, the log chosen and why), the active unit, free space', async () => {
    const profile = lab().profile;
    lab().strand({ mails: 3 });
    const r = await doctorCli(cli, ['--json']);
    assert.strictEqual(r.code, 0, r.stdout + r.stderr);
    const cs = checksOf(r.stdout);
    // BusyBox has no pgrep: the doctor says the gateway is found by a walk over /proc instead.
    const expectedWarnings = profile.busybox ? ['lab/fw-a tools', 'lab/fw-b tools'] : [];
    assert.deepStrictEqual(cs.filter((c) => c.severity === 'fail' || c.severity === 'warn').map((c) => `${c.unit} ${c.id}`), expectedWarnings, JSON.stringify(cs.filter((c) => c.severity !== 'ok' && c.severity !== 'info')));
    for (const unit of ['lab/fw-a', 'lab/fw-b']) {
      const ssh = find(cs, unit, 'ssh').found;
      if (profile.name === 'legacy') assert.match(ssh, new RegExp(`^kex ${LEGACY_ALGORITHMS.kex}, host key ${LEGACY_ALGORITHMS.hostKey}, cipher aes(128|256)-ctr, MAC ${LEGACY_ALGORITHMS.macs} `), 'the old algorithms the unit offers');
      else assert.match(ssh, /^kex \S+, host key ssh-ed25519, cipher \S+, MAC /);
      assert.match(ssh, profile.server === 'dropbear' ? /server dropbear_[\d.]+; Dropbear: at most 2 commands at once/ : /server OpenSSH_/);
      const kill = find(cs, unit, 'kill').found;
      if (profile.busybox) assert.match(kill, /\/bin\/kill takes a process name/, "BusyBox's kill takes names");
      else assert.match(kill, /does not take a process name/, "Debian's procps kill");
      const tools = find(cs, unit, 'tools').found;
      if (profile.busybox) assert.match(tools, /no pgrep: the gateway process is found by a walk over \/proc; BusyBox: .*\btar\b/);
      else assert.doesNotMatch(tools, /BusyBox/);
    }
    const logName = profile.boxLog ? 'srv_box1_mailgw_mailgw.log' : 'srv_box1_mailgw.log';
    assert.match(find(cs, 'lab/fw-a', 'log').found, new RegExp(`^/var/phion/logs/${escape(logName)} \\(.*\\): (\\d+) of its last \\1 lines parse$`), 'every line of the log parses');
    assert.match(find(cs, undefined, 'active').found, /fw-a \(the primary\) is active/);
    assert.match(find(cs, 'lab/fw-a', 'space').found, /MB free in \/var\/phion\/spool\/mgw\/box1_mailgw\/input; what fw-b holds/);
    assert.match(find(cs, 'lab/fw-a', 'gateway').found, /box1_mailgw runs \(PID \d+\); no phionctrl or server\.ctrl on this unit/);
  });

  it("input/ not writable: FAIL with the fix, exit 1; a recovery refuses in the doctor's words and changes nothing", async () => {
    const m = lab().strand({ mails: 4 });
    const input = `${lab().spoolDir}/input`;
    for (const argv of [['mount', '--bind', input, input], ['mount', '-o', 'remount,bind,ro', input]]) assert.strictEqual((await lab().exec('primary', argv)).code, 0);
    try {
      const r = await doctorCli(cli);
      assert.strictEqual(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /FAIL {2}lab\/fw-a {7}Gateway folders: input\/ is not writable/);
      assert.match(r.stdout, /fix: The gateway's folders are \/var\/phion\/spool\/mgw\/box1_mailgw\/\{spool,vscan,input\}/);
      const rec = await runRecovery(tempJournal());
      assert.strictEqual(rec.outcome, 'failed');
      assert.match(rec.errors[0].message, /refuses this recovery; nothing was changed: lab\/fw-a: Gateway folders: input\/ is not writable/);
      assert.deepStrictEqual([...mailIds('spool', 'secondary')].sort(), [...m.secondarySpool].sort(), 'every mail where it was');
    } finally {
      await lab().exec('primary', ['umount', input]);
    }
  });

  it("the box's HA control disagreeing with the gateway process or the settings: FAIL, and a recovery refuses in the doctor's words, nothing changed", async () => {
    const m = lab().strand({ mails: 3 });
    // The primary's server.ctrl calls it the secondary; the standby's phionctrl says the server is active there.
    lab().setBoxControl('primary', { serverCtrl: '1 box1 secondary' });
    lab().setBoxControl('secondary', { phionctrl: 'box1\tactive=1\tstate=running' });
    const r = await doctorCli(cli, ['--json']);
    assert.strictEqual(r.code, 1, r.stdout + r.stderr);
    const cs = checksOf(r.stdout);
    const a = find(cs, 'lab/fw-a', 'gateway');
    assert.strictEqual(a.severity, 'fail');
    assert.match(a.found, /server\.ctrl: secondary.*\/opt\/phion\/run\/server\.ctrl names this box the server's secondary, but the settings call fw-a the primary/);
    const b = find(cs, 'lab/fw-b', 'gateway');
    assert.strictEqual(b.severity, 'fail');
    assert.match(b.found, /is not running; phionctrl: active=1.*"phionctrl server show" says the server is active here \(active=1\), but the gateway process does not run/);
    const rec = await runRecovery(tempJournal());
    assert.strictEqual(rec.outcome, 'failed');
    assert.match(rec.errors[0].message, /refuses this recovery; nothing was changed: lab\/fw-a: Gateway process and HA role: .*names this box the server's secondary/);
    assert.deepStrictEqual([...mailIds('spool', 'secondary')].sort(), [...m.secondarySpool].sort(), 'every mail where it was');
    assert.deepStrictEqual([...mailIds('input', 'primary')], [], 'nothing copied');
    // What the box says when it agrees: no complaint.
    lab().setBoxControl('primary', { serverCtrl: '1 box1 primary', phionctrl: 'box1\tactive=1' });
    lab().setBoxControl('secondary', { serverCtrl: '1 box1 secondary', phionctrl: 'box1\tactive=0' });
    const ok = checksOf((await doctorCli(cli, ['--json'])).stdout);
    assert.strictEqual(find(ok, 'lab/fw-a', 'gateway').severity, 'ok', find(ok, 'lab/fw-a', 'gateway').found);
    assert.match(find(ok, 'lab/fw-a', 'gateway').found, /runs \(PID \d+\); phionctrl: active=1, server\.ctrl: primary$/);
    assert.strictEqual(find(ok, 'lab/fw-b', 'gateway').severity, 'ok', find(ok, 'lab/fw-b', 'gateway').found);
  });

  it('finds the gateway log by content among srv_box1_mailgw*.log and says why; lines not in the box\'s format are shown escaped', async () => {
    const profile = lab().profile;
    const logs = path.dirname(lab().hostLogFile('primary'));
    const real = path.basename(lab().hostLogFile('primary'));
    const settings = settingsWithoutLogFile();
    const spooler = (i: number) => logLine({ timeZone: profile.boxLog ? 'Etc/GMT-1' : undefined }, new Date(), 'Info', `SPOOLER new mail inserted (id=00000-00000-0000${i})`);
    const hostile = 'not a box line \u001b]0;evil\u0007 here';
    let chosen: string;
    if (profile.boxLog) {
      // The box's own _mailgw sub-log holds the spooler's lines; srv_box1_mailgw.log beside it other ones.
      chosen = real;
      fs.appendFileSync(path.join(logs, real), [1, 2, 3].map(spooler).join('\n') + `\n${hostile}\n`);
      fs.writeFileSync(path.join(logs, 'srv_box1_mailgw.log'), `${logLine({ timeZone: 'Etc/GMT-1' }, new Date(), 'Notice', 'SERVICE control connected')}\n`);
    } else {
      // A _mailgw sub-log holding the spooler's lines (as the box most likely names it), beside the other.
      chosen = 'srv_box1_mailgw_mailgw.log';
      fs.writeFileSync(path.join(logs, chosen), [1, 2, 3].map(spooler).join('\n') + `\n${hostile}\n`);
    }
    const r = await doctorCli(cli, [], settings);
    assert.match(r.stdout, new RegExp(`Gateway log: /var/phion/logs/${escape(chosen)} \\(the one of 2 file\\(s\\) /var/phion/logs/srv_box1_mailgw\\*\\.log that holds the gateway's SPOOLER lines \\(${profile.boxLog ? '\\d+' : '3'} in its last MiB\\)`), r.stdout);
    assert.match(r.stdout, profile.boxLog ? /(\d+) of its last (\d+) lines parse, 1 do not/ : /3 of its last 4 lines parse, 1 do not/);
    assert.match(r.stdout, /\| not a box line \\x1b\]0;evil\\x07 here/, 'the line shown with its controls escaped');
    assert.ok(!r.stdout.includes('\u001b'), 'no raw escape reaches the terminal');
    // The recovery plan says which file it searched, and why.
    const plan = await runRecovery(tempJournal(), { dryRun: true }, labCluster(settings));
    assert.match(plan.plan!.logs[0], new RegExp(`^gateway log /var/phion/logs/${escape(chosen)}: the one of 2 file`));
  });
});
