// The audit trail's core: journal records translated into audit records (a fresh run and a resumed
// one), the appender (permissions, one line a record, nothing secret, failures reported and never
// thrown), the bounded reader and the export.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { removalEntry, signalEntry } from '../../../../src/core/audit/actions';
import { JournalAuditor } from '../../../../src/core/audit/journalAudit';
import { AuditLog } from '../../../../src/core/audit/log';
import { auditLine, auditTable, readAuditTrail } from '../../../../src/core/audit/read';
import { AuditEntry, AuditRecord, AuditSink, defaultAuditFile, makeRecord, resolveAuditFile } from '../../../../src/core/audit/record';
import { formatTable } from '../../../../src/core/export/table';
import { Journal, JournalRecord, PlannedMail } from '../../../../src/core/recovery/journal';
import { labCluster } from '../labCluster';

const RUN_ID = '20261201-041000-abc123';
const PLAN: PlannedMail[] = [
  { id: 'AAA1', folder: 'spool', messageId: '<a1@lab>', bodySize: 10, envSize: 5 },
  { id: 'AAA2', folder: 'spool', messageId: '<a2@lab>', bodySize: 10, envSize: 5 },
  { id: 'VVV1', folder: 'vscan', messageId: '<v1@lab>', bodySize: 10, envSize: 5 },
];

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-audit-'));
}

class MemorySink implements AuditSink {
  readonly entries: AuditEntry[] = [];
  append(e: AuditEntry): void {
    this.entries.push(e);
  }
}

const at = '2026-12-01T04:10:00.000Z';
function runRecord(): JournalRecord {
  return { t: 'run', v: 1, runId: RUN_ID, cluster: 'lab', primary: 'lab/fw-a', secondary: 'lab/fw-b', spoolBase: '/var/phion/spool/mgw/box1_mailgw', stage: `/x/.mailgw-ha-${RUN_ID}`, logFile: '/var/log/mgw.log', at };
}

/** The records a complete run journals, in order. */
function fullRun(): JournalRecord[] {
  const ids = PLAN.map((m) => m.id);
  return [
    runRecord(),
    { t: 'plan', mails: PLAN },
    { t: 'state', ids, state: 'copying', at },
    { t: 'state', ids, state: 'copied', at, sha: {} },
    { t: 'state', ids, state: 'placing', at },
    { t: 'state', ids, state: 'placed', at },
    { t: 'signal', phase: 'before', ids, mark: { inode: '1', size: 2 }, at },
    { t: 'signal', phase: 'after', ids, mark: { inode: '1', size: 2 }, pid: 4242, command: 'kill -USR2 4242', at },
    { t: 'state', ids, state: 'confirmed', at, newIds: { AAA2: 'NEW2' } },
    { t: 'state', ids: ['AAA1', 'AAA2'], state: 'removing', at },
    { t: 'state', ids: ['AAA1', 'AAA2'], state: 'removed', at },
    { t: 'state', ids: ['VVV1'], state: 'removing', at },
    { t: 'state', ids: ['VVV1'], state: 'removed', at },
    { t: 'duplicates', phase: 'removing', mails: [{ id: 'DUP1', folder: 'spool', messageId: '<d1@lab>', proof: 'in spool/ of fw-a' }], at },
    { t: 'duplicates', phase: 'removed', ids: ['DUP1'], at },
    { t: 'end', outcome: 'done', at },
  ];
}

