// What the user reads and relies on before approving a recovery: the plan's counts and why a mail is
// skipped, the primary's logs that were searched, and the refusal to "recover" a unit onto itself.
// (Which mail is moved, skipped or held is decided inside makePlan over live UnitConnections; that is
// covered by the integration tests against the lab, not here.)
import * as assert from 'assert';
import type { ClusterConfig } from '../../../../src/core/config';
import { MemorySecretStore, noPrompts, silentLogger } from '../../../../src/core/host';
import { checkPair, describeLogs, describePlan, makePlan, PlanMail, RecoveryPlan } from '../../../../src/core/recovery/plan';
import { RecoveryError } from '../../../../src/core/recovery/remote';
import { ConnectionPool } from '../../../../src/core/ssh/pool';
import { labCluster } from '../labCluster';

const MiB = 1024 * 1024;

function mail(id: string, over: Partial<PlanMail> = {}): PlanMail {
  return { id, folder: 'spool', bodySize: 0, envSize: 0, mtimeMs: 0, classification: 'move', ...over };
}

function plan(over: Partial<RecoveryPlan> = {}): RecoveryPlan {
  return { cluster: 'lab', primary: 'lab/fw-a', secondary: 'lab/fw-b', primaryPid: 4242, folders: ['spool', 'vscan'], mails: [], move: [], duplicates: [], incomplete: [], held: [], logs: { files: [] }, warnings: [], ignored: [], moveBytes: 0, ...over };
}

describe('core/recovery/plan: describePlan', () => {
  it('says how many mails move, how big, from which unit to which; nothing else when nothing else is there', () => {
    const move = [mail('a', { bodySize: MiB, envSize: MiB / 2 })];
    assert.strictEqual(describePlan(plan({ move, mails: move, moveBytes: 1.5 * MiB })), '1 mail(s) to move (1.5 MB) from lab/fw-b to lab/fw-a');
    assert.strictEqual(describePlan(plan()), '0 mail(s) to move (0.0 MB) from lab/fw-b to lab/fw-a');
  });

  it('counts duplicates, held, incomplete and ignored entries, each in its own part', () => {
    const text = describePlan(
      plan({
        move: [mail('m1'), mail('m2')],
        duplicates: [mail('d1', { classification: 'duplicate' })],
        held: [mail('h1', { classification: 'held' }), mail('h2', { classification: 'held' }), mail('h3', { classification: 'held' })],
        incomplete: [mail('i1', { classification: 'incomplete' })],
        ignored: [
          { name: '.tmp1', reason: 'temporary', folder: 'spool' },
          { name: 'x.lnk.body', reason: 'not-a-regular-file', folder: 'vscan' },
        ],
        moveBytes: 3 * MiB,
      }),
    );
    assert.deepStrictEqual(text.split('; '), [
      '2 mail(s) to move (3.0 MB) from lab/fw-b to lab/fw-a',
      '1 duplicate(s) skipped (already on or delivered by the primary)',
      '3 mail(s) held for a decision (cannot be proved delivered or not)',
      '1 incomplete mail(s) skipped and reported',
      '2 other entries ignored (unsafe names, links, temporary files)',
    ]);
  });

  it('says "entry" for one ignored entry', () => {
    assert.match(describePlan(plan({ ignored: [{ name: 'a b.body', reason: 'unsafe-name', folder: 'spool' }] })), /; 1 other entry ignored \(/);
  });

  it('names the transfer path only when something moves', () => {
    const transfer = { path: 'direct' as const, why: 'fw-b reaches fw-a on 10.0.0.1:22' };
    assert.match(describePlan(plan({ move: [mail('a')], transfer })), /; transfer: direct \(fw-b reaches fw-a on 10\.0\.0\.1:22\)$/);
    assert.doesNotMatch(describePlan(plan({ transfer })), /transfer/);
  });
});

describe('core/recovery/plan: describeLogs', () => {
  it('one line per log file: searched, not readable or not needed, with size and time span', () => {
    const from = Date.UTC(2026, 0, 5, 8, 0, 0);
    const to = Date.UTC(2026, 0, 6, 8, 0, 0);
    const lines = describeLogs(
      plan({
        logs: {
          files: [
            { path: '/var/phion/logs/srv_box1_mailgw.log', size: 1234, mtimeMs: to, compression: 'no', firstLineMs: from, searched: true },
            { path: '/var/phion/logs/srv_box1_mailgw.log.1.gz', size: 99, mtimeMs: from, compression: 'gz', searched: false, unreadable: true },
            { path: '/var/phion/logs/srv_box1_mailgw.log.2', size: 7, mtimeMs: from, compression: 'no', searched: false },
          ],
          coverageFromMs: from,
        },
      }),
    );
    assert.deepStrictEqual(lines, [
      '/var/phion/logs/srv_box1_mailgw.log: searched, 1234 bytes, from 2026-01-05T08:00:00.000Z to 2026-01-06T08:00:00.000Z',
      '/var/phion/logs/srv_box1_mailgw.log.1.gz (gzip): NOT READABLE, 99 bytes, to 2026-01-05T08:00:00.000Z',
      '/var/phion/logs/srv_box1_mailgw.log.2: not needed (ended before the oldest stranded mail), 7 bytes, to 2026-01-05T08:00:00.000Z',
    ]);
  });

  it('no lines when the primary has no log', () => {
    assert.deepStrictEqual(describeLogs(plan()), []);
  });
});

describe('core/recovery/plan: refusing a pair that is one host', () => {
  const base = labCluster();
  /** The cluster with both units' addresses replaced (the settings parser refuses such pairs, a stale config may not). */
  const pair = (p: { host: string; port?: number }, s: { host: string; port?: number }): ClusterConfig => {
    const primary = { ...base.primary, ...p };
    const secondary = { ...base.secondary, ...s };
    return { ...base, primary, secondary, units: [primary, secondary] };
  };
  /** A real pool that knows no unit: reaching one fails at once with its own error, never connects. */
  const pool = () => {
    const p = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [] });
    p.update([]);
    return p;
  };

  it('refuses before touching either unit, naming both units and the address, also when one port is only the default', async () => {
    for (const c of [pair({ host: '10.0.0.1' }, { host: '10.0.0.1' }), pair({ host: '10.0.0.1', port: 22 }, { host: '10.0.0.1' })]) {
      const p = pool();
      await assert.rejects(checkPair(p, c), (e: Error) => e instanceof RecoveryError && e.message.includes('the primary lab/fw-a and the secondary lab/fw-b are the same host (10.0.0.1:22)'));
      await assert.rejects(makePlan(p, c, { deliveryLogPattern: /delivered <(?<messageId>[^>]+)>/ }), (e: Error) => e instanceof RecoveryError && /are the same host/.test(e.message));
      assert.strictEqual(p.peek('lab/fw-a'), undefined);
      assert.strictEqual(p.peek('lab/fw-b'), undefined);
    }
  });

  it('does not take two ports of one address for the same unit: it goes on to look at the units', async () => {
    await assert.rejects(checkPair(pool(), pair({ host: '10.0.0.1', port: 22 }, { host: '10.0.0.1', port: 2222 })), (e: Error) => !(e instanceof RecoveryError) && /lab\/fw-a: is not a configured unit/.test(e.message));
  });
});
