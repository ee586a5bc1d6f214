// The host-key trust policy on its own (the same rules run against real sshd in
// test/integration/ssh.test.ts): what is trusted, refused, asked about and remembered.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { HostKeyQuestion, Logger, Prompts, TrustDecision } from '../../../../src/core/host';
import { fingerprintOf, KnownHosts } from '../../../../src/core/ssh/hostKeys';
import { createHostKeyVerifier, HostKeyVerifierOptions } from '../../../../src/core/ssh/hostKeyVerifier';
import type { SshTarget } from '../../../../src/core/ssh/sshConfig';
import { ed25519Blob } from './testKeys';

const target: SshTarget = { alias: 'fw-a', hostName: '10.0.0.1', port: 2222, username: 'root', identityFiles: [], jumps: [] };
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('core/ssh/hostKeyVerifier: the host-key trust policy', () => {
  let tmp: string;
  let asked: HostKeyQuestion[];
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-hkv-'));
    asked = [];
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const prompts = (answer: TrustDecision): Prompts => ({
    confirmHostKey: async (q) => {
      asked.push(q);
      return answer;
    },
    askSecret: async () => undefined,
    askKeyboardInteractive: async () => undefined,
  });
  function verifier(known: string, over: Partial<HostKeyVerifierOptions> = {}) {
    const file = path.join(tmp, 'known_hosts');
    fs.writeFileSync(file, known);
    return createHostKeyVerifier({
      label: 'lab/fw-a',
      target,
      aliases: [],
      known: KnownHosts.load([file]),
      interactive: true,
      acceptNew: false,
      sessionTrust: new Set(),
      prompts: prompts('reject'),
      trustStoreFile: path.join(tmp, 'trusted_hosts'),
      logger: quiet,
      whilePrompting: (fn) => fn(),
      ...over,
    });
  }
  const present = (v: ReturnType<typeof createHostKeyVerifier>, blob: Buffer) => new Promise<boolean>((resolve) => v.verify(blob, resolve));

  it('trusts a key recorded for the host and port, and reports it as seen', async () => {
    const key = ed25519Blob();
    const v = verifier(`[10.0.0.1]:2222 ssh-ed25519 ${key.toString('base64')}\n`);
    assert.strictEqual(await present(v, key), true);
    assert.strictEqual(v.refusal(), undefined);
    assert.deepStrictEqual(v.seen(), { type: 'ssh-ed25519', fingerprint: fingerprintOf(key), blob: key });
    assert.deepStrictEqual(asked, []);
  });

  it('refuses a changed key without asking, even with acceptNew, naming the file and how to clear it', async () => {
    const v = verifier(`[10.0.0.1]:2222 ssh-ed25519 ${ed25519Blob().toString('base64')}\n`, { acceptNew: true, prompts: prompts('always') });
    const other = ed25519Blob();
    assert.strictEqual(await present(v, other), false);
    assert.strictEqual(v.refusal()?.code, 'hostkey-changed');
    assert.match(v.refusal()!.message, new RegExp(`HOST KEY CHANGED for \\[10\\.0\\.0\\.1\\]:2222: it now presents ssh-ed25519 ${fingerprintOf(other).replace(/[+/]/g, '\\$&')}`));
    assert.match(v.refusal()!.message, /ssh-keygen -R '\[10\.0\.0\.1\]:2222'/);
    assert.deepStrictEqual(asked, []);
  });

  it('refuses a @revoked key without asking', async () => {
    const key = ed25519Blob();
    const v = verifier(`@revoked * ssh-ed25519 ${key.toString('base64')}\n`, { prompts: prompts('always') });
    assert.strictEqual(await present(v, key), false);
    assert.strictEqual(v.refusal()?.code, 'hostkey-revoked');
    assert.deepStrictEqual(asked, []);
  });

  it('asks about an unknown key with its type and fingerprint; "reject" refuses, and nothing is stored', async () => {
    const key = ed25519Blob();
    const v = verifier('');
    assert.strictEqual(await present(v, key), false);
    assert.deepStrictEqual(asked.map((q) => [q.keyType, q.fingerprint, q.host, q.port]), [['ssh-ed25519', fingerprintOf(key), '10.0.0.1', 2222]]);
    assert.strictEqual(v.refusal()?.code, 'hostkey-unknown');
    assert.strictEqual(fs.existsSync(path.join(tmp, 'trusted_hosts')), false);
  });

  it('"once" trusts the key for the session only; "always" also writes the trust store, which then trusts it', async () => {
    const key = ed25519Blob();
    const sessionTrust = new Set<string>();
    assert.strictEqual(await present(verifier('', { prompts: prompts('once'), sessionTrust }), key), true);
    assert.strictEqual(fs.existsSync(path.join(tmp, 'trusted_hosts')), false);
    assert.strictEqual(await present(verifier('', { sessionTrust, interactive: false }), key), true, 'trusted again in the session without a prompt');
    assert.strictEqual(asked.length, 1);
    assert.strictEqual(await present(verifier('', { prompts: prompts('always') }), key), true);
    const store = path.join(tmp, 'trusted_hosts');
    assert.strictEqual(KnownHosts.load([], [store]).check('10.0.0.1', 2222, { type: 'ssh-ed25519', blob: key }).status, 'trusted');
  });

  it('never asks on an automatic reconnect (not interactive): an unknown key is refused', async () => {
    const v = verifier('', { interactive: false, prompts: prompts('always') });
    assert.strictEqual(await present(v, ed25519Blob()), false);
    assert.match(v.refusal()!.message, /not confirmed \(no prompt on automatic reconnects\)/);
    assert.deepStrictEqual(asked, []);
  });

  it('a failing prompt refuses the key', async () => {
    const v = verifier('', { prompts: { ...prompts('always'), confirmHostKey: async () => Promise.reject(new Error('window closed')) } });
    assert.strictEqual(await present(v, ed25519Blob()), false);
    assert.match(v.refusal()!.message, /the question failed \(window closed\)/);
  });
});
