// The benchmark's shaping proxy, with real sockets on loopback: every byte arrives in order, the
// rate and delay are what the profile says (never better; worse only by what a loaded machine's
// event loop adds), a slow receiver pauses the sender instead of losing bytes, and the counters count.
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as net from 'net';
import { ShapedLink } from '../../lab/shapingProxy';
import { waitFor } from '../../lab/wait';

const ms = (): number => Number(process.hrtime.bigint()) / 1e6;

/** A server that hashes what it receives and, per connection, answers with `reply(data)`. */
function startServer(onConn: (s: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const socks = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    socks.add(s);
    s.on('close', () => socks.delete(s));
    s.on('error', () => undefined);
    onConn(s);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => {
          for (const s of socks) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      }),
    ),
  );
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything a socket receives until it ends. */
function readAll(s: net.Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  return new Promise((resolve, reject) => {
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

describe('lab: shaping proxy', function () {
  this.timeout(60_000);
  let link: ShapedLink | undefined;
  let server: { port: number; close: () => Promise<void> } | undefined;
  afterEach(async () => {
    await link?.close();
    await server?.close();
    link = server = undefined;
  });

  it('delivers every byte in order both ways, over several connections at once, and counts them', async () => {
    // Echo server: what goes up comes back down through the same link.
    server = await startServer((s) => s.pipe(s));
    link = new ShapedLink({ name: 'test', bitsPerSecond: 80e6, rttMs: 4 });
    const port = await link.listen({ host: '127.0.0.1', port: server.port });
    const payloads = [crypto.randomBytes(3 * 1024 * 1024 + 17), crypto.randomBytes(1024 * 1024 + 5), crypto.randomBytes(1)];
    const echoed = await Promise.all(
      payloads.map(async (p) => {
        const c = await connect(port);
        const got = readAll(c);
        // Odd-sized writes, so pieces cut across the proxy's own piece boundaries.
        for (let off = 0; off < p.length; off += 7919) c.write(p.subarray(off, off + 7919));
        c.end();
        return got;
      }),
    );
    echoed.forEach((e, i) => {
      assert.strictEqual(e.length, payloads[i].length, `connection ${i}: length`);
      assert.strictEqual(sha(e), sha(payloads[i]), `connection ${i}: content and order`);
    });
    const total = payloads.reduce((n, p) => n + p.length, 0);
    assert.deepStrictEqual({ up: link.counters.up, down: link.counters.down, connections: link.counters.connections }, { up: total, down: total, connections: 3 });
  });

  it('holds a stream to the profile\'s bandwidth, shared by two connections', async () => {
    const bits = 16e6; // 2 MB/s in each direction
    server = await startServer((s) => {
      s.resume();
      s.on('end', () => s.end());
    });
    link = new ShapedLink({ name: 'test', bitsPerSecond: bits, rttMs: 10 });
    const port = await link.listen({ host: '127.0.0.1', port: server.port });
    const size = 3 * 1024 * 1024; // two of them: 6 MB at 2 MB/s = 3 s
    const t0 = ms();
    await Promise.all(
      [0, 1].map(async () => {
        const c = await connect(port);
        const done = new Promise<void>((resolve) => c.on('close', () => resolve()));
        c.resume();
        c.end(crypto.randomBytes(size));
        await done;
      }),
    );
    const seconds = (ms() - t0) / 1000;
    const rate = (2 * size * 8) / seconds;
    // Never faster than the link (one piece of burst and the delay are within 1 %); slower only by
    // what a busy event loop adds.
    assert.ok(rate <= bits * 1.01, `measured ${(rate / 1e6).toFixed(2)} Mbit/s, more than the ${bits / 1e6} Mbit/s link`);
    assert.ok(rate >= bits * 0.6, `measured ${(rate / 1e6).toFixed(2)} Mbit/s, far below the ${bits / 1e6} Mbit/s link`);
  });

  it('adds the round-trip time to every request/response turn, and counts the turns', async () => {
    server = await startServer((s) => s.on('data', (d: Buffer) => s.write(d)));
    const rtt = 60;
    link = new ShapedLink({ name: 'test', rttMs: rtt });
    const port = await link.listen({ host: '127.0.0.1', port: server.port });
    const c = await connect(port);
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = ms();
      const back = new Promise<void>((resolve) => c.once('data', () => resolve()));
      c.write(`ping ${i}`);
      await back;
      times.push(ms() - t0);
    }
    c.destroy();
    const sorted = [...times].sort((a, b) => a - b);
    assert.ok(sorted[0] >= rtt - 1, `a round trip took ${sorted[0].toFixed(1)} ms, less than the link's ${rtt} ms`);
    assert.ok(sorted[5] <= rtt + 60, `median round trip ${sorted[5].toFixed(1)} ms, far above the link's ${rtt} ms (all: ${times.map((t) => t.toFixed(0)).join(', ')})`);
    assert.strictEqual(link.counters.turns, 10, 'each ping spoke on a quiet link');
  });

  it('pauses a sender whose receiver does not read, and loses nothing when it reads again', async () => {
    let receiver: net.Socket | undefined;
    server = await startServer((s) => {
      s.pause();
      receiver = s;
    });
    link = new ShapedLink({ name: 'test', rttMs: 0 });
    const port = await link.listen({ host: '127.0.0.1', port: server.port });
    const c = await connect(port);
    const payload = crypto.randomBytes(32 * 1024 * 1024);
    let flushed = false;
    c.end(payload, () => (flushed = true));
    // The link takes a window, the sockets' kernel buffers some more, then the sender stalls.
    let last = -1;
    await waitFor('the link to stop taking bytes from the sender', async () => {
      const up = link!.counters.up;
      const still = up === last;
      last = up;
      await new Promise((r) => setTimeout(r, 200));
      return still && up > 0;
    }, 30_000, 0);
    assert.ok(link.counters.up < payload.length / 2, `the link took ${link.counters.up} of ${payload.length} bytes from a sender whose receiver reads nothing`);
    assert.strictEqual(flushed, false, 'the sender was held back');
    const r = receiver as net.Socket;
    const got = readAll(r);
    r.resume();
    const data = await got;
    assert.strictEqual(data.length, payload.length);
    assert.strictEqual(sha(data), sha(payload));
  });
});
