// Where a recovery's sequential round trips go: strands mails in a lab of its own, recovers them
// with the CLI (from source, so that every SSH operation can be timed) through a link shaped as an
// admin's VPN, and prints the proxy's turns beside the operations in flight when each turn began.
// Not a benchmark row: a profile for reducing the turns. Run:
//   npx tsx bench/turns.ts [--mails 50] [--transfer direct|relay] [--profile VPN|far]
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { addressesFromEnv, DEFAULT_STATE_DIR, Lab, labPair } from '../test/lab/lab';
import { PROFILES, ShapedLink } from '../test/lab/shapingProxy';
import { shapedSettings } from './recovery';

const REPO = path.resolve(__dirname, '..');
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

/** Preload for the CLI process: logs the start and end of every SSH operation with Date.now(). */
const PRELOAD = `
const c = require(${JSON.stringify(path.join(REPO, 'src/core/ssh/connection.ts'))});
const P = c.UnitConnection.prototype;
let n = 0;
const log = (s) => process.stderr.write('OP ' + Date.now() + ' ' + s + '\\n');
for (const m of ['execShell', 'stream', 'withSftp', 'connect']) {
  const orig = P[m];
  P[m] = function (...a) {
    const id = ++n;
    const what = m + ' ' + this.address.label + ' ' + (typeof a[0] === 'string' ? a[0] : Array.isArray(a[0]) ? a[0].join(' ') : '').replace(/\\s+/g, ' ').slice(0, 90);
    log('start ' + id + ' ' + what);
    const r = orig.apply(this, a);
    if (r && r.then) r.then(() => log('end ' + id), () => log('end ' + id));
    return r;
  };
}
`;

async function main(): Promise<void> {
  const mails = Number(arg('mails', '50'));
  const transfer = arg('transfer', 'direct') as 'direct' | 'relay';
  const profile = PROFILES[arg('profile', 'VPN') as 'VPN' | 'far'];
  const lab = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'bench-turns'), addresses: addressesFromEnv('MAILGW_BENCH_TURNS_ADDRESSES', labPair(15)) });
  await lab.up();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-turns-'));
  const link = new ShapedLink(profile);
  try {
    await lab.reset();
    lab.strand({ mails });
    const settings = await shapedSettings(lab, link, dir, transfer);
    const preload = path.join(dir, 'preload.cjs');
    fs.writeFileSync(preload, PRELOAD);
    link.resetCounters();
    const t0 = Date.now();
    const out = await new Promise<string>((resolve) => {
      const p = spawn(process.execPath, ['-r', 'tsx/cjs', '-r', preload, path.join(REPO, 'src/cli.ts'), 'recover', '--yes', '--settings', settings, '--journal', path.join(dir, 'j.jsonl')], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MAILGW_HA_VERBOSE: '1' } });
      let o = '';
      p.stdout.on('data', (d: Buffer) => (o += d));
      p.stderr.on('data', (d: Buffer) => (o += d));
      p.on('close', () => resolve(o));
    });
    const events: { t: number; text: string }[] = [];
    const names = new Map<string, string>();
    for (const line of out.split('\n')) {
      const m = /^OP (\d+) (start|end) (\d+)(?: (.*))?$/.exec(line);
      if (m) {
        if (m[2] === 'start') names.set(m[3], m[4]);
        events.push({ t: Number(m[1]), text: `${m[2] === 'start' ? '  >' : '  <'} #${m[3]} ${m[2] === 'start' ? m[4] : names.get(m[3])}` });
      } else if (line.trim()) events.push({ t: Number.NaN, text: `  ${line}` });
    }
    let ti = 0;
    let last = t0;
    const turns = link.turnTimes;
    for (const e of events) {
      if (!Number.isNaN(e.t)) {
        while (ti < turns.length && turns[ti] <= e.t) console.log(`${String(turns[ti] - t0).padStart(6)} ms  TURN ${++ti}`);
        last = e.t;
      }
      console.log(`${String(last - t0).padStart(6)} ms ${e.text}`);
    }
    while (ti < turns.length) console.log(`${String(turns[ti] - t0).padStart(6)} ms  TURN ${++ti}`);
    console.log(`${turns.length} turns, ${Date.now() - t0} ms, ${transfer} over ${profile.name}`);
  } finally {
    await link.close();
    await lab.down();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Run as a script only: bench/run.ts imports every bench/*.ts to collect its benchmarks.
if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
