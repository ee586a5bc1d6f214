// The agent a connection lends to a forwarding channel, for a key file: it speaks the ssh-agent
// protocol as OpenSSH's ssh uses it (a session-bind extension first, then list and sign), lists only
// its key, signs only with it, and lends nothing before it was given a credential.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AgentProtocol, utils as sshUtils } from 'ssh2';
import type { ParsedKey } from 'ssh2';
import type { Duplex } from 'stream';
import { createForwardAgent, ForwardAgent, keySource } from '../../../../src/core/ssh/forwardAgent';

function newKey(dir: string, name: string, passphrase = ''): Buffer {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', file]);
  return fs.readFileSync(file);
}

function stream(agent: ForwardAgent): Promise<Duplex> {
  return new Promise((resolve, reject) => agent.getStream((err, s) => (err || !s ? reject(err ?? new Error('no stream')) : resolve(s))));
}

/** A framed agent message of type `type` with a body. */
function frame(type: number, body: Buffer): Buffer {
  const b = Buffer.alloc(5 + body.length);
  b.writeUInt32BE(1 + body.length, 0);
  b[4] = type;
  body.copy(b, 5);
  return b;
}

describe('ssh: the agent lent to a forwarding channel', () => {
  let dir: string;
  let keyData: Buffer;
  let key: ParsedKey;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-agent-'));
    keyData = newKey(dir, 'admin');
    key = sshUtils.parseKey(keyData) as ParsedKey;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers an unknown extension with a failure and stays in step: lists its one key and signs with it', async () => {
    const agent = createForwardAgent();
    const src = keySource(keyData, undefined, '/keys/admin');
    assert.ok(src);
    agent.use(src);
    assert.strictEqual(agent.describe(), 'the key file /keys/admin');
    const s = await stream(agent);
    const client = new AgentProtocol(true);
    // What OpenSSH's ssh sends first (SSH_AGENTC_EXTENSION "session-bind@openssh.com" with a payload).
    const name = Buffer.from('session-bind@openssh.com');
    const ext = Buffer.concat([Buffer.from([0, 0, 0, name.length]), name, Buffer.alloc(200, 7)]);
    const replies: Buffer[] = [];
    const first = new Promise<void>((resolve) => s.once('data', (d: Buffer) => (replies.push(d), resolve())));
    s.write(frame(27, ext));
    await first;
    assert.deepStrictEqual([...replies[0]], [0, 0, 0, 1, 5], 'SSH_AGENT_FAILURE for the extension');
    client.pipe(s).pipe(client);
    const keys = await new Promise<ParsedKey[]>((resolve, reject) => client.getIdentities((err, k) => (err ? reject(err) : resolve(k as ParsedKey[]))));
    assert.strictEqual(keys.length, 1);
    assert.ok(keys[0].getPublicSSH().equals(key.getPublicSSH()));
    const data = Buffer.from('session data to sign');
    const sig = await new Promise<Buffer>((resolve, reject) => client.sign(keys[0], data, (err, sg) => (err || !sg ? reject(err) : resolve(sg))));
    assert.strictEqual(key.verify(data, sig), true, 'a valid signature by the lent key');
    s.end();
  });

  it('refuses to sign with any other key', async () => {
    const agent = createForwardAgent();
    agent.use(keySource(keyData, undefined));
    const other = sshUtils.parseKey(newKey(dir, 'other')) as ParsedKey;
    const s = await stream(agent);
    const client = new AgentProtocol(true);
    client.pipe(s).pipe(client);
    const err = await new Promise<Error | undefined>((resolve) => client.sign(other, Buffer.from('x'), (e) => resolve(e ?? undefined)));
    assert.ok(err, 'signing with a key the agent does not hold fails');
    s.end();
  });

  it('lends nothing before it is given a credential, and a key file needs its passphrase', async () => {
    const agent = createForwardAgent();
    assert.strictEqual(agent.available, false);
    await assert.rejects(stream(agent), /no credential to lend/);
    const locked = newKey(dir, 'locked', 'secret words');
    assert.strictEqual(keySource(locked, undefined), undefined);
    assert.strictEqual(keySource(locked, 'wrong'), undefined);
    assert.ok(keySource(locked, 'secret words'));
  });
});
