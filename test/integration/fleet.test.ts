// `mailgw-ha status` over a fleet: 20 real HA pairs of the lab (test/lab/fleet.ts, 40 sshd units on
// their own loopback addresses) plus a 21st cluster whose primary is a black hole (accepts TCP, never
// says a word). Some pairs have mail stranded on their secondary, one was taken over, one has a unit
// stopped entirely. The CLI must report every cluster as it really is, the dead and the silent unit as
// unreachable with their errors, and every other cluster as reachable and complete; --csv and --jsonl
// give one row per cluster carrying the same figures.
import * as assert from 'assert';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { Fleet } from '../lab/fleet';
import { DEFAULT_STATE_DIR, Lab, labAddress, labPair } from '../lab/lab';
import { parseCsv } from '../unit/core/csvReader';
import { trackLab } from './hooks';
import { buildCli, runCli } from './recoveryHelpers';

// Addresses 127.<net>.0.140 … .179 for the 20 pairs, .220/.221 for the black hole's partner pair,
// .222 for the black hole: apart from every other lab (docs/lab.md).
const FIRST_ADDRESS = 140;
const PAIRS = 20;
const UNIT_TIMEOUT_S = 5;
/** Pair index (0-based) → mails stranded on its secondary. */
const STRANDED: ReadonlyMap<number, number> = new Map([
  [1, 3],
  [4, 7],
  [8, 12],
]);
const TAKEN_OVER = 3; // pair-04
const STOPPED = 6; // pair-07: its secondary is killed
const BLACK_HOLE = 'blackhole';

interface UnitReport {
  cluster: string;
  unit: string;
  role: string;
  host: string;
  reachable: boolean;
  error?: string;
  errorCode?: string;
  timedOut?: boolean;
  active?: boolean;
  'count:spool'?: number | string;
}

interface ClusterReport {
  name: string;
  urgency: number;
  attention: string[];
  active: string | null;
  activeUnits: string[];
  standby: string | null;
  stranded: number;
  oldestStrandedAgeS: number | null;
  stuck: { unit: string; count: number; oldestAgeS: number } | null;
  unreachable: string[];
  errors: Record<string, string>;
  lastRecovery: unknown;
  elapsedMs: number;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Date.now() just before the start and just after the end (to bound the ages it reports). */
  startedAt: number;
  endedAt: number;
}

async function runTimedCli(cli: string, args: string[]): Promise<Run> {
  const startedAt = Date.now();
  const r = await runCli(cli, args);
  return { ...r, startedAt, endedAt: Date.now() };
}

/** The oldest mtime (ms) of the files in a folder. */
function oldestMtimeMs(dir: string): number {
  return Math.min(...fs.readdirSync(dir).map((n) => fs.statSync(path.join(dir, n)).mtimeMs));
}

