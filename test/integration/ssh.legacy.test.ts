// The SSH layer against a unit that offers only old algorithms (the lab's legacy profile: a real
// OpenSSH sshd with ssh-rsa, diffie-hellman-group14-sha1, aes-ctr and hmac-sha1, as older boxes).
// Without a unit setting the connection fails and says what each side offered and what to set; with
// the unit's `algorithms` it connects, and the host key is still checked as for any unit.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseSettings, UnitConfig } from '../../src/core/config';
import { MemorySecretStore, noPrompts } from '../../src/core/host';
import { ConnectionOptions, UnitConnection } from '../../src/core/ssh/connection';
import { SshError } from '../../src/core/ssh/errors';
import { DEFAULT_STATE_DIR, Lab, labPair } from '../lab/lab';
import { LEGACY_ALGORITHMS } from '../lab/profiles';
import { trackLab } from './hooks';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('ssh: a unit that offers only legacy algorithms (separate lab)', function () {
  this.timeout(120_000);
  const l = new Lab({ stateDir: path.join(DEFAULT_STATE_DIR, 'side', 'ssh-legacy'), addresses: labPair(58), profile: 'legacy' });
  const untrack = trackLab(l);
  const open: UnitConnection[] = [];
  before(async function () {
    this.timeout(120_000);
    await l.up();
  });
  after(async function () {
    this.timeout(120_000);
    for (const c of open.splice(0)) c.close();
    await l.down();
    untrack();
  });

  /** fw-b as the settings describe it, with `algorithms` in the unit's entry (or none): the user's path. */
  function secondaryUnit(algorithms: Record<string, string> | undefined): UnitConfig {
    const raw = JSON.parse(fs.readFileSync(l.settingsPath, 'utf8')) as Record<string, unknown>;
    const clusters = raw['mailgwHa.clusters'] as { units: Record<string, unknown>[] }[];
    for (const u of clusters[0].units) delete u.algorithms;
    if (algorithms) clusters[0].units[1].algorithms = algorithms;
    const s = parseSettings(clusters, raw['mailgwHa.knownHostsFile']);
    assert.deepStrictEqual(s.errors, []);
    return s.clusters[0].units[1];
  }

  function connection(algorithms: Record<string, string> | undefined, opts: Partial<ConnectionOptions> = {}): UnitConnection {
    const u = secondaryUnit(algorithms);
    const c = new UnitConnection(
      { label: u.key, host: u.host, port: u.port, username: u.username, identityFile: u.identityFile, algorithms: u.algorithms },
      { prompts: noPrompts, secrets: new MemorySecretStore(), logger: silent, knownHostsFiles: [l.knownHostsPath], sshConfigFile: '/nonexistent', connectTimeoutMs: 10_000, ...opts },
    );
    open.push(c);
    return c;
  }

  it('without the unit\'s algorithms: refused, naming what each side offered and the setting that allows it', async () => {
    const err = await connection(undefined).connect().then(() => undefined, (e: unknown) => e as SshError);
    assert.ok(err, 'the connection was refused');
    assert.match(err.message, /no common key exchange algorithm: this extension offered [^;]*curve25519-sha256[^;]*; the unit offered diffie-hellman-group14-sha1\./);
    assert.match(err.message, /set "algorithms": \{ "KexAlgorithms": "\+diffie-hellman-group14-sha1" \} on unit fw-b in mailgwHa\.clusters/);
  });

  it('with KexAlgorithms +diffie-hellman-group14-sha1 on the unit: connects with the unit\'s algorithms and runs commands', async () => {
    const c = connection({ KexAlgorithms: `+${LEGACY_ALGORITHMS.kex}` });
    await c.connect();
    assert.strictEqual(c.info?.negotiated?.kex, LEGACY_ALGORITHMS.kex);
    assert.strictEqual(c.info?.negotiated?.serverHostKey, 'ssh-rsa');
    assert.strictEqual(c.info?.hostKeyType, 'ssh-rsa');
    const r = await c.exec(['hostname']);
    assert.strictEqual(r.stdout.toString().trim(), 'fw-b');
  });

  it('the algorithms setting does not weaken the host-key check: an unknown key is still refused', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-legacy-'));
    try {
      const c = connection({ KexAlgorithms: `+${LEGACY_ALGORITHMS.kex}`, HostKeyAlgorithms: '+ssh-rsa' }, { knownHostsFiles: [path.join(tmp, 'empty_known_hosts')] });
      const err = await c.connect().then(() => undefined, (e: unknown) => e as SshError);
      assert.strictEqual(err?.code, 'hostkey-unknown', err?.message);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
