// Recovery at scale: 2,000 stranded mails (2–64 KB bodies) plus one 20 MB body on the lab's
// secondary, recovered end to end by the bundled CLI (`mailgw-ha recover --yes`, pure-JS ssh2 as
// users get it: plan, copy, verify, place, signal, confirm, clean up), beside what the manual
// procedure's copy step costs in the same run: `scp *` run on the secondary, and `rsync -a -e ssh`.
// The baselines only copy; ours does the whole job. The recovery also runs with the admin's connections
// through a shaping proxy (test/lab/shapingProxy.ts: one link shared by both units' connections, VPN
// 20 Mbit/s each way and 30 ms round trip, far 10 Mbit/s and 100 ms), while the units reach each other
// on the lab's loopback addresses as a real pair's LAN; the proxy counts the bytes over the admin's
// link and the sequential round trips. Run alone: `npx tsx bench/recovery.ts [--quick] [--runs N]`.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';
import { addressesFromEnv, DEFAULT_STATE_DIR, Lab, labPair } from '../test/lab/lab';
import { LinkCounters, LinkProfile, PROFILES, ShapedLink } from '../test/lab/shapingProxy';
import { Benchmark, BenchRow, median } from './types';

const REPO = path.resolve(__dirname, '..');

/**
 * The CLI as users get it (bundled, run from a folder without node_modules: pure-JS ssh2), or with
 * ssh2 left external and loaded from the repo's node_modules, native crypto addon included.
 */
