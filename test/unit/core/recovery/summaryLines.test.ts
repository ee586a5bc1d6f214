// The recovery summary the CLI prints and the extension logs: the counts on the first line, then one
// line for everything the admin must look at (held, warned, failed, incomplete, ignored), each naming
// the mail and why, and where the journal and the report are.
import * as assert from 'assert';
import { summaryLines } from '../../../../src/core/recovery/summaryLines';

type Report = Parameters<typeof summaryLines>[0];

function report(over: Partial<Report> = {}): Report {
  return { cluster: 'lab', outcome: 'done', planned: 0, copied: 0, verified: 0, inserted: 0, removed: 0, skippedDuplicates: 0, skippedOrphans: 0, rolledBack: 0, held: 0, removedDuplicates: 0, heldForDecision: 0, ignoredEntries: 0, errors: [], durationMs: 0, ...over };
}
type Plan = NonNullable<Report['plan']>;
const emptyPlan: Plan = { move: [], duplicates: [], incomplete: [], held: [], ignored: [], logs: [], warnings: [] };

describe('core/recovery/summaryLines', () => {
  it('one line of counts, with the duration in seconds and the copy method', () => {
    const lines = summaryLines(report({ planned: 14, copied: 13, verified: 13, inserted: 12, removed: 11, skippedDuplicates: 2, skippedOrphans: 1, ignoredEntries: 3, durationMs: 12_345, method: 'tar' }));
    assert.deepStrictEqual(lines, ['lab: done: planned 14, copied 13, verified 13, inserted 12, removed 11; skipped 2 duplicate(s), 1 incomplete; 3 entr(ies) ignored; 12.3 s (tar)']);
  });

  it('leaves the method out when none was used', () => {
    assert.deepStrictEqual(summaryLines(report({ outcome: 'nothing-to-do', durationMs: 50 })), ['lab: nothing-to-do: planned 0, copied 0, verified 0, inserted 0, removed 0; skipped 0 duplicate(s), 0 incomplete; 0 entr(ies) ignored; 0.1 s']);
  });

  it('lists each held mail with its reason, each warning, and the logs searched', () => {
    const lines = summaryLines(
      report({
        plan: { ...emptyPlan, held: [{ id: 'h1', reason: 'older than the logs' }, { id: 'h2', reason: 'no Message-ID' }], warnings: ['pattern matched no delivery'], logs: ['/l/a.log: searched', '/l/a.log.1.gz (gzip): NOT READABLE'] },
      }),
    );
    assert.deepStrictEqual(lines.slice(1), [
      '  held for a decision, left on the secondary: h1 (older than the logs)',
      '  held for a decision, left on the secondary: h2 (no Message-ID)',
      '  warning: pattern matched no delivery',
      '  primary logs: /l/a.log: searched; /l/a.log.1.gz (gzip): NOT READABLE',
    ]);
  });

  it('says what an interrupted earlier run came to, and each removed duplicate with its proof', () => {
    const lines = summaryLines(
      report({
        resumed: { finished: 3, rolledBack: 1, held: 2 },
        removedDuplicates: 2,
        duplicatesRemoved: [
          { id: 'd1', folder: 'spool', proof: "already in the primary's spool/ as d9" },
          { id: 'd2', folder: 'vscan', proof: 'already delivered by the primary (/l/a.log, line 7)' },
        ],
      }),
    );
    assert.deepStrictEqual(lines.slice(1), [
      '  interrupted earlier run: 3 finished, 1 undone, 2 held for a manual check',
      '  2 duplicate(s) removed from the secondary, each proved on the primary again right before:',
      "    spool/d1: already in the primary's spool/ as d9",
      '    vscan/d2: already delivered by the primary (/l/a.log, line 7)',
    ]);
  });

  it('says what is left on the standby, what was taken back from the primary, and each error with its mail', () => {
    const lines = summaryLines(
      report({
        outcome: 'failed',
        standbyLeft: '2 mail(s) still on lab/fw-b',
        rolledBack: 2,
        errors: [{ id: 'm7', message: 'SHA-256 differs' }, { message: 'connection lost' }],
      }),
    );
    assert.deepStrictEqual(lines.slice(1), [
      '  at the end: 2 mail(s) still on lab/fw-b',
      "  2 copy(ies) removed from the primary's input/ again (the originals stay on the secondary)",
      '  error (m7): SHA-256 differs',
      '  error: connection lost',
    ]);
  });

  it('lists incomplete mails and ignored entries, a hostile file name quoted on its one line', () => {
    const lines = summaryLines(
      report({
        plan: { ...emptyPlan, incomplete: [{ id: 'i1', reason: 'no .env' }], ignored: [{ folder: 'spool', name: 'evil\nerror: fake.body', reason: 'unsafe-name' }] },
      }),
    );
    assert.deepStrictEqual(lines.slice(1), ['  incomplete, left alone: i1 (no .env)', '  ignored in spool/: "evil\\nerror: fake.body" (unsafe-name)']);
    assert.ok(lines.every((l) => !l.includes('\n')));
  });

  it('ends with where the journal and the report are', () => {
    const lines = summaryLines(report({ journal: '/home/u/.mailgw-ha/lab.journal', reportFile: '/home/u/recovery-lab.md', errors: [{ message: 'x' }] }));
    assert.deepStrictEqual(lines.slice(-2), ['  journal: /home/u/.mailgw-ha/lab.journal', '  report: /home/u/recovery-lab.md']);
  });

  it('puts nothing but the counts for a run with nothing to report, even with an empty plan', () => {
    assert.strictEqual(summaryLines(report({ plan: emptyPlan })).length, 1);
  });
});
