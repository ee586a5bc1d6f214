// `npm run chaos -- [--seed S] [--histories N] [--steps K] [--verbose]`: N randomized HA histories
// against a lab of its own with the HA sync on (test/lab/chaos/), each checked for exactly-once
// delivery, leftovers and staging folders. History i uses seed S+i; a failure prints its seed and
// the whole history, and `--seed <that seed> --histories 1` replays it. Exit 1 if any history failed.
// Uses $MAILGW_LAB_NET like every lab (addresses 127.<net>.0.40/41, state in .lab/side/chaos, or chaos-net<net>).
import { spawnSync } from 'child_process';
import * as path from 'path';
import { checkHistory } from '../test/lab/chaos/check';
import { History, STEP_KINDS } from '../test/lab/chaos/history';
import { DEFAULT_STATE_DIR, Lab, labPair } from '../test/lab/lab';

const REPO = path.resolve(__dirname, '..');
const USAGE = 'usage: npm run chaos -- [--seed S] [--histories N] [--steps K] [--history-timeout-s T] [--verbose]';

function parse(argv: string[]): { seed: number; histories: number; steps: number; verbose: boolean; 'history-timeout-s': number } {
  const o = { seed: Math.floor(Math.random() * 1e9), histories: 5, steps: 25, verbose: false, 'history-timeout-s': 300 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--verbose') o.verbose = true;
    else if (a === '--seed' || a === '--histories' || a === '--steps' || a === '--history-timeout-s') {
      const v = argv[++i];
      if (!/^\d+$/.test(v ?? '')) throw new Error(`${a} needs a whole number\n${USAGE}`);
      o[a.slice(2) as 'seed' | 'histories' | 'steps' | 'history-timeout-s'] = Number(v);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (o.histories < 1 || o.steps < 1) throw new Error(USAGE);
  return o;
}

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  const t0 = Date.now();
  // The CLI as users get it (dist/cli.js from `node esbuild.js`).
  const b = spawnSync(process.execPath, ['esbuild.js'], { cwd: REPO, stdio: 'inherit' });
  if (b.status !== 0) throw new Error('node esbuild.js failed');
  const cli = path.join(REPO, 'dist', 'cli.js');
  // Its own state folder per MAILGW_LAB_NET: two runs side by side (a replay beside a long run) never share one.
  const net = process.env.MAILGW_LAB_NET ?? '0';
  const lab = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'side', net === '0' ? 'chaos' : `chaos-net${net}`), addresses: labPair(40), syncDelayMs: 1000 });
  const stop = () => lab.killSync();
  process.once('SIGINT', () => (stop(), process.exit(130)));
  process.once('SIGTERM', () => (stop(), process.exit(143)));
  await lab.up();
  console.log(`chaos: seed ${o.seed}, ${o.histories} histories of ${o.steps} steps; lab ${lab.addresses.join(', ')} with the HA sync on`);
  const totals: Record<string, number> = {};
  const failed: number[] = [];
  let mails = 0;
  let held = 0;
  const recovered = { inserted: 0, duplicatesRemoved: 0, held: 0, histories: 0 };
  try {
    for (let i = 0; i < o.histories; i++) {
      const seed = o.seed + i;
      const h0 = Date.now();
      const history = new History({ lab, cli, seed, steps: o.steps, onLine: o.verbose ? (l) => console.log(`  ${l}`) : undefined });
      // A history that does not finish is a failure too (something waits forever): show where it stands.
      let timer: NodeJS.Timeout | undefined;
      const run = await Promise.race([history.run(), new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), o['history-timeout-s'] * 1000)))]);
      clearTimeout(timer);
      if (!run) {
        failed.push(seed);
        console.log(`\n--- seed ${seed}: HUNG: not finished after ${o['history-timeout-s']} s; replay with: npm run chaos -- --seed ${seed} --histories 1 --steps ${o.steps} --verbose`);
        for (const l of history.lines) console.log(`    ${l}`);
        console.log('--- (stopping: the lab is in an unknown state)\n');
        break;
      }
      const check = checkHistory(lab, run);
      for (const [k, v] of Object.entries(run.counts)) totals[k] = (totals[k] ?? 0) + (v ?? 0);
      mails += check.mails;
      held += run.counts['held-resolved'] ?? 0;
      recovered.inserted += run.recovered.inserted;
      recovered.duplicatesRemoved += run.recovered.duplicatesRemoved;
      recovered.held += run.recovered.held;
      if (run.recovered.inserted + run.recovered.duplicatesRemoved > 0) recovered.histories++;
      const status = check.ok ? 'ok' : `FAILED (${check.problems.length} problem(s))`;
      console.log(`history ${i + 1}/${o.histories} seed ${seed}: ${check.mails} mails, ${check.delivered} delivered once, ${run.counts['held-resolved'] ?? 0} held and resolved${check.held.length ? `, ${check.held.length} still held` : ''}; recoveries moved ${run.recovered.inserted}, removed ${run.recovered.duplicatesRemoved} duplicate(s); ${((Date.now() - h0) / 1000).toFixed(1)} s: ${status}`);
      if (!check.ok) {
        failed.push(seed);
        console.log(`\n--- seed ${seed}: replay with: npm run chaos -- --seed ${seed} --histories 1 --steps ${o.steps}`);
        for (const p of check.problems) console.log(`  PROBLEM ${p}`);
        console.log('  history:');
        for (const l of run.lines) console.log(`    ${l}`);
        console.log('---\n');
      }
    }
  } finally {
    await lab.down();
  }
  console.log(`\nchaos: seed ${o.seed}, ${o.histories} histories, ${mails} mails, ${held} held and resolved by the admin; ${failed.length} failed${failed.length ? ` (seeds ${failed.join(', ')})` : ''}; ${((Date.now() - t0) / 1000).toFixed(0)} s wall`);
  console.log(`recoveries: ${recovered.inserted} mails moved and ${recovered.duplicatesRemoved} proved duplicates removed in ${recovered.histories} of ${o.histories} histories; ${recovered.held} held by a run`);
  console.log(`steps: ${[...STEP_KINDS, 'final-recovery', 'held-resolved'].map((k) => `${k} ${totals[k] ?? 0}`).join(', ')}`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`chaos: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  },
);
