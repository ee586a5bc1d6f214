// A shaping TCP proxy: what an admin's VPN or WAN link does to the connections the extension makes
// to the units. One ShapedLink stands for one link (bandwidth per direction as token buckets, a fixed
// one-way delay each way); any number of listeners (one per unit) share it, as both SSH connections
// share the admin's single link. Nothing is dropped: a sender that has more than a window's worth of
// bytes on the link is paused (TCP back-pressure), so every byte arrives, in order, late.
// Byte counters per direction, and the sequential round trips the client made: how often it spoke on
// a link that was quiet both ways (everything it had asked for had arrived), each of which costs a
// full round trip on the critical path whatever the bandwidth.
import * as net from 'net';

export interface LinkProfile {
  /** e.g. "VPN" */
  readonly name: string;
  /** Bandwidth in each direction, bits per second; undefined = not limited. */
  readonly bitsPerSecond?: number;
  /** Round-trip time the link adds (half of it each way), ms. */
  readonly rttMs: number;
}

/** The profiles of the recovery benchmark: loopback, a VPN, a far site. */
export const PROFILES: Record<'LAN' | 'VPN' | 'far', LinkProfile> = {
  LAN: { name: 'LAN', rttMs: 0 },
  VPN: { name: 'VPN', bitsPerSecond: 20e6, rttMs: 30 },
  far: { name: 'far', bitsPerSecond: 10e6, rttMs: 100 },
};

export interface LinkCounters {
  /** Bytes the client (admin side) sent towards the units. */
  readonly up: number;
  /** Bytes the units sent towards the client. */
  readonly down: number;
  /** Times the client spoke on a link quiet both ways: sequential round trips. */
  readonly turns: number;
  /** Connections accepted. */
  readonly connections: number;
}

interface Piece {
  readonly data: Buffer;
  readonly deliverAt: number;
  readonly to: net.Socket;
  readonly done: () => void;
}

/** Milliseconds on a monotonic clock. */
const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Largest piece sent as one unit: delivery stays smooth, as TCP segments arrive one by one. */
const PIECE = 16 * 1024;

/** One direction of the link: a token bucket (with debt, so it serialises) and a delay line. */
class Direction {
  bytes = 0;
  /** Bytes accepted and not yet taken by the receiver. */
  inFlight = 0;
  private tokens: number;
  private last = now();
  private readonly queue: Piece[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bytesPerMs: number | undefined,
    private readonly delayMs: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Puts `data` on the link; `done` runs once the receiver has taken all of it. */
  send(data: Buffer, to: net.Socket, done: () => void): void {
    for (let off = 0; off < data.length; off += PIECE) {
      const piece = data.subarray(off, Math.min(off + PIECE, data.length));
      const t = now();
      let sentAt = t;
      if (this.bytesPerMs !== undefined) {
        this.tokens = Math.min(this.burst, this.tokens + (t - this.last) * this.bytesPerMs);
        this.last = t;
        this.tokens -= piece.length;
        if (this.tokens < 0) sentAt = t - this.tokens / this.bytesPerMs;
      }
      this.bytes += piece.length;
      this.inFlight += piece.length;
      const last = off + PIECE >= data.length;
      this.queue.push({ data: piece, deliverAt: sentAt + this.delayMs, to, done: last ? done : () => undefined });
    }
    this.arm();
  }

  get idle(): boolean {
    return this.inFlight === 0;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  // The queue is ordered by deliverAt: sending times only grow and the delay is fixed.
  private arm(): void {
    if (this.timer || this.queue.length === 0) return;
    const wait = Math.max(0, this.queue[0].deliverAt - now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.deliverDue();
    }, wait);
  }

  private deliverDue(): void {
    const t = now();
    // setTimeout rounds to whole ms: what is due within half a ms goes now.
    while (this.queue.length > 0 && this.queue[0].deliverAt <= t + 0.5) {
      const p = this.queue.shift() as Piece;
      const taken = () => {
        this.inFlight -= p.data.length;
        p.done();
      };
      if (p.to.destroyed) taken();
      else p.to.write(p.data, taken);
    }
    this.arm();
  }
}

export class ShapedLink {
  readonly profile: LinkProfile;
  /** Most bytes one connection may have on the link per direction before its sender is paused. */
  readonly window: number;
  private readonly upDir: Direction;
  private readonly downDir: Direction;
  private turnCount = 0;
  /** When each counted turn began (Date.now()), for profiles of where the turns go. */
  readonly turnTimes: number[] = [];
  private connectionCount = 0;
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();

  constructor(profile: LinkProfile) {
    this.profile = profile;
    const bytesPerMs = profile.bitsPerSecond === undefined ? undefined : profile.bitsPerSecond / 8 / 1000;
    // Several bandwidth-delay products (as Linux's TCP autotuning gives), so the window never holds
    // a single connection below the link's rate.
    const bdp = bytesPerMs === undefined ? 0 : bytesPerMs * Math.max(profile.rttMs, 1);
    this.window = Math.max(256 * 1024, Math.ceil(4 * bdp));
    // Burst of one piece: a short request is not slowed, a stream gets the set rate.
    this.upDir = new Direction(bytesPerMs, profile.rttMs / 2, PIECE);
    this.downDir = new Direction(bytesPerMs, profile.rttMs / 2, PIECE);
  }

  get counters(): LinkCounters {
    return { up: this.upDir.bytes, down: this.downDir.bytes, turns: this.turnCount, connections: this.connectionCount };
  }

  /** Zero the counters (e.g. after setting up, before the part being measured). */
  resetCounters(): void {
    this.upDir.bytes = 0;
    this.downDir.bytes = 0;
    this.turnCount = 0;
    this.turnTimes.length = 0;
    this.connectionCount = 0;
  }

  /**
   * Listen on `host` (port 0: any free one) and forward every connection through this link to
   * `target`. Resolves with the port listened on.
   */
  listen(target: { host: string; port: number }, host = '127.0.0.1', port = 0): Promise<number> {
    // Half-open allowed: an end from one side is forwarded (after the bytes on the link), not answered.
    const server = net.createServer({ allowHalfOpen: true }, (client) => this.accept(client, target));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
    });
  }

  /** Stop listening and cut every connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.upDir.close();
    this.downDir.close();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.length = 0;
  }

  private accept(client: net.Socket, target: { host: string; port: number }): void {
    this.connectionCount++;
    const server = net.connect({ port: target.port, host: target.host, allowHalfOpen: true });
    for (const s of [client, server]) {
      s.setNoDelay(true);
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined); // an error closes the socket; the close is forwarded below
    }
    this.pipe(client, server, this.upDir, true);
    this.pipe(server, client, this.downDir, false);
  }

  private pipe(from: net.Socket, to: net.Socket, dir: Direction, upstream: boolean): void {
    let mine = 0;
    let paused = false;
    let ended = false;
    // An end or close reaches the other side once the bytes already on the link are through.
    const maybeEnd = () => {
      if (ended && mine === 0 && !to.destroyed) to.end();
    };
    from.on('data', (data: Buffer) => {
      if (upstream && this.upDir.idle && this.downDir.idle) {
        this.turnCount++;
        this.turnTimes.push(Date.now());
      }
      mine += data.length;
      dir.send(data, to, () => {
        mine -= data.length;
        if (paused && mine < this.window / 2) {
          paused = false;
          from.resume();
        }
        maybeEnd();
      });
      if (!paused && mine >= this.window) {
        paused = true;
        from.pause();
      }
    });
    for (const ev of ['end', 'close']) {
      from.on(ev, () => {
        ended = true;
        maybeEnd();
      });
    }
  }
}
