// Shared by the recovery integration tests: a pool on the lab, a journal folder, the run, and the
// exactly-once check against what the simulators really delivered.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClusterConfig, parseSettings } from '../../src/core/config';
import { MemorySecretStore, noPrompts, silentLogger } from '../../src/core/host';
import { recover } from '../../src/core/recovery/run';
import type { RecoveryOptions, RecoveryReport } from '../../src/core/recovery/runContract';
import { parseRecoverySettings } from '../../src/core/recovery/settings';
import { ConnectionPool } from '../../src/core/ssh/pool';
import type { ConnectionOptions } from '../../src/core/ssh/connection';
import type { StrandManifest } from '../lab/lab';
import { waitFor } from '../lab/wait';
import { lab } from './hooks';

export const REPO = path.resolve(__dirname, '..', '..');

/**
 * The lab's cluster. MAILGW_TEST_TRANSFER=direct (or auto) runs every recovery test that uses it with
 * that transfer path, so the same fault and exactly-once tests cover the direct path.
 */
export function labCluster(settingsPath = lab().settingsPath): ClusterConfig {
  const raw = JSON.parse(fs.readFileSync(settingsPath, 'utf8')) as Record<string, unknown>;
  const s = parseSettings(raw['mailgwHa.clusters'], raw['mailgwHa.knownHostsFile']);
  assert.deepStrictEqual(s.errors, []);
  const transfer = testTransfer();
  return transfer ? { ...s.clusters[0], transfer } : s.clusters[0];
}

function testTransfer(): 'direct' | 'auto' | 'relay' | undefined {
  const transfer = process.env.MAILGW_TEST_TRANSFER;
  if (transfer === 'direct' || transfer === 'auto' || transfer === 'relay') return transfer;
  if (transfer) throw new Error(`MAILGW_TEST_TRANSFER must be relay, direct or auto, not ${JSON.stringify(transfer)}`);
  return undefined;
}

/**
 * The lab's settings file for a CLI run: as it is, or (MAILGW_TEST_TRANSFER) a copy whose clusters
 * use that transfer path, so the CLI's kill tests cover it too.
 */
export function labSettingsFile(settingsPath = lab().settingsPath): string {
  const transfer = testTransfer();
  if (!transfer) return settingsPath;
  const raw = JSON.parse(fs.readFileSync(settingsPath, 'utf8')) as { 'mailgwHa.clusters': Record<string, unknown>[] };
  for (const c of raw['mailgwHa.clusters']) c.transfer = transfer;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-settings-')), 'settings.json');
  fs.writeFileSync(file, JSON.stringify(raw, null, 2));
  return file;
}

/** The copy method a default recovery reports under MAILGW_TEST_TRANSFER. */
/**
 * The copy method a lab recovery takes with tar on both units: the default (auto) sends unit to
 * unit, except to a Dropbear primary (no `restrict`); MAILGW_TEST_TRANSFER=relay relays.
 */
export function tarMethod(): 'tar' | 'direct' {
  const t = process.env.MAILGW_TEST_TRANSFER;
  if (t === 'relay') return 'tar';
  if (t === 'direct') return 'direct';
  return lab().profile.server === 'dropbear' ? 'tar' : 'direct';
}

export function newPool(extra: Partial<ConnectionOptions> = {}): ConnectionPool {
  return new ConnectionPool({
    prompts: noPrompts,
    secrets: new MemorySecretStore(),
    logger: silentLogger,
    knownHostsFiles: [lab().knownHostsPath],
    reconnectDelaysMs: [200, 1000],
    connectTimeoutMs: 5000,
    ...extra,
  });
}

/** The lines of this tool's transfer keys in the primary root's authorized keys files. */
export function transferKeyLines(): string[] {
  const dir = path.join(lab().stateDir, 'units', 'fw-a', 'root', '.ssh');
  return ['authorized_keys', 'authorized_keys2'].flatMap((f) => {
    try {
      return fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => l.includes('mailgw-ha-transfer:'));
    } catch {
      return [];
    }
  });
}

export function tempJournal(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-rec-')), 'recovery-lab.jsonl');
}

/** One run with its own pool (as a fresh process would have), closed afterwards. */
/** `poolOptions`: for the run's own pool (e.g. an agent to log in with). */
export async function runRecovery(journalFile: string, extra: Partial<RecoveryOptions> = {}, cluster = labCluster(), poolOptions: Partial<ConnectionOptions> = {}): Promise<RecoveryReport> {
  const pool = newPool(poolOptions);
  try {
    return await recover({
      pool,
      cluster,
      settings: parseRecoverySettings({}).settings,
      journalFile,
      confirmTimeoutMs: 20_000,
      ...extra,
    });
  } finally {
    pool.dispose();
  }
}

export function mailIds(folder: string, ref: 'primary' | 'secondary'): Set<string> {
  return new Set(fs.readdirSync(lab().hostPath(ref, folder as 'spool')).filter((n) => /\.(body|env)$/.test(n) && !n.startsWith('.')).map((n) => n.replace(/\.(body|env)$/, '')));
}

/**
 * Every complete stranded mail delivered exactly once (over both units), none twice, judged per
 * transaction (envelope and content, as its recipients see it), after the simulators had time to
 * deliver everything; and the moved mails gone from the secondary.
 */
export async function assertExactlyOnce(m: StrandManifest): Promise<void> {
  await assertTransactionsOnce(Object.values(m.transactions));
  const left = new Set([...mailIds('spool', 'secondary'), ...mailIds('vscan', 'secondary')]);
  const dup = new Set(m.duplicates);
  const stillThere = [...m.secondarySpool, ...m.secondaryVscan].filter((id) => !dup.has(id) && left.has(id));
  assert.deepStrictEqual(stillThere, [], 'moved mails removed from the secondary');
  // Nothing of ours left behind in the primary's input/ (copies or staging folders).
  assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')), [], "primary's input/ is empty");
}

/** Each transaction (transactionOf) delivered, then, once the lab is quiet, exactly once. */
export async function assertTransactionsOnce(all: readonly string[]): Promise<void> {
  await waitFor(
    'every transaction to be delivered',
    () => {
      const d = lab().deliveries();
      return all.every((t) => (d.byTransaction[t] ?? 0) >= 1) ? true : undefined;
    },
    20_000,
  ).catch(() => undefined);
  await lab().waitForQuiet(); // after this no second delivery can come late
  const d = lab().deliveries();
  const lost = all.filter((t) => !d.byTransaction[t]);
  const twice = all.filter((t) => (d.byTransaction[t] ?? 0) > 1);
  assert.deepStrictEqual({ lost, twice }, { lost: [], twice: [] }, 'exactly-once delivery of every transaction');
}

/** Runs the bundled CLI to its end: exit code and what it printed. */
export function runCli(cli: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Bundles the CLI alone (not the whole project: other bundles may be mid-edit) into a temp folder. */
export async function buildCli(): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-cli-')), 'cli.js');
  await esbuild.build({ entryPoints: [path.join(REPO, 'src', 'cli.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: out, external: ['vscode', 'cpu-features', '*.node'], logLevel: 'error' });
  return out;
}
