import * as assert from 'assert';
import { describeLeftovers, outcomeText } from '../../../../src/core/recovery/outcome';
import type { RecoveryReport } from '../../../../src/core/recovery/runContract';

function report(over: Partial<RecoveryReport>): RecoveryReport {
  return { cluster: 'lab', outcome: 'done', planned: 0, copied: 0, verified: 0, inserted: 0, removed: 0, skippedDuplicates: 0, skippedOrphans: 0, rolledBack: 0, held: 0, removedDuplicates: 0, heldForDecision: 0, ignoredEntries: 0, errors: [], durationMs: 0, ...over };
}
const units = { primary: 'fw-a', secondary: 'fw-b' };

describe('recovery outcome text', () => {
  it('Copy to Primary says what it copied, not "0 inserted" and the spool\'s incomplete pairs', () => {
    const t = outcomeText(report({ planned: 1, copied: 1, verified: 1, skippedOrphans: 1 }), 'copy', units);
    assert.match(t, /copied 1 mail\(s\) into fw-a's input\/ \(size and SHA-256 verified\)/);
    assert.match(t, /next: Send SIGUSR2 to Gateway on fw-a/);
    assert.doesNotMatch(t, /inserted|incomplete/);
  });
  it('a failed copy says how many were placed and that the originals stay', () => {
    assert.match(outcomeText(report({ outcome: 'failed', planned: 3, verified: 1, rolledBack: 1 }), 'copy', units), /copy failed: 1 of 3 mail\(s\) placed in fw-a's input\/, 1 copy\(ies\) taken back; the originals stay on fw-b/);
  });
  it('a recovery splits what it skipped and why', () => {
    const t = outcomeText(report({ inserted: 13, removed: 15, skippedDuplicates: 2, skippedOrphans: 1 }), 'recover', units);
    assert.strictEqual(t, 'lab: done: 13 inserted, 15 removed from fw-b, 2 duplicate(s) skipped (already on fw-a), 1 incomplete skipped (check by hand)');
  });
  it('a recovery counts the duplicates it removed once proved, and the mails held for a decision', () => {
    const t = outcomeText(report({ inserted: 10, removed: 10, skippedDuplicates: 3, removedDuplicates: 2, skippedOrphans: 1, heldForDecision: 1 }), 'recover', units);
    assert.strictEqual(t, 'lab: done: 10 inserted, 10 removed from fw-b, 2 proved duplicate(s) removed from fw-b, 1 duplicate(s) skipped (already on fw-a), 1 incomplete skipped (check by hand), 1 held for a decision (Held Mails…)');
  });
  it('resolving a held mail says what became of it', () => {
    assert.match(outcomeText(report({ resolved: { id: '00001-00001-00001', action: 'discard', done: true } }), 'recover', units), /held mail 00001-00001-00001: discarded$/);
    assert.match(outcomeText(report({ outcome: 'failed', resolved: { id: '00001-00001-00001', action: 'insert', done: false, why: 'not on fw-b any more' } }), 'recover', units), /held mail 00001-00001-00001: not inserted \(not on fw-b any more\)$/);
  });
  it('leftovers: the next step depends on what is left', () => {
    assert.deepStrictEqual(describeLeftovers({ recoverable: 0, duplicates: 1, incomplete: 0, held: 2 }), { text: '1 duplicate, 2 held for a decision', next: 'decide on the held mails (Held Mails…)' });
    assert.deepStrictEqual(describeLeftovers({ recoverable: 2, duplicates: 1, incomplete: 1 }), { text: '2 recoverable, 1 duplicate, 1 incomplete (check by hand)', next: 'run the recovery' });
    assert.match(describeLeftovers({ recoverable: 0, duplicates: 2, incomplete: 1 }).next, /remove the duplicates/);
    assert.match(describeLeftovers({ recoverable: 0, duplicates: 0, incomplete: 1 }).next, /decide by hand; re-running the recovery will not move them/);
  });
});
