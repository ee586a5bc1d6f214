// A fleet of simulated HA pairs (default 20): each pair is a normal Lab (test/lab/lab.ts) with its own
// state folder <fleetDir>/pair-NN, its own two loopback addresses and its own server name (box01,
// box02, ...; service mailgw), all sharing one client key. The fleet writes ONE settings file with a
// cluster per pair (pair-01, pair-02, ...) and ONE known_hosts, so `mailgw-ha --settings
// <fleetDir>/settings.json` sees the whole fleet. Used by `npm run lab -- fleet-up` (test/lab/cli.ts),
// bench/fleet.ts and test/integration/fleet.test.ts. See docs/lab.md, "A fleet of pairs".
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_STATE_DIR, Lab, labAddress, LabOptions } from './lab';
import { allPids, pidNamespace } from './procfs';
import { ensureKey } from './sshd';

/** First last-octet of the CLI's fleet: 127.<net>.0.100 … .139 for 20 pairs (free of every other lab's). */
export const FLEET_FIRST_ADDRESS = 100;
export const DEFAULT_FLEET_DIR = path.join(DEFAULT_STATE_DIR, 'fleet');
export const DEFAULT_PAIRS = 20;

export interface FleetOptions {
  /** Folder of the fleet (pair-NN folders, settings.json, known_hosts); default <lab dir>/fleet. */
  stateDir?: string;
  /** Number of HA pairs; default 20. */
  pairs?: number;
  /** Last octet of the first pair's primary: pair i (0-based) gets labAddress(first + 2i) and +1. */
  firstAddress?: number;
  service?: string;
  deliveryDelayMs?: number;
  scanDelayMs?: number;
}

/** What processes of the fleet's units use (sum over every process of every unit's PID namespace). */
export interface FleetMemory {
  processes: number;
  /** Sum of resident set sizes (counts shared pages once per process: an upper bound). */
  rssMb: number;
  /** Sum of proportional set sizes (shared pages split between their users: the fair figure). */
  pssMb: number;
}

export interface FleetUpResult {
  ms: number;
  concurrency: number;
  memory: FleetMemory;
}

interface FleetFile {
  version: 1;
  pairs: number;
  firstAddress: number;
  service: string;
  deliveryDelayMs?: number;
  scanDelayMs?: number;
  upAt?: string;
  upMs?: number;
  concurrency?: number;
}

type ClusterSettings = { name: string } & Record<string, unknown>;

export class Fleet {
  readonly stateDir: string;
  readonly pairs: number;
  readonly firstAddress: number;
  readonly service: string;
  /** One Lab per pair, pair-01 first. */
  readonly labs: Lab[];
  private readonly options: FleetOptions;

  constructor(options: FleetOptions = {}) {
    this.options = options;
    this.stateDir = path.resolve(options.stateDir ?? DEFAULT_FLEET_DIR);
    this.pairs = options.pairs ?? DEFAULT_PAIRS;
    this.firstAddress = options.firstAddress ?? FLEET_FIRST_ADDRESS;
    this.service = options.service ?? 'mailgw';
    if (!Number.isInteger(this.pairs) || this.pairs < 1 || this.pairs > 99) throw new Error(`fleet: pairs must be 1..99, not ${this.pairs}`);
    const last = this.firstAddress + 2 * this.pairs - 1;
    if (!Number.isInteger(this.firstAddress) || this.firstAddress < 2 || last > 254) {
      throw new Error(`fleet: ${this.pairs} pairs from address .${this.firstAddress} need .${this.firstAddress}–.${last}, past .254`);
    }
    this.labs = Array.from({ length: this.pairs }, (_, i) => {
      const opts: LabOptions = {
        stateDir: path.join(this.stateDir, pairDir(i)),
        server: `box${String(i + 1).padStart(2, '0')}`,
        service: this.service,
        addresses: [labAddress(this.firstAddress + 2 * i), labAddress(this.firstAddress + 2 * i + 1)],
        deliveryDelayMs: options.deliveryDelayMs,
        scanDelayMs: options.scanDelayMs,
      };
      return new Lab(opts);
    });
  }

  /** The fleet that is up in `stateDir` (as fleet-up left it); its pairs attached as Lab.attach does. */
  static attach(stateDir: string = DEFAULT_FLEET_DIR): Fleet {
    const file = readFleetFile(path.resolve(stateDir));
    if (!file) throw new Error(`no fleet is up in ${path.resolve(stateDir)} (run \`npm run lab -- fleet-up\`)`);
    const fleet = new Fleet({ stateDir, pairs: file.pairs, firstAddress: file.firstAddress, service: file.service, deliveryDelayMs: file.deliveryDelayMs, scanDelayMs: file.scanDelayMs });
    fleet.labs.splice(0, fleet.labs.length, ...fleet.labs.map((l) => Lab.attach(l.stateDir)));
    return fleet;
  }

  /** Cluster name of pair i (0-based): pair-01, pair-02, ... */
  static clusterName(i: number): string {
    return pairDir(i);
  }

  get settingsPath(): string {
    return path.join(this.stateDir, 'settings.json');
  }
  get knownHostsPath(): string {
    return path.join(this.stateDir, 'known_hosts');
  }
  /** The client key every pair's units accept (copied into each pair's folder). */
  get keyPath(): string {
    return path.join(this.stateDir, 'id_ed25519');
  }

