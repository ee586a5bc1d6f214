// Log watch: (1) parsing a 1,000,000-line gateway log (count the inserted mails) beside `grep -c` on
// the same file; (2) follow latency over the lab's sshd while 5,000 lines/s are written, beside the
// system `ssh unit tail -F` in the same run (and: every line arrives exactly once).
// Run alone: `npx tsx bench/logs.ts [--quick] [--runs N]`.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseSettings } from '../src/core/config';
import { MemorySecretStore, noPrompts, silentLogger } from '../src/core/host';
import { LogFollower } from '../src/core/log/follow';
import { parseLine } from '../src/core/log/parse';
import { ConnectionPool } from '../src/core/ssh/pool';
import { addressesFromEnv, DEFAULT_STATE_DIR, Lab, labPair } from '../test/lab/lab';
import { Benchmark, BenchRow, median } from './types';

const STAMP = '2026 11 28 17:46:22 +00:00';
function corpusLine(n: number): string {
  const id = `${String(n % 100000).padStart(5, '0')}-17301-${String(n % 99991).padStart(5, '0')}`;
  switch (n % 5) {
    case 0:
      return `${STAMP} Info     SPOOLER new mail inserted (id=${id})`;
    case 1:
      return `${STAMP} Info     VSCAN mail scanned clean (id=${id})`;
    case 2:
      return `${STAMP} Info     DELIVERY mail delivered (id=${id}, message-id=<lab-${n.toString(36)}-0@lab.example>, to=dave@dest.example)`;
    case 3:
      return n % 50 === 3 ? `${STAMP} Error    SPOOLER cannot insert mail (id=${id}): ENOSPC` : `${STAMP} Warning  SPOOLER incomplete mail in input ignored (file=${id}.body)`;
    default:
      return `${STAMP} Info     SMTP connection from 192.0.2.${n % 250} accepted`;
  }
}

function writeCorpus(file: string, lines: number): number {
  const fd = fs.openSync(file, 'w');
  let inserted = 0;
  let chunk: string[] = [];
  for (let n = 0; n < lines; n++) {
    const l = corpusLine(n);
    if (n % 5 === 0) inserted++;
    chunk.push(l);
    if (chunk.length === 10_000) {
      fs.writeSync(fd, chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length) fs.writeSync(fd, chunk.join('\n') + '\n');
  fs.closeSync(fd);
  return inserted;
}

/** Read + split + parse every line, counting insertions (what the panel and CLI do per line). */
function parseFile(file: string): number {
  const text = fs.readFileSync(file, 'utf8');
  let inserted = 0;
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    if (parseLine(text.slice(start, nl)).kind === 'inserted') inserted++;
    start = nl + 1;
  }
  return inserted;
}

export async function benchParse({ runs, quick }: { runs: number; quick: boolean }): Promise<BenchRow[]> {
  const lines = quick ? 200_000 : 1_000_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-bench-logs-'));
  const file = path.join(dir, 'srv_box1_mailgw.log');
  try {
    const expected = writeCorpus(file, lines);
    const ours: number[] = [];
    const grep: number[] = [];
    for (let i = 0; i < runs; i++) {
      let t0 = process.hrtime.bigint();
      const n = parseFile(file);
      ours.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (n !== expected) throw new Error(`parse counted ${n} insertions, expected ${expected}`);
      t0 = process.hrtime.bigint();
      const g = spawnSync('grep', ['-c', 'new mail inserted', file], { encoding: 'utf8' });
      grep.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (Number(g.stdout.trim()) !== expected) throw new Error(`grep -c counted ${g.stdout.trim()}, expected ${expected}`);
    }
    const ms = median(ours);
    return [
      {
        name: `parse ${lines.toLocaleString('en')} log lines (${(fs.statSync(file).size / 1e6).toFixed(0)} MB), count inserted`,
        value: ms,
        unit: 'ms',
        baseline: { name: 'grep -c "new mail inserted" (counts only, no records)', value: median(grep) },
        runs: ours,
        note: `${Math.round(lines / (ms / 1000)).toLocaleString('en')} lines/s parsed into records (time stamp, level, kind, ids)`,
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function p95(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))];
}

/** Writes `rate` lines/s for `seconds` into the primary's log; each line carries its write time. */
async function writeAtRate(lab: Lab, tag: string, rate: number, seconds: number): Promise<number> {
  const file = lab.hostLogFile('primary');
  const perTick = rate / 100;
  const total = rate * seconds;
  let n = 0;
  const start = Date.now();
  while (n < total) {
    const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate) + perTick);
    let text = '';
    for (; n < due; n++) text += `${STAMP} Info     BENCH ${tag} n=${n} t=${Date.now()}\n`;
    if (text) fs.appendFileSync(file, text);
    await new Promise((r) => setTimeout(r, 10));
  }
  return total;
}

