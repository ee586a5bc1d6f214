import * as assert from 'assert';
import { phaseDurations, recoveryReportMarkdown, RunTimings } from '../../../../src/core/recovery/reportMarkdown';
import type { RecoveryReport } from '../../../../src/core/recovery/run';

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
  ignoredEntries: 0,
  errors: [{ id: '00002-00002-00002', message: 'not confirmed in the log within 30 s' }],
  durationMs: 70_000,
  journal: '/tmp/j/recovery-lab.jsonl',
  reportFile: '/tmp/j/recovery-lab-1.report.json',
  plan: {
    move: ['00001-00001-00001', '00002-00002-00002'],
    duplicates: [{ id: '00003-00003-00003', reason: 'same Message-ID in spool/ of fw-a as 12345-12345-12345' }],
    incomplete: [{ id: '00004-00004-00004', reason: 'no .env' }],
    ignored: [],
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
    assert.match(text, /\| 00003\\-00003\\-00003 \| skipped: duplicate \| same Message\\-ID in spool\/ of fw\\-a as 12345\\-12345\\-12345 \|/);
    assert.match(text, /\| 00004\\-00004\\-00004 \| skipped: incomplete — check by hand \| no \\\.env \|/);
    assert.match(text, /- Journal: \[\/tmp\/j\/recovery\\-lab\\\.jsonl\]\(file:\/\/\/tmp\/j\/recovery-lab\.jsonl\)/);
  });
  it('turns nothing from a unit into markup or a link', () => {
    const evil = { ...report, plan: { ...report.plan!, incomplete: [{ id: '[x](command:rm)', reason: '<img src=x>|**bold**' }] } };
    const text = recoveryReportMarkdown(evil, timings, { primary: 'fw-a', secondary: 'fw-b' });
    assert.ok(!text.includes('[x](command:rm)'));
    assert.ok(!/(^|[^\\])<img/.test(text), 'every < escaped');
    assert.match(text, /\\\[x\\\]\\\(command:rm\\\)/);
  });
});
