// Fleet status at scale: the lab's 20-pair fleet (test/lab/fleet.ts: 40 units, each a real sshd on its
// own loopback address, 20 stranded mails on every secondary), looked at by the bundled CLI
// (`mailgw-ha status --json --settings <fleet settings>`, pure-JS ssh2 as users get it, a new process
// each time) beside the same for one pair (a settings file with pair-01 only) and beside the baseline
// an admin has without it: 40 sequential `ssh root@<unit> ls -l <spool dir>` runs (OpenSSH client, the
// lab key and known_hosts, BatchMode). Then the same over the VPN profile (20 Mbit/s each way, 30 ms
// round trip): every unit behind a listener of one shared ShapedLink (test/lab/shapingProxy.ts), the
// CLI and the ssh runs both going through it. Medians of --runs. Run alone:
// `npx tsx bench/fleet.ts [--quick] [--runs N] [--pairs N]`, or `npm run bench -- --only fleet`.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Fleet } from '../test/lab/fleet';
import { DEFAULT_STATE_DIR, Lab } from '../test/lab/lab';
import { PROFILES, ShapedLink } from '../test/lab/shapingProxy';
import { Benchmark, BenchRow, median } from './types';

const REPO = path.resolve(__dirname, '..');
/** Last octet of the bench fleet's first address: 127.<net>.0.180 … .219 (apart from the CLI's and the tests' fleets). */
const FIRST_ADDRESS = Number(process.env.MAILGW_BENCH_FLEET_FIRST ?? '180');
const STRANDED_PER_PAIR = 20;

/** The CLI as users get it: bundled, run from a folder without node_modules (pure-JS ssh2), as dist/cli.js is. */
async function buildCli(): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-bench-fleet-')), 'cli.js');
  await esbuild.build({ entryPoints: [path.join(REPO, 'src', 'cli.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: out, external: ['vscode', 'cpu-features', '*.node'], logLevel: 'error' });
  return out;
}

interface Timed {
  ms: number;
  code: number | null;
  out: string;
}

function timed(cmd: string, args: string[], timeoutMs = 300_000): Promise<Timed> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, out });
    });
  });
}

/** Where a benchmark run reaches a unit: the lab's address, or a shaping listener in front of it. */
interface Target {
  lab: Lab;
  ref: 'primary' | 'secondary';
  host: string;
  port: number;
}

/** `mailgw-ha status --json` over a settings file; checks that every cluster was reported and every unit reachable. */
async function statusRun(cli: string, settings: string, clusters: number): Promise<number> {
  const r = await timed(process.execPath, [cli, 'status', '--json', '--settings', settings]);
  if (r.code !== 0) throw new Error(`status over ${settings} exited ${r.code}: ${r.out.slice(0, 2000)}`);
  const report = JSON.parse(r.out) as { clusters: { name: string }[]; units: { reachable: boolean }[] };
  if (report.clusters.length !== clusters || report.units.length !== 2 * clusters || !report.units.every((u) => u.reachable)) {
    throw new Error(`status over ${settings}: ${report.clusters.length} cluster(s), ${report.units.filter((u) => u.reachable).length}/${report.units.length} unit(s) reachable, expected ${clusters} and all`);
  }
  return r.ms;
}

