// Queue shape and folder listing export against the lab's real sshd, through the real CLI: mails with
// known ages, senders and recipient domains are left on the units, and `shape --json/--csv/--jsonl`
// and `ls --csv/--jsonl` must count and list exactly them. Stuck mail: an old mail held in the active
// unit's spool is reported, the same age on the standby is not.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ClusterConfig, parseSettings } from '../../src/core/config';
import { MemorySecretStore, noPrompts, silentLogger } from '../../src/core/host';
import { loadUnitOverview } from '../../src/core/spool/overview';
import { BUCKET_LABELS, EnvelopeCache, shapeOfFolders } from '../../src/core/spool/queueShape';
import { ConnectionPool } from '../../src/core/ssh/pool';
import { LISTING_COLUMNS } from '../../src/core/spool/listingExport';
import { REPO_ROOT } from '../lab/lab';
import { makeMail, writeMail } from '../lab/mail';
import { parseCsv } from '../unit/core/csvReader';
import { lab } from './hooks';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli.ts'), ...args, '--settings', lab().settingsPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

interface Placed {
  id: string;
  ageMin: number;
  from: string;
  to: string[];
  mtime: Date;
  parts: 'both' | 'body';
}

const tag = crypto.randomBytes(3).toString('hex');
let n = 0;
/** One mail into a unit's folder, with the given envelope and mtime (age in minutes before now). */
function place(ref: 'primary' | 'secondary', folder: 'spool' | 'vscan', ageMin: number, from: string, to: string[], parts: 'both' | 'body' = 'both'): Placed {
  const mtime = new Date(Date.now() - ageMin * 60_000);
  const mail = makeMail({ n: n++, tag, size: 3000, received: mtime, from, to });
  writeMail(lab().hostPath(ref, folder), mail, parts, mtime);
  return { id: mail.id, ageMin, from, to, mtime, parts };
}

type Counts = Record<string, number>;
interface ShapeJson {
  cluster: string;
  unit: string;
  active: boolean;
  folders: string[];
  by: string;
  age: string;
  buckets: string[];
  mails: number;
  total: { domain: string; total: number; counts: number[] };
  rows: { domain: string; total: number; counts: number[] }[];
  stuckAfterMinutes: number;
  stuck: { folder: string; count: number; oldestAgeS: number }[];
}

/** "domain" -> { bucket label -> count } of the rows with any mail. */
function byDomain(rows: { domain: string; counts: number[] }[]): Record<string, Counts> {
  return Object.fromEntries(rows.map((r) => [r.domain, Object.fromEntries(r.counts.flatMap((c, i) => (c ? [[BUCKET_LABELS[i], c]] : [])))]));
}

