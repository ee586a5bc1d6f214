// The sync health a user reads before a takeover: which mails the standby lacks (a takeover would
// strand them), which copies only the standby holds (could be delivered twice), when that is a
// warning, and which sync settings are used when the configured ones are missing or bad.
import * as assert from 'assert';
import { MemorySecretStore, noPrompts, silentLogger } from '../../../../src/core/host';
import { FolderListing, pairEntries, RawDirEntry } from '../../../../src/core/spool/list';
import { ConnectionPool } from '../../../../src/core/ssh/pool';
import { compareSpools, parseSyncSettings, SyncSettings, syncHealthOf, UnitLook } from '../../../../src/core/sync/health';
import { labCluster } from '../labCluster';

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const REGULAR = 0o100644;
const SETTINGS: SyncSettings = { intervalMs: 10_000, lagWarningMs: 60_000 };

/** A spool/ listing of mails `ageS` seconds old; "body-only" and "env-only" mails are incomplete. */
function spool(mails: Record<string, number | ['body-only' | 'env-only', number]>): FolderListing {
  const entries: RawDirEntry[] = [];
  for (const [id, v] of Object.entries(mails)) {
    const [parts, ageS] = typeof v === 'number' ? [['body', 'env'], v] : [[v[0] === 'body-only' ? 'body' : 'env'], v[1]];
    for (const p of parts) entries.push({ filename: `${id}.${p}`, mode: REGULAR, size: 100, mtime: (NOW - ageS * 1000) / 1000 });
  }
  return pairEntries('spool', '/var/phion/spool/mgw/box1_mailgw/spool', entries);
}

const cluster = labCluster();

/** A real pool that knows no unit: any attempt to reach one fails at once instead of connecting. */
function unreachablePool(): ConnectionPool {
  const pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [] });
  pool.update([]);
  return pool;
}

const look = (unit: 'primary' | 'secondary', active: boolean, listing: FolderListing): UnitLook => ({ unit: cluster[unit], active, spool: listing });

describe('core/sync/health: compareSpools', () => {
  it('reports complete mails on the active unit older than the sync interval and not on the standby, oldest first', () => {
    const active = spool({ fresh: 5, old: 300, older: 900, mirrored: 600 });
    const standby = spool({ mirrored: 590 });
    const r = compareSpools(active, standby, NOW, SETTINGS);
    assert.deepStrictEqual(r.lagging, [
      { id: 'older', ageMs: 900_000 },
      { id: 'old', ageMs: 300_000 },
    ]);
    assert.strictEqual(r.oldestLagMs, 900_000);
    assert.deepStrictEqual(r.standbyOnly, []);
  });

  it('a mail exactly as old as the interval is not lagging yet; one a second older is', () => {
    const r = compareSpools(spool({ edge: 10, past: 11 }), spool({}), NOW, SETTINGS);
    assert.deepStrictEqual(r.lagging.map((l) => l.id), ['past']);
  });

  it('an incomplete copy on the standby does not count as mirrored; an incomplete mail on the active unit is not lagging', () => {
    const r = compareSpools(spool({ halfCopied: 120, stillWriting: ['body-only', 120] }), spool({ halfCopied: ['body-only', 100] }), NOW, SETTINGS);
    assert.deepStrictEqual(r.lagging.map((l) => l.id), ['halfCopied']);
  });

  it('reports complete copies only the standby holds (delivered on the active unit, removal not synced)', () => {
    const r = compareSpools(spool({ both: 50 }), spool({ both: 50, deliveredElsewhere: 400, partial: ['env-only', 400] }), NOW, SETTINGS);
    assert.deepStrictEqual(r.standbyOnly, ['deliveredElsewhere']);
  });

  it('nothing lagging: no oldest lag', () => {
    const r = compareSpools(spool({ a: 100 }), spool({ a: 100 }), NOW, SETTINGS);
    assert.deepStrictEqual(r, { lagging: [], oldestLagMs: undefined, standbyOnly: [] });
  });
});

