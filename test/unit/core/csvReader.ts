// A strict RFC 4180 reader for the tests of CSV exports (unit and integration): what a spreadsheet
// would read, so a test proves each record is one line and each cell what was meant.
import * as assert from 'assert';

/** A strict RFC 4180 reader (CRLF records, quoted fields with "" escapes), to prove what toCsv writes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        assert.ok(q >= 0, 'unterminated quote');
        cell += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          cell += '"';
          i++;
        } else break;
      }
    } else {
      const m = /^[^,\r\n"]*/.exec(text.slice(i))![0];
      cell = m;
      i += m.length;
    }
    row.push(cell);
    if (text[i] === ',') i++;
    else if (text.startsWith('\r\n', i)) {
      rows.push(row);
      row = [];
      i += 2;
    } else assert.fail(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
  assert.strictEqual(row.length, 0, 'the last record ends in CRLF');
  return rows;
}
