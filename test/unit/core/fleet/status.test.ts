// What the fleet view and `mailgw-ha status` promise an admin with many pairs: which unit is active,
// what is stranded on the standby and how old, stuck mail on the active unit, the unreachable units,
// the last recovery; the most urgent cluster first; a silent unit reported as such without holding
// up the others; one export row per cluster.
import * as assert from 'assert';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { ClusterConfig, parseSettings } from '../../../../src/core/config';
import { toCsv } from '../../../../src/core/export/table';
import { lastRecoveryOf } from '../../../../src/core/fleet/lastRecovery';
import { fleetTable, lookAtFleet, rankClusters, summarizeCluster, UnitLookResult } from '../../../../src/core/fleet/status';
import { MemorySecretStore, noPrompts, silentLogger } from '../../../../src/core/host';
import { defaultJournalFile } from '../../../../src/core/recovery/journalPath';
import { FolderListing, pairEntries, RawDirEntry, SPOOL_FOLDERS, SpoolFolder } from '../../../../src/core/spool/list';
import type { UnitOverview } from '../../../../src/core/spool/overview';
import { ConnectionPool } from '../../../../src/core/ssh/pool';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const HOUR = 3600_000;

function cluster(name: string, hosts: [string, string] = ['127.0.0.2', '127.0.0.3'], ports: [number?, number?] = []): ClusterConfig {
  const parsed = parseSettings([{ name, server: 'box1', service: 'mailgw', units: [
    { name: 'fw-a', role: 'primary', host: hosts[0], port: ports[0] },
    { name: 'fw-b', role: 'secondary', host: hosts[1], port: ports[1] },
  ] }]);
  assert.deepStrictEqual(parsed.errors, []);
  return parsed.clusters[0];
}

function listing(folder: SpoolFolder, agesS: number[]): FolderListing {
  const entries: RawDirEntry[] = agesS.flatMap((age, i) => ['body', 'env'].map((p) => ({ filename: `00000-00000-${String(i).padStart(5, '0')}.${p}`, mode: 0o100644, size: 10, mtime: (NOW - age * 1000) / 1000 })));
  return pairEntries(folder, `/var/phion/spool/mgw/box1_mailgw/${folder}`, entries);
}

function overview(active: boolean, ages: Partial<Record<SpoolFolder, number[]>> = {}): UnitOverview {
  const folders = Object.fromEntries(SPOOL_FOLDERS.map((f) => [f, listing(f, ages[f] ?? [])])) as Record<SpoolFolder, FolderListing>;
  return { gateway: { pids: active ? [42] : [] } as unknown as UnitOverview['gateway'], active, folders, loadedAt: NOW, elapsedMs: 5 };
}

function looks(c: ClusterConfig, a: UnitOverview | string, b: UnitOverview | string): UnitLookResult[] {
  const one = (unit: ClusterConfig['primary'], o: UnitOverview | string): UnitLookResult => (typeof o === 'string' ? { cluster: c.name, unit, error: o, elapsedMs: 10 } : { cluster: c.name, unit, overview: o, elapsedMs: 10 });
  return [one(c.primary, a), one(c.secondary, b)];
}

const ctx = { nowMs: NOW, stuckAfterMs: HOUR };

