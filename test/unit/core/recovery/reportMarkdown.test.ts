import * as assert from 'assert';
import { phaseDurations, recoveryReportMarkdown, RunTimings } from '../../../../src/core/recovery/reportMarkdown';
import type { RecoveryReport } from '../../../../src/core/recovery/runContract';

const report: RecoveryReport = {
  cluster: 'lab',
  outcome: 'done',
  planned: 2,
  copied: 2,
  verified: 2,
  inserted: 1,
  removed: 1,
  skippedDuplicates: 1,
  skippedOrphans: 1,
  rolledBack: 0,
  held: 0,
  removedDuplicates: 0,
  heldForDecision: 0,
  ignoredEntries: 0,
  errors: [{ id: '00002-00002-00002', message: 'not confirmed in the log within 30 s' }],
  durationMs: 70_000,
  journal: '/tmp/j/recovery-lab.jsonl',
  reportFile: '/tmp/j/recovery-lab-1.report.json',
  plan: {
    move: ['00001-00001-00001', '00002-00002-00002'],
    duplicates: [{ id: '00003-00003-00003', reason: 'same Message-ID in spool/ of fw-a as 12345-12345-12345' }],
    incomplete: [{ id: '00004-00004-00004', reason: 'no .env' }],
    held: [],
    ignored: [],
    logs: [],
    warnings: [],
  },
};
const t0 = 1_700_000_000_000;
const timings: RunTimings = {
  startedAt: t0,
  endedAt: t0 + 70_000,
  confirmWaitMs: 60_000,
  confirmedIds: ['00001-00001-00001'],
  phases: [
    { phase: 'plan', at: t0 },
    { phase: 'copy', at: t0 + 62_000 },
    { phase: 'signal', at: t0 + 65_000 },
    { phase: 'confirm', at: t0 + 66_000 },
    { phase: 'cleanup', at: t0 + 69_000 },
    { phase: 'done', at: t0 + 70_000 },
  ],
};

describe('readable recovery report', () => {
  it('times each phase with the plan dialog\'s wait left out', () => {
    assert.deepStrictEqual(phaseDurations(timings), [
      { phase: 'plan', ms: 2_000 },
      { phase: 'copy', ms: 3_000 },
      { phase: 'signal', ms: 1_000 },
      { phase: 'confirm', ms: 3_000 },
      { phase: 'cleanup', ms: 1_000 },
    ]);
    const text = recoveryReportMarkdown(report, timings, { primary: 'fw-a', secondary: 'fw-b' });
    assert.match(text, /working time 10\.0 s \(the 60\.0 s the plan dialog waited for you not counted\)/);
  });
  it('gives every mail its outcome, and the proof for skipped ones', () => {
    const text = recoveryReportMarkdown(report, timings, { primary: 'fw-a', secondary: 'fw-b' });
    assert.match(text, /\| 00001\\-00001\\-00001 \| inserted \| the log of fw\\-a shows its insertion \|/);
    assert.match(text, /\| 00002\\-00002\\-00002 \| error \| not confirmed in the log within 30 s \|/);
    assert.match(text, /\| 00003\\-00003\\-00003 \| skipped: duplicate \| same Message\\-ID in spool\/ of fw\\-a as 12345\\-12345\\-12345; left on fw\\-b \\\(not removed: see the log\\\) \|/);
    assert.match(text, /\| 00004\\-00004\\-00004 \| skipped: incomplete — check by hand \| no \\\.env \|/);
    assert.match(text, /- Journal: \[\/tmp\/j\/recovery\\-lab\\\.jsonl\]\(file:\/\/\/tmp\/j\/recovery-lab\.jsonl\)/);
  });
  it('says which duplicates were removed from the standby with their proof, and which mails are held', () => {
    const r: RecoveryReport = {
      ...report,
      skippedDuplicates: 1,
      removedDuplicates: 1,
      heldForDecision: 1,
      duplicatesRemoved: [{ id: '00003-00003-00003', folder: 'spool', messageId: '<a@b>', proof: 'delivered per /var/log/x.log' }],
      plan: { ...report.plan!, held: [{ id: '00005-00005-00005', reason: 'no log covers its time' }] },
    };
    const text = recoveryReportMarkdown(r, timings, { primary: 'fw-a', secondary: 'fw-b' });
    assert.match(text, /\| 00003\\-00003\\-00003 \| duplicate: removed from fw\\-b \| proved again right before: delivered per \/var\/log\/x\\\.log \|/);
    assert.match(text, /\| 00005\\-00005\\-00005 \| held for a decision — Held Mails… \| no log covers its time \|/);
    assert.match(text, /1 duplicate\(s\) not moved \(1 of them removed from fw\\-b once proved again\), 1 incomplete skipped, 1 held for a decision/);
  });
  it('turns nothing from a unit into markup or a link', () => {
    const evil = { ...report, plan: { ...report.plan!, incomplete: [{ id: '[x](command:rm)', reason: '<img src=x>|**bold**' }] } };
    const text = recoveryReportMarkdown(evil, timings, { primary: 'fw-a', secondary: 'fw-b' });
    assert.ok(!text.includes('[x](command:rm)'));
    assert.ok(!/(^|[^\\])<img/.test(text), 'every < escaped');
    assert.match(text, /\\\[x\\\]\\\(command:rm\\\)/);
  });
});
