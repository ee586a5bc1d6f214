// Spool explorer at scale: a folder of 50,000 mails (100,000 files) on the lab's secondary, listed
// the way the tree does it (a `find -printf` stream, or SFTP READDIR as fallback, + pairing), beside `ssh unit ls -l` measured in the
// same run. Also: the tree's whole look at a unit (gateway + 3 folders) and the headers of the
// first page (200 mails). Run alone: `npx tsx bench/listing.ts [--quick] [--runs N]`.
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ClusterConfig, parseSettings } from '../src/core/config';
import { MemorySecretStore, noPrompts, silentLogger } from '../src/core/host';
import { listFolder } from '../src/core/spool/list';
import { loadUnitOverview } from '../src/core/spool/overview';
import { SummaryCache } from '../src/core/spool/summaries';
import { ConnectionPool } from '../src/core/ssh/pool';
import { addressesFromEnv, DEFAULT_STATE_DIR, Lab, labPair } from '../test/lab/lab';
import { envelope } from '../test/lab/mail';
import { Benchmark, BenchRow, median } from './types';

const PAGE = 200;

/** `ssh root@unit ls -l DIR` with the system client; resolves with ms and the bytes it printed. */
function sshLs(lab: Lab, dir: string): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn('ssh', [...lab.sshArgs('secondary'), 'ls', '-l', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let err = '';
    p.stdout.on('data', (d: Buffer) => (bytes += d.length));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes }) : reject(new Error(`ssh ls -l exited ${code}: ${err}`))));
  });
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

function newPool(lab: Lab): ConnectionPool {
  return new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [lab.knownHostsPath] });
}