describe('audit trail: journal records → audit records', () => {
  it('a run journaled through the real Journal: start, place, signal, confirm, remove, duplicates, end — with Message-IDs and the right unit', () => {
    const sink = new MemorySink();
    const auditor = new JournalAuditor(sink, labCluster());
    const j = Journal.open(path.join(tmp(), 'journal.jsonl'), auditor.observe);
    for (const r of fullRun()) j.append(r);
    j.close();
    assert.deepStrictEqual(
      sink.entries.map((e) => [e.action, e.unit, e.outcome]),
      [
        ['run-start', 'fw-a', 'started'],
        ['place', 'fw-a', 'ok'],
        ['signal', 'fw-a', 'ok'],
        ['confirm', 'fw-a', 'ok'],
        ['remove', 'fw-b', 'ok'],
        ['remove', 'fw-b', 'ok'],
        ['remove-duplicates', 'fw-b', 'ok'],
        ['run-end', 'fw-a', 'done'],
      ],
    );
    assert.ok(sink.entries.every((e) => e.runId === RUN_ID && e.cluster === 'lab'));
    const start = sink.entries[0];
    assert.match(start.detail!, /3 mail\(s\) planned/);
    assert.deepStrictEqual(start.mails, [
      { id: 'AAA1', folder: 'spool', messageId: '<a1@lab>' },
      { id: 'AAA2', folder: 'spool', messageId: '<a2@lab>' },
      { id: 'VVV1', folder: 'vscan', messageId: '<v1@lab>' },
    ]);
    assert.match(sink.entries[2].detail!, /PID 4242/);
    assert.deepStrictEqual(sink.entries[3].mails[1], { id: 'AAA2', folder: 'spool', messageId: '<a2@lab>', newId: 'NEW2' });
    assert.deepStrictEqual(sink.entries[4].mails, [
      { id: 'AAA1', folder: 'spool', messageId: '<a1@lab>' },
      { id: 'AAA2', folder: 'spool', messageId: '<a2@lab>' },
    ]);
    assert.strictEqual(sink.entries[4].unitHost, '127.0.0.3');
    assert.deepStrictEqual(sink.entries[6].mails, [{ id: 'DUP1', folder: 'spool', messageId: '<d1@lab>' }]);
    assert.match(sink.entries[7].detail!, /3 placed, 3 inserted, 3 removed, 1 duplicate\(s\) removed, 0 rolled back, 0 held, 0 failed/);
  });

  it('rollbacks, failed copies, held mails and a held decision are audited with why', () => {
    const sink = new MemorySink();
    const a = new JournalAuditor(sink, labCluster(), 'held-discard');
    a.observe(runRecord());
    a.observe({ t: 'decision', action: 'discard', id: 'AAA1', folder: 'spool', why: 'no Message-ID', at });
    a.observe({ t: 'plan', mails: PLAN });
    a.observe({ t: 'state', ids: ['AAA2'], state: 'failed', at, message: 'size differs' });
    a.observe({ t: 'state', ids: ['VVV1'], state: 'rolledback', at, message: 'the same Message-ID reached the primary meanwhile' });
    a.observe({ t: 'state', ids: ['AAA1'], state: 'discarding', at });
    a.observe({ t: 'state', ids: ['AAA1'], state: 'discarded', at });
    a.observe({ t: 'state', ids: ['AAA2'], state: 'held', at, message: 'left input/ without a trace' });
    assert.deepStrictEqual(
      sink.entries.map((e) => [e.action, e.outcome, e.mails.map((m) => m.id).join(',')]),
      [
        ['held-decision', 'started', 'AAA1'],
        ['run-start', 'started', 'AAA1,AAA2,VVV1'],
        ['copy', 'failed', 'AAA2'],
        ['rollback', 'ok', 'VVV1'],
        ['discard', 'ok', 'AAA1'],
        ['hold', 'held', 'AAA2'],
      ],
    );
    assert.match(sink.entries[0].detail!, /discard; held because: no Message-ID/);
    assert.match(sink.entries[1].detail!, /discard a held mail/);
    assert.match(sink.entries[2].detail!, /size differs/);
    assert.match(sink.entries[3].detail!, /reached the primary meanwhile/);
    assert.match(sink.entries[5].detail!, /without a trace/);
  });

  it('a resumed run audits under the interrupted run id, with the Message-IDs of its plan', () => {
    const file = path.join(tmp(), 'journal.jsonl');
    const first = new MemorySink();
    const j1 = Journal.open(file, new JournalAuditor(first, labCluster()).observe);
    for (const r of fullRun().slice(0, 8)) j1.append(r); // killed after the signal
    j1.close();
    assert.deepStrictEqual(first.entries.map((e) => e.action), ['run-start', 'place', 'signal']);

    const prev = Journal.read(file)!;
    const second = new MemorySink();
    const auditor = new JournalAuditor(second, labCluster());
    auditor.resumed(prev);
    const j2 = Journal.open(file, auditor.observe);
    j2.state(['AAA1', 'AAA2'], 'confirmed');
    j2.state(['VVV1'], 'rolledback', { message: 'not inserted' });
    j2.state(['AAA1', 'AAA2'], 'removed');
    j2.append({ t: 'end', outcome: 'done', at });
    // A new run of the same process after the resume gets its own id.
    j2.append({ ...runRecord(), runId: '20261201-041500-def456' } as JournalRecord);
    j2.append({ t: 'plan', mails: [] });
    j2.close();
    assert.deepStrictEqual(
      second.entries.map((e) => [e.action, e.runId, e.outcome]),
      [
        ['run-resume', RUN_ID, 'started'],
        ['confirm', RUN_ID, 'ok'],
        ['rollback', RUN_ID, 'ok'],
        ['remove', RUN_ID, 'ok'],
        ['run-end', RUN_ID, 'done'],
        ['run-start', '20261201-041500-def456', 'started'],
      ],
    );
    assert.deepStrictEqual(second.entries[0].mails.map((m) => [m.id, m.messageId]), [
      ['AAA1', '<a1@lab>'],
      ['AAA2', '<a2@lab>'],
      ['VVV1', '<v1@lab>'],
    ]);
    assert.match(second.entries[0].detail!, /3 signalled/);
    assert.deepStrictEqual(second.entries[3].mails.map((m) => m.messageId), ['<a1@lab>', '<a2@lab>']);
  });

  it('a run that stops without the journal\'s end record gets its end audited once (failed or cancelled); a finished one not again', () => {
    const sink = new MemorySink();
    const a = new JournalAuditor(sink, labCluster());
    a.ended('failed', 'nothing begun'); // no run: nothing to end
    assert.strictEqual(sink.entries.length, 0);
    a.observe(runRecord());
    a.observe({ t: 'plan', mails: PLAN });
    a.ended('failed', 'connection lost');
    a.ended('failed', 'again');
    assert.deepStrictEqual(sink.entries.map((e) => [e.action, e.outcome]), [
      ['run-start', 'started'],
      ['run-end', 'failed'],
    ]);
    assert.match(sink.entries[1].detail!, /connection lost/);
    const done = new MemorySink();
    const b = new JournalAuditor(done, labCluster());
    for (const r of fullRun()) b.observe(r);
    b.ended('cancelled', 'late');
    assert.strictEqual(done.entries.filter((e) => e.action === 'run-end').length, 1);
  });

  it('an observer that throws does not fail or stop the journal: every record is on disk', () => {
    const file = path.join(tmp(), 'journal.jsonl');
    const j = Journal.open(file, () => {
      throw new Error('audit broke');
    });
    for (const r of fullRun()) j.append(r);
    j.close();
    const st = Journal.read(file)!;
    assert.strictEqual(st.records, fullRun().length);
    assert.ok(st.ended);
  });
});

