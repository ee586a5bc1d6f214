// The plan reads Message-IDs on the unit and receives only the lines that can bear on them. That
// filtered output must give exactly the result the whole header block gives (messageIdOf: values,
// unfolding, malformed/conflict/none, and the cut last line of a block longer than the cap): both
// scripts run here with sh and awk on random header blocks, and their results are compared.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HEADERS_FILTERED_SCRIPT, HEADERS_FULL_SCRIPT, parseHeaderOutput } from '../../../src/core/recovery/remote';

const LINES = [
  'Message-ID: <a@x.example>',
  'message-id:<b@y.example>',
  'Message-Id:  <a@X.EXAMPLE>',
  'Message-ID:',
  'Message-ID : <c@z>',
  'Message-ID: <bad id@x>',
  'Message-ID: <a@x.example> trailing',
  ' <d@w.example>',
  '\t<e@v.example>',
  '  ',
  ' Message-ID: <f@u>',
  'Subject: hello',
  ' folded subject',
  'Received: from mx.example by gw',
  `X-Long: ${'a'.repeat(120)}`,
  'X-Message-ID: <g@t>',
  'Message-IDX: <h@s>',
];

function randomBlock(rnd: () => number): string {
  const n = Math.floor(rnd() * 10);
  const cr = rnd() < 0.3 ? '\r' : '';
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(LINES[Math.floor(rnd() * LINES.length)] + cr);
  const end = rnd();
  // A blank line ends the block (then a body), or the file ends inside the header.
  return lines.join('\n') + (end < 0.6 ? `\n${cr}\nbody line\nMessage-ID: <in-body@x>\n` : end < 0.8 ? '\n' : '');
}

describe('recovery: Message-ID lines filtered on the unit', function () {
  this.timeout(60_000);
  it('give the same result as the whole header block, for random blocks and caps', () => {
    let seed = 16;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-headers-'));
    try {
      const ids: string[] = [];
      for (let i = 0; i < 400; i++) {
        const id = `${10000 + i}-1-1`;
        fs.writeFileSync(path.join(dir, `${id}.body`), randomBlock(rnd));
        ids.push(id);
      }
      ids.push('99999-9-9'); // no such file
      let filteredBytes = 0;
      let fullBytes = 0;
      for (const cap of [40, 90, 200, 256 * 1024]) {
        const run = (script: string) => execFileSync('sh', ['-c', script, 'sh', dir, String(cap)], { input: ids.map((i) => `${i}\n`).join(''), encoding: 'latin1' });
        const full = run(HEADERS_FULL_SCRIPT);
        const filtered = run(HEADERS_FILTERED_SCRIPT);
        fullBytes += full.length;
        filteredBytes += filtered.length;
        const a = parseHeaderOutput(full);
        const b = parseHeaderOutput(filtered);
        assert.strictEqual(a.size, ids.length);
        for (const id of ids) assert.deepStrictEqual(b.get(id), a.get(id), `cap ${cap}, ${id}: ${JSON.stringify(fs.existsSync(path.join(dir, `${id}.body`)) ? fs.readFileSync(path.join(dir, `${id}.body`), 'latin1') : '(none)')}`);
        // Every kind of result is exercised.
        const kinds = new Set([...a.values()].map((r) => r.kind));
        if (cap === 256 * 1024) for (const k of ['ok', 'none', 'conflict', 'malformed', 'unreadable']) assert.ok(kinds.has(k as never), `some block gives ${k}`);
        if (cap === 40) assert.ok(kinds.has('truncated'), 'some block is cut');
      }
      assert.ok(filteredBytes < fullBytes, `filtered ${filteredBytes} bytes, full ${fullBytes}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
