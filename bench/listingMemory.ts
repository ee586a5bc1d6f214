// Child process of bench/listing.ts: connects to a lab unit, lists its spool/ once and prints the
// process's resident memory before and its peak after, so the listing's memory shows on its own.
// Usage: tsx bench/listingMemory.ts SETTINGS_JSON
import * as fs from 'fs';
import { parseSettings } from '../src/core/config';
import { MemorySecretStore, noPrompts, silentLogger } from '../src/core/host';
import { listFolder } from '../src/core/spool/list';
import { ConnectionPool } from '../src/core/ssh/pool';

async function main(): Promise<void> {
  const raw = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as Record<string, unknown>;
  const s = parseSettings(raw['mailgwHa.clusters'], raw['mailgwHa.knownHostsFile']);
  const cluster = s.clusters[0];
  const pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [String(raw['mailgwHa.knownHostsFile'])] });
  const conn = pool.get(cluster.secondary);
  await conn.connect(false);
  const before = process.memoryUsage().rss;
  const listing = await listFolder(conn, cluster, 'spool', { method: 'auto' });
  const peakKb = process.resourceUsage().maxRSS;
  pool.dispose();
  console.log(JSON.stringify({ mails: listing.completeCount, rssBeforeMb: before / 1024 / 1024, peakMb: peakKb / 1024 }));
}

// Only as a child process: bench/run.ts imports every bench/*.ts to collect its benchmarks.
if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
