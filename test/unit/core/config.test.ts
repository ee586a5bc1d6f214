import * as assert from 'assert';
import { formatConfigError, parseSettings } from '../../../src/core/config';

const unit = (over: Record<string, unknown> = {}) => ({ name: 'fw-a', role: 'primary', host: '127.0.0.2', port: 22, username: 'root', identityFile: '/k/id', ...over });
const cluster = (over: Record<string, unknown> = {}) => ({
  name: 'lab',
  server: 'box1',
  service: 'mailgw',
  units: [unit(), unit({ name: 'fw-b', role: 'secondary', host: '127.0.0.3' })],
  ...over,
});

function errorsOf(raw: unknown): string[] {
  return parseSettings(raw).errors.map(formatConfigError);
}

describe('core/config', () => {
  it('reads a valid cluster with defaults for spool root and log file', () => {
    const s = parseSettings([cluster()], '/x/known_hosts');
    assert.deepStrictEqual(s.errors, []);
    assert.strictEqual(s.clusters.length, 1);
    const c = s.clusters[0];
    assert.strictEqual(c.gateway, 'box1_mailgw');
    assert.strictEqual(c.spoolRoot, '/var/phion/spool/mgw');
    assert.strictEqual(c.logFile, '/var/phion/logs/srv_box1_mailgw.log');
    assert.strictEqual(c.primary.name, 'fw-a');
    assert.strictEqual(c.secondary.name, 'fw-b');
    assert.strictEqual(c.primary.key, 'lab/fw-a');
    assert.strictEqual(s.knownHostsFile, '/x/known_hosts');
  });

  it('transfer defaults to auto; relay/direct and a unit\'s haHost/haPort are read; anything else is refused by name', () => {
    assert.strictEqual(parseSettings([cluster()]).clusters[0].transfer, 'auto');
    assert.strictEqual(parseSettings([cluster({ transfer: 'relay' })]).clusters[0].transfer, 'relay');
    const c = parseSettings([cluster({ transfer: 'auto', units: [unit({ haHost: '10.1.1.1', haPort: 2222 }), unit({ name: 'fw-b', role: 'secondary', host: '127.0.0.3' })] })]).clusters[0];
    assert.strictEqual(c.transfer, 'auto');
    assert.deepStrictEqual([c.primary.haHost, c.primary.haPort, c.secondary.haHost], ['10.1.1.1', 2222, undefined]);
    assert.match(errorsOf([cluster({ transfer: 'fast' })]).join('\n'), /cluster "lab", field "transfer"\): must be "relay".*"direct".*"auto"/);
    const bad = errorsOf([cluster({ units: [unit({ haHost: '-oProxyCommand=x' }), unit({ name: 'fw-b', role: 'secondary', host: '127.0.0.3', haPort: 0 })] })]).join('\n');
    assert.match(bad, /unit "fw-a", field "units\[0\]\.haHost"\): must be the address/);
    assert.match(bad, /unit "fw-b", field "units\[1\]\.haPort"\): must be a whole number/);
  });

  it('keeps the case of server and service names', () => {
    const c = parseSettings([cluster({ server: 'Box1', service: 'MailGW' })]).clusters[0];
    assert.strictEqual(c.gateway, 'Box1_MailGW');
    assert.strictEqual(c.logFile, '/var/phion/logs/srv_Box1_MailGW.log');
  });

  it('treats missing settings as no clusters, without errors', () => {
    assert.deepStrictEqual(parseSettings(undefined), { clusters: [], knownHostsFile: undefined, errors: [] });
    assert.deepStrictEqual(parseSettings([]).clusters, []);
  });

  it('names setting, cluster, unit and field in each error and says what to do', () => {
    const errs = errorsOf([
      cluster({ server: 'box;1' }),
      cluster({ name: 'two', units: [unit({ port: 70000 }), unit({ name: 'fw-b', role: 'secondary', host: '-oProxyCommand=x' })] }),
    ]);
    assert.ok(errs.some((e) => e.startsWith('mailgwHa.clusters[0] (cluster "lab", field "server")') && e.includes('letters, digits and "-"')), errs.join('\n'));
    assert.ok(errs.some((e) => e.includes('cluster "two", unit "fw-a", field "units[0].port"') && e.includes('1 to 65535')), errs.join('\n'));
    assert.ok(errs.some((e) => e.includes('unit "fw-b", field "units[1].host"') && e.includes('not starting with "-"')), errs.join('\n'));
  });

  it('refuses a cluster whose units are not one primary and one secondary', () => {
    assert.ok(errorsOf([cluster({ units: [unit()] })]).some((e) => e.includes('exactly two units')));
    assert.ok(errorsOf([cluster({ units: [unit(), unit({ name: 'fw-b', host: 'x' })] })]).some((e) => e.includes('one unit with "role": "primary"')));
    assert.ok(errorsOf([cluster({ units: [unit(), unit({ name: 'fw-a', role: 'secondary', host: 'x' })] })]).some((e) => e.includes('same name')));
  });

  it('refuses two units that are the same host and port', () => {
    const errs = errorsOf([cluster({ units: [unit(), unit({ name: 'fw-b', role: 'secondary' })] })]);
    assert.ok(errs.some((e) => e.includes('same host and port')), errs.join('\n'));
  });

  it('refuses unknown fields, so a typo never silently falls back to a default', () => {
    const errs = errorsOf([cluster({ units: [unit({ password: 'hunter2' }), unit({ name: 'fw-b', role: 'secondary', host: 'x', identityfile: '/k' })] })]);
    assert.ok(errs.some((e) => e.includes('field "units[0].password"') && e.includes('Passwords are never set here')));
    assert.ok(errs.some((e) => e.includes('field "units[1].identityfile"')));
    assert.ok(!errs.join('\n').includes('hunter2'), 'a secret put into settings is not echoed into errors');
  });

  it('refuses relative or unsafe paths', () => {
    const errs = errorsOf([cluster({ spoolRoot: 'var/phion', logFile: '/var/../etc/passwd', units: [unit({ identityFile: 'id_rsa' }), unit({ name: 'fw-b', role: 'secondary', host: 'x' })] })]);
    assert.ok(errs.some((e) => e.includes('field "spoolRoot"')));
    assert.ok(errs.some((e) => e.includes('field "logFile"')));
    assert.ok(errs.some((e) => e.includes('field "units[0].identityFile"')));
    assert.ok(parseSettings([cluster()], 'relative/kh').errors.some((e) => e.setting === 'mailgwHa.knownHostsFile'));
  });

  it("refuses a logFile outside the box's log folder: no other file may prove deliveries", () => {
    for (const logFile of ['/tmp/srv_box1_mailgw.log', '/var/phion/spool/mgw/box1_mailgw/input/x.log', '/var/phion/logsx/a.log']) {
      const errs = errorsOf([cluster({ logFile })]).join('\n');
      assert.match(errs, /field "logFile"\): must be a file in the box's log folder \/var\/phion\/logs\//, logFile);
    }
    assert.strictEqual(parseSettings([cluster({ logFile: '/var/phion/logs/srv_box1_mailgw_mailgw.log' })]).clusters[0].logFile, '/var/phion/logs/srv_box1_mailgw_mailgw.log');
  });

  it('expands ~/ in key paths with the given home', () => {
    const c = parseSettings([cluster({ units: [unit({ identityFile: '~/.ssh/id' }), unit({ name: 'fw-b', role: 'secondary', host: 'x' })] })], undefined, '/home/admin').clusters[0];
    assert.strictEqual(c.primary.identityFile, '/home/admin/.ssh/id');
  });

  it('keeps valid clusters usable when another one is broken', () => {
    const s = parseSettings([cluster(), cluster({ name: 'broken', service: '' })]);
    assert.strictEqual(s.clusters.length, 1);
    assert.strictEqual(s.clusters[0].name, 'lab');
    assert.ok(s.errors.every((e) => e.cluster === 'broken'));
  });

  it('refuses duplicate cluster names and non-list settings', () => {
    assert.ok(errorsOf([cluster(), cluster()]).some((e) => e.includes('unique')));
    assert.ok(errorsOf({ name: 'lab' }).some((e) => e.includes('must be a list')));
  });
});
