// What the Clusters view marks on a standby secondary and how its badge splits the leftovers: a
// mail is a duplicate when the active unit holds the same gateway id with the same sizes (never by
// Message-ID) or the last recovery proved it, held when the last recovery held it, and the counts add up.
import * as assert from 'assert';
import type { UnitConfig } from '../../../../src/core/config';
import { LeftoverMarks } from '../../../../src/core/recovery/leftoverMarks';
import type { RecoveryReport } from '../../../../src/core/recovery/runContract';
import type { MailEntry, SpoolFolder } from '../../../../src/core/spool/list';
import type { UnitOverview } from '../../../../src/core/spool/overview';

const mail = (id: string, folder: SpoolFolder = 'spool', complete = true): MailEntry => ({
  id,
  folder,
  complete,
  body: { name: `${id}.body`, size: 10, mtimeMs: 0 },
  ...(complete ? { env: { name: `${id}.env`, size: 5, mtimeMs: 0 } } : {}),
  size: complete ? 15 : 10,
  mtimeMs: 0,
}) as MailEntry;

const secondary = { key: 'lab/fw-b', name: 'fw-b', role: 'secondary' } as UnitConfig;
function overview(mails: MailEntry[], active = false): UnitOverview {
  const folder = (f: SpoolFolder) => ({ folder: f, path: `/x/${f}`, mails: mails.filter((m) => m.folder === f), completeCount: 0, incompleteCount: 0, totalBytes: 0, ignored: [], missing: false });
  return { gateway: { processName: 'srv_box1', pids: [] }, active, folders: { spool: folder('spool'), vscan: folder('vscan'), input: folder('input') }, loadedAt: 0, elapsedMs: 0 } as unknown as UnitOverview;
}
const report = (plan: Partial<NonNullable<RecoveryReport['plan']>>, resolved?: RecoveryReport['resolved']): RecoveryReport =>
  ({ cluster: 'lab', plan: { move: [], duplicates: [], incomplete: [], held: [], ignored: [], logs: [], warnings: [], ...plan }, resolved }) as unknown as RecoveryReport;

describe('core/recovery/leftoverMarks', () => {
  it('marks a mail the active unit holds under the same gateway id and sizes, and says where; never by Message-ID', () => {
    const marks = new LeftoverMarks();
    const bigger = { ...mail('c'), body: { name: 'c.body', size: 11, mtimeMs: 0 } } as MailEntry;
    const found = marks.findDuplicates('lab/fw-b', [mail('a'), mail('b'), mail('c'), mail('d')], [mail('a', 'vscan'), bigger, mail('q'), mail('d', 'spool', false)], 'fw-a');
    assert.deepStrictEqual([...found], [['a', 'on fw-a vscan/a']], 'c differs in size, d is only half there, b and q are other mails');
  });

  it('keeps marking what the last recovery proved, after the active unit delivered its copy', () => {
    const marks = new LeftoverMarks();
    marks.noteReport('lab/fw-b', report({ duplicates: [{ id: 'a', reason: 'delivered per the log' }] }));
    const found = marks.findDuplicates('lab/fw-b', [mail('a'), mail('b')], [], 'fw-a');
    assert.deepStrictEqual([...found], [['a', 'delivered per the log, per the last recovery']]);
  });

  it('holds what the last recovery held; a run that resolved one mail takes only that one off', () => {
    const marks = new LeftoverMarks();
    marks.noteReport('lab/fw-b', report({ held: [{ id: 'h1', reason: 'no proof either way' }, { id: 'h2' }] }));
    assert.strictEqual(marks.heldWhy('lab/fw-b', 'h1'), 'no proof either way');
    assert.strictEqual(marks.heldWhy('lab/fw-b', 'h2'), 'neither proved delivered nor undelivered');
    marks.noteReport('lab/fw-b', report({}, { id: 'h1', action: 'insert', done: true }));
    assert.strictEqual(marks.heldWhy('lab/fw-b', 'h1'), undefined);
    assert.ok(marks.heldWhy('lab/fw-b', 'h2'));
    marks.noteReport('lab/fw-b', report({ held: [] }));
    assert.strictEqual(marks.heldWhy('lab/fw-b', 'h2'), undefined, 'a full run that held nothing clears them');
  });

  it('splits the leftovers of a standby secondary: incomplete first, then duplicates, then held, the rest recoverable', () => {
    const marks = new LeftoverMarks();
    const mails = [mail('inc', 'spool', false), mail('dup'), mail('held', 'vscan'), mail('r1'), mail('r2', 'vscan')];
    marks.noteReport('lab/fw-b', report({ held: [{ id: 'held' }, { id: 'inc' }] }));
    assert.strictEqual(marks.setDuplicates('lab/fw-b', new Map([['dup', 'on fw-a spool/x'], ['inc', 'on fw-a spool/y']])), true);
    assert.deepStrictEqual(marks.split(secondary, overview(mails)), { recoverable: 2, duplicates: 1, incomplete: 1, held: 1 });
    assert.deepStrictEqual(marks.split(secondary, overview(mails, true)), { recoverable: 0, duplicates: 0, incomplete: 0 }, 'an active secondary has no leftovers');
    assert.strictEqual(marks.duplicateOf('lab/fw-b', 'dup'), 'on fw-a spool/x');
  });

  it('says whether setting the duplicates changed what is marked (the view redraws only then)', () => {
    const marks = new LeftoverMarks();
    assert.strictEqual(marks.setDuplicates('lab/fw-b', undefined), false);
    assert.strictEqual(marks.setDuplicates('lab/fw-b', new Map([['a', 'x']])), true);
    assert.strictEqual(marks.setDuplicates('lab/fw-b', new Map([['a', 'x']])), false);
    assert.strictEqual(marks.setDuplicates('lab/fw-b', undefined), true);
    assert.strictEqual(marks.duplicateOf('lab/fw-b', 'a'), undefined);
  });
});
