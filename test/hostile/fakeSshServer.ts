// A spoofed "unit": a few lines of Node on a lab address that speaks just enough SSH to send a
// disconnect before key exchange, with a description chosen by the attacker (markdown command
// links, terminal escapes, bidi characters). Counts the connections it got, so a test can also
// prove that nothing connected to it.
import * as crypto from 'crypto';
import * as net from 'net';

/** An SSH_MSG_DISCONNECT binary packet as sent before key exchange (no encryption, no MAC). */
export function disconnectPacket(description: string): Buffer {
  const desc = Buffer.from(description, 'utf8');
  const payload = Buffer.alloc(1 + 4 + 4 + desc.length + 4);
  let o = payload.writeUInt8(1, 0); // SSH_MSG_DISCONNECT
  o = payload.writeUInt32BE(1, o); // SSH_DISCONNECT_HOST_NOT_ALLOWED_TO_CONNECT (ssh2 reports any reason but BY_APPLICATION as an error)
  o = payload.writeUInt32BE(desc.length, o);
  o += desc.copy(payload, o);
  payload.writeUInt32BE(0, o); // language tag ""
  let padding = 8 - ((4 + 1 + payload.length) % 8);
  if (padding < 4) padding += 8;
  const head = Buffer.alloc(5);
  head.writeUInt32BE(1 + payload.length + padding, 0);
  head.writeUInt8(padding, 4);
  return Buffer.concat([head, payload, crypto.randomBytes(padding)]);
}

export interface FakeSshServer {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Listens on host:0; each connection gets the version line, then the disconnect, then is closed. */
export async function startFakeSshServer(host: string, description: string): Promise<FakeSshServer> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.write('SSH-2.0-OpenSSH_9.2p1\r\n');
    sock.write(disconnectPacket(description));
    setTimeout(() => sock.end(), 200);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host,
    port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
