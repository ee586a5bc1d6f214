// A unit's `host` reaches the machine the user's ~/.ssh/config names for it (address, port, user,
// keys, jump hosts, keepalive) as OpenSSH would, settings win over the file, and a broken, looping
// or oversized config file is an error naming it instead of a wrong connection or a hang.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resolveTarget } from '../../../../src/core/ssh/sshConfig';

describe('core/ssh/sshConfig: resolving a host through the ssh config file', () => {
  let tmp: string;
  let configFile: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-sshconfig-'));
    configFile = path.join(tmp, 'config');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const config = (text: string) => fs.writeFileSync(configFile, text);

  it('takes HostName, Port, User, every IdentityFile (in order, "~/" expanded) and ServerAliveInterval of an alias', () => {
    config(['Host fw-a', '  HostName 10.0.0.1', '  Port 2222', '  User admin', '  IdentityFile ~/.ssh/id_fw', '  IdentityFile /keys/second', '  ServerAliveInterval 30', ''].join('\n'));
    assert.deepStrictEqual(resolveTarget('fw-a', {}, configFile), {
      alias: 'fw-a',
      hostName: '10.0.0.1',
      port: 2222,
      username: 'admin',
      identityFiles: [path.join(os.homedir(), '.ssh', 'id_fw'), '/keys/second'],
      keepaliveIntervalMs: 30_000,
      jumps: [],
    });
  });

  it('reads keywords in any case, as OpenSSH does (hostname is HostName): a lowercase config keeps its address, port, user, keys and jump host', () => {
    config(['Host bastion', '  hostname 192.0.2.1', '', 'Host fw-a', '  hostname 10.0.0.1', '  port 2222', '  user admin', '  identityfile /k', '  IDENTITYFILE /k2', '  proxyjump bastion', '  serveraliveinterval 7', ''].join('\n'));
    const t = resolveTarget('fw-a', {}, configFile);
    assert.deepStrictEqual({ ...t, jumps: t.jumps.map((j) => j.hostName) }, { alias: 'fw-a', hostName: '10.0.0.1', port: 2222, username: 'admin', identityFiles: ['/k', '/k2'], keepaliveIntervalMs: 7_000, jumps: ['192.0.2.1'] });
  });

  it('reads "Keyword=value" and "Keyword = value" as OpenSSH does', () => {
    config('Host fw-a\n  HostName=10.0.0.9\n  Port = 2022\n');
    const t = resolveTarget('fw-a', {}, configFile);
    assert.strictEqual(t.hostName, '10.0.0.9');
    assert.strictEqual(t.port, 2022);
  });

  it('connects to the host as written, port 22, user root, no keys, no keepalive, no jumps when nothing matches', () => {
    config('Host other\n  HostName 10.9.9.9\n  Port 2000\n  User nobody\n');
    const expected = { alias: '10.0.0.7', hostName: '10.0.0.7', port: 22, username: 'root', identityFiles: [], keepaliveIntervalMs: undefined, jumps: [] };
    assert.deepStrictEqual(resolveTarget('10.0.0.7', {}, configFile), expected);
    assert.deepStrictEqual(resolveTarget('10.0.0.7', {}, path.join(tmp, 'no-such-file')), expected, 'a missing config file is no entries');
    assert.deepStrictEqual(resolveTarget('10.0.0.7', {}, undefined), expected, 'no config file at all');
  });

  it('the first value found wins; a later wildcard entry only fills in what is still unset', () => {
    config(['Host fw-a', '  HostName 10.0.0.1', '  User admin', '', 'Host fw-*', '  HostName wild.example', '  User wild', '  Port 2000', '', 'Host *', '  User everyone', '  ServerAliveInterval 5', ''].join('\n'));
    const a = resolveTarget('fw-a', {}, configFile);
    assert.deepStrictEqual([a.hostName, a.username, a.port, a.keepaliveIntervalMs], ['10.0.0.1', 'admin', 2000, 5000]);
    const b = resolveTarget('fw-b', {}, configFile);
    assert.deepStrictEqual([b.hostName, b.username, b.port, b.keepaliveIntervalMs], ['wild.example', 'wild', 2000, 5000]);
    const other = resolveTarget('mail.example', {}, configFile);
    assert.deepStrictEqual([other.hostName, other.username, other.port], ['mail.example', 'everyone', 22]);
  });

  it('an earlier "Host *" wins over a later specific entry, as in OpenSSH', () => {
    config('Host *\n  ServerAliveInterval 5\n  User everyone\n\nHost fw-a\n  ServerAliveInterval 60\n  User admin\n  HostName 10.0.0.1\n');
    const t = resolveTarget('fw-a', {}, configFile);
    assert.deepStrictEqual([t.hostName, t.username, t.keepaliveIntervalMs], ['10.0.0.1', 'everyone', 5000]);
  });

  it('matches any of several patterns on a Host line, and not a host a "!" pattern excludes', () => {
    config('Host fw-a fw-b\n  HostName pair.example\n\nHost !fw-c *\n  User not-c\n');
    assert.strictEqual(resolveTarget('fw-b', {}, configFile).hostName, 'pair.example');
    assert.strictEqual(resolveTarget('fw-b', {}, configFile).username, 'not-c');
    assert.strictEqual(resolveTarget('fw-c', {}, configFile).username, 'root');
  });

  it('the settings\' port, user and key win over the file; the key replaces all of its IdentityFiles', () => {
    config('Host fw-a\n  HostName 10.0.0.1\n  Port 2222\n  User admin\n  IdentityFile /keys/a\n  IdentityFile /keys/b\n');
    const t = resolveTarget('fw-a', { port: 22022, username: 'ops', identityFile: '/settings/key' }, configFile);
    assert.deepStrictEqual([t.hostName, t.port, t.username, t.identityFiles], ['10.0.0.1', 22022, 'ops', ['/settings/key']]);
  });

  it('resolves a ProxyJump host through the file; user and port written in ProxyJump win over its entry', () => {
    config(['Host fw-a', '  HostName 10.0.0.1', '  ProxyJump jumper@bastion:2200', '', 'Host bastion', '  HostName 192.0.2.7', '  User ops', '  Port 22', '  IdentityFile /keys/bastion', ''].join('\n'));
    const t = resolveTarget('fw-a', {}, configFile);
    assert.strictEqual(t.hostName, '10.0.0.1');
    assert.deepStrictEqual(t.jumps, [{ alias: 'bastion', hostName: '192.0.2.7', port: 2200, username: 'jumper', identityFiles: ['/keys/bastion'], keepaliveIntervalMs: undefined, jumps: [] }]);
    assert.deepStrictEqual(resolveTarget('bastion', {}, configFile).jumps, [], 'the jump host itself connects directly');
  });

  it('orders jump hosts as ProxyJump a,b does (a first), with the jumps a itself needs before a', () => {
    config(['Host fw-a', '  ProxyJump outer,inner', '', 'Host inner', '  HostName 10.1.0.1', '', 'Host outer', '  HostName 192.0.2.1', '  ProxyJump edge', '', 'Host edge', '  HostName 198.51.100.1', ''].join('\n'));
    const t = resolveTarget('fw-a', {}, configFile);
    assert.deepStrictEqual(t.jumps.map((j) => [j.alias, j.hostName]), [['edge', '198.51.100.1'], ['outer', '192.0.2.1'], ['inner', '10.1.0.1']]);
    assert.ok(t.jumps.every((j) => j.jumps.length === 0), 'the chain is flat');
  });

  it('reads a bracketed IPv6 jump host with user and port', () => {
    config('Host fw-a\n  ProxyJump admin@[2001:db8::7]:2201\n');
    const [j] = resolveTarget('fw-a', {}, configFile).jumps;
    assert.deepStrictEqual([j.hostName, j.username, j.port], ['2001:db8::7', 'admin', 2201]);
  });

  it('"ProxyJump none" means no jump host, also when a later wildcard names one', () => {
    config('Host fw-a bastion\n  ProxyJump none\n\nHost *\n  ProxyJump bastion\n');
    assert.deepStrictEqual(resolveTarget('fw-a', {}, configFile).jumps, []);
    assert.deepStrictEqual(resolveTarget('fw-b', {}, configFile).jumps.map((j) => j.alias), ['bastion']);
  });

  it('refuses a ProxyJump loop with an error naming the host, instead of recursing forever', () => {
    config('Host loop\n  ProxyJump loop\n');
    assert.throws(() => resolveTarget('loop', {}, configFile), /ProxyJump for loop nests deeper than 4 hosts/);
    config('Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n');
    assert.throws(() => resolveTarget('a', {}, configFile), /ProxyJump for [ab] nests deeper than 4 hosts/);
  });

  it('refuses a Port that is not 1-65535, naming the host and the value', () => {
    for (const bad of ['0', '65536', 'abc', '22.5']) {
      config(`Host fw-a\n  Port ${bad}\n`);
      assert.throws(() => resolveTarget('fw-a', {}, configFile), (e: Error) => e.message === `ssh config for fw-a: invalid Port "${bad}"`, `Port ${bad}`);
    }
  });

  it('no keepalive for ServerAliveInterval 0', () => {
    config('Host fw-a\n  ServerAliveInterval 0\n');
    assert.strictEqual(resolveTarget('fw-a', {}, configFile).keepaliveIntervalMs, undefined);
  });

  it('refuses a config path that is a directory, naming it', () => {
    assert.throws(() => resolveTarget('fw-a', {}, tmp), (e: Error) => e.message.startsWith(`cannot read ssh config ${tmp}:`) && /is a directory, not a regular file/.test(e.message));
  });

  it('refuses a config file over 1 MiB (e.g. a log named by mistake), naming it', () => {
    config('Host fw-a\n  HostName 10.0.0.1\n' + '# padding\n'.repeat(Math.ceil((1 << 20) / 10)));
    assert.throws(() => resolveTarget('fw-a', {}, configFile), (e: Error) => e.message.startsWith(`cannot read ssh config ${configFile}:`) && /more than the 1,048,576/.test(e.message));
  });

  it('refuses a file it cannot parse, naming it, rather than connecting without its entries', () => {
    config('Host "fw-a\n  HostName 10.0.0.1\n');
    assert.throws(() => resolveTarget('fw-a', {}, configFile), (e: Error) => e.message.startsWith(`cannot read ssh config ${configFile}:`));
  });
});
