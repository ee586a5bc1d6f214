// UnitConnection.stream() and its channel slots, with a fake ssh2 client below the SSH interface.
import * as assert from 'assert';
import { EventEmitter } from 'events';
import { MemorySecretStore, noPrompts, silentLogger } from '../../../../src/core/host';
import { UnitConnection } from '../../../../src/core/ssh/connection';

class FakeChannel extends EventEmitter {
  stderr = new EventEmitter();
  close() {
    this.emit('close');
  }
}

/** A connection whose client is `client` (as if connected), with `slots` channel slots. */
function connected(client: { exec: (cmd: string, cb: (err: Error | undefined, ch: FakeChannel) => void) => void }, slots: number): UnitConnection {
  const conn = new UnitConnection({ label: 'test/unit', host: '127.0.0.1' }, { prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [], maxChannels: slots });
  const c = conn as unknown as { client: unknown; stateValue: string };
  c.client = client;
  c.stateValue = 'connected';
  return conn;
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms))]);

describe('ssh: stream() channel slots', () => {
  it('gives the slot back when the connection drops while a stream waits for one', async () => {
    let dropped = false;
    const client = {
      exec(_cmd: string, cb: (err: Error | undefined, ch: FakeChannel) => void) {
        if (dropped) throw new Error('Not connected'); // what ssh2 does on a closed connection
        setImmediate(() => cb(undefined, new FakeChannel()));
      },
    };
    const conn = connected(client, 1);
    const first = await conn.stream(['tail', '-f', 'x'], () => undefined);
    const waiting = conn.stream(['tail', '-f', 'y'], () => undefined); // no free slot: waits
    dropped = true;
    (first as unknown as FakeChannel).close(); // frees the slot; the waiter now meets the dropped client
    await assert.rejects(within(waiting, 2000, 'the waiting stream'), /connection dropped before the command started: Not connected/);
    // The connection is back: the one slot must be free again.
    dropped = false;
    const again = await within(conn.stream(['tail', '-f', 'z'], () => undefined), 2000, 'a stream after the drop (leaked slot?)');
    (again as unknown as FakeChannel).close();
  });

  it('gives the slot back when the client is gone by the time a slot is free', async () => {
    const client = { exec: (_c: string, cb: (err: Error | undefined, ch: FakeChannel) => void) => setImmediate(() => cb(undefined, new FakeChannel())) };
    const conn = connected(client, 1);
    const first = await conn.stream(['a'], () => undefined);
    const waiting = conn.stream(['b'], () => undefined);
    const c = conn as unknown as { client: unknown };
    c.client = undefined; // dropped while the second stream waits
    (first as unknown as FakeChannel).close();
    await assert.rejects(within(waiting, 2000, 'the waiting stream'), /dropped before the command started/);
    c.client = client; // reconnected
    const again = await within(conn.stream(['c'], () => undefined), 2000, 'a stream after the drop (leaked slot?)');
    (again as unknown as FakeChannel).close();
  });
});