describe('audit trail: the appender', () => {
  it('makes the folder 0700 and the file 0600, and appends one JSON line per record with who, when and where from', () => {
    const dir = path.join(tmp(), 'state', 'mailgw-ha');
    const file = path.join(dir, 'audit.jsonl');
    const prevMask = process.umask(0o022);
    try {
      const log = new AuditLog({ file }, 'cli');
      assert.strictEqual(log.probe(), undefined);
      assert.strictEqual(log.append(signalEntry(labCluster(), labCluster().primary, { pid: 7, command: 'kill -USR2 7' })), true);
      assert.strictEqual(log.append(removalEntry(labCluster(), labCluster().secondary, [{ id: 'X1', folder: 'spool', messageId: '<x1@lab>' }])), true);
    } finally {
      process.umask(prevMask);
    }
    assert.strictEqual(fs.statSync(dir).mode & 0o777, 0o700);
    assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    assert.strictEqual(lines.pop(), '');
    assert.strictEqual(lines.length, 2);
    const [a, b] = lines.map((l) => JSON.parse(l) as AuditRecord);
    assert.strictEqual(a.v, 1);
    assert.strictEqual(a.user, os.userInfo().username);
    assert.strictEqual(a.host, os.hostname());
    assert.strictEqual(a.tool, 'cli');
    assert.strictEqual(a.pid, process.pid);
    assert.ok(Math.abs(Date.parse(a.at) - Date.now()) < 60_000);
    assert.deepStrictEqual([a.cluster, a.unit, a.unitHost, a.action, a.outcome], ['lab', 'fw-a', '127.0.0.2', 'signal', 'ok']);
    assert.match(a.detail!, /PID 7/);
    assert.deepStrictEqual([b.unit, b.action, b.mails], ['fw-b', 'remove-duplicates', [{ id: 'X1', folder: 'spool', messageId: '<x1@lab>' }]]);
  });

  it('a failed append is reported and returns false, never throws; probe() says why first', () => {
    const blocker = path.join(tmp(), 'not-a-folder');
    fs.writeFileSync(blocker, 'x');
    const reported: string[] = [];
    const log = new AuditLog({ file: path.join(blocker, 'audit.jsonl') }, 'extension', (m) => reported.push(m));
    assert.match(log.probe()!, /cannot write the audit trail .*not-a-folder/);
    assert.strictEqual(log.append(signalEntry(labCluster(), labCluster().primary, { error: 'no gateway' })), false);
    assert.strictEqual(log.failures, 1);
    assert.strictEqual(reported.length, 1);
    assert.match(reported[0], /did not get the record "signal" of lab\/fw-a \(failed\)/);
    // A reporter that throws is not the caller's failure either.
    const loud = new AuditLog({ file: path.join(blocker, 'audit.jsonl') }, 'cli', () => {
      throw new Error('reporter broke');
    });
    assert.strictEqual(loud.append(signalEntry(labCluster(), labCluster().primary, { error: 'x' })), false);
    // A setting that names no usable file: every probe says so, nothing is written.
    const unset = new AuditLog({ error: 'mailgwHa.auditLogFile must be an absolute path' }, 'extension');
    assert.match(unset.probe()!, /no audit trail: mailgwHa.auditLogFile must be an absolute path/);
  });

  it('a recovery audited into a failing log still runs every step: the journal gets each record', () => {
    const blocker = path.join(tmp(), 'blocker');
    fs.writeFileSync(blocker, '');
    const reported: string[] = [];
    const log = new AuditLog({ file: path.join(blocker, 'audit.jsonl') }, 'cli', (m) => reported.push(m));
    const file = path.join(tmp(), 'journal.jsonl');
    const j = Journal.open(file, new JournalAuditor(log, labCluster()).observe);
    for (const r of fullRun()) j.append(r);
    j.close();
    assert.strictEqual(Journal.read(file)!.records, fullRun().length);
    assert.strictEqual(reported.length, 8, 'each audited step reported as not audited');
  });

  it('nothing secret: no password, passphrase, key file, agent socket or other environment value, and only the documented fields', () => {
    const saved = { ...process.env };
    const secret = 'S3cr3t-Sentinel-' + Math.random().toString(36).slice(2);
    process.env.MAILGW_HA_PASSWORD = secret;
    process.env.MAILGW_HA_PASSPHRASE = secret;
    process.env.SSH_AUTH_SOCK = `/tmp/${secret}/agent.sock`;
    try {
      const base = labCluster();
      const keyed = { ...base, units: base.units.map((u) => ({ ...u, username: `login-${secret}`, identityFile: `/keys/${secret}` })) };
      const cluster = { ...keyed, primary: keyed.units[0], secondary: keyed.units[1] };
      const file = path.join(tmp(), 'audit.jsonl');
      const log = new AuditLog({ file }, 'cli');
      const auditor = new JournalAuditor(log, cluster);
      for (const r of fullRun()) auditor.observe(r);
      // An entry carrying more than it should: only the record's fields are written.
      log.append({ ...signalEntry(cluster, cluster.primary, { pid: 1, command: 'kill -USR2 1' }), password: secret } as AuditEntry);
      const text = fs.readFileSync(file, 'utf8');
      assert.ok(!text.includes(secret), 'no secret in the trail');
      for (const line of text.trim().split('\n')) {
        const keys = Object.keys(JSON.parse(line) as object);
        const extra = keys.filter((k) => !['v', 'at', 'user', 'host', 'tool', 'pid', 'cluster', 'unit', 'unitHost', 'action', 'runId', 'mails', 'outcome', 'detail'].includes(k));
        assert.deepStrictEqual(extra, []);
      }
    } finally {
      process.env = saved;
    }
  });

  it('text from units stays data: a detail with line breaks and quotes is one JSON line, cut at 500 characters', () => {
    const r = makeRecord({ cluster: 'lab', unit: 'fw-a', unitHost: 'h', action: 'copy', mails: [{ id: 'A' }], outcome: 'failed', detail: 'bad\n{"v":1,"forged":true}\r\n\u001b[2J' + 'x'.repeat(1000) }, 'cli');
    const line = JSON.stringify(r);
    assert.ok(!line.includes('\n'));
    assert.strictEqual(r.detail!.length, 500);
    assert.ok(auditLine(r).includes('\u001b'), 'the text line keeps it for the terminal writer to escape');
  });
});

