// Recovery at scale: 2,000 stranded mails (2–64 KB bodies) plus one 20 MB body on the lab's
// secondary, recovered end to end by the bundled CLI (`mailgw-ha recover --yes`, pure-JS ssh2 as
// users get it: plan, copy, verify, place, signal, confirm, clean up), beside what the manual
// procedure's copy step costs in the same run: `scp *` run on the secondary, and `rsync -a -e ssh`.
// The baselines only copy; ours does the whole job. Run alone: `npx tsx bench/recovery.ts [--quick] [--runs N]`.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';
import { DEFAULT_STATE_DIR, Lab } from '../test/lab/lab';
import { Benchmark, BenchRow, median } from './types';

const REPO = path.resolve(__dirname, '..');

function addresses(): [string, string] {
  const env = process.env.MAILGW_BENCH_RECOVERY_ADDRESSES?.split(',');
  return env?.length === 2 ? [env[0], env[1]] : ['127.0.0.14', '127.0.0.15'];
}

async function buildCli(): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-bench-')), 'cli.js');
  await esbuild.build({ entryPoints: [path.join(REPO, 'src', 'cli.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: out, external: ['vscode', 'cpu-features', '*.node'], logLevel: 'error' });
  return out;
}

function runNode(args: string[]): Promise<{ ms: number; code: number | null; out: string }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (out += d));
    p.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, out }));
  });
}

/** Runs a shell line inside a unit and times it (nsenter adds a few ms to every figure alike). */
async function timedExec(lab: Lab, unit: 'primary' | 'secondary', script: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await lab.exec(unit, ['sh', '-c', script], { timeoutMs: 300_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.code !== 0) throw new Error(`${unit}: ${script} failed (exit ${r.code}): ${r.stderr.slice(0, 500)}`);
  return ms;
}

export async function benchRecovery({ runs, quick }: { runs: number; quick: boolean }): Promise<BenchRow[]> {
  const mails = quick ? 200 : 2000;
  const bigMb = quick ? 2 : 20;
  const lab = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'bench-recovery'), addresses: addresses() });
  await lab.up();
  const cli = await buildCli();
  const ours: number[] = [];
  const scp: number[] = [];
  const rsync: number[] = [];
  let files = 0;
  let bytes = 0;
  try {
    const primaryAddr = lab.unit('primary').address;
    const spool = `${lab.spoolDir}/spool`;
    const scratch = `${lab.spoolDir}/bench-copy`; // on the primary; never input/, so nothing is inserted
    const n = Math.max(1, runs);
    for (let i = 0; i < n; i++) {
      await lab.reset();
      lab.pauseDelivery('primary'); // delivery is the gateway's job, not part of the copy being timed
      const m = lab.strand({ mails, bigMb });
      const names = fs.readdirSync(lab.hostPath('secondary', 'spool'));
      files = names.length;
      bytes = names.reduce((s, f) => s + fs.statSync(path.join(lab.hostPath('secondary', 'spool'), f)).size, 0);
      // Baselines first (they leave the source in place).
      await timedExec(lab, 'primary', `rm -rf ${scratch} && mkdir -p ${scratch}`);
      scp.push(await timedExec(lab, 'secondary', `cd ${spool} && scp -q -o BatchMode=yes * root@${primaryAddr}:${scratch}/`));
      await timedExec(lab, 'primary', `rm -rf ${scratch} && mkdir -p ${scratch}`);
      rsync.push(await timedExec(lab, 'secondary', `cd ${spool} && rsync -a -e 'ssh -o BatchMode=yes' ./ root@${primaryAddr}:${scratch}/`));
      await timedExec(lab, 'primary', `rm -rf ${scratch}`);
      const journal = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-bench-')), 'recovery.jsonl');
      const r = await runNode([cli, 'recover', '--yes', '--json', '--settings', lab.settingsPath, '--journal', journal]);
      if (r.code !== 0) throw new Error(`recover failed (exit ${r.code}): ${r.out.slice(0, 1000)}`);
      const report = JSON.parse(r.out.slice(r.out.indexOf('{'))) as { inserted: number; removed: number; method: string };
      if (report.inserted !== m.secondarySpool.length || report.removed !== m.secondarySpool.length) throw new Error(`recover moved ${report.inserted}/${report.removed} of ${m.secondarySpool.length}`);
      ours.push(r.ms);
      process.stderr.write(`bench recovery run ${i + 1}: ours ${r.ms.toFixed(0)} ms (${report.method}), scp * ${scp[i].toFixed(0)} ms, rsync ${rsync[i].toFixed(0)} ms\n`);
    }
  } finally {
    await lab.down();
    for (const f of ['spool', 'input'] as const) for (const u of ['primary', 'secondary'] as const) fs.rmSync(lab.hostPath(u, f), { recursive: true, force: true });
  }
  const label = `${(mails + 1).toLocaleString('en-US')} mails / ${files.toLocaleString('en-US')} files, ${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const note = 'ours: whole job through the bundled CLI in a new process (plan, tar relay, sha256sum on both units, place, SIGUSR2, log confirmation, removal); baselines: the copy step only';
  return [
    { name: `recover ${label} (CLI, pure-JS ssh2)`, value: median(ours) / 1000, unit: 's', baseline: { name: 'scp * on the secondary (manual procedure)', value: median(scp) / 1000 }, target: { max: 1, of: 'ratio' }, runs: ours.map((x) => x / 1000), note },
    { name: `recover ${label} vs rsync`, value: median(ours) / 1000, unit: 's', baseline: { name: 'rsync -a -e ssh on the secondary', value: median(rsync) / 1000 }, runs: rsync.map((x) => x / 1000) },
  ];
}

export const benchmarks: Benchmark[] = [{ name: 'recovery', run: benchRecovery }];

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const i = process.argv.indexOf('--runs');
  const runs = i >= 0 ? Number(process.argv[i + 1]) : quick ? 1 : 5;
  benchRecovery({ runs, quick }).then(
    (rows) => {
      for (const r of rows) console.log(`${r.name}: ${r.value.toFixed(2)} ${r.unit}${r.baseline ? ` (baseline ${r.baseline.name}: ${r.baseline.value.toFixed(2)} s, ratio ${(r.value / r.baseline.value).toFixed(2)}×)` : ''}`);
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