async function followLatency(lab: Lab, seconds: number, rate: number): Promise<{ latencies: number[]; received: number; written: number; duplicates: number }> {
  const raw = JSON.parse(fs.readFileSync(lab.settingsPath, 'utf8')) as Record<string, unknown>;
  const cluster = parseSettings(raw['mailgwHa.clusters'], raw['mailgwHa.knownHostsFile']).clusters[0];
  const pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [lab.knownHostsPath] });
  const tag = `ours${Date.now()}`;
  const latencies: number[] = [];
  const seen = new Set<number>();
  let duplicates = 0;
  const re = new RegExp(` BENCH ${tag} n=(\\d+) t=(\\d+)$`);
  const follower = new LogFollower(pool.get(cluster.primary), { file: cluster.logFile });
  follower.on('lines', (ls) => {
    const now = Date.now();
    for (const l of ls) {
      const m = re.exec(l.text);
      if (!m) continue;
      const n = Number(m[1]);
      if (seen.has(n)) duplicates++;
      seen.add(n);
      latencies.push(now - Number(m[2]));
    }
  });
  try {
    await follower.start();
    const written = await writeAtRate(lab, tag, rate, seconds);
    const deadline = Date.now() + 10_000;
    while (seen.size < written && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return { latencies, received: seen.size, written, duplicates };
  } finally {
    await follower.stop();
    pool.dispose();
  }
}

async function tailLatency(lab: Lab, seconds: number, rate: number): Promise<{ latencies: number[]; received: number; written: number }> {
  const tag = `tail${Date.now()}`;
  const re = new RegExp(` BENCH ${tag} n=(\\d+) t=(\\d+)$`);
  const p = spawn('ssh', [...lab.sshArgs('primary'), 'tail', '-F', '-n', '0', lab.logFile], { stdio: ['ignore', 'pipe', 'ignore'] });
  const latencies: number[] = [];
  const seen = new Set<number>();
  let rest = '';
  p.stdout.on('data', (d: Buffer) => {
    const now = Date.now();
    const parts = (rest + d.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const l of parts) {
      const m = re.exec(l);
      if (!m) continue;
      seen.add(Number(m[1]));
      latencies.push(now - Number(m[2]));
    }
  });
  try {
    await new Promise((r) => setTimeout(r, 1000)); // ssh connects and tail reaches the end
    const written = await writeAtRate(lab, tag, rate, seconds);
    const deadline = Date.now() + 10_000;
    while (seen.size < written && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return { latencies, received: seen.size, written };
  } finally {
    p.kill();
  }
}

export async function benchFollow({ runs, quick }: { runs: number; quick: boolean }): Promise<BenchRow[]> {
  const rate = 5_000;
  const seconds = quick ? 2 : 5;
  const lab = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'bench-logs'), addresses: addressesFromEnv('MAILGW_BENCH_LOGS_ADDRESSES', labPair(14)) });
  await lab.up();
  try {
    const oursMedian: number[] = [];
    const oursP95: number[] = [];
    const tailMedian: number[] = [];
    const tailP95: number[] = [];
    let lost = 0;
    let dups = 0;
    let tailLost = 0;
    for (let i = 0; i < Math.max(1, Math.min(runs, 3)); i++) {
      const o = await followLatency(lab, seconds, rate);
      oursMedian.push(median(o.latencies));
      oursP95.push(p95(o.latencies));
      lost += o.written - o.received;
      dups += o.duplicates;
      const t = await tailLatency(lab, seconds, rate);
      tailMedian.push(median(t.latencies));
      tailP95.push(p95(t.latencies));
      tailLost += t.written - t.received;
    }
    return [
      {
        name: `follow latency at ${rate.toLocaleString('en')} lines/s (median, pure-JS ssh2, long-poll exec)`,
        value: median(oursMedian),
        unit: 'ms',
        baseline: { name: 'ssh unit tail -F (OpenSSH)', value: median(tailMedian) },
        target: { max: 1000, of: 'value' },
        runs: oursMedian,
        note: `${lost} line(s) lost, ${dups} repeated over ${Math.max(1, Math.min(runs, 3)) * rate * seconds} written (tail -F lost ${tailLost})`,
      },
      {
        name: `follow latency at ${rate.toLocaleString('en')} lines/s (95th percentile)`,
        value: median(oursP95),
        unit: 'ms',
        baseline: { name: 'ssh unit tail -F (OpenSSH), p95', value: median(tailP95) },
        target: { max: 1000, of: 'value' },
        runs: oursP95,
      },
    ];
  } finally {
    await lab.down();
  }
}

export const benchmarks: Benchmark[] = [
  { name: 'logs-parse', run: benchParse },
  { name: 'logs-follow', run: benchFollow },
];

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const i = process.argv.indexOf('--runs');
  const runs = i >= 0 ? Number(process.argv[i + 1]) : quick ? 1 : 5;
  (async () => {
    for (const b of benchmarks) console.log(JSON.stringify(await b.run({ runs, quick }), null, 2));
  })().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
