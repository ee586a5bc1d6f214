// mailgw-ha doctor against the lab: what it says of healthy units, the failure a recovery would meet
// (input/ not writable: the recovery refuses in the doctor's words, nothing changed), the gateway log
// found by content among srv_<server>_<service>*.log, and log lines not in the box's format shown
// neutralised.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { lab } from './hooks';
import { buildCli, mailIds, runCli, runRecovery, tempJournal } from './recoveryHelpers';

interface Check { unit?: string; id: string; severity: string; found: string; fix?: string; examples?: string[] }

const doctorCli = (cli: string, extra: string[] = []) => runCli(cli, ['doctor', '--settings', lab().settingsPath, ...extra]);

const checksOf = (stdout: string): Check[] => (JSON.parse(stdout) as { clusters: { checks: Check[] }[] }).clusters[0].checks;
const find = (cs: Check[], unit: string | undefined, id: string) => cs.find((c) => c.unit === unit && c.id === id)!;

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

  it('healthy units: every check ok or informational, with the SSH algorithms, the log chosen and why, the active unit, free space', async () => {
    lab().strand({ mails: 3 });
    const r = await doctorCli(cli, ['--json']);
    assert.strictEqual(r.code, 0, r.stdout + r.stderr);
    const cs = checksOf(r.stdout);
    assert.deepStrictEqual(cs.filter((c) => c.severity === 'fail' || c.severity === 'warn').map((c) => `${c.unit} ${c.id}: ${c.found}`), []);
    assert.match(find(cs, 'lab/fw-a', 'ssh').found, /^kex \S+, host key ssh-ed25519, cipher \S+, MAC /);
    assert.match(find(cs, 'lab/fw-a', 'log').found, /^\/var\/phion\/logs\/srv_box1_mailgw\.log \(.*\): \d+ of its last \d+ lines parse$/);
    assert.match(find(cs, 'lab/fw-a', 'kill').found, /does not take a process name/, "Debian's procps kill");
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

  it('finds the gateway log by content among srv_box1_mailgw*.log and says why; lines not in the box\'s format are shown escaped', async () => {
    const logs = path.dirname(lab().hostLogFile('primary'));
    // A _mailgw sub-log holding the spooler's lines (as the box most likely names it), beside the other.
    const stamp = '2026 12 07 12:00:00 +01:00 Info    ';
    fs.writeFileSync(path.join(logs, 'srv_box1_mailgw_mailgw.log'), [1, 2, 3].map((i) => `${stamp} SPOOLER new mail inserted (id=00000-00000-0000${i})`).join('\n') + '\nnot a box line \u001b]0;evil\u0007 here\n');
    const r = await doctorCli(cli);
    assert.match(r.stdout, /Gateway log: \/var\/phion\/logs\/srv_box1_mailgw_mailgw\.log \(the one of 2 file\(s\) \/var\/phion\/logs\/srv_box1_mailgw\*\.log that holds the gateway's SPOOLER lines \(3 in its last MiB\)/);
    assert.match(r.stdout, /3 of its last 4 lines parse, 1 do not/);
    assert.match(r.stdout, /\| not a box line \\x1b\]0;evil\\x07 here/, 'the line shown with its controls escaped');
    assert.ok(!r.stdout.includes('\u001b'), 'no raw escape reaches the terminal');
    // The recovery plan says which file it searched, and why.
    const plan = await runRecovery(tempJournal(), { dryRun: true });
    assert.match(plan.plan!.logs[0], /^gateway log \/var\/phion\/logs\/srv_box1_mailgw_mailgw\.log: the one of 2 file/);
  });
});