describe('core/sync/health: syncHealthOf', () => {
  const now = () => NOW;

  it('ok when the only lag is under the warning time; names the active and the standby unit', async () => {
    const h = await syncHealthOf(unreachablePool(), cluster, [look('primary', true, spool({ slow: 30 })), look('secondary', false, spool({ gone: 40 }))], SETTINGS, now);
    assert.strictEqual(h.state, 'ok');
    assert.strictEqual(h.warning, undefined);
    assert.strictEqual(h.active, 'fw-a');
    assert.strictEqual(h.standby, 'fw-b');
    assert.deepStrictEqual(h.lagging, [{ id: 'slow', ageMs: 30_000 }]);
    assert.deepStrictEqual(h.standbyOnly, ['gone']);
    assert.strictEqual(h.pendingActions, 'unknown', 'no transaction log configured');
  });

  it('lagging when a mail waits longer than the warning time, with a warning that names both units and the count', async () => {
    const h = await syncHealthOf(unreachablePool(), cluster, [look('primary', false, spool({})), look('secondary', true, spool({ a: 61, b: 200, c: 5 }))], SETTINGS, now);
    assert.strictEqual(h.state, 'lagging');
    assert.strictEqual(h.active, 'fw-b', 'whichever unit runs the gateway is the active one');
    assert.strictEqual(h.standby, 'fw-a');
    assert.strictEqual(h.oldestLagMs, 200_000);
    assert.strictEqual(h.warning, '2 mail(s) on fw-b not mirrored to fw-a for up to 200 s: a takeover now would strand them');
  });

  it('the lag warning time comes from the settings', async () => {
    const looks = [look('primary', true, spool({ a: 61 })), look('secondary', false, spool({}))];
    assert.strictEqual((await syncHealthOf(unreachablePool(), cluster, looks, SETTINGS, now)).state, 'lagging');
    assert.strictEqual((await syncHealthOf(unreachablePool(), cluster, looks, { ...SETTINGS, lagWarningMs: 120_000 }, now)).state, 'ok');
  });

  it('no active unit, or both active: says so with a warning and compares nothing', async () => {
    const none = await syncHealthOf(unreachablePool(), cluster, [look('primary', false, spool({ a: 900 })), look('secondary', false, spool({}))], SETTINGS, now);
    assert.strictEqual(none.state, 'no-active-unit');
    assert.match(none.warning ?? '', /box1_mailgw runs on neither unit/);
    assert.deepStrictEqual([none.lagging, none.standbyOnly, none.active], [[], [], undefined]);
    const both = await syncHealthOf(unreachablePool(), cluster, [look('primary', true, spool({ a: 900 })), look('secondary', true, spool({}))], SETTINGS, now);
    assert.strictEqual(both.state, 'both-active');
    assert.match(both.warning ?? '', /box1_mailgw runs on both units: mail may be delivered twice/);
    assert.deepStrictEqual(both.lagging, []);
  });

  it('a transaction log that cannot be read is "unknown" pending actions, never 0, and the health is still given', async () => {
    const h = await syncHealthOf(unreachablePool(), cluster, [look('primary', true, spool({})), look('secondary', false, spool({}))], { ...SETTINGS, transactionLog: '/var/phion/mgw/sync.log' }, now);
    assert.strictEqual(h.pendingActions, 'unknown');
    assert.strictEqual(h.state, 'ok');
  });
});

describe('core/sync/health: parseSyncSettings', () => {
  const from = (raw: Record<string, unknown>) => parseSyncSettings((k) => raw[k]);

  it('uses 10 s interval, 60 s warning and no transaction log when nothing is set', () => {
    assert.deepStrictEqual(from({}), { intervalMs: 10_000, lagWarningMs: 60_000, transactionLog: undefined });
  });

  it('reads seconds as milliseconds and an absolute transaction log path', () => {
    assert.deepStrictEqual(from({ 'mailgwHa.syncIntervalSeconds': 2.5, 'mailgwHa.syncLagWarningSeconds': 300, 'mailgwHa.syncTransactionLog': '/var/phion/mgw/tx.log' }), { intervalMs: 2500, lagWarningMs: 300_000, transactionLog: '/var/phion/mgw/tx.log' });
  });

  it('falls back to the default for each bad time on its own: zero, negative, text, null, NaN', () => {
    for (const bad of [0, -5, '30', null, Number.NaN, true]) {
      assert.deepStrictEqual(from({ 'mailgwHa.syncIntervalSeconds': bad, 'mailgwHa.syncLagWarningSeconds': 90 }), { intervalMs: 10_000, lagWarningMs: 90_000, transactionLog: undefined }, `interval ${String(bad)}`);
      assert.deepStrictEqual(from({ 'mailgwHa.syncIntervalSeconds': 20, 'mailgwHa.syncLagWarningSeconds': bad }), { intervalMs: 20_000, lagWarningMs: 60_000, transactionLog: undefined }, `warning ${String(bad)}`);
    }
  });

  it('ignores a transaction log that is not an absolute path', () => {
    for (const bad of ['relative/tx.log', '~/tx.log', '', 42, ['/a']]) assert.strictEqual(from({ 'mailgwHa.syncTransactionLog': bad }).transactionLog, undefined, JSON.stringify(bad));
  });
});