describe('audit trail: reading and export', () => {
  function writeTrail(file: string, n: number): void {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(JSON.stringify(makeRecord({ cluster: i % 2 ? 'hq' : 'lab', unit: 'fw-a', unitHost: 'h', action: 'place', runId: `r${i}`, mails: [{ id: `M${i}` }], outcome: 'ok' }, 'cli')));
    fs.writeFileSync(file, lines.join('\n') + '\n');
  }

  it('no file: not an error, says there is none', () => {
    const t = readAuditTrail(path.join(tmp(), 'none.jsonl'));
    assert.deepStrictEqual([t.exists, t.records.length], [false, 0]);
  });

  it('a file over the cap is read from its tail: the newest records, whole, and how much was left out', () => {
    const file = path.join(tmp(), 'audit.jsonl');
    writeTrail(file, 2000);
    const size = fs.statSync(file).size;
    const t = readAuditTrail(file, { maxBytes: 20_000 });
    assert.ok(t.skippedBytes > size - 20_000 && t.skippedBytes < size, `skipped ${t.skippedBytes} of ${size}`);
    assert.ok(t.records.length > 10 && t.records.length < 2000);
    assert.strictEqual(t.records[t.records.length - 1].runId, 'r1999');
    assert.strictEqual(t.badLines, 0, 'the cut first line is dropped, not counted as a record');
    const first = Number(t.records[0].runId!.slice(1));
    assert.deepStrictEqual(t.records.map((r) => r.runId), Array.from({ length: 2000 - first }, (_, i) => `r${first + i}`));
    const whole = readAuditTrail(file);
    assert.deepStrictEqual([whole.skippedBytes, whole.records.length], [0, 2000]);
  });

  it('lines that are not records (torn, foreign) are skipped and counted; --cluster filters', () => {
    const file = path.join(tmp(), 'audit.jsonl');
    writeTrail(file, 4);
    fs.appendFileSync(file, '{"v":1,"at":"x"}\nnot json\n{"v":1,"at":"2026');
    const t = readAuditTrail(file, { cluster: 'hq' });
    assert.deepStrictEqual(t.records.map((r) => r.runId), ['r1', 'r3']);
    assert.strictEqual(t.badLines, 3);
  });

  it('exports one row per mail (CSV and JSON lines through the shared table), a record without mails as one row', () => {
    const recs = [
      makeRecord({ cluster: 'lab', unit: 'fw-a', unitHost: 'h', action: 'confirm', runId: 'r', mails: [{ id: 'A', folder: 'spool', messageId: '<a@x>' }, { id: 'B', folder: 'vscan', messageId: '<b@x>', newId: 'B2' }], outcome: 'ok', detail: '=HYPERLINK("x")' }, 'extension'),
      makeRecord({ cluster: 'lab', unit: 'fw-a', unitHost: 'h', action: 'run-end', runId: 'r', mails: [], outcome: 'done' }, 'extension'),
    ];
    const table = auditTable(recs);
    assert.deepStrictEqual(table.rows.map((r) => [r.action, r.mailId, r.messageId, r.mailCount]), [
      ['confirm', 'A', '<a@x>', 2],
      ['confirm', 'B', '<b@x>', 2],
      ['run-end', undefined, undefined, 0],
    ]);
    const csv = formatTable(table, 'csv').split('\r\n');
    assert.strictEqual(csv[0], 'at,user,host,tool,pid,cluster,unit,unitHost,action,runId,outcome,detail,mailCount,mailId,folder,messageId,newId');
    assert.strictEqual(csv.length, 5);
    assert.ok(csv[1].includes(`"'=HYPERLINK(""x"")"`), 'no formula');
    const jl = formatTable(table, 'jsonl').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepStrictEqual([jl[1].mailId, jl[1].newId, jl[2].mailId], ['B', 'B2', null]);
  });

  it('where the trail is: the default beside the journals, a setting, the CLI option', () => {
    assert.strictEqual(defaultAuditFile({ XDG_STATE_HOME: '/st' }), '/st/mailgw-ha/audit.jsonl');
    assert.strictEqual(resolveAuditFile('', 'mailgwHa.auditLogFile', undefined, { XDG_STATE_HOME: '/st' }).file, '/st/mailgw-ha/audit.jsonl');
    assert.strictEqual(resolveAuditFile('/var/log/a.jsonl', 's').file, '/var/log/a.jsonl');
    assert.strictEqual(resolveAuditFile('~/a.jsonl', 's').file, path.join(os.homedir(), 'a.jsonl'));
    assert.match(resolveAuditFile('rel/a.jsonl', 'mailgwHa.auditLogFile').error!, /mailgwHa.auditLogFile must be an absolute path/);
    assert.strictEqual(resolveAuditFile('rel/a.jsonl', '--audit-log', '/work').file, '/work/rel/a.jsonl');
  });
});
