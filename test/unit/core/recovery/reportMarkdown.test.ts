import * as assert from 'assert';
import { phaseDurations, recoveryReportMarkdown, RunTimings } from '../../../../src/core/recovery/reportMarkdown';
import type { RecoveryReport } from '../../../../src/core/recovery/runContract';
import { HOSTILE_TEXTS } from '../../../hostile/corpus';

// The Markdown preview's renderer is markdown-it; linkify and HTML on is the strictest setting.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped, test only
const MarkdownIt = require('markdown-it') as new (o: object) => { render(s: string): string };
const renderer = new MarkdownIt({ html: true, linkify: true });
/** Bidi, zero-width, BOM, soft hyphen, U+180E, U+3164, tag characters and controls (but line feed). */
// eslint-disable-next-line no-control-regex -- what must not reach the preview
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\u3164\ufeff\u{E0000}-\u{E007F}]/u;

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
    assert.match(text, /\| 00003\\-00003\\-00003 \| skipped: duplicate \| same Message\\-ID in spool\\\/ of fw\\-a as 12345\\-12345\\-12345\\; left on fw\\-b \\\(not removed\\: see the log\\\) \|/);
    assert.match(text, /\| 00004\\-00004\\-00004 \| skipped: incomplete — check by hand \| no \\\.env \|/);
    assert.match(text, /- Journal: \[\\\/tmp\\\/j\\\/recovery\\-lab\\\.jsonl\]\(file:\/\/\/tmp\/j\/recovery-lab\.jsonl\)/);
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
    assert.match(text, /\| 00003\\-00003\\-00003 \| duplicate: removed from fw\\-b \| proved again right before\\: delivered per \\\/var\\\/log\\\/x\\\.log \|/);
    assert.match(text, /\| 00005\\-00005\\-00005 \| held for a decision — Held Mails… \| no log covers its time \|/);
    assert.match(text, /1 duplicate\(s\) not moved \(1 of them removed from fw\\-b once proved again\), 1 incomplete skipped, 1 held for a decision/);
  });
  it('turns nothing from a unit into markup or a link', () => {
    const evil = { ...report, plan: { ...report.plan!, incomplete: [{ id: '[x](command:rm)', reason: '<img src=x>|**bold**' }] } };
    const text = recoveryReportMarkdown(evil, timings, { primary: 'fw-a', secondary: 'fw-b' });
    assert.ok(!text.includes('[x](command:rm)'));
    assert.ok(!/(^|[^\\])<img/.test(text), 'every < escaped');
    assert.match(text, /\\\[x\\\]\\\(command\\:rm\\\)/);
  });
  it('F10: a held reason, an error or a mail id from a unit renders as text in the preview: no link, no element, no invisible character', () => {
    const texts = HOSTILE_TEXTS.map((h) => h.text.slice(0, 2000));
    const evil: RecoveryReport = {
      ...report,
      cluster: 'lab http://3232235777/x',
      errors: texts.map((message) => ({ message })),
      plan: { ...report.plan!, held: texts.map((reason, i) => ({ id: `0000${i % 10}-held-${reason.slice(0, 40)}`, reason })), incomplete: [], ignored: texts.map((name) => ({ folder: 'spool', name, reason: name })) },
      resolved: { id: '00009-00009-00009', action: 'insert', done: false, why: 'held: see http://3232235777/reset \u202egnp.exe' },
    };
    const text = recoveryReportMarkdown(evil, timings, { primary: 'fw-a www.evil.example', secondary: 'fw-b admin@evil.example' });
    assert.ok(!RAW.test(text), JSON.stringify(RAW.exec(text)?.[0]));
    assert.match(text, /\\u202egnp/, 'U+202E shown as a visible escape');
    const html = renderer.render(text);
    const links = [...html.matchAll(/<a\s[^>]*href="([^"]*)"/g)].map((m) => m[1]);
    // (markdown-it itself refuses file: targets; VS Code's preview shows them.)
    assert.deepStrictEqual(links.filter((l) => !['file:///tmp/j/recovery-lab.jsonl', 'file:///tmp/j/recovery-lab-1.report.json'].includes(l)), [], 'only the report\'s own file links');
    assert.ok(!/3232235777|evil\.example/.test(links.join(' ')));
    const tags = new Set([...html.matchAll(/<\/?([a-z0-9]+)/gi)].map((m) => m[1].toLowerCase()));
    assert.deepStrictEqual([...tags].filter((t) => !['h1', 'h2', 'p', 'strong', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'ul', 'li', 'a'].includes(t)), [], 'no element from the text');
  });
});
