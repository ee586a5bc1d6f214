// What ships: the production bundles as `node esbuild.js --production` writes them. The extension's
// bundle holds no CLI code (the CLI reads a password from its environment and the terminal; the
// extension must not carry either) and not ssh2, which it loads from dist/ssh2.js on the first
// connection so that activation does not pay for it.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('build: the production bundles', function () {
  this.timeout(120_000);
  let dir: string;
  let extension: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-bundles-'));
    execFileSync(process.execPath, ['esbuild.js', '--production', '--out', dir], { cwd: ROOT, stdio: 'pipe' });
    extension = fs.readFileSync(path.join(dir, 'dist', 'extension.js'), 'utf8');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the extension carries none of the CLI (its environment password, usage text, terminal prompt)', () => {
    const cli = fs.readFileSync(path.join(dir, 'dist', 'cli.js'), 'utf8');
    for (const marker of ['MAILGW_HA_PASSWORD', 'usage: mailgw-ha', 'exit codes: 0 success']) {
      assert.ok(cli.includes(marker), `the CLI bundle has "${marker}" (else this check proves nothing)`);
      assert.ok(!extension.includes(marker), `dist/extension.js contains the CLI's "${marker}"`);
    }
  });

  it('the extension takes ssh2 from dist/ssh2.js, loaded on first use; the CLI stays one file', () => {
    const ssh2 = fs.readFileSync(path.join(dir, 'dist', 'ssh2.js'), 'utf8');
    const ident = 'SSH-2.0-ssh2js';
    assert.ok(ssh2.includes(ident), 'dist/ssh2.js is ssh2');
    assert.ok(!extension.includes(ident), 'dist/extension.js must not bundle ssh2 again');
    assert.ok(/require\("\.\/ssh2\.js"\)/.test(extension), 'dist/extension.js loads ./ssh2.js');
    assert.ok(fs.readFileSync(path.join(dir, 'dist', 'cli.js'), 'utf8').includes(ident), 'dist/cli.js is self-contained');
    const vscodeignore = fs.readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8').split('\n');
    assert.ok(vscodeignore.includes('!dist/ssh2.js'), '.vscodeignore ships dist/ssh2.js in the .vsix');
  });

  it('dist/ssh2.js loads on plain Node and is the ssh2 the extension expects (Client, utils.parseKey, BaseAgent)', () => {
    const out = execFileSync(process.execPath, ['-e', `const s = require(${JSON.stringify(path.join(dir, 'dist', 'ssh2.js'))}); console.log([typeof s.Client, typeof s.utils.parseKey, typeof s.BaseAgent].join(' '))`], { encoding: 'utf8' });
    assert.strictEqual(out.trim(), 'function function function');
  });
});
