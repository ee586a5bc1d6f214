// Direct transfer in the lab: the secondary's own `ssh` sends the mails to the primary, logging in
// with the admin's key lent to that one channel (the secondary's own key is taken away for these
// tests, so nothing else could log it in) and accepting only the primary's host key verified here.
// Cuts of the unit-to-unit stream are followed by a second run that must finish exactly once.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { ClusterConfig, UnitConfig } from '../../src/core/config';
import { labAddress } from '../lab/lab';
import { ShapedLink } from '../lab/shapingProxy';
import { waitFor } from '../lab/wait';
import { lab } from './hooks';
import { assertExactlyOnce, labCluster, runRecovery, tempJournal } from './recoveryHelpers';

/** The lab cluster with `transfer` and the primary's HA address set. */
function cluster(transfer: ClusterConfig['transfer'], ha: { haHost?: string; haPort?: number } = {}): ClusterConfig {
  const c = labCluster();
  const primary: UnitConfig = { ...c.primary, ...ha };
  return { ...c, transfer, primary, units: [primary, c.secondary] };
}

/** The secondary's own key pair (root's, for the lab's HA sync), set aside while these tests run. */
function secondaryKeyFiles(): string[] {
  const dir = path.join(lab().stateDir, 'units', 'fw-b', 'root', '.ssh');
  return ['id_ed25519', 'id_ed25519.pub'].map((f) => path.join(dir, f));
}

describe('recovery: direct transfer, unit to unit (lab)', function () {
  this.timeout(180_000);
  before(() => {
    for (const f of secondaryKeyFiles()) if (fs.existsSync(f)) fs.renameSync(f, `${f}.aside`);
  });
  after(() => {
    for (const f of secondaryKeyFiles()) if (fs.existsSync(`${f}.aside`)) fs.renameSync(`${f}.aside`, f);
  });
  beforeEach(async () => {
    await lab().reset();
  });

  it('moves every mail straight from the secondary, with the admin\'s lent key; the report says direct and why; exactly once', async () => {
    // Without a key of its own, only the lent key can have logged the secondary in to the primary.
    assert.ok(!fs.existsSync(secondaryKeyFiles()[0]), 'the secondary has no key of its own');
    const m = lab().strand({ mails: 25, vscan: 3, orphans: 1, duplicates: 2, bigMb: 4 });
    const r = await runRecovery(tempJournal(), {}, cluster('direct'));
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.strictEqual(r.method, 'direct');
    assert.strictEqual(r.transfer?.path, 'direct');
    assert.match(r.transfer?.why ?? '', /key file .*lent to that one session.*host key SHA256:/);
    assert.strictEqual(r.inserted, m.secondarySpool.length + m.secondaryVscan.length - m.duplicates.length);
    await assertExactlyOnce(m);
  });

  it('auto: when the secondary cannot reach the primary, relays instead and says why; exactly once', async () => {
    const m = lab().strand({ mails: 10, bigMb: 1 });
    const r = await runRecovery(tempJournal(), {}, cluster('auto', { haHost: labAddress(99) }));
    assert.strictEqual(r.outcome, 'done', JSON.stringify(r.errors));
    assert.strictEqual(r.method, 'tar');
    assert.strictEqual(r.transfer?.path, 'relay');
    assert.match(r.transfer?.why ?? '', /could not send to the primary directly.*cannot reach the primary at root@127\.\d+\.0\.99/);
    await assertExactlyOnce(m);
  });

  it('direct: when the secondary cannot reach the primary, fails before anything is placed; a relay run then finishes exactly once', async () => {
    const m = lab().strand({ mails: 10, bigMb: 1 });
    const journal = tempJournal();
    const first = await runRecovery(journal, {}, cluster('direct', { haHost: labAddress(99) }));
    assert.strictEqual(first.outcome, 'failed');
    assert.strictEqual(first.inserted, 0);
    assert.match(first.errors.map((e) => e.message).join('\n'), /cannot reach the primary at root@127\.\d+\.0\.99.*haHost/);
    assert.deepStrictEqual(fs.readdirSync(lab().hostPath('primary', 'input')), [], 'nothing placed or staged on the primary');
    const second = await runRecovery(journal, {}, cluster('relay'));
    assert.strictEqual(second.outcome, 'done', JSON.stringify(second.errors));
    await assertExactlyOnce(m);
  });

  // The unit-to-unit stream runs through a shaped link (at the primary's haHost/haPort), slow
  // enough to be cut while bytes flow.
  for (const cut of ['the secondary\'s ssh killed', 'the unit-to-unit connection cut'] as const) {
    for (const crash of [false, true]) {
      it(`${cut} mid-stream${crash ? ' and the run stopped there' : ''}: the next run finishes, exactly once`, async () => {
        const link = new ShapedLink({ name: 'ha', bitsPerSecond: 40e6, rttMs: 2 });
        try {
          const primary = lab().unit('primary');
          const port = await link.listen({ host: primary.address, port: lab().port });
          const direct = cluster('direct', { haHost: '127.0.0.1', haPort: port });
          const m = lab().strand({ mails: 20, vscan: 2, bigMb: 8 });
          const journal = tempJournal();
          let hit = 0;
          let cutAt = 0;
          const first = await runRecovery(
            journal,
            {
              faults: async (p) => {
                if (p !== 'mid-copy' || hit++) return;
                await waitFor('a megabyte on its way from the secondary to the primary', () => link.counters.up > 1024 * 1024, 60_000);
                cutAt = link.counters.up;
                if (cut === 'the unit-to-unit connection cut') await link.close();
                else {
                  const k = await lab().exec('secondary', ['pkill', '-KILL', '-x', 'ssh']);
                  assert.strictEqual(k.code, 0, 'an ssh process ran on the secondary');
                }
                if (crash) throw new Error('stopped mid-stream');
              },
            },
            direct,
          );
          assert.strictEqual(hit, 1, 'the copy started');
          assert.ok(cutAt > 0 && cutAt < 8 * 1024 * 1024, `cut while the stream ran (${cutAt} bytes through)`);
          assert.strictEqual(first.outcome, 'failed', `first run: ${first.outcome}`);
          assert.strictEqual(first.inserted, 0);
          if (!crash) assert.match(first.errors.map((e) => e.message).join('\n'), /primary|secondary|tar|ssh/);
          // The second run goes direct again (a new link if the old one was cut).
          const again = new ShapedLink({ name: 'ha2', rttMs: 0 });
          try {
            const port2 = await again.listen({ host: primary.address, port: lab().port });
            const second = await runRecovery(journal, {}, cluster('direct', { haHost: '127.0.0.1', haPort: port2 }));
            assert.strictEqual(second.outcome, 'done', `second run: ${JSON.stringify(second.errors)} (first: ${JSON.stringify(first.errors)})`);
            assert.strictEqual(second.method, 'direct');
            assert.ok(second.resumed, 'the second run resumed the journal');
          } finally {
            await again.close();
          }
          await assertExactlyOnce(m);
        } finally {
          await link.close();
        }
      });
    }
  }
});