describe('core/fleet/status: one cluster summed up', () => {
  it('counts mail on a standby secondary as stranded, with the age of the oldest', () => {
    const c = cluster('p1');
    const s = summarizeCluster(c, looks(c, overview(true), overview(false, { spool: [60, 7200], vscan: [30] })), ctx);
    assert.strictEqual(s.active, 'fw-a');
    assert.strictEqual(s.standby, 'fw-b');
    assert.strictEqual(s.stranded, 3);
    assert.strictEqual(s.oldestStrandedAgeS, 7200);
    assert.match(s.attention[0], /3 mail\(s\) stranded on fw-b \(oldest 2 h\)/);
    assert.ok(s.urgency >= 40 && s.urgency < 50, `stranded tier: ${s.urgency}`);
  });

  it('after a takeover the secondary is active: its mail is its queue, not stranded; old mail there is stuck', () => {
    const c = cluster('p1');
    const s = summarizeCluster(c, looks(c, overview(false), overview(true, { spool: [120, 2 * 3600, 3 * 3600] })), ctx);
    assert.strictEqual(s.active, 'fw-b');
    assert.strictEqual(s.stranded, 0);
    assert.deepStrictEqual(s.stuck, { unit: 'fw-b', folder: 'spool', count: 2, oldestAgeS: 3 * 3600 });
    assert.ok(s.attention.some((a) => /2 mail\(s\) older than 60 min in fw-b's spool\/ \(oldest 3 h\)/.test(a)), s.attention.join(' | '));
  });

  it('the gateway on both units outranks everything (mail may be delivered twice); on neither comes next', () => {
    const c = cluster('p1');
    const both = summarizeCluster(c, looks(c, overview(true), overview(true)), ctx);
    const none = summarizeCluster(c, looks(c, overview(false), overview(false, { spool: [10] })), ctx);
    const stranded = summarizeCluster(c, looks(c, overview(true), overview(false, { spool: [10] })), ctx);
    assert.strictEqual(both.active, null);
    assert.deepStrictEqual(both.activeUnits, ['fw-a', 'fw-b']);
    assert.match(both.attention[0], /both units/);
    assert.match(none.attention[0], /neither unit/);
    assert.ok(both.urgency > none.urgency && none.urgency > stranded.urgency, `${both.urgency} > ${none.urgency} > ${stranded.urgency}`);
  });

  it('an unreachable unit is named with its error; the active unit is not guessed', () => {
    const c = cluster('p1');
    const s = summarizeCluster(c, looks(c, overview(true), 'connect ECONNREFUSED 127.0.0.3:22'), ctx);
    assert.deepStrictEqual(s.unreachable, ['fw-b']);
    assert.strictEqual(s.errors['fw-b'], 'connect ECONNREFUSED 127.0.0.3:22');
    assert.strictEqual(s.active, 'fw-a');
    assert.ok(s.attention.includes('fw-b unreachable'));
    const dark = summarizeCluster(c, looks(c, 'refused', 'refused'), ctx);
    assert.strictEqual(dark.active, null);
    assert.ok(!dark.attention.some((a) => /neither unit/.test(a)), 'unseen units are not "no active unit"');
  });

  it('an unfinished last recovery is urgent; a healthy pair needs nothing', () => {
    const c = cluster('p1');
    const unfinished = summarizeCluster(c, looks(c, overview(true), overview(false)), { ...ctx, lastRecovery: { at: '2026-12-01T10:00:00.000Z', outcome: 'unfinished', journal: '/j' } });
    assert.match(unfinished.attention[0], /did not finish/);
    const ok = summarizeCluster(c, looks(c, overview(true, { spool: [30] }), overview(false)), { ...ctx, lastRecovery: { at: '2026-12-01T10:00:00.000Z', outcome: 'done', mails: 4, journal: '/j' } });
    assert.strictEqual(ok.urgency, 0);
    assert.deepStrictEqual(ok.attention, []);
  });

  it('ranks most urgent first, more and older stranded mail first within a tier, then by name', () => {
    const mk = (name: string, ages: number[]) => {
      const c = cluster(name);
      return summarizeCluster(c, looks(c, overview(true), overview(false, { spool: ages })), ctx);
    };
    const ranked = rankClusters([mk('pair-2', []), mk('pair-10', [60]), mk('pair-1', [60, 60, 86400]), mk('pair-3', [])]);
    assert.deepStrictEqual(ranked.map((r) => r.name), ['pair-1', 'pair-10', 'pair-2', 'pair-3']);
    assert.deepStrictEqual(rankClusters(ranked, 'name').map((r) => r.name), ['pair-1', 'pair-2', 'pair-3', 'pair-10']);
  });

  it('exports one row per cluster; text from units stays one CSV line and no formula', () => {
    const c = cluster('=HYPERLINK("x")');
    const s = summarizeCluster(c, looks(c, overview(true), 'bad\r\nline'), ctx);
    const csv = toCsv(fleetTable([s])).split('\r\n');
    assert.strictEqual(csv.length, 3, 'header, one row, final line break');
    assert.ok(csv[1].startsWith(`"'=HYPERLINK(""x"")"`), csv[1]);
    assert.strictEqual(fleetTable([s]).rows[0].unreachable, 'fw-b');
  });
});

describe('core/fleet/status: looking at the fleet', () => {
  const silent: net.Server[] = [];
  after(() => silent.forEach((s) => s.close()));

  it('a unit that accepts TCP and never answers is reported timed out; each unit gets its own deadline', async function () {
    this.timeout(20_000);
    const sockets: net.Socket[] = [];
    const ports: number[] = [];
    for (let i = 0; i < 6; i++) {
      const s = net.createServer((sock) => {
        sock.resume(); // read, so that the client's end is seen
        sockets.push(sock);
      });
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      silent.push(s);
      ports.push((s.address() as net.AddressInfo).port);
    }
    const clusters = [0, 1, 2].map((i) => cluster(`dark-${i}`, ['127.0.0.1', '127.0.0.1'], [ports[2 * i], ports[2 * i + 1]]));
    const pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [], sshConfigFile: '/nonexistent', connectTimeoutMs: 60_000 });
    pool.update(clusters.flatMap((c) => c.units));
    const seen: string[] = [];
    // A log-in someone else started (a recovery, the Clusters view) before the look: never reset by it.
    let othersLogin = 'pending';
    pool.get(clusters[2].secondary).connect(false).then(
      () => (othersLogin = 'connected'),
      (e: Error) => (othersLogin = e.message),
    );
    try {
      const fleet = await lookAtFleet(pool, clusters, { concurrency: 2, unitTimeoutMs: 400, stuckAfterMs: HOUR, onUnit: (l) => seen.push(l.unit.key) });
      assert.strictEqual(fleet.units.length, 6);
      assert.ok(fleet.units.every((u) => u.timedOut && u.errorCode === 'timeout' && /no answer within 0 s|no answer within 1 s/.test(u.error ?? '')), JSON.stringify(fleet.units.map((u) => u.error)));
      assert.strictEqual(seen.length, 6, 'every unit reported as it finished');
      assert.deepStrictEqual(fleet.clusters.map((c) => [...c.unreachable]), clusters.map(() => ['fw-a', 'fw-b']));
      // The silent units' log-ins were dropped, not left hanging until the connect timeout (60 s here):
      // every socket they opened is closed from our side.
      assert.ok(clusters.flatMap((c) => c.units).filter((u) => u !== clusters[2].secondary).every((u) => pool.get(u).state !== 'connecting'), 'no log-in of its own left connecting');
      assert.strictEqual(othersLogin, 'pending', 'the log-in the look did not start is left alone');
      const own = sockets.filter((x) => (x.address() as net.AddressInfo).port !== ports[5]);
      const deadline = Date.now() + 5_000;
      while (own.some((x) => !x.closed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.strictEqual(own.length, 5);
      assert.deepStrictEqual(own.map((x) => x.closed), own.map(() => true), `${own.filter((x) => !x.closed).length} of ${own.length} sockets of the look's own log-ins still open 5 s after it`);
    } finally {
      pool.dispose();
      sockets.forEach((s) => s.destroy());
    }
  });
});

describe('core/fleet/lastRecovery: from the journals', () => {
  let home: string;
  beforeEach(() => (home = fs.mkdtempSync(path.join(os.tmpdir(), 'mgw-fleet-'))));
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  const write = (file: string, records: object[], torn = false) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n' + (torn ? '{"t":"end","outc' : ''));
  };
  const run = (at: string) => ({ t: 'run', v: 1, runId: at, cluster: 'p1', primary: 'fw-a', secondary: 'fw-b', spoolBase: '/x', stage: '/x/.s', logFile: '/l', at });
  const plan = { t: 'plan', mails: [{ id: '1', folder: 'spool', bodySize: 1, envSize: 1 }, { id: '2', folder: 'spool', bodySize: 1, envSize: 1 }] };

  it('none when the cluster never ran a recovery here; the newest archived run otherwise', () => {
    const c = cluster('p1');
    const env = { XDG_STATE_HOME: home };
    assert.strictEqual(lastRecoveryOf(c, env), undefined);
    const dir = path.dirname(defaultJournalFile(c, env));
    write(path.join(dir, 'journal-20261130-100000.done.jsonl'), [run('2026-11-30T10:00:00.000Z'), plan, { t: 'end', outcome: 'failed', at: 'x', message: 'lost' }]);
    write(path.join(dir, 'journal-20261201-090000.done.jsonl'), [run('2026-12-01T09:00:00.000Z'), plan, { t: 'end', outcome: 'done', at: 'x' }]);
    assert.deepStrictEqual(lastRecoveryOf(c, env), { at: '2026-12-01T09:00:00.000Z', outcome: 'done', mails: 2, held: 0, message: undefined, journal: path.join(dir, 'journal-20261201-090000.done.jsonl') });
  });

  it('an open journal without its end, torn last line included, is an unfinished run and wins', () => {
    const c = cluster('p1');
    const env = { XDG_STATE_HOME: home };
    const current = defaultJournalFile(c, env);
    write(path.join(path.dirname(current), 'journal-20261201-090000.done.jsonl'), [run('2026-12-01T09:00:00.000Z'), plan, { t: 'end', outcome: 'done', at: 'x' }]);
    write(current, [run('2026-12-01T11:00:00.000Z'), plan, { t: 'state', ids: ['1'], state: 'held', at: 'x' }], true);
    const last = lastRecoveryOf(c, env)!;
    assert.strictEqual(last.outcome, 'unfinished');
    assert.strictEqual(last.at, '2026-12-01T11:00:00.000Z');
    assert.strictEqual(last.held, 1);
  });
});