/** The baseline: one `ssh unit ls -l <spool dir>` per unit, one after the other, as an admin's loop would. */
async function sshBaseline(targets: readonly Target[], knownHosts: (t: Target) => string): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (const t of targets) {
    const args = [
      '-F', 'none',
      '-i', t.lab.keyPath,
      '-o', 'IdentitiesOnly=yes',
      '-o', `UserKnownHostsFile=${knownHosts(t)}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes',
      '-p', String(t.port),
      `root@${t.host}`,
      'ls', '-l', `${t.lab.spoolDir}/spool`,
    ];
    const r = await timed('ssh', args, 60_000);
    if (r.code !== 0 || !/^total /m.test(r.out)) throw new Error(`ssh ${t.host}:${t.port} (${t.lab.server} ${t.ref}) ls -l failed (exit ${r.code}): ${r.out.slice(0, 500)}`);
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * Settings and known_hosts that send every unit's connections through `link`: each unit's host/port
 * become a listener's on 127.0.0.1, and its host key is pinned under that name.
 */
async function shapedFleet(fleet: Fleet, link: ShapedLink, dir: string): Promise<{ settings: string; one: string; knownHosts: string; targets: Target[] }> {
  type UnitSettings = { name: string; host: string; port: number };
  const known = fs.readFileSync(fleet.knownHostsPath, 'utf8').split('\n').filter((l) => l.trim());
  const clusters = fleet.clusters() as ({ name: string; units: UnitSettings[] } & Record<string, unknown>)[];
  const lines: string[] = [];
  const targets: Target[] = [];
  for (const [i, c] of clusters.entries()) {
    for (const u of c.units) {
      const name = u.port === 22 ? u.host : `[${u.host}]:${u.port}`;
      const entry = known.find((l) => l.split(/\s+/)[0] === name);
      if (!entry) throw new Error(`no host key for ${name} in ${fleet.knownHostsPath}`);
      const port = await link.listen({ host: u.host, port: u.port });
      lines.push(`[127.0.0.1]:${port} ${entry.split(/\s+/).slice(1).join(' ')}`);
      u.host = '127.0.0.1';
      u.port = port;
      targets.push({ lab: fleet.labs[i], ref: u.name === 'fw-a' ? 'primary' : 'secondary', host: u.host, port });
    }
  }
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHosts, lines.join('\n') + '\n');
  const write = (file: string, cs: typeof clusters) => {
    fs.writeFileSync(file, JSON.stringify({ 'mailgwHa.clusters': cs, 'mailgwHa.knownHostsFile': knownHosts }, null, 2) + '\n');
    return file;
  };
  return { settings: write(path.join(dir, 'settings.json'), clusters), one: write(path.join(dir, 'one.json'), clusters.slice(0, 1)), knownHosts, targets };
}

interface Series {
  fleet: number[];
  one: number[];
  ssh: number[];
}

const s = (ms: readonly number[]) => median(ms) / 1000;

export async function benchFleet({ runs, quick, pairs = 20 }: { runs: number; quick: boolean; pairs?: number }): Promise<BenchRow[]> {
  const loadStart = os.loadavg();
  const fleet = new Fleet({ stateDir: path.join(DEFAULT_STATE_DIR, 'bench-fleet'), pairs, firstAddress: FIRST_ADDRESS });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-bench-fleet-'));
  const lan: Series = { fleet: [], one: [], ssh: [] };
  const vpn: Series = { fleet: [], one: [], ssh: [] };
  let up: Awaited<ReturnType<Fleet['up']>>;
  try {
    up = await fleet.up({ concurrency: 4 });
    process.stderr.write(`bench fleet: ${pairs} pairs up in ${up.ms} ms, ${up.memory.pssMb.toFixed(0)} MB PSS\n`);
    for (const l of fleet.labs) l.strand({ mails: STRANDED_PER_PAIR });
    const cli = await buildCli();
    const one = fleet.writeSettings({ only: [Fleet.clusterName(0)], file: path.join(dir, 'one.json') });
    const targets: Target[] = fleet.labs.flatMap((lab) => lab.units.map((u) => ({ lab, ref: u.role, host: u.address, port: lab.port })));
    // One untimed round first: page cache, the units' first sshd re-exec.
    await statusRun(cli, fleet.settingsPath, pairs);
    for (let i = 0; i < runs; i++) {
      lan.fleet.push(await statusRun(cli, fleet.settingsPath, pairs));
      lan.one.push(await statusRun(cli, one, 1));
      lan.ssh.push(await sshBaseline(targets, (t) => t.lab.knownHostsPath));
      process.stderr.write(`bench fleet LAN run ${i + 1}: ${pairs} pairs ${lan.fleet[i].toFixed(0)} ms, one pair ${lan.one[i].toFixed(0)} ms, ${targets.length} ssh ${lan.ssh[i].toFixed(0)} ms\n`);
    }
    const link = new ShapedLink(PROFILES.VPN);
    try {
      const shaped = await shapedFleet(fleet, link, dir);
      for (let i = 0; i < runs; i++) {
        vpn.fleet.push(await statusRun(cli, shaped.settings, pairs));
        vpn.one.push(await statusRun(cli, shaped.one, 1));
        vpn.ssh.push(await sshBaseline(shaped.targets, () => shaped.knownHosts));
        process.stderr.write(`bench fleet VPN run ${i + 1}: ${pairs} pairs ${vpn.fleet[i].toFixed(0)} ms, one pair ${vpn.one[i].toFixed(0)} ms, ${shaped.targets.length} ssh ${vpn.ssh[i].toFixed(0)} ms\n`);
      }
    } finally {
      await link.close();
    }
  } finally {
    await fleet.down({ concurrency: 4 });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const loadEnd = os.loadavg();
  const units = 2 * pairs;
  const rows = (name: string, x: Series): BenchRow[] => [
    { name: `status --json, ${pairs} pairs (${units} units), ${name} (CLI, pure-JS ssh2)`, value: s(x.fleet), unit: 's', baseline: { name: `${units} sequential ssh unit ls -l <spool>`, value: s(x.ssh) }, runs: x.fleet.map((v) => v / 1000) },
    { name: `status --json, ${pairs} pairs vs one pair, ${name}`, value: s(x.fleet), unit: 's', baseline: { name: 'status --json, one pair (2 units)', value: s(x.one) }, runs: x.one.map((v) => v / 1000) },
    { name: `${units} sequential ssh unit ls -l, ${name}`, value: s(x.ssh), unit: 's', runs: x.ssh.map((v) => v / 1000), note: `${(median(x.ssh) / units).toFixed(0)} ms per unit` },
  ];
  return [
    ...rows('LAN (loopback)', lan),
    ...rows('VPN: 20 Mbit/s each way, 30 ms RTT', vpn),
    { name: `lab fleet up, ${pairs} pairs, 4 at a time`, value: up.ms / 1000, unit: 's', note: `${up.memory.processes} processes, ${up.memory.pssMb.toFixed(0)} MB PSS (${up.memory.rssMb.toFixed(0)} MB RSS summed)` },
    {
      name: 'load average (1, 5, 15 min) at the start of the fleet benchmark',
      value: loadStart[0],
      unit: '',
      note: `load average ${loadStart.map((x) => x.toFixed(1)).join(' ')} at the start, ${loadEnd.map((x) => x.toFixed(1)).join(' ')} at the end${quick ? ' (--quick)' : ''}; ${STRANDED_PER_PAIR} stranded mails on each secondary; status --concurrency default (8)`,
    },
  ];
}

export const benchmarks: Benchmark[] = [{ name: 'fleet', run: benchFleet }];

if (require.main === module) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const quick = process.argv.includes('--quick');
  benchFleet({ runs: arg('runs') ?? (quick ? 1 : 5), quick, pairs: arg('pairs') }).then(
    (rows) => {
      for (const r of rows) console.log(`${r.name}: ${r.value.toFixed(2)} ${r.unit}${r.baseline ? ` (baseline ${r.baseline.name}: ${r.baseline.value.toFixed(2)} s, ratio ${(r.value / r.baseline.value).toFixed(2)}×)` : ''}${r.note ? ` — ${r.note}` : ''}`);
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
