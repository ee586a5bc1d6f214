// src/core/export/table.ts: JSON lines and CSV of flat records from units, mails and logs. One record a
// line whatever a value holds, no spreadsheet formula from a cell, and both parse back.
import * as assert from 'assert';
import { csvCell, formatTable, Table, toCsv, toJsonLines } from '../../../src/core/export/table';
import { listingRow, listingTable, LISTING_COLUMNS } from '../../../src/core/spool/listingExport';
import { parseCsv } from './csvReader';

const HOSTILE = ['=HYPERLINK("http://evil.example","x")', '+1+2', '-2+3', '@SUM(A1)', '\t=1', '\r=1', '|calc', '%0A', 'a,b', 'say "hi"', 'line1\nline2', 'cr\ronly', 'ls\u2028sep', 'esc \u001b[2J bell \u0007', 'nul \u0000', 'c1 \u009b', '  padded  ', 'plain', "it's", 'semi;colon', ''];

describe('export table (JSON lines, CSV)', () => {
  it('neutralises formula cells with a leading quote, and keeps the text', () => {
    for (const v of ['=1+1', '+1', '-1', '@x', '\t=1', '\r=1', '|x', '%x']) {
      const cell = csvCell(v);
      const [[back]] = parseCsv(`${cell}\r\n`);
      assert.ok(back.startsWith("'"), `${JSON.stringify(v)} -> ${cell}`);
      assert.ok(!/^[=+\-@\t\r|%]/.test(back), 'no cell starts like a formula');
    }
    assert.strictEqual(csvCell(-5), '-5', 'numbers are numbers, not text');
    assert.strictEqual(csvCell('plain text'), 'plain text');
  });

  it('quotes commas, quotes and semicolons; numbers, booleans and empties as they are', () => {
    assert.strictEqual(csvCell('a,b'), '"a,b"');
    assert.strictEqual(csvCell('say "hi"'), '"say ""hi"""');
    assert.strictEqual(csvCell('a;b'), '"a;b"');
    assert.strictEqual(csvCell(' pad '), '" pad "');
    assert.strictEqual(csvCell(42), '42');
    assert.strictEqual(csvCell(Infinity), '');
    assert.strictEqual(csvCell(true), 'true');
    assert.strictEqual(csvCell(null), '');
    assert.strictEqual(csvCell(undefined), '');
  });

  it('line breaks and other controls become visible escapes: one record a line', () => {
    assert.strictEqual(csvCell('a\nb'), 'a\\x0ab');
    assert.strictEqual(csvCell('a\r\nb'), 'a\\x0d\\x0ab');
    assert.strictEqual(csvCell('\u001b[2J'), '\\x1b[2J');
    assert.strictEqual(csvCell('x\u2028y'), 'x\\u2028y');
    // Invisible reordering characters too (a Subject with U+202E reads backwards), and a backslash is
    // doubled so a value cannot forge an escape; a formula behind blanks is still neutralised.
    assert.strictEqual(csvCell('a\u202eb\u200bc\ufeff'), 'a\\u202eb\\u200bc\\ufeff');
    assert.strictEqual(csvCell('C:\\x0a'), 'C:\\\\x0a');
    assert.strictEqual(csvCell(' =1+1'), `"' =1+1"`);
    const t: Table = { columns: ['n', 'v'], rows: HOSTILE.map((v, n) => ({ n, v })) };
    const csv = toCsv(t);
    assert.strictEqual(csv.split('\r\n').length, HOSTILE.length + 2, 'header, one line per record, the final CRLF');
    assert.ok(!/[\n\r](?<!\r\n)/.test(csv.replace(/\r\n/g, '')), 'no bare line break inside');
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/.test(csv), 'no raw control at all');
    const rows = parseCsv(csv);
    assert.deepStrictEqual(rows[0], ['n', 'v']);
    rows.slice(1).forEach((r, i) => {
      assert.strictEqual(r.length, 2);
      assert.strictEqual(r[0], String(i));
      for (const c of r) assert.ok(!/^[=+\-@\t\r|%]/.test(c), `formula-safe: ${JSON.stringify(c)}`);
    });
    assert.strictEqual(rows[1 + HOSTILE.indexOf('a,b')][1], 'a,b');
    assert.strictEqual(rows[1 + HOSTILE.indexOf('say "hi"')][1], 'say "hi"');
    assert.strictEqual(rows[1 + HOSTILE.indexOf('line1\nline2')][1], 'line1\\x0aline2');
  });

  it('JSON lines: one object a line, in column order, parsing back to the same values', () => {
    const t: Table = { columns: ['v', 'n', 'absent'], rows: HOSTILE.map((v, n) => ({ n, v })) };
    const text = toJsonLines(t);
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n');
    assert.strictEqual(lines.length, HOSTILE.length);
    lines.forEach((l, i) => {
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\u0000-\u001f\u2028\u2029]/.test(l), `controls escaped in line ${i}`);
      const o = JSON.parse(l) as Record<string, unknown>;
      assert.deepStrictEqual(Object.keys(o), ['v', 'n', 'absent']);
      assert.strictEqual(o.absent, null, 'a missing value is null');
      assert.strictEqual(o.n, i);
    });
    // Text survives JSON's own escaping except for what jsonText makes visible on purpose.
    assert.strictEqual((JSON.parse(lines[HOSTILE.indexOf('line1\nline2')]) as { v: string }).v, 'line1\nline2');
    assert.strictEqual((JSON.parse(lines[HOSTILE.indexOf('=HYPERLINK("http://evil.example","x")')]) as { v: string }).v, '=HYPERLINK("http://evil.example","x")');
    assert.strictEqual(toJsonLines({ columns: ['a'], rows: [] }), '', 'no rows, no text');
    assert.strictEqual(formatTable(t, 'jsonl'), text);
    assert.strictEqual(formatTable(t, 'csv'), toCsv(t));
  });

  it("a folder listing's rows: the columns ls --csv/--jsonl and the extension export", () => {
    const now = Date.UTC(2026, 11, 1, 5, 0, 0);
    const full = listingRow('lab', 'fw-b', { id: '00001-00002-00003', folder: 'spool', complete: true, size: 30, mtimeMs: now - 90_500, body: { name: 'b', size: 20, mtimeMs: now }, env: { name: 'e', size: 10, mtimeMs: now } }, { from: '=cmd|x <a@b.example>', subject: 'Hi,\r\nBcc: you', messageId: '<m@x>', truncated: false }, now);
    const half = listingRow('lab', 'fw-b', { id: '00001-00002-00004', folder: 'vscan', complete: false, size: 20, mtimeMs: now, body: { name: 'b', size: 20, mtimeMs: now } }, undefined, now);
    const t = listingTable([full, half]);
    assert.deepStrictEqual(t.columns, LISTING_COLUMNS);
    const [head, r1, r2] = parseCsv(toCsv(t));
    assert.deepStrictEqual(head, [...LISTING_COLUMNS]);
    const o1 = Object.fromEntries(head.map((h, i) => [h, r1[i]]));
    assert.strictEqual(o1.mtime, new Date(now - 90_500).toISOString());
    assert.strictEqual(o1.ageS, '91');
    assert.strictEqual(o1.complete, 'true');
    assert.strictEqual(o1.from, "'=cmd|x <a@b.example>");
    assert.strictEqual(o1.subject, 'Hi,\\x0d\\x0aBcc: you');
    const o2 = Object.fromEntries(head.map((h, i) => [h, r2[i]]));
    assert.strictEqual(o2.missing, 'env');
    assert.strictEqual(o2.complete, 'false');
    assert.strictEqual(o2.from, '');
  });
});