  /**
   * Start every pair (a previous fleet in this folder is stopped first), at most `concurrency` at a
   * time; then write the combined settings and known_hosts. If a pair fails, every pair is stopped.
   */
  async up({ concurrency = 4 }: { concurrency?: number } = {}): Promise<FleetUpResult> {
    const t0 = Date.now();
    fs.mkdirSync(this.stateDir, { recursive: true });
    if (readFleetFile(this.stateDir)) await this.down({ concurrency });
    // One key for the whole fleet: each Lab reuses a key already in its folder (ensureKey).
    ensureKey(this.keyPath, 'mailgw-ha lab fleet client');
    for (const l of this.labs) {
      fs.mkdirSync(l.stateDir, { recursive: true });
      for (const suffix of ['', '.pub']) fs.copyFileSync(this.keyPath + suffix, l.keyPath + suffix);
      fs.chmodSync(l.keyPath, 0o600);
    }
    const file: FleetFile = { version: 1, pairs: this.pairs, firstAddress: this.firstAddress, service: this.service, deliveryDelayMs: this.options.deliveryDelayMs, scanDelayMs: this.options.scanDelayMs };
    // Written before the pairs start, so that a fleet-down after a failed or interrupted up finds them.
    writeFleetFile(this.stateDir, file);
    try {
      await inParallel(this.labs, concurrency, (l) => l.up());
    } catch (e) {
      await this.down({ concurrency }).catch(() => undefined);
      throw e;
    }
    this.writeSettings();
    const ms = Date.now() - t0;
    writeFleetFile(this.stateDir, { ...file, upAt: new Date(t0).toISOString(), upMs: ms, concurrency });
    return { ms, concurrency, memory: this.memory() };
  }

  /** Stop every pair (those recorded, and any pair-NN folder left by a larger fleet), and check nothing is left. */
  async down({ concurrency = 4 }: { concurrency?: number } = {}): Promise<void> {
    const dirs = new Set(this.labs.map((l) => l.stateDir));
    if (fs.existsSync(this.stateDir)) {
      for (const n of fs.readdirSync(this.stateDir)) if (/^pair-\d+$/.test(n)) dirs.add(path.join(this.stateDir, n));
    }
    const failures: string[] = [];
    await inParallel([...dirs], concurrency, async (dir) => {
      try {
        await new Lab({ stateDir: dir }).down();
      } catch (e) {
        failures.push(`${path.basename(dir)}: ${(e as Error).message}`);
      }
    });
    fs.rmSync(path.join(this.stateDir, 'fleet.json'), { force: true });
    if (failures.length) throw new Error(`fleet down in ${this.stateDir}:\n${failures.join('\n')}`);
  }

  /** Each pair's cluster as its Lab describes it, named pair-NN. */
  clusters(): ClusterSettings[] {
    return this.labs.map((l, i) => {
      const [cluster] = (l.settings()['mailgwHa.clusters'] as ClusterSettings[]).map((c) => ({ ...c, name: Fleet.clusterName(i) }));
      return cluster;
    });
  }

  /**
   * The combined settings (same shape as a Lab's settings.json): one cluster per pair, the combined
   * known_hosts. `only` keeps the named clusters; `extra` appends more (e.g. a test's unreachable unit).
   * Each pair has its own server name, so the (one, global) sync transaction log setting is left out.
   */
  settings(opts: { only?: string[]; extra?: ClusterSettings[]; knownHostsFile?: string } = {}): Record<string, unknown> {
    const clusters = this.clusters().filter((c) => !opts.only || opts.only.includes(c.name));
    return { 'mailgwHa.clusters': [...clusters, ...(opts.extra ?? [])], 'mailgwHa.knownHostsFile': opts.knownHostsFile ?? this.knownHostsPath };
  }

  /** Write settings(opts) to `file` (default settingsPath) and the combined known_hosts; returns the file. */
  writeSettings(opts: { only?: string[]; extra?: ClusterSettings[]; file?: string } = {}): string {
    fs.writeFileSync(this.knownHostsPath, this.labs.map((l) => fs.readFileSync(l.knownHostsPath, 'utf8')).join(''));
    const file = opts.file ?? this.settingsPath;
    fs.writeFileSync(file, JSON.stringify(this.settings(opts), null, 2) + '\n');
    return file;
  }

  /** Memory of every process of every running unit (and the unshare holding it). */
  memory(): FleetMemory {
    const namespaces = new Set<string>();
    const holders = new Set<number>();
    for (const l of this.labs) {
      const state = readJson<{ units?: Record<string, { unsharePid: number; pidns: string }> }>(path.join(l.stateDir, 'state.json'));
      for (const r of Object.values(state?.units ?? {})) {
        namespaces.add(r.pidns);
        holders.add(r.unsharePid);
      }
    }
    let processes = 0;
    let rssKb = 0;
    let pssKb = 0;
    for (const pid of allPids()) {
      const ns = pidNamespace(pid);
      if (!holders.has(pid) && (ns === null || !namespaces.has(ns))) continue;
      const rollup = readText(`/proc/${pid}/smaps_rollup`);
      if (rollup === undefined) continue;
      processes++;
      rssKb += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      pssKb += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    }
    return { processes, rssMb: rssKb / 1024, pssMb: pssKb / 1024 };
  }
}

function pairDir(i: number): string {
  return `pair-${String(i + 1).padStart(2, '0')}`;
}

/** Runs `job` over `items`, at most `concurrency` at a time; rejects with the first error after all ran. */
export async function inParallel<T>(items: readonly T[], concurrency: number, job: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        await job(items[i], i);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function readJson<T>(file: string): T | undefined {
  const text = readText(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function readFleetFile(stateDir: string): FleetFile | undefined {
  return readJson<FleetFile>(path.join(stateDir, 'fleet.json'));
}

function writeFleetFile(stateDir: string, file: FleetFile): void {
  fs.writeFileSync(path.join(stateDir, 'fleet.json'), JSON.stringify(file, null, 2) + '\n');
}
