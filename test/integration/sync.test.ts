// HA sync health against a lab whose simulator mirrors mail to its partner (its own lab, sync on).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseSettings } from '../../src/core/config';
import { MemorySecretStore, noPrompts } from '../../src/core/host';
import { ConnectionPool } from '../../src/core/ssh/pool';
import { recover } from '../../src/core/recovery/run';
import { parseRecoverySettings } from '../../src/core/recovery/settings';
import { readSyncHealth, SyncHealth, SyncSettings } from '../../src/core/sync/health';
import { DEFAULT_STATE_DIR, Lab, labPair } from '../lab/lab';
import { trackLab } from './hooks';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sync: HA sync health (separate lab with the sync on)', function () {
  this.timeout(180_000);
  const l = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'side', 'sync'), addresses: labPair(10), syncDelayMs: 1000 });
  let untrack: () => void;
  let pool: ConnectionPool;
  const settings: SyncSettings = { intervalMs: 1500, lagWarningMs: 2500, transactionLog: '/var/phion/spool/mgw/box1_mailgw/sync.tlog' };
  const cluster = () => {
    const raw = JSON.parse(fs.readFileSync(l.settingsPath, 'utf8')) as Record<string, unknown>;
    return parseSettings(raw['mailgwHa.clusters']).clusters[0];
  };
  async function until(what: string, probe: () => Promise<SyncHealth>, ok: (h: SyncHealth) => boolean, ms = 60_000): Promise<SyncHealth> {
    const deadline = Date.now() + ms;
    let h = await probe();
    while (!ok(h) && Date.now() < deadline) {
      await sleep(250);
      h = await probe();
    }
    assert.ok(ok(h), `${what}: ${JSON.stringify(h)}`);
    return h;
  }

  before(async () => {
    untrack = trackLab(l);
    await l.up();
    pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: { debug() {}, info() {}, warn() {}, error() {} }, knownHostsFiles: [l.knownHostsPath], sshConfigFile: '/nonexistent' });
  });
  after(async () => {
    pool?.dispose();
    await l.down();
    untrack();
  });
  beforeEach(() => l.reset());

  it('mirrors spooled mail to the standby and reports the pair in step', async () => {
    l.pauseDelivery('primary');
    const mails = [l.putMail('primary', 'spool'), l.putMail('primary', 'spool')];
    await until('in step', () => readSyncHealth(pool, cluster(), settings), (h) => h.state === 'ok' && h.lagging.length === 0 && h.pendingActions === 0 && mails.every((m) => fs.existsSync(path.join(l.hostPath('secondary', 'spool'), `${m.id}.env`))));
  });

  it('shows lag and pending actions while the sync path is cut, and clears them after heal', async () => {
    l.pauseDelivery('primary');
    l.partition();
    const mails = [0, 1, 2].map(() => l.putMail('primary', 'spool'));
    const lagging = await until('lagging', () => readSyncHealth(pool, cluster(), settings), (h) => h.state === 'lagging');
    assert.deepStrictEqual(lagging.lagging.map((x) => x.id).sort(), mails.map((m) => m.id).sort());
    assert.ok(lagging.oldestLagMs! > settings.lagWarningMs);
    assert.strictEqual(lagging.pendingActions, 3);
    assert.match(lagging.warning!, /3 mail\(s\) on fw-a not mirrored to fw-b for up to \d+ s: a takeover now would strand them/);
    l.heal();
    const healed = await until('healed', () => readSyncHealth(pool, cluster(), settings), (h) => h.state === 'ok' && h.lagging.length === 0 && h.pendingActions === 0);
    assert.deepStrictEqual(healed.standbyOnly, []);
  });

  it('flags standby copies of mail the active unit delivered while the path was cut (duplicate candidates) until the delete syncs', async () => {
    l.pauseDelivery('primary');
    const mails = [l.putMail('primary', 'spool'), l.putMail('primary', 'spool')];
    await until('mirrored', () => readSyncHealth(pool, cluster(), settings), () => mails.every((m) => fs.existsSync(path.join(l.hostPath('secondary', 'spool'), `${m.id}.env`))));
    l.partition();
    l.resumeDelivery('primary');
    const h = await until('standby-only copies', () => readSyncHealth(pool, cluster(), settings), (x) => x.standbyOnly.length === 2);
    assert.deepStrictEqual([...h.standbyOnly].sort(), mails.map((m) => m.id).sort());
    assert.strictEqual(h.pendingActions, 2);
    assert.strictEqual(l.deliveries().total, 2);
    l.heal();
    await until('copies removed', () => readSyncHealth(pool, cluster(), settings), (x) => x.standbyOnly.length === 0 && x.pendingActions === 0);
  });

  it('says "unknown" for pending actions when the transaction log path is not configured', async () => {
    const h = await readSyncHealth(pool, cluster(), { intervalMs: 1500, lagWarningMs: 2500 });
    assert.strictEqual(h.pendingActions, 'unknown');
  });

  it('reports no active unit when the gateway runs on neither', async () => {
    await l.stopGateway('primary');
    const h = await readSyncHealth(pool, cluster(), settings);
    assert.strictEqual(h.state, 'no-active-unit');
    assert.match(h.warning!, /runs on neither unit/);
  });

  it('a takeover during traffic with the sync path cut, then recovery: every Message-ID delivered exactly once', async function () {
    this.timeout(300_000);
    const ids = (ms: { id: string }[]) => ms.map((m) => m.id).sort();
    const onUnit = (ref: 'primary' | 'secondary', id: string) => fs.existsSync(path.join(l.hostPath(ref, 'spool'), `${id}.env`));
    // Deadlines for a stall, not speed targets: each sync action is an ssh connection, slow under load.
    const waitFor = async (what: string, ok: () => boolean, ms = 60_000) => {
      const deadline = Date.now() + ms;
      while (!ok() && Date.now() < deadline) await sleep(100);
      assert.ok(ok(), what);
    };
    const all: { id: string; messageId: string }[] = [];
    const put = (ref: 'primary' | 'secondary') => {
      const m = l.putMail(ref, 'spool');
      all.push(m);
      return m;
    };
    // Traffic on the primary, mirrored to the secondary (delivery held so it stays in flight).
    l.pauseDelivery('primary');
    const a = [0, 1, 2, 3, 4, 5].map(() => put('primary'));
    await waitFor('A mirrored', () => a.every((m) => onUnit('secondary', m.id)));
    // The sync path breaks; more traffic reaches only the primary.
    l.partition();
    const b = [0, 1, 2, 3].map(() => put('primary'));
    // Takeover: the secondary delivers its copies of A; its deletes of the primary's A wait in its transaction log.
    await l.takeover();
    assert.ok(b.every((m) => !onUnit('secondary', m.id)), 'B never reached the secondary');
    await waitFor('A delivered by the secondary', () => a.every((m) => l.deliveries().byMessageId[m.messageId] === 1));
    l.pauseDelivery('secondary');
    const c1 = [0, 1, 2].map(() => put('secondary'));
    // The path heals: the deletes replay (A leaves the primary) and C1 is mirrored to the primary.
    l.heal();
    await waitFor('A removed from the primary, C1 mirrored to it', () => a.every((m) => !onUnit('primary', m.id)) && c1.every((m) => onUnit('primary', m.id)));
    // It breaks again; C2 reaches only the secondary. Takeback while cut.
    l.partition();
    const c2 = [0, 1].map(() => put('secondary'));
    await l.takeback();
    // The primary keeps what it holds until the recovery is done: a delivery between the health
    // read and the check below would change which mails are only on the standby.
    const before = await readSyncHealth(pool, cluster(), settings);
    assert.deepStrictEqual([...before.standbyOnly].sort(), ids([...c1, ...c2].filter((m) => !onUnit('primary', m.id))), 'sync health: the mails only on the standby');

    const recoveryPool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: { debug() {}, info() {}, warn() {}, error() {} }, knownHostsFiles: [l.knownHostsPath], sshConfigFile: '/nonexistent' });
    try {
      const report = await recover({ pool: recoveryPool, cluster: cluster(), settings: parseRecoverySettings({}).settings, journalFile: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-sync-rec-')), 'j.jsonl'), confirmTimeoutMs: 30_000 });
      assert.strictEqual(report.outcome, 'done', JSON.stringify(report.errors));
      assert.deepStrictEqual(report.plan?.move.slice().sort(), ids(c2), 'only the mails the primary never had are moved');
      assert.ok(ids(c1).every((id) => report.plan!.duplicates.some((d) => d.id === id)), 'the mirrored C1 are duplicates, not moved');
    } finally {
      recoveryPool.dispose();
    }
    l.resumeDelivery('primary');
    l.heal();
    await waitFor('everything delivered', () => all.every((m) => (l.deliveries().byMessageId[m.messageId] ?? 0) >= 1), 90_000);
    await l.waitForQuiet(); // after this no second delivery can come late
    const d = l.deliveries();
    assert.deepStrictEqual({ lost: all.filter((m) => !d.byMessageId[m.messageId]).map((m) => m.id), twice: all.filter((m) => d.byMessageId[m.messageId] > 1).map((m) => m.id) }, { lost: [], twice: [] });
  });
});