describe('queue shape and listing export (lab, CLI)', function () {
  let spool: Placed[];
  before(async () => {
    await lab().reset();
    // The secondary is standby: nothing moves its mail. Ages sit well inside their buckets.
    spool = [
      place('secondary', 'spool', 2, 'a@alpha.example', ['x@one.example', 'y@two.example', 'z@ONE.example']), // 5
      place('secondary', 'spool', 7, 'b@Alpha.Example', ['x@one.example']), // 10
      place('secondary', 'spool', 15, '', ['q@three.example']), // 20: null sender
      place('secondary', 'spool', 30, 'c@beta.example', ['postmaster']), // 40: recipient without a domain
      place('secondary', 'spool', 100, 'c@beta.example', ['r@two.example', 's@three.example']), // 160
      place('secondary', 'spool', 2000, 'd@gamma.example', ['t@one.example']), // 1280+
      place('secondary', 'spool', 50, 'e@delta.example', ['u@one.example'], 'body'), // 80: incomplete, no envelope
    ];
    place('secondary', 'vscan', 3, 'f@eps.example', ['v@four.example']);
  });

  it('shape --json counts each mail per age bucket and once per recipient domain', async () => {
    const r = await cli(['shape', 'secondary', 'spool', '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as ShapeJson;
    assert.strictEqual(s.unit, 'fw-b');
    assert.strictEqual(s.active, false);
    assert.strictEqual(s.by, 'recipient');
    assert.strictEqual(s.age, 'mtime');
    assert.deepStrictEqual(s.buckets, BUCKET_LABELS);
    assert.strictEqual(s.mails, 7);
    assert.deepStrictEqual(byDomain([s.total]).TOTAL, { 5: 1, 10: 1, 20: 1, 40: 1, 80: 1, 160: 1, '1280+': 1 });
    assert.deepStrictEqual(byDomain(s.rows), {
      'one.example': { 5: 1, 10: 1, '1280+': 1 },
      'two.example': { 5: 1, 160: 1 },
      'three.example': { 20: 1, 160: 1 },
      '(no domain)': { 40: 1 },
      '(no envelope)': { 80: 1 },
    });
    assert.deepStrictEqual(s.rows.map((x) => x.domain).slice(0, 1), ['one.example'], 'most mails first');
    assert.deepStrictEqual(s.stuck, [], 'a standby has stranded mail, not stuck mail');
  });

  it('shape --by sender, and of all folders', async () => {
    const r = await cli(['shape', 'fw-b', 'spool', '--by', 'sender', '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as ShapeJson;
    assert.deepStrictEqual(byDomain(s.rows), {
      'alpha.example': { 5: 1, 10: 1 },
      'beta.example': { 40: 1, 160: 1 },
      '<>': { 20: 1 },
      'gamma.example': { '1280+': 1 },
      '(no envelope)': { 80: 1 },
    });
    const all = JSON.parse((await cli(['shape', 'secondary', '--json'])).stdout) as ShapeJson;
    assert.deepStrictEqual(all.folders, ['spool', 'vscan', 'input']);
    assert.strictEqual(all.mails, 8);
    assert.deepStrictEqual(byDomain(all.rows)['four.example'], { 5: 1 });
  });

  it('shape --csv and --jsonl: the same counts, one row per line, TOTAL first', async () => {
    const [csv, jsonl] = [await cli(['shape', 'secondary', 'spool', '--csv']), await cli(['shape', 'secondary', 'spool', '--jsonl'])];
    assert.strictEqual(csv.code, 0, csv.stderr);
    assert.strictEqual(jsonl.code, 0, jsonl.stderr);
    const [head, ...rows] = parseCsv(csv.stdout);
    assert.deepStrictEqual(head, ['cluster', 'unit', 'folder', 'by', 'domain', 'total', ...BUCKET_LABELS]);
    const lines = jsonl.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.strictEqual(rows.length, 6);
    assert.strictEqual(lines.length, 6);
    rows.forEach((row, i) => {
      for (const [k, col] of head.entries()) assert.strictEqual(row[k], String(lines[i][col]), `${col} of row ${i}`);
    });
    assert.strictEqual(rows[0][4], 'TOTAL');
    assert.strictEqual(rows[0][5], '7');
    const one = rows.find((x) => x[4] === 'one.example')!;
    assert.deepStrictEqual(one.slice(0, 6), ['lab', 'fw-b', 'spool', 'recipient', 'one.example', '3']);
  });

  it('ls --csv and --jsonl: one row per mail with id, completeness, size, mtime, age, From; --json stays one document', async () => {
    const [csv, jsonl, json] = [await cli(['ls', 'secondary', 'spool', '--csv']), await cli(['ls', 'secondary', 'spool', '--jsonl']), await cli(['ls', 'secondary', 'spool', '--json'])];
    for (const r of [csv, jsonl, json]) assert.strictEqual(r.code, 0, r.stderr);
    const [head, ...rows] = parseCsv(csv.stdout);
    assert.deepStrictEqual(head, [...LISTING_COLUMNS]);
    const lines = jsonl.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, string | number | boolean | null>);
    assert.strictEqual(rows.length, spool.length);
    assert.strictEqual(lines.length, spool.length);
    for (const p of spool) {
      const line = lines.find((l) => l.id === p.id);
      assert.ok(line, `${p.id} exported`);
      assert.strictEqual(line.cluster, 'lab');
      assert.strictEqual(line.unit, 'fw-b');
      assert.strictEqual(line.folder, 'spool');
      assert.strictEqual(line.complete, p.parts === 'both');
      assert.strictEqual(line.missing, p.parts === 'both' ? null : 'env');
      // The listing has whole seconds.
      assert.strictEqual(line.mtime, new Date(Math.floor(p.mtime.getTime() / 1000) * 1000).toISOString());
      assert.ok(Math.abs((line.ageS as number) - p.ageMin * 60) < 120, `age of ${p.id}: ${line.ageS}`);
      assert.ok(String(line.from).includes(p.from || '<>'), `From of ${p.id}: ${line.from}`);
      assert.match(String(line.messageId), new RegExp(`^<lab-${tag}-\\d+@lab\\.example>$`));
      const row: string[] = rows.find((x) => x[head.indexOf('id')] === p.id)!;
      // The same row in both (ageS aside: two runs, two moments).
      for (const [k, col] of head.entries()) if (col !== 'ageS') assert.strictEqual(row[k], line[col] === null ? '' : String(line[col]), `${col} of ${p.id}`);
    }
    // Oldest first, as the tree lists them.
    assert.deepStrictEqual(lines.map((l) => l.id), [...spool].sort((a, b) => b.ageMin - a.ageMin).map((p) => p.id));
    const doc = JSON.parse(json.stdout) as { mails: unknown[] };
    assert.strictEqual(doc.mails.length, spool.length, '--json is one document');
    const both = await cli(['ls', 'secondary', '--csv', '--jsonl']);
    assert.strictEqual(both.code, 2, 'one export format at a time');
  });

  it('stuck mail: an old mail in the active unit\'s spool is reported, with --stuck-after deciding', async () => {
    lab().pauseDelivery('primary');
    try {
      const old = place('primary', 'spool', 90, 'g@zeta.example', ['w@five.example']);
      const r = await cli(['shape', 'primary', 'spool', '--stuck-after', '60', '--json']);
      assert.strictEqual(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as ShapeJson;
      assert.strictEqual(s.active, true);
      assert.strictEqual(s.stuckAfterMinutes, 60);
      assert.strictEqual(s.stuck.length, 1);
      assert.strictEqual(s.stuck[0].folder, 'spool');
      assert.strictEqual(s.stuck[0].count, 1);
      assert.ok(Math.abs(s.stuck[0].oldestAgeS - 90 * 60) < 120, String(s.stuck[0].oldestAgeS));
      assert.deepStrictEqual(byDomain(s.rows)['five.example'], { 160: 1 });
      const text = await cli(['shape', 'primary', 'spool', '--stuck-after', '60']);
      assert.match(text.stdout, /warning: 1 mail\(s\) older than 60 min in spool\/ of the active unit lab\/fw-a/);
      assert.match(text.stdout, /^\s+T\s+5\s+10\s+20\s+40\s+80\s+160\s+320\s+640\s+1280\s+1280\+$/m, 'qshape-like header, every column apart');
      assert.match(text.stdout, /five\.example\s+1\s+0\s+0\s+0\s+0\s+0\s+1/);
      const later = JSON.parse((await cli(['shape', 'primary', 'spool', '--stuck-after', '120', '--json'])).stdout) as ShapeJson;
      assert.deepStrictEqual(later.stuck, []);
      const bad = await cli(['shape', 'primary', '--stuck-after', 'soon']);
      assert.strictEqual(bad.code, 2);
      fs.rmSync(path.join(lab().hostPath('primary', 'spool'), `${old.id}.body`));
      fs.rmSync(path.join(lab().hostPath('primary', 'spool'), `${old.id}.env`));
    } finally {
      lab().resumeDelivery('primary');
    }
  });

  it('reads thousands of envelopes quickly, once each, and only their first 16 KB; hostile ones are data', async () => {
    await lab().reset();
    const dir = lab().hostPath('secondary', 'spool');
    const mtime = new Date(Date.now() - 30 * 60_000);
    for (let i = 0; i < 3000; i++) {
      const id = `${String(10000 + i)}-00000-00001`;
      fs.writeFileSync(path.join(dir, `${id}.body`), 'Subject: x\r\n\r\nbody\r\n');
      fs.writeFileSync(path.join(dir, `${id}.env`), `MAIL FROM:<s${i % 7}@sender${i % 7}.example>\nRCPT TO:<r@d${i % 3}.example>\n`);
      for (const f of ['body', 'env']) fs.utimesSync(path.join(dir, `${id}.${f}`), mtime, mtime);
    }
    const hostile = (id: string, env: Buffer | string) => {
      fs.writeFileSync(path.join(dir, `${id}.body`), 'x');
      fs.writeFileSync(path.join(dir, `${id}.env`), env);
      for (const f of ['body', 'env']) fs.utimesSync(path.join(dir, `${id}.${f}`), mtime, mtime);
    };
    // 1 MB of one line, then a recipient nobody may read; controls and a bidi override in a domain;
    // binary junk.
    hostile('90000-00000-00001', Buffer.concat([Buffer.alloc(1 << 20, 0x41), Buffer.from('\nRCPT TO:<late@late.example>\n')]));
    hostile('90000-00000-00002', 'MAIL FROM:<a@b.example>\nRCPT TO:<x@\u202eelpmaxe.\u001b[31mevil>\n');
    hostile('90000-00000-00003', crypto.randomBytes(4096));
    const s = lab().settings();
    const cluster: ClusterConfig = parseSettings(s['mailgwHa.clusters'], s['mailgwHa.knownHostsFile'], '/root').clusters[0];
    const pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [lab().knownHostsPath] });
    try {
      const conn = pool.get(cluster.secondary);
      await conn.connect();
      const listing = (await loadUnitOverview(conn, cluster)).folders.spool;
      const cache = new EnvelopeCache();
      let reads = 0;
      const started = Date.now();
      const shape = await shapeOfFolders(conn, cluster, cluster.secondary.key, [listing], cache, { by: 'recipient', nowMs: Date.now(), onProgress: () => reads++ });
      const elapsed = Date.now() - started;
      assert.strictEqual(shape.mails, 3003);
      assert.strictEqual(shape.unread, 0);
      assert.strictEqual(reads, 3003, 'one read per envelope');
      const rows = Object.fromEntries(shape.rows.map((r) => [r.domain, r.total]));
      assert.deepStrictEqual(rows, { 'd0.example': 1000, 'd1.example': 1000, 'd2.example': 1000, '(no domain)': 1, '(no recipient)': 2 }, 'the late recipient was never read');
      assert.ok(elapsed < 30_000, `3,003 envelopes in ${elapsed} ms`);
      // A second look reads nothing again (cached by id, mtime and size).
      reads = 0;
      const again = await shapeOfFolders(conn, cluster, cluster.secondary.key, [listing], cache, { by: 'sender', nowMs: Date.now(), onProgress: () => reads++ });
      assert.strictEqual(reads, 0);
      assert.strictEqual(again.rows.find((r) => r.domain === 'sender0.example')?.total, 429);
      console.log(`      3,003 envelopes read in ${elapsed} ms`);
    } finally {
      pool.dispose();
    }
  });
});
