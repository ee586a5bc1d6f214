// When signalling the gateway by PID must not go ahead: the one rule the UI asks before its
// confirmation and signalGateway asks again right before the signal.
import * as assert from 'assert';
import { pidSignalRefusal } from '../../../src/core/gateway';

describe('gateway: signalling by PID', () => {
  const name = 'box1_mailgw';
  it('goes ahead with exactly one gateway process', () => {
    assert.strictEqual(pidSignalRefusal({ pids: [4242], processName: name }, 'lab/fw-a'), undefined);
  });

  it('refuses without a gateway process, naming the unit and asking whether it is the active one', () => {
    const why = pidSignalRefusal({ pids: [], processName: name }, 'lab/fw-b');
    assert.match(why ?? '', /^lab\/fw-b: the gateway process box1_mailgw is not running on this unit, so nothing was signalled\. Is this the active unit\?$/);
  });

  it('refuses to guess among several, listing their PIDs', () => {
    const why = pidSignalRefusal({ pids: [10, 11], processName: name }, 'lab/fw-a');
    assert.match(why ?? '', /2 processes are named box1_mailgw \(PIDs 10, 11\); refusing to guess/);
  });
});