async function buildCli(native = false): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const dir = native ? path.join(REPO, '.cache', 'bench') : fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-bench-'));
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, native ? 'cli-native.js' : 'cli.js');
  await esbuild.build({ entryPoints: [path.join(REPO, 'src', 'cli.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: out, external: ['vscode', 'cpu-features', '*.node', ...(native ? ['ssh2'] : [])], logLevel: 'error' });
  return out;
}

/** A preload that reports the process's peak resident memory when it exits. */
function rssHook(): string {
  const file = path.join(os.tmpdir(), 'mailgw-bench-maxrss.cjs');
  fs.writeFileSync(file, "process.on('exit', () => process.stderr.write('\\nMAXRSS_KB=' + process.resourceUsage().maxRSS + '\\n'));\n");
  return file;
}

function runNode(args: string[]): Promise<{ ms: number; code: number | null; out: string; maxRssMb?: number }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['-r', rssHook(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (out += d));
    p.on('close', (code) => {
      const m = /\nMAXRSS_KB=(\d+)\n/.exec(out);
      resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, out: out.replace(/\nMAXRSS_KB=\d+\n/, ''), maxRssMb: m ? Number(m[1]) / 1024 : undefined });
    });
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

/**
 * Settings and known_hosts that send the admin's connections to both units through `link`: each
 * unit's host/port become a proxy listener's, and its host key is pinned under that name.
 */
/** `default`: the cluster's transfer left out (the default, auto). */
export type BenchTransfer = 'default' | 'relay' | 'direct';

export async function shapedSettings(lab: Lab, link: ShapedLink, dir: string, transfer: BenchTransfer): Promise<string> {
  type Unit = { role: string; host: string; port: number; haHost?: string; haPort?: number };
  const settings = lab.settings() as { 'mailgwHa.clusters': { transfer?: string; units: Unit[] }[] } & Record<string, unknown>;
  const cluster = settings['mailgwHa.clusters'][0];
  if (transfer === 'default') delete cluster.transfer;
  else cluster.transfer = transfer;
  // Unit to unit over the lab's loopback addresses (the pair's LAN), not through the admin's link.
  for (const u of cluster.units) if (u.role === 'primary') Object.assign(u, { haHost: u.host, haPort: u.port });
  const known = fs.readFileSync(lab.knownHostsPath, 'utf8').split('\n').filter((l) => l.trim());
  const lines: string[] = [];
  for (const u of settings['mailgwHa.clusters'][0].units) {
    const name = u.port === 22 ? u.host : `[${u.host}]:${u.port}`;
    const entry = known.find((l) => l.split(/\s+/)[0] === name);
    if (!entry) throw new Error(`no host key for ${name} in ${lab.knownHostsPath}`);
    const port = await link.listen({ host: u.host, port: u.port });
    lines.push(`[127.0.0.1]:${port} ${entry.split(/\s+/).slice(1).join(' ')}`);
    u.host = '127.0.0.1';
    u.port = port;
  }
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHosts, lines.join('\n') + '\n');
  settings['mailgwHa.knownHostsFile'] = knownHosts;
  const file = path.join(dir, 'settings.json');
  fs.writeFileSync(file, JSON.stringify(settings, null, 2) + '\n');
  return file;
}

interface ShapedRun {
  ms: number;
  counters: LinkCounters;
  method: string;
}

/** Strand `mails`, recover them with the CLI through a link shaped as `profile`. */
async function shapedRecovery(lab: Lab, cli: string, profile: LinkProfile, mails: number, bigMb: number, transfer: BenchTransfer): Promise<ShapedRun> {
  await lab.reset();
  lab.pauseDelivery('primary');
  const m = lab.strand({ mails, bigMb });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mailgw-bench-${profile.name}-`));
  const link = new ShapedLink(profile);
  try {
    const settings = await shapedSettings(lab, link, dir, transfer);
    const r = await runNode([cli, 'recover', '--yes', '--json', '--settings', settings, '--journal', path.join(dir, 'recovery.jsonl')]);
    if (r.code !== 0) throw new Error(`recover over ${profile.name} failed (exit ${r.code}): ${r.out.slice(0, 1000)}`);
    const report = JSON.parse(r.out.slice(r.out.indexOf('{'))) as { inserted: number; removed: number; method: string };
    // The lab's secondary reaches the primary, so the default (auto) goes direct.
    if (report.method !== (transfer === 'relay' ? 'tar' : 'direct')) throw new Error(`recover over ${profile.name} went ${report.method}, not ${transfer}: ${r.out.slice(0, 1000)}`);
    if (report.inserted !== m.secondarySpool.length || report.removed !== m.secondarySpool.length) throw new Error(`recover over ${profile.name} moved ${report.inserted}/${report.removed} of ${m.secondarySpool.length}`);
    return { ms: r.ms, counters: link.counters, method: report.method };
  } finally {
    await link.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The shaped runs: which path over which admin link (LAN through the proxy unshaped, to count). The
 * targets are for the default settings; the relay runs show what the default saves.
 */
const SHAPED: readonly (readonly [BenchTransfer, 'LAN' | 'VPN' | 'far'])[] = [
  ['default', 'LAN'],
  ['default', 'VPN'],
  ['default', 'far'],
  ['relay', 'VPN'],
];

const describeProfile = (p: LinkProfile) => `${p.name}: ${p.bitsPerSecond ? `${p.bitsPerSecond / 1e6} Mbit/s each way, ` : ''}${p.rttMs} ms RTT`;

export async function benchRecovery({ runs, quick }: { runs: number; quick: boolean }): Promise<BenchRow[]> {
  const mails = quick ? 200 : 2000;
  const bigMb = quick ? 2 : 20;
  const lab = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'bench-recovery'), addresses: addressesFromEnv('MAILGW_BENCH_RECOVERY_ADDRESSES', labPair(14)) });
  await lab.up();
  const cli = await buildCli();
  const nativeCli = await buildCli(true);
  const nativeMs: number[] = [];
  const rss: number[] = [];
  const ours: number[] = [];
  const scp: number[] = [];
  const rsync: number[] = [];
  const shaped = new Map<string, ShapedRun[]>();
  const small = new Map<string, ShapedRun[]>();
  const add = (m: Map<string, ShapedRun[]>, k: string, v: ShapedRun) => m.set(k, [...(m.get(k) ?? []), v]);
  const loadStart = os.loadavg();
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
      if (r.maxRssMb !== undefined) rss.push(r.maxRssMb);
      // The same job with ssh2's native crypto addon.
      await lab.reset();
      lab.pauseDelivery('primary');
      const m2 = lab.strand({ mails, bigMb });
      const rn = await runNode([nativeCli, 'recover', '--yes', '--json', '--settings', lab.settingsPath, '--journal', journal + '.native']);
      if (rn.code !== 0) throw new Error(`recover (native) failed (exit ${rn.code}): ${rn.out.slice(0, 1000)}`);
      const reportN = JSON.parse(rn.out.slice(rn.out.indexOf('{'))) as { inserted: number };
      if (reportN.inserted !== m2.secondarySpool.length) throw new Error(`recover (native) inserted ${reportN.inserted} of ${m2.secondarySpool.length}`);
      nativeMs.push(rn.ms);
      process.stderr.write(`bench recovery run ${i + 1}: ours ${r.ms.toFixed(0)} ms (${report.method}, peak RSS ${r.maxRssMb?.toFixed(0)} MB), native ${rn.ms.toFixed(0)} ms, scp * ${scp[i].toFixed(0)} ms, rsync ${rsync[i].toFixed(0)} ms\n`);
      // The admin behind a VPN / far away: the same job through the shaped link.
      for (const [transfer, name] of SHAPED) {
        const s = await shapedRecovery(lab, cli, PROFILES[name], mails, bigMb, transfer);
        add(shaped, `${transfer} ${name}`, s);
        process.stderr.write(`bench recovery run ${i + 1}, ${transfer}, ${describeProfile(PROFILES[name])}: ${s.ms.toFixed(0)} ms (${s.method}), ${(s.counters.down / 1e6).toFixed(1)} MB down, ${(s.counters.up / 1e6).toFixed(1)} MB up, ${s.counters.turns} round trips, ${s.counters.connections} connection(s)\n`);
      }
      for (const transfer of ['default', 'relay'] as const) {
        const s50 = await shapedRecovery(lab, cli, PROFILES.VPN, 50, 0, transfer);
        add(small, transfer, s50);
        process.stderr.write(`bench recovery run ${i + 1}, 50 mails over VPN, ${transfer}: ${s50.ms.toFixed(0)} ms, ${s50.counters.turns} round trips\n`);
      }
    }
  } finally {
    await lab.down();
    for (const f of ['spool', 'input'] as const) for (const u of ['primary', 'secondary'] as const) fs.rmSync(lab.hostPath(u, f), { recursive: true, force: true });
  }
  const loadEnd = os.loadavg();
  const load = `load average ${loadStart.map((x) => x.toFixed(1)).join(' ')} at the start, ${loadEnd.map((x) => x.toFixed(1)).join(' ')} at the end`;
  const shapedRows = (): BenchRow[] =>
    SHAPED.flatMap(([transfer, name]) => {
      const runsOf = shaped.get(`${transfer} ${name}`) ?? [];
      if (runsOf.length === 0) return [];
      const p = PROFILES[name];
      const t = median(runsOf.map((x) => x.ms)) / 1000;
      const perMailByte = median(runsOf.map((x) => (x.counters.up + x.counters.down) / bytes));
      const turns = median(runsOf.map((x) => x.counters.turns));
      const via = `${transfer === 'default' ? 'default settings' : transfer} (${runsOf[0].method})`;
      const targeted = transfer === 'default';
      const rows: BenchRow[] = [
        { name: `recover ${label}, ${via}, ${describeProfile(p)} (CLI, pure-JS ssh2)`, value: t, unit: 's', baseline: { name: 'scp * on the secondary (manual procedure)', value: median(scp) / 1000 }, target: targeted ? { max: 0.5, of: 'ratio' } : undefined, runs: runsOf.map((x) => x.ms / 1000), note: `admin link: ${(median(runsOf.map((x) => x.counters.down)) / 1e6).toFixed(2)} MB down, ${(median(runsOf.map((x) => x.counters.up)) / 1e6).toFixed(2)} MB up, ${median(runsOf.map((x) => x.counters.connections))} connection(s)` },
      ];
      if (name === 'LAN') rows.push({ name: `recover ${label}, ${via}, ${name} vs rsync`, value: t, unit: 's', baseline: { name: 'rsync -a -e ssh on the secondary', value: median(rsync) / 1000 }, target: targeted ? { max: 1, of: 'ratio' } : undefined });
      rows.push({ name: `bytes over the admin link per mail byte (${name}, ${via})`, value: perMailByte, unit: 'B/B', target: targeted ? { max: 0.01, of: 'value' } : undefined, runs: runsOf.map((x) => (x.counters.up + x.counters.down) / bytes) });
      rows.push({ name: `sequential round trips, ${label} (${name}, ${via})`, value: turns, unit: 'turns', target: targeted ? { max: 15, of: 'value' } : undefined, runs: runsOf.map((x) => x.counters.turns) });
      return rows;
    }).concat(
      [...small].map(([transfer, runsOf]) => ({ name: `sequential round trips, 50 mails (VPN, ${transfer === 'default' ? 'default settings' : transfer})`, value: median(runsOf.map((x) => x.counters.turns)), unit: 'turns', target: transfer === 'default' ? { max: 15, of: 'value' as const } : undefined, runs: runsOf.map((x) => x.counters.turns), note: `${(median(runsOf.map((x) => x.ms)) / 1000).toFixed(2)} s; a round trip is the client speaking on a link quiet both ways` })),
      [{ name: 'load average (1, 5, 15 min) at the start of the recovery benchmark', value: loadStart[0], unit: '', note: load }],
    );
  const label = `${(mails + 1).toLocaleString('en-US')} mails / ${files.toLocaleString('en-US')} files, ${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const note = 'ours: whole job through the bundled CLI in a new process, default settings (plan, the transfer: auto, unit to unit here; sha256sum on both units, place, SIGUSR2, log confirmation, removal); baselines: the copy step only';
  return [
    { name: `recover ${label}, LAN: admin on loopback (CLI, pure-JS ssh2)`, value: median(ours) / 1000, unit: 's', baseline: { name: 'scp * on the secondary (manual procedure)', value: median(scp) / 1000 }, target: { max: 0.5, of: 'ratio' }, runs: ours.map((x) => x / 1000), note },
    { name: `recover ${label}, LAN (CLI, pure-JS ssh2) vs rsync`, value: median(ours) / 1000, unit: 's', baseline: { name: 'rsync -a -e ssh on the secondary', value: median(rsync) / 1000 }, target: { max: 1, of: 'ratio' }, runs: rsync.map((x) => x / 1000) },
    { name: `recover ${label}, LAN (CLI, native ssh2 crypto)`, value: median(nativeMs) / 1000, unit: 's', baseline: { name: 'scp * on the secondary (manual procedure)', value: median(scp) / 1000 }, target: { max: 0.5, of: 'ratio' }, runs: nativeMs.map((x) => x / 1000) },
    { name: `recover ${label}, LAN (CLI, native ssh2 crypto) vs rsync`, value: median(nativeMs) / 1000, unit: 's', baseline: { name: 'rsync -a -e ssh on the secondary', value: median(rsync) / 1000 }, target: { max: 1, of: 'ratio' } },
    ...(rss.length ? [{ name: 'recovery peak memory (CLI process, pure-JS ssh2)', value: median(rss), unit: 'MB', runs: rss }] : []),
    ...shapedRows(),
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
