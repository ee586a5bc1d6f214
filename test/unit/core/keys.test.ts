// Unit and log-source keys are made and read in one place, and read back exactly whatever the
// names hold (the settings allow ':' and spaces in cluster and unit names, never '/').
import * as assert from 'assert';
import { clusterOfUnitKey, logSourceKey, parseLogSourceKey, unitKey } from '../../../src/core/keys';

describe('core/keys', () => {
  it('reads back the cluster, unit key and file it made, with ":" and spaces in the names', () => {
    for (const [cluster, unit] of [['lab', 'fw-a'], ['site:1', 'fw:a'], ['HA pair 2', 'unit b:'], [':', ':']]) {
      const u = unitKey(cluster, unit);
      assert.strictEqual(clusterOfUnitKey(u), cluster);
      const k = logSourceKey(u, '/var/phion/logs/srv_box1_mailgw.log');
      assert.deepStrictEqual(parseLogSourceKey(k), { unitKey: u, cluster, file: '/var/phion/logs/srv_box1_mailgw.log' });
    }
  });

  it('says "not a key" instead of guessing', () => {
    assert.strictEqual(clusterOfUnitKey('no-slash'), undefined);
    assert.strictEqual(clusterOfUnitKey('/starts-with-slash'), undefined);
    assert.strictEqual(parseLogSourceKey('lab/fw-a'), undefined);
    assert.strictEqual(parseLogSourceKey('lab/fw-a:relative/file'), undefined);
    assert.strictEqual(parseLogSourceKey('lab/fw-a/var/log'), undefined);
  });
});
