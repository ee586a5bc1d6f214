// The recovery lock as the admin meets it in VS Code: a stale lock on the primary (its holder's
// process is gone) stops "Recover Stranded Mail…" with a modal that names the holder and whose default
// button leaves the lock; only "Take Over Lock" replaces it, and the run then moves each mail once.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ShownMessage } from '../../src/safeWindow';
import { activateExtension } from './helpers';
import { deliveredOnce, hostLab } from './labHelpers';

/** A pid that ran on this host and is gone now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('lab: recovery lock', function () {
  this.timeout(90_000);
  beforeEach(async () => {
    await hostLab().reset();
  });

  it('a stale lock: the modal names its holder and defaults to leaving it; Take Over Lock recovers each mail once', async () => {
    const api = await activateExtension();
    const lab = hostLab();
    const m = lab.strand({ mails: 3 });
    const lock = path.join(path.dirname(lab.hostPath('primary', 'spool')), '.mailgw-ha-recovery.lock');
    const pid = deadPid();
    const owner = JSON.stringify({ user: 'otheradmin', host: os.hostname(), pid, tool: 'mailgw-ha CLI', at: new Date(Date.now() - 60_000).toISOString() });
    fs.mkdirSync(lock, { mode: 0o700 });
    fs.writeFileSync(path.join(lock, 'owner'), owner + '\n');
    const cluster = api.services.cluster('lab')!;
    const modals: ShownMessage[] = [];
    try {
      api.setMessageHook((shown) => {
        if (!shown.modal) return undefined;
        modals.push(shown);
        return /looks stale/.test(shown.message) ? 'Leave the Lock' : null;
      });
      const refused = await api.actions.recover({ kind: 'cluster', cluster }, { yes: true });
      assert.ok(refused?.lockedBy, `the run is refused by the lock: ${JSON.stringify(refused)}`);
      const modal = modals.find((s) => /looks stale/.test(s.message));
      assert.ok(modal, `a modal about the stale lock; modals seen: ${JSON.stringify(modals.map((s) => s.message))}`);
      assert.strictEqual(modal.items[0], 'Leave the Lock', 'the default (first) button changes nothing');
      assert.ok(modal.items.includes('Take Over Lock'));
      assert.match(modal.detail ?? '', new RegExp(`otheradmin@.*process ${pid}`), 'the detail names the holder');
      assert.match(modal.detail ?? '', /no longer runs/, 'and why it looks stale');
      assert.strictEqual(fs.readFileSync(path.join(lock, 'owner'), 'utf8').trim(), owner, 'the lock is left as it was');
      assert.deepStrictEqual(lab.deliveries().total, 0, 'nothing moved');
      assert.strictEqual(fs.readdirSync(lab.hostPath('secondary', 'spool')).filter((n) => n.endsWith('.env')).length, 3);

      modals.length = 0;
      api.setMessageHook((shown) => {
        if (!shown.modal) return undefined;
        modals.push(shown);
        return /looks stale/.test(shown.message) ? 'Take Over Lock' : null;
      });
      const report = await api.actions.recover({ kind: 'cluster', cluster }, { yes: true });
      assert.strictEqual(report?.outcome, 'done', JSON.stringify(report?.errors));
      assert.strictEqual(report.inserted, 3);
      assert.ok(!fs.existsSync(lock), 'the lock is released after the run');
    } finally {
      api.setMessageHook(undefined);
    }
    await deliveredOnce(Object.values(m.transactions));
  });
});
