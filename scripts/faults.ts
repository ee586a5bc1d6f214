// `npm run faults [N]`: until N runs (default 100) have really been interrupted, strand mail in the
// lab, start `mailgw-ha recover --yes` as a child process, SIGKILL it at a random moment, run it
// again, and check against what the simulators delivered that every stranded mail was delivered
// exactly once. Prints the counts;
// exits 1 if anything was lost or duplicated. Uses $MAILGW_LAB_DIR / $MAILGW_LAB_ADDRESSES.
// MAILGW_FAULTS_TRANSFER=direct (or auto): the cluster's "transfer" setting for every run.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Lab } from '../test/lab/lab';
import { waitFor } from '../test/lab/wait';

const REPO = path.resolve(__dirname, '..');

async function buildCli(): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-faults-')), 'cli.js');
  await esbuild.build({ entryPoints: [path.join(REPO, 'src', 'cli.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: out, external: ['vscode', 'cpu-features', '*.node'], logLevel: 'error' });
  return out;
}

function runCli(args: string[], killAfterMs?: number, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; killed: boolean; ms: number; out: string }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    let killed = false;
    const t = killAfterMs !== undefined ? setTimeout(() => (killed = child.kill('SIGKILL')), killAfterMs) : undefined;
    child.on('close', (code) => {
      if (t) clearTimeout(t);
      resolve({ code, killed: killed && code === null, ms: Date.now() - t0, out });
    });
  });
}

const rnd = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

async function main(): Promise<number> {
  const n = Number(process.argv[2] ?? 100);
  if (!Number.isInteger(n) || n < 1) throw new Error('usage: npm run faults [N]');
  let lab: Lab;
  let ours = false;
  try {
    lab = Lab.attach();
  } catch {
    lab = new Lab();
    await lab.up();
    ours = true;
  }
  const cli = await buildCli();
  let settingsFile = lab.settingsPath;
  const transfer = process.env.MAILGW_FAULTS_TRANSFER;
  if (transfer) {
    if (!['relay', 'direct', 'auto'].includes(transfer)) throw new Error(`MAILGW_FAULTS_TRANSFER must be relay, direct or auto, not ${JSON.stringify(transfer)}`);
    const settings = lab.settings() as { 'mailgwHa.clusters': Record<string, unknown>[] };
    settings['mailgwHa.clusters'][0].transfer = transfer;
    settingsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-faults-')), 'settings.json');
    fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
  }
  const totals = { iterations: 0, killed: 0, finishedBeforeKill: 0, mails: 0, lost: 0, duplicated: 0, secondRunFailed: 0 };
  const t0 = Date.now();
  try {
    // How long an uninterrupted run takes here: kills are spread over that.
    await lab.reset();
    lab.strand({ mails: 30, vscan: 3 });
    const probe = await runCli([cli, 'recover', '--yes', '--json', '--settings', settingsFile, '--journal', path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-faults-')), 'j.jsonl')]);
    // Kills fall uniformly within the time a run takes here (learnt from runs that were not killed).
    let estimate = probe.ms;
    console.log(`faults: until ${n} runs are SIGKILLed mid-way${transfer ? ` (transfer: ${transfer})` : ''}; an uninterrupted run takes ${probe.ms} ms here`);
    for (let i = 1; totals.killed < n && i <= 3 * n; i++) {
      const span = Math.max(300, Math.round(estimate * 0.9));
      await lab.reset();
      const m = lab.strand({ mails: rnd(5, 40), vscan: rnd(0, 5), duplicates: rnd(0, 3), orphans: rnd(0, 2), bigMb: Math.random() < 0.3 ? 2 : 0 });
      const journal = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-faults-')), 'recovery.jsonl');
      const args = [cli, 'recover', '--yes', '--json', '--settings', settingsFile, '--journal', journal];
      const delay = rnd(0, span);
      // Every other run copies in batches of 4, so several batches are in flight when the kill comes.
      const first = await runCli(args, delay, i % 2 ? { ...process.env, MAILGW_HA_COPY_BATCH: '4' } : process.env);
      if (first.killed) totals.killed++;
      else {
        totals.finishedBeforeKill++;
        estimate = 0.7 * estimate + 0.3 * first.ms;
      }
      // The killed run's lock stays on the primary; the admin takes it over on request.
      let second = await runCli([...args, '--take-over-lock']);
      if (second.code !== 0) {
        totals.secondRunFailed++;
        second = await runCli([...args, '--take-over-lock']); // report, but still finish the job before counting
      }
      const mids = Object.values(m.messageIds);
      await waitFor('deliveries', () => mids.every((x) => lab.deliveries().byMessageId[x]), 20_000).catch(() => undefined);
      await lab.waitForQuiet();
      const d = lab.deliveries();
      const lost = mids.filter((x) => !d.byMessageId[x]).length;
      const dup = mids.filter((x) => d.byMessageId[x] > 1).length;
      totals.iterations++;
      totals.mails += mids.length;
      totals.lost += lost;
      totals.duplicated += dup;
      const status = lost || dup ? `LOST ${lost} DUPLICATED ${dup}` : 'ok';
      console.log(`#${i} ${mids.length} mails, kill at ${delay} ms (${first.killed ? 'killed' : `finished first, exit ${first.code}`}), second run exit ${second.code}: ${status}`);
      if (lost || dup) console.log(second.out.slice(0, 2000));
    }
  } finally {
    if (ours) await lab.down();
  }
  console.log(`\nfaults: ${totals.iterations} iterations, ${totals.killed} runs SIGKILLed mid-way (${totals.finishedBeforeKill} finished before the kill), ${totals.mails} mails: ${totals.lost} lost, ${totals.duplicated} duplicated; second run failed ${totals.secondRunFailed} time(s); ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return totals.lost || totals.duplicated || totals.secondRunFailed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`faults: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  },
);
