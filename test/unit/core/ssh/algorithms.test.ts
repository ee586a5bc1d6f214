// SSH algorithm overrides in the ssh_config style, checked against what ssh2 supports, turned into
// ssh2's options; and a failed negotiation told in words: what each side offered, what to add.
import * as assert from 'assert';
import { describeNegotiationFailure, mergeOverrides, newOffers, noteOffer, parseAlgorithmSpec, ssh2Algorithms, SUPPORTED } from '../../../../src/core/ssh/algorithms';
import { parseSettings } from '../../../../src/core/config';

describe('core/ssh/algorithms', () => {
  it("knows exactly ssh2's supported algorithms", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const c = require('ssh2/lib/protocol/constants') as Record<string, string[]>;
    assert.deepStrictEqual(SUPPORTED, { HostKeyAlgorithms: c.SUPPORTED_SERVER_HOST_KEY, KexAlgorithms: c.SUPPORTED_KEX, Ciphers: c.SUPPORTED_CIPHER, MACs: c.SUPPORTED_MAC });
  });

  it('reads the ssh_config forms: a list, +add, -remove, ^prefer', () => {
    assert.deepStrictEqual(parseAlgorithmSpec('KexAlgorithms', '+diffie-hellman-group14-sha1').spec, { mode: 'append', names: ['diffie-hellman-group14-sha1'], text: '+diffie-hellman-group14-sha1' });
    assert.strictEqual(parseAlgorithmSpec('Ciphers', 'aes128-ctr, aes256-ctr').spec!.mode, 'set');
    assert.strictEqual(parseAlgorithmSpec('MACs', '-hmac-md5').spec!.mode, 'remove');
    assert.strictEqual(parseAlgorithmSpec('HostKeyAlgorithms', '^ssh-rsa').spec!.mode, 'prepend');
    assert.match(parseAlgorithmSpec('KexAlgorithms', '+sntrup761x25519-sha512').error!, /not an algorithm .* supports; supported: curve25519/);
    assert.match(parseAlgorithmSpec('Ciphers', '').error!, /comma-separated list/);
  });

  it('settings win over the ssh config per keyword; ssh2 gets lists or {append, remove, prepend}, the known host key type first', () => {
    const cfg = { KexAlgorithms: parseAlgorithmSpec('KexAlgorithms', 'curve25519-sha256').spec!, MACs: parseAlgorithmSpec('MACs', '+hmac-sha1').spec! };
    const set = { KexAlgorithms: parseAlgorithmSpec('KexAlgorithms', '+diffie-hellman-group14-sha1').spec! };
    assert.deepStrictEqual(ssh2Algorithms(mergeOverrides(cfg, set), ['ssh-ed25519']), { kex: { append: ['diffie-hellman-group14-sha1'] }, hmac: { append: ['hmac-sha1'] }, serverHostKey: { prepend: ['ssh-ed25519'] } });
    assert.deepStrictEqual(ssh2Algorithms({ HostKeyAlgorithms: parseAlgorithmSpec('HostKeyAlgorithms', 'ssh-rsa,ssh-ed25519').spec! }, ['ssh-ed25519']), { serverHostKey: ['ssh-ed25519', 'ssh-rsa'] });
    assert.strictEqual(ssh2Algorithms({}, []), undefined);
  });

  it('a failed negotiation names both offers and the setting that would allow one', () => {
    const o = newOffers();
    noteOffer(o, 'Handshake: (local) KEX method: curve25519-sha256,ext-info-c,kex-strict-c-v00@openssh.com');
    noteOffer(o, 'Handshake: (remote) KEX method: sntrup761x25519-sha512,diffie-hellman-group14-sha1,kex-strict-s-v00@openssh.com');
    const why = describeNegotiationFailure('Handshake failed: no matching key exchange algorithm', o, 'fw-a')!;
    assert.match(why, /no common key exchange algorithm: this extension offered curve25519-sha256; the unit offered sntrup761x25519-sha512, diffie-hellman-group14-sha1\. To allow it, set "algorithms": \{ "KexAlgorithms": "\+diffie-hellman-group14-sha1" \} on unit fw-a/);
    assert.strictEqual(describeNegotiationFailure('Handshake failed: something else', o, 'fw-a'), undefined);
  });

  it('a unit\'s algorithms in the settings: unknown keywords and names refused naming the field', () => {
    const units = (alg: unknown) => [{ name: 'a', role: 'primary', host: '10.0.0.1', algorithms: alg }, { name: 'b', role: 'secondary', host: '10.0.0.2' }];
    const ok = parseSettings([{ name: 'c', server: 's', service: 'm', units: units({ KexAlgorithms: '+diffie-hellman-group14-sha1' }) }]);
    assert.deepStrictEqual(ok.errors, []);
    assert.strictEqual(ok.clusters[0].primary.algorithms!.KexAlgorithms!.mode, 'append');
    const bad = parseSettings([{ name: 'c', server: 's', service: 'm', units: units({ Kex: '+x', Ciphers: 'rot13' }) }]);
    assert.deepStrictEqual(bad.errors.map((e) => e.field), ['units[0].algorithms.Kex', 'units[0].algorithms.Ciphers']);
    assert.match(bad.errors[1].message, /"rot13" is not an algorithm/);
  });
});