export async function benchListing({ runs, quick }: { runs: number; quick: boolean }): Promise<BenchRow[]> {
  const mails = quick ? 5_000 : 50_000;
  const lab = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'bench-listing'), addresses: addressesFromEnv('MAILGW_BENCH_LISTING_ADDRESSES', labPair(12)) });
  await lab.up();
  try {
    const dir = lab.hostPath('secondary', 'spool');
    const t0 = Date.now();
    const now = Date.now();
    // Plain writes of a small message (the lab's makeMail is richer but 10x slower for 100,000 files);
    // mtimes are left as written: the listing sorts whatever it finds.
    for (let n = 0; n < mails; n++) {
      const id = `${String(10000 + Math.floor(n / 100000)).padStart(5, '0')}-${String(Math.floor(n / 1000) % 100).padStart(5, '0')}-${String(n % 100000).padStart(5, '0')}`;
      const body = `From: Sender ${n % 97} <s${n % 97}@lab.example>\r\nTo: r${n % 13}@dest.example\r\nSubject: =?UTF-8?Q?bench_mail_${n}_gr=C3=BC=C3=9Fe?=\r\nDate: ${new Date(now).toUTCString()}\r\nMessage-ID: <bench-${n}@lab.example>\r\n\r\n${'lorem ipsum dolor sit amet '.repeat(30)}\r\n`;
      fs.writeFileSync(path.join(dir, `${id}.body`), body);
      fs.writeFileSync(path.join(dir, `${id}.env`), envelope(id, `s${n % 97}@lab.example`, [`r${n % 13}@dest.example`]));
    }
    process.stderr.write(`bench listing: wrote ${mails} mails (${mails * 2} files) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const s = lab.settings();
    const cluster: ClusterConfig = parseSettings(s['mailgwHa.clusters'], s['mailgwHa.knownHostsFile'], '/root').clusters[0];
    const remoteDir = `${lab.spoolDir}/spool`;

    const warm: number[] = [];
    const warmFind: number[] = [];
    const cold: number[] = [];
    const look: number[] = [];
    const page: number[] = [];
    const baseline: number[] = [];
    let allHeadersMs: number | undefined;
    const n = Math.max(1, runs);
    for (let i = 0; i < n; i++) {
      baseline.push((await sshLs(lab, remoteDir)).ms);
      // Cold: a new connection (handshake, auth) and the listing, as `ssh ls -l` pays for its connection.
      const pool = newPool(lab);
      try {
        const conn = pool.get(cluster.secondary);
        const c = await time(async () => {
          await conn.connect(false);
          return listFolder(conn, cluster, 'spool', { method: 'auto' });
        });
        if (c.value.via !== 'find') throw new Error('the find-based listing did not run');
        if (c.value.completeCount !== mails) throw new Error(`listed ${c.value.completeCount} mails, expected ${mails}`);
        cold.push(c.ms);
        // Warm: the tree's Refresh on an open connection.
        warm.push((await time(() => listFolder(conn, cluster, 'spool', { method: 'sftp' }))).ms);
        warmFind.push((await time(() => listFolder(conn, cluster, 'spool', { method: 'auto' }))).ms);
        const o = await time(() => loadUnitOverview(conn, cluster));
        look.push(o.ms);
        // The headers of the first page, with an empty cache (what expanding the folder costs).
        const cache = new SummaryCache();
        const first = o.value.folders.spool.mails.slice(0, PAGE);
        const p = await time(() => cache.load(conn, cluster, cluster.secondary.key, first));
        if (p.value.loaded !== PAGE) throw new Error(`read ${p.value.loaded} headers, expected ${PAGE}`);
        page.push(p.ms);
        if (i === 0) {
          // What a sender/recipient/subject filter reads once (then cached): every mail's headers.
          const all = await time(() => cache.load(conn, cluster, cluster.secondary.key, o.value.folders.spool.mails, { concurrency: 32 }));
          if (all.value.failed.length) throw new Error(`${all.value.failed.length} header reads failed`);
          allHeadersMs = all.ms;
        }
      } finally {
        pool.dispose();
      }
    }
    // Peak memory of a process that lists the folder (a child of its own, so this process's own use does not count).
    const memOut = execFileSync(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, 'listingMemory.ts'), lab.settingsPath], { encoding: 'utf8' });
    const mem = JSON.parse(memOut.trim().split('\n').pop()!) as { mails: number; rssBeforeMb: number; peakMb: number };
    if (mem.mails !== mails) throw new Error(`memory run listed ${mem.mails} mails, expected ${mails}`);
    const base = { name: 'ssh unit ls -l (OpenSSH client, new connection)', value: median(baseline) };
    const label = `${mails.toLocaleString('en-US')} mails / ${(mails * 2).toLocaleString('en-US')} files`;
    return [
      { name: `list + pair ${label}: new ssh2 connection (pure-JS) + find stream`, value: median(cold), unit: 'ms', baseline: base, runs: cold },
      { name: `list + pair ${label}: open connection, find stream (tree refresh)`, value: median(warmFind), unit: 'ms', baseline: base, runs: warmFind },
      { name: `list + pair ${label}: open connection, SFTP READDIR (fallback)`, value: median(warm), unit: 'ms', baseline: base, runs: warm },
      { name: `look at a unit: gateway + spool/vscan/input, ${label}`, value: median(look), unit: 'ms', runs: look },
      { name: `headers of the first page (${PAGE} mails, SFTP reads of the first KBs)`, value: median(page), unit: 'ms', runs: page },
      { name: `peak memory of a process listing ${label} (find stream)`, value: mem.peakMb, unit: 'MB', note: `resident before the listing (node, tsx, ssh2, connected): ${mem.rssBeforeMb.toFixed(0)} MB` },
      { name: `headers of all ${mails.toLocaleString('en-US')} mails (a header filter's one-time read, 32 in flight)`, value: allHeadersMs!, unit: 'ms', runs: [allHeadersMs!], note: 'measured once per benchmark run' },
    ];
  } finally {
    await lab.down();
    fs.rmSync(lab.hostPath('secondary', 'spool'), { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [{ name: 'listing', run: benchListing }];

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const i = process.argv.indexOf('--runs');
  const runs = i >= 0 ? Number(process.argv[i + 1]) : quick ? 1 : 5;
  benchListing({ runs, quick }).then(
    (rows) => {
      for (const r of rows) console.log(`${r.name}: ${r.value.toFixed(0)} ${r.unit}${r.baseline ? ` (baseline ${r.baseline.name}: ${r.baseline.value.toFixed(0)} ms, ratio ${(r.value / r.baseline.value).toFixed(2)}×)` : ''}  runs: ${r.runs?.map((x) => x.toFixed(0)).join(', ')}`);
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
