// The credentials a unit connection may lend to one of its channels (agent forwarding), so a command
// on the unit can log in where the admin can — for the direct transfer, the secondary's `ssh` to the
// primary — without any key stored on the unit. It lends exactly what logged this connection in:
// the admin's ssh-agent (forwarded as it is), or, for a key file, an agent held in this process
// that knows only that key. Nothing is lent before the connection is up, nor to a channel that did
// not ask for it (ssh2 only accepts agent channels while a forwarding channel is open).
import type { BaseAgent, ParsedKey } from 'ssh2';
import { Duplex } from 'stream';
import { ssh2 } from './loadSsh2';

export type AgentSource = { readonly kind: 'agent'; readonly socket: string } | { readonly kind: 'key'; readonly key: ParsedKey; readonly file?: string };

/** A private key file's content as an agent source, or undefined if it cannot be read with `passphrase`. */
export function keySource(data: Buffer, passphrase: string | undefined, file?: string): AgentSource | undefined {
  const parsed = ssh2().utils.parseKey(data, passphrase);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error || !key.isPrivateKey()) return undefined;
  return { kind: 'key', key, file };
}

type Callback<T> = (err: Error | null | undefined, value?: T) => void;

/** An ssh2 agent that lends what `use` gave it, for the channels that ask for forwarding. */
export interface ForwardAgent extends BaseAgent<ParsedKey> {
  /** What this agent lends from now on (undefined: nothing; forwarding then fails). */
  use(source: AgentSource | undefined): void;
  /** What is lent, for the plan: "ssh-agent" or "key file <path>", or undefined. */
  describe(): string | undefined;
  readonly available: boolean;
  /** The agent protocol stream ssh2 pipes a forwarded agent channel into. */
  getStream(cb: (err: Error | undefined, stream?: Duplex) => void): void;
}

let ForwardAgentClass: (new () => ForwardAgent) | undefined;

/** ssh2 only takes agents that are instances of its BaseAgent, so the class is made once ssh2 is loaded. */
export function createForwardAgent(): ForwardAgent {
  ForwardAgentClass ??= defineForwardAgent();
  return new ForwardAgentClass();
}

function defineForwardAgent(): new () => ForwardAgent {
  const { AgentProtocol, BaseAgent, OpenSSHAgent } = ssh2();
  return class extends BaseAgent<ParsedKey> implements ForwardAgent {
    private source: AgentSource | undefined;

    use(source: AgentSource | undefined): void {
      this.source = source;
    }

    describe(): string | undefined {
      if (!this.source) return undefined;
      return this.source.kind === 'agent' ? 'the ssh-agent' : `the key file${this.source.file ? ` ${this.source.file}` : ''}`;
    }

    get available(): boolean {
      return this.source !== undefined;
    }

    getIdentities(cb: Callback<ParsedKey[]>): void {
      const s = this.source;
      if (!s) return cb(new Error('no credential to lend'));
      if (s.kind === 'agent') return new OpenSSHAgent(s.socket).getIdentities((err, keys) => cb(err, keys as ParsedKey[] | undefined));
      cb(undefined, [s.key]);
    }

    sign(pubKey: ParsedKey, data: Buffer, options: unknown, cb?: Callback<Buffer>): void {
      const done = (typeof options === 'function' ? options : cb) as Callback<Buffer>;
      const s = this.source;
      if (!s) return done(new Error('no credential to lend'));
      if (s.kind === 'agent') {
        new OpenSSHAgent(s.socket).sign(pubKey, data, {}, done);
        return;
      }
      const sig = signWith(s.key, pubKey, data, undefined);
      if (sig instanceof Error) done(sig);
      else done(undefined, sig);
    }

    getStream(cb: (err: Error | undefined, stream?: Duplex) => void): void {
      const s = this.source;
      if (!s) return cb(new Error('no credential to lend'));
      if (s.kind === 'agent') return new OpenSSHAgent(s.socket).getStream(cb as never);
      const proto = new AgentProtocol(false);
      proto.on('identities', (req) => proto.getIdentitiesReply(req, [s.key]));
      proto.on('sign', (req, pubKey: ParsedKey, data: Buffer, flags: { hash?: string }) => {
        const sig = signWith(s.key, pubKey, data, flags.hash);
        if (sig instanceof Error) proto.failureReply(req);
        else proto.signReply(req, sig);
      });
      cb(undefined, onlyListAndSign(proto));
    }
  };
}

const REQUEST_IDENTITIES = 11;
const SIGN_REQUEST = 13;
const FAILURE = Buffer.from([0, 0, 0, 1, 5]);
/** Longest agent message accepted (OpenSSH's own limit is 256 KB). */
const MAX_MESSAGE = 256 * 1024;

/**
 * ssh2's AgentProtocol misreads messages it does not know (OpenSSH's ssh sends a session-bind
 * extension first) and its answers then go out of step. Only whole list and sign requests reach it;
 * everything else is refused here, in order (a client waits for each answer before the next request).
 */
function onlyListAndSign(proto: Duplex): Duplex {
  let buf = Buffer.alloc(0);
  const outer = new Duplex({
    read() {
      proto.resume();
    },
    write(chunk: Buffer, _enc, done) {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (len < 1 || len > MAX_MESSAGE) return done(new Error('malformed agent message'));
        if (buf.length < 4 + len) break;
        const frame = buf.subarray(0, 4 + len);
        buf = buf.subarray(4 + len);
        if (frame[4] === REQUEST_IDENTITIES || frame[4] === SIGN_REQUEST) proto.write(frame);
        else outer.push(FAILURE);
      }
      done();
    },
    final(done) {
      proto.end();
      done();
    },
  });
  proto.on('data', (d: Buffer) => {
    if (!outer.push(d)) proto.pause();
  });
  proto.on('end', () => outer.push(null));
  proto.on('error', (e) => outer.destroy(e));
  return outer;
}

/** Signs with `key` only if `requested` is that key. */
function signWith(key: ParsedKey, requested: ParsedKey, data: Buffer, hash: string | undefined): Buffer | Error {
  if (!key.getPublicSSH().equals(requested.getPublicSSH())) return new Error('not the key this agent holds');
  return hash ? key.sign(data, hash) : key.sign(data);
}