describe('fleet: mailgw-ha status over 20 HA pairs and a black hole', function () {
  this.timeout(120_000);
  const fleet = new Fleet({ stateDir: path.join(DEFAULT_STATE_DIR, 'side', 'fleet'), pairs: PAIRS, firstAddress: FIRST_ADDRESS });
  const partner = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'side', 'fleet-blackhole'), addresses: labPair(220) });
  const untrack: (() => void)[] = [];
  const silent = new Set<net.Socket>();
  let accepted = 0;
  let blackHole: net.Server | undefined;
  let blackHolePort = 0;
  let cli = '';
  let settings = '';
  /** Stranded mails per cluster as the lab wrote them, and the oldest file's mtime. */
  const stranded = new Map<string, { count: number; oldestMs: number }>();
  let json: Run;
  let report: { clusters: ClusterReport[]; units: UnitReport[] };

  const cluster = (name: string): ClusterReport => {
    const c = report.clusters.find((x) => x.name === name);
    assert.ok(c, `cluster ${name} missing from the report (got ${report.clusters.map((x) => x.name).join(', ')})`);
    return c;
  };
  const unit = (clusterName: string, unitName: string): UnitReport => {
    const u = report.units.find((x) => x.cluster === clusterName && x.unit === unitName);
    assert.ok(u, `unit ${clusterName}/${unitName} missing from the report`);
    return u;
  };
  const specialNames = new Set([Fleet.clusterName(STOPPED), BLACK_HOLE]);

  before(async function () {
    this.timeout(300_000);
    for (const l of [...fleet.labs, partner]) untrack.push(trackLab(l));
    const built = buildCli();
    await fleet.up({ concurrency: 4 });
    await partner.up();
    cli = await built;

    // A unit that accepts TCP and never sends a byte (not even SSH's version line).
    blackHole = net.createServer((s) => {
      accepted++;
      silent.add(s);
      s.on('error', () => undefined);
      s.on('close', () => silent.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      blackHole!.once('error', reject);
      blackHole!.listen(0, labAddress(222), () => resolve());
    });
    blackHolePort = (blackHole.address() as net.AddressInfo).port;

    for (const [i, mails] of STRANDED) {
      const lab = fleet.labs[i];
      const m = lab.strand({ mails });
      stranded.set(Fleet.clusterName(i), { count: m.secondarySpool.length, oldestMs: oldestMtimeMs(lab.hostPath('secondary', 'spool')) });
    }
    await fleet.labs[TAKEN_OVER].takeover();
    await fleet.labs[STOPPED].stopUnit('secondary');
    assert.strictEqual(fleet.labs[TAKEN_OVER].activeUnit()?.name, 'fw-b', 'the takeover moved the gateway to fw-b');

    // The fleet's settings with the black hole's cluster first (so that a status that waited on it
    // in order would hold everything up), its secondary a real unit of the partner pair.
    const base = fleet.settings();
    const partnerUnits = (partner.settings()['mailgwHa.clusters'] as { units: { role: string }[] }[])[0].units;
    const hole = {
      name: BLACK_HOLE,
      server: partner.server,
      service: partner.service,
      units: [{ name: 'fw-a', role: 'primary', host: labAddress(222), port: blackHolePort, username: 'root', identityFile: partner.keyPath }, partnerUnits.find((u) => u.role === 'secondary')],
    };
    const knownHosts = path.join(fleet.stateDir, 'known_hosts-test');
    fs.writeFileSync(knownHosts, fs.readFileSync(fleet.knownHostsPath, 'utf8') + fs.readFileSync(partner.knownHostsPath, 'utf8'));
    settings = path.join(fleet.stateDir, 'settings-test.json');
    fs.writeFileSync(settings, JSON.stringify({ ...base, 'mailgwHa.clusters': [hole, ...(base['mailgwHa.clusters'] as unknown[])], 'mailgwHa.knownHostsFile': knownHosts }, null, 2) + '\n');

    json = await runTimedCli(cli, ['status', '--json', '--unit-timeout', String(UNIT_TIMEOUT_S), '--settings', settings]);
    try {
      report = JSON.parse(json.stdout) as typeof report;
    } catch {
      assert.fail(`status --json printed no JSON (exit ${json.code}):\n${json.stdout.slice(0, 2000)}\n${json.stderr.slice(0, 2000)}`);
    }
  });

  after(async function () {
    this.timeout(180_000);
    for (const s of silent) s.destroy();
    await new Promise<void>((resolve) => (blackHole ? blackHole.close(() => resolve()) : resolve()));
    // Both stopped whatever happens to the other; then any failure is reported.
    const downs = await Promise.allSettled([fleet.down({ concurrency: 4 }), partner.down()]);
    const failed = downs.filter((d): d is PromiseRejectedResult => d.status === 'rejected').map((d) => (d.reason as Error).message);
    if (failed.length === 0) for (const u of untrack) u(); // else still killed when mocha exits
    assert.deepStrictEqual(failed, [], 'fleet and partner pair down, nothing left behind');
  });

  it('reports all 21 clusters, most urgent first, and exits 1 because a unit was unreachable', () => {
    const names = report.clusters.map((c) => c.name);
    const expected = [BLACK_HOLE, ...fleet.labs.map((_, i) => Fleet.clusterName(i))];
    assert.deepStrictEqual([...names].sort(), [...expected].sort(), 'one entry per configured cluster');
    assert.strictEqual(report.units.length, 2 * expected.length, 'one entry per configured unit');
    const urgencies = report.clusters.map((c) => c.urgency);
    assert.deepStrictEqual(urgencies, [...urgencies].sort((a, b) => b - a), `clusters sorted by urgency: ${names.join(', ')}`);
    assert.strictEqual(json.code, 1, `exit code (stderr: ${json.stderr.slice(0, 500)})`);
  });

  it('shows each stranded pair with the count the lab stranded and the age of its oldest mail', () => {
    for (const [name, s] of stranded) {
      const c = cluster(name);
      assert.strictEqual(c.stranded, s.count, `${name}: stranded count`);
      assert.strictEqual(c.active, 'fw-a', `${name}: active unit`);
      assert.strictEqual(c.standby, 'fw-b', `${name}: standby unit`);
      assert.ok(c.oldestStrandedAgeS !== null, `${name}: oldest stranded age given`);
      // The age was taken some time during the run: between the file's age at its start and at its end.
      const low = Math.floor((json.startedAt - s.oldestMs) / 1000) - 1;
      const high = Math.ceil((json.endedAt - s.oldestMs) / 1000) + 1;
      assert.ok(c.oldestStrandedAgeS >= low && c.oldestStrandedAgeS <= high, `${name}: oldest stranded age ${c.oldestStrandedAgeS} s, expected ${low}..${high} s`);
      assert.ok(c.urgency > 0 && c.attention.some((a) => a.includes(`${s.count} mail(s) stranded`)), `${name}: needs attention for its stranded mail: ${JSON.stringify(c.attention)}`);
      assert.strictEqual(unit(name, 'fw-b')['count:spool'], s.count, `${name}/fw-b: mails in spool/`);
    }
    for (const c of report.clusters.filter((x) => !stranded.has(x.name) && !specialNames.has(x.name))) {
      assert.strictEqual(c.stranded, 0, `${c.name}: nothing stranded`);
      assert.strictEqual(c.oldestStrandedAgeS, null, `${c.name}: no stranded age`);
    }
  });

  it('shows the taken-over pair with its secondary active', () => {
    const name = Fleet.clusterName(TAKEN_OVER);
    const c = cluster(name);
    assert.strictEqual(c.active, 'fw-b', `${name}: active unit`);
    assert.deepStrictEqual(c.activeUnits, ['fw-b'], `${name}: units running the gateway`);
    assert.strictEqual(c.standby, 'fw-a', `${name}: standby unit`);
    assert.strictEqual(unit(name, 'fw-b').active, true, `${name}/fw-b active`);
    assert.strictEqual(unit(name, 'fw-a').active, false, `${name}/fw-a not active`);
  });

  it('lists the stopped unit as unreachable with its error, and its partner as looked at', () => {
    const name = Fleet.clusterName(STOPPED);
    const c = cluster(name);
    assert.deepStrictEqual(c.unreachable, ['fw-b'], `${name}: unreachable units`);
    assert.ok(c.errors['fw-b'], `${name}: an error for fw-b: ${JSON.stringify(c.errors)}`);
    assert.ok(c.urgency > 0 && c.attention.some((a) => a.includes('fw-b unreachable')), `${name}: needs attention: ${JSON.stringify(c.attention)}`);
    const dead = unit(name, 'fw-b');
    assert.strictEqual(dead.reachable, false, `${name}/fw-b reachable`);
    assert.ok(dead.error, `${name}/fw-b has an error`);
    assert.notStrictEqual(dead.timedOut, true, `${name}/fw-b was refused, not timed out: ${dead.error}`);
    const alive = unit(name, 'fw-a');
    assert.deepStrictEqual([alive.reachable, alive.error, alive.active], [true, undefined, true], `${name}/fw-a looked at`);
  });

  it('reports the black hole as timed out while every other cluster is reachable and complete', () => {
    assert.ok(accepted > 0, 'the status connected to the black hole');
    const c = cluster(BLACK_HOLE);
    assert.deepStrictEqual(c.unreachable, ['fw-a'], `${BLACK_HOLE}: unreachable units`);
    const hole = unit(BLACK_HOLE, 'fw-a');
    assert.strictEqual(hole.reachable, false, 'black hole reachable');
    assert.strictEqual(hole.timedOut, true, `black hole timed out: ${JSON.stringify(hole)}`);
    assert.ok(hole.error && new RegExp(`${UNIT_TIMEOUT_S} s|time`, 'i').test(hole.error), `black hole error names the timeout: ${hole.error}`);
    assert.ok(c.errors['fw-a'], `${BLACK_HOLE}: an error for fw-a`);
    const sibling = unit(BLACK_HOLE, 'fw-b');
    assert.deepStrictEqual([sibling.reachable, sibling.error], [true, undefined], `${BLACK_HOLE}/fw-b (a real unit) looked at`);

    // One dead unit spoils nothing else: every other unit answered in full.
    const others = report.units.filter((u) => !(u.cluster === BLACK_HOLE && u.unit === 'fw-a') && !(u.cluster === Fleet.clusterName(STOPPED) && u.unit === 'fw-b'));
    const bad = others.filter((u) => !u.reachable || u.error || typeof u['count:spool'] !== 'number');
    assert.deepStrictEqual(bad, [], 'every other unit reachable, without error, with its mail counted');
    for (const x of report.clusters.filter((cl) => !specialNames.has(cl.name))) {
      assert.deepStrictEqual([x.unreachable, x.errors], [[], {}], `${x.name}: nothing unreachable`);
      assert.strictEqual(x.active, x.name === Fleet.clusterName(TAKEN_OVER) ? 'fw-b' : 'fw-a', `${x.name}: active unit`);
    }
  });

  it('--csv and --jsonl give one row per cluster with the same figures', async () => {
    const common = ['--unit-timeout', String(UNIT_TIMEOUT_S), '--settings', settings];
    const [csvRun, jsonlRun] = [await runTimedCli(cli, ['status', '--csv', ...common]), await runTimedCli(cli, ['status', '--jsonl', ...common])];
    for (const [what, r] of [['--csv', csvRun], ['--jsonl', jsonlRun]] as const) assert.strictEqual(r.code, 1, `${what} exit code (stderr: ${r.stderr.slice(0, 500)})`);

    const [header, ...rows] = parseCsv(csvRun.stdout);
    const columns = ['cluster', 'urgency', 'attention', 'active', 'standby', 'stranded', 'oldestStrandedAgeS', 'stuckMails', 'stuckOldestAgeS', 'syncState', 'syncLagMails', 'syncOldestLagS', 'unreachable', 'lastRecoveryAt', 'lastRecoveryOutcome', 'elapsedMs'];
    assert.deepStrictEqual(header, columns, 'CSV header');
    const csv = rows.map((r) => {
      assert.strictEqual(r.length, columns.length, `CSV row with ${columns.length} cells: ${JSON.stringify(r)}`);
      return Object.fromEntries(columns.map((c, i) => [c, r[i]]));
    });
    const jsonl = jsonlRun.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

    for (const [what, table] of [
      ['CSV', csv.map((r) => ({ cluster: r.cluster, active: r.active || null, standby: r.standby || null, stranded: Number(r.stranded), aged: r.oldestStrandedAgeS !== '', stuckMails: Number(r.stuckMails), unreachable: r.unreachable, urgency: Number(r.urgency), tier: Math.floor(Number(r.urgency)) }))],
      ['JSON lines', jsonl.map((r) => ({ cluster: r.cluster, active: r.active, standby: r.standby, stranded: r.stranded, aged: r.oldestStrandedAgeS !== null, stuckMails: r.stuckMails, unreachable: r.unreachable, urgency: r.urgency, tier: Math.floor(r.urgency as number) }))],
    ] as const) {
      // The urgency's tier (its whole part) is what the figures decide; its fraction grows with the
      // stranded mail's age, which moves between runs.
      assert.deepStrictEqual(
        [...table].map(({ urgency: _, ...r }) => r).sort((a, b) => String(a.cluster).localeCompare(String(b.cluster))),
        report.clusters
          .map((c) => ({ cluster: c.name, active: c.active, standby: c.standby, stranded: c.stranded, aged: c.oldestStrandedAgeS !== null, stuckMails: c.stuck?.count ?? 0, unreachable: c.unreachable.join('; '), tier: Math.floor(c.urgency) }))
          .sort((a, b) => a.cluster.localeCompare(b.cluster)),
        `${what}: one row per cluster with the figures of --json`,
      );
      const urgencies = table.map((r) => r.urgency as number);
      assert.deepStrictEqual(urgencies, [...urgencies].sort((a, b) => b - a), `${what}: rows most urgent first`);
    }
  });
});
